"""The dataset pipeline through a real Celery worker on Redis and PostgreSQL."""
import json
import os
import signal
import time

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django.db import connection, transaction

import factories as f
from workers import start_celery_worker, stop_celery_worker, wait_for_run
from http_receiver import Receiver
from parley.config.celery import app
from parley.datasets.build import release_folder, staging_folders
from parley.datasets.models import Release, WebhookDelivery
from parley.datasets.services import release_create
from parley.datasets.tasks import promotion_queue, release_build_queue, release_build_task
from parley.datasets.webhooks import webhook_create
from parley.nlu.models import Utterance
from parley.runs.models import TaskRun
from parley.runs.services import task_run_again, task_run_create, task_runs_sweep



def corpus():
    de, fr = f.locale("de-DE"), f.locale("fr-FR")
    alarm = f.intent("alarm_set", "alarm")
    for i in range(30):
        f.utterance(de, alarm, f"weck mich {i}", status="accepted", source="collected")
        f.utterance(fr, alarm, f"réveille moi {i}", status="accepted", source="mined")
    f.utterance(de, alarm, "weck mich 0", status="accepted", source="mined")  # leaks into train: refused
    return de, fr


@pytest.fixture
def local_webhooks_allowed(monkeypatch, settings):
    """The receiver is on 127.0.0.1: allowed here and in the worker (started after this, with this env)."""
    monkeypatch.setenv("PARLEY_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
    settings.PARLEY_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.mark.worker
def test_worker_promotes_builds_publishes_and_calls_the_webhook(local_webhooks_allowed, celery_worker_process):
    _, log_path = celery_worker_process
    corpus()
    receiver = Receiver([])
    try:
        webhook_create(name="trainer", url=receiver.url, actor="test")
        run = wait_for_run(promotion_queue(actor="test"))
        assert run.status == TaskRun.Status.SUCCEEDED, (run.error, log_path.read_text()[-2000:])
        assert (run.result["promoted"], run.result["refused"]) == (60, 1)
        assert Utterance.objects.filter(status="promoted", partition="test", locale__tag="de-DE").count() == 30
        release = release_create(name="core", actor="test")
        run = wait_for_run(release_build_queue(release=release, actor="test"))
        assert run.status == TaskRun.Status.SUCCEEDED, (run.error, log_path.read_text()[-2000:])
        release.refresh_from_db()
        assert (release.status, release.rows) == ("published", 60)
        manifest = json.loads((release_folder(release) / "manifest.json").read_text())
        assert manifest["locales"]["fr-FR"]["counts"] == {"train": {"alarm_set": 30}}
        deadline = time.monotonic() + 30
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.2)
        assert json.loads(receiver.requests[0]["body"])["release"]["id"] == release.pk
        assert WebhookDelivery.objects.get().status == "delivered"
    finally:
        receiver.close()


@pytest.mark.worker
def test_a_worker_killed_mid_build_leaves_no_release_and_a_rerun_converges(celery_worker_process, tmp_path):
    process, log_path = celery_worker_process
    de, fr = corpus()
    Utterance.objects.filter(status="accepted").update(status="promoted", partition="train")
    release = release_create(name="core", actor="test")
    # Hold the release's row lock: the worker builds every file in staging, then waits to publish.
    run = task_run_create(kind="datasets.release_build", args={"release_id": release.pk}, actor="test",
                          task_name=release_build_task.name)
    with transaction.atomic():
        Release.objects.select_for_update().get(pk=release.pk)
        release_build_task.delay(task_run_id=run.pk)
        deadline = time.monotonic() + 60
        with connection.cursor() as cursor:
            while True:
                # pg_stat_activity is a snapshot per transaction unless cleared.
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock'")
                if cursor.fetchone()[0]:
                    break
                if time.monotonic() > deadline:
                    pytest.fail(f"the build never reached the publish step:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.1)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
        assert staging_folders(release)
    release.refresh_from_db()
    assert release.status == Release.Status.BUILDING
    assert not release_folder(release).exists()
    assert not Release.objects.filter(status=Release.Status.PUBLISHED).exists()
    # Its heartbeat stops: once it is older than the stale limit, the sweeper fails the run as lost,
    # and a late redelivery of its message is ignored; run again, on a new worker, it converges.
    TaskRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.PARLEY_TASK_STALE_SECONDS + 1))
    assert task_runs_sweep()["lost"] == 1
    run.refresh_from_db()
    assert run.status == TaskRun.Status.FAILED and run.lost_at and "worker lost" in run.error
    second = start_celery_worker(app.conf.task_default_queue, log_path, settings.PARLEY_RELEASES_DIR)
    try:
        release_build_task.delay(task_run_id=run.pk)  # the late redelivery: not run
        task_run_again(run=run, actor="test")
        run = wait_for_run(run)
        assert run.status == TaskRun.Status.SUCCEEDED, (run.error, log_path.read_text()[-2000:])
    finally:
        stop_celery_worker(second)
    release.refresh_from_db()
    assert (release.status, release.rows) == ("published", 61)
    assert (release_folder(release) / "1.1/data/de-DE.jsonl").exists()
    assert not staging_folders(release)
