"""A worker SIGKILLed in the middle of an import: its heartbeat stops, the sweeper (beat, on the
worker that takes over) fails the run and the batch with the reason within a minute, and "run
again" imports the file to the end."""
import os
import signal
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

import factories as f
from factories import EN, jsonl
from parley.config.celery import app
from parley.interchange.models import ImportBatch
from parley.runs.models import TaskRun
from workers import start_celery_worker, stop_celery_worker, wait_for_run

ROWS = 60_000  # enough that validation is still going when the worker is killed
FAST_SWEEP = {"PARLEY_TASK_HEARTBEAT_SECONDS": "1", "PARLEY_TASK_STALE_SECONDS": "6",
              "PARLEY_TASK_SWEEP_SECONDS": "2"}


def wait_until(predicate, timeout: float, what: str, log_path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} not within {timeout} s:\n{log_path.read_text()[-3000:]}")


def import_under_way(client, rows_total: int, log_path) -> ImportBatch:
    """Upload `rows_total` MASSIVE rows through the API and wait until a worker is mid-import."""
    rows = jsonl(*[{**EN, "id": str(i), "utt": f"wake me up at five am {i}",
                    "annot_utt": f"wake me up at [time : five am] {i}"} for i in range(rows_total)])
    response = client.post("/api/v1/imports/", {"file": SimpleUploadedFile("big.jsonl", rows.encode()),
                                                "format": "massive", "create_missing": "true"}, format="multipart")
    assert response.status_code == 202, response.content
    batch = ImportBatch.objects.get(pk=response.json()["id"])

    def mid_import():
        batch.refresh_from_db()
        return batch.status == ImportBatch.Status.VALIDATING and batch.rows_read > 0
    wait_until(mid_import, 120, "the import's first chunk", log_path)
    return batch


@pytest.mark.worker
def test_a_worker_killed_mid_import_fails_the_batch_within_a_minute_and_it_runs_again(transactional_db, tmp_path):
    f.locale("en-US")
    admin = f.member("platform_admin", None, username="root")
    client = APIClient()
    client.force_authenticate(admin)
    queue = f"parley-test-killed-{uuid.uuid4().hex[:8]}"
    log_path = tmp_path / "worker.log"
    log_path.touch()
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    first = start_celery_worker(queue, log_path, settings.PARLEY_RELEASES_DIR, env=FAST_SWEEP)
    second = None
    try:
        batch = import_under_way(client, ROWS, log_path)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=20)
        killed_at = time.monotonic()
        batch.refresh_from_db()
        assert batch.status == ImportBatch.Status.VALIDATING and batch.rows_read < ROWS  # it was mid-import

        # Another worker with beat: its sweeper notices the silent run.
        second = start_celery_worker(queue, log_path, settings.PARLEY_RELEASES_DIR, env=FAST_SWEEP,
                                     beat_schedule=tmp_path / "beat-schedule")

        def says_failed():
            batch.refresh_from_db()
            return batch.status == ImportBatch.Status.FAILED
        wait_until(says_failed, 60 - (time.monotonic() - killed_at), "the batch saying it failed", log_path)
        assert "worker lost" in batch.error
        run = TaskRun.objects.get(pk=batch.task_run_id)
        assert run.status == TaskRun.Status.FAILED and run.lost_at is not None and "worker lost" in run.error
        shown = client.get(f"/api/v1/imports/{batch.pk}/").json()
        assert shown["status"] == "failed" and "worker lost" in shown["error"]

        # Run again: the same run, queued and sent again, imports every row.
        answer = client.post(f"/api/v1/task-runs/{run.pk}/run-again/")
        assert answer.status_code == 202 and answer.json()["status"] == "queued", answer.content
        batch.refresh_from_db()
        assert batch.status == ImportBatch.Status.QUEUED and batch.error == ""
        run = wait_for_run(run, timeout=300)
        assert run.status == TaskRun.Status.SUCCEEDED, (run.error, log_path.read_text()[-3000:])
        batch.refresh_from_db()
        assert (batch.status, batch.rows_accepted, batch.rows_rejected) == ("completed", ROWS, 0)
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        if second is not None:
            stop_celery_worker(second)
        if first.poll() is None:
            stop_celery_worker(first)


@pytest.mark.worker
def test_a_paused_worker_declared_lost_and_resumed_leaves_the_batch_to_the_run_again(transactional_db, tmp_path):
    """A worker that stops (SIGSTOP: a stalled VM, a long GC, a cut-off network) is declared lost,
    and run again on another worker; when the first one resumes, it notices at its next chunk and
    stops: it writes no rows, rejects or counts into the batch and records no outcome over the
    second attempt's (before: it finished its own copy of the import over the other's)."""
    from parley.nlu.models import Utterance
    from parley.runs.services import task_runs_sweep

    rows_total = 20_000
    f.locale("en-US")
    admin = f.member("platform_admin", None, username="root")
    client = APIClient()
    client.force_authenticate(admin)
    queue = f"parley-test-paused-{uuid.uuid4().hex[:8]}"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first_log.touch(), second_log.touch()
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    first = start_celery_worker(queue, first_log, settings.PARLEY_RELEASES_DIR, env=FAST_SWEEP)
    second = None
    try:
        batch = import_under_way(client, rows_total, first_log)
        os.kill(first.pid, signal.SIGSTOP)
        run = TaskRun.objects.get(pk=batch.task_run_id)
        assert (run.status, run.attempts) == ("running", 1)
        # Its heartbeat is stale (as after PARLEY_TASK_STALE_SECONDS): the sweeper gives up on it.
        TaskRun.objects.filter(pk=run.pk).update(heartbeat_at=run.heartbeat_at - timedelta(hours=1))
        assert task_runs_sweep()["lost"] == 1
        batch.refresh_from_db()
        assert batch.status == ImportBatch.Status.FAILED and "worker lost" in batch.error

        second = start_celery_worker(queue, second_log, settings.PARLEY_RELEASES_DIR, env=FAST_SWEEP)
        assert client.post(f"/api/v1/task-runs/{run.pk}/run-again/").status_code == 202

        def second_attempt_started():
            run.refresh_from_db()
            return run.attempts == 2
        wait_until(second_attempt_started, 60, "the second attempt", second_log)
        os.kill(first.pid, signal.SIGCONT)
        wait_until(lambda: "abandoned, nothing more recorded" in first_log.read_text(), 60,
                   "the resumed worker stopping", first_log)
        run = wait_for_run(run, timeout=300)
        assert (run.status, run.attempts) == (TaskRun.Status.SUCCEEDED, 2), (run.error, second_log.read_text()[-3000:])
        batch.refresh_from_db()
        assert (batch.status, batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (
            "completed", rows_total, rows_total, 0)
        assert Utterance.objects.count() == rows_total
        assert "Traceback" not in first_log.read_text()
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        if first.poll() is None:
            os.kill(first.pid, signal.SIGCONT)
            stop_celery_worker(first)
        if second is not None:
            stop_celery_worker(second)
