"""The broker is down: every endpoint that queues work answers without a 500 and records nothing
that waits forever. Runs it could not send stay in the outbox (queued, unsent, saying why); once
the broker is back the sweeper sends them and a real worker runs them to the end."""
import os
import subprocess
import sys
import uuid

import pytest

import factories as f
from factories import DE, EN, jsonl
from http_receiver import Receiver
from parley.config.celery import app
from parley.datasets.models import Release, WebhookDelivery
from parley.feedback.models import FeedbackEvent
from parley.interchange.models import ImportBatch
from parley.runs.models import TaskRun
from parley.runs.services import task_runs_sweep
from servers import request, runserver_command, start_server, stop_server
from workers import ROOT, _test_database_url, start_celery_worker, stop_celery_worker, wait_for_run

DEAD_BROKER = "redis://127.0.0.1:6390/0"  # nothing listens there
PORT = 8110
SCOPES = ["imports:write", "datasets:write", "datasets:read", "feedback:write", "feedback:triage",
          "feedback:read", "runs:read", "culture:write", "culture:read"]


@pytest.fixture
def server_without_broker(transactional_db, tmp_path):
    log_path = tmp_path / "server.log"
    process = start_server(runserver_command(PORT), port=PORT, log_path=log_path,
                           env={"REDIS_URL": DEAD_BROKER, "PARLEY_RELEASES_DIR": str(tmp_path / "releases")})
    try:
        yield f"http://127.0.0.1:{PORT}", log_path
    finally:
        stop_server(process)


@pytest.mark.worker
def test_every_queuing_endpoint_answers_and_the_outbox_drains_once_the_broker_is_back(
        server_without_broker, tmp_path, settings):
    url, log_path = server_without_broker
    f.locale("de-DE"), f.locale("en-US")
    admin = f.member("platform_admin", None, username="root")
    _, secret = f.token(admin, scopes=SCOPES)
    answers = {}

    def call(name, path, **kwargs):
        status, body = request(url + path, token=secret, **kwargs)
        answers[name] = (status, body)
        return status, body

    call("import", "/api/v1/imports/", files={"file": ("batch.jsonl", jsonl(EN, DE).encode())},
         fields={"format": "massive", "create_missing": "true"})
    _, release = call("release", "/api/v1/releases/", method="POST", body={"name": "core", "locales": ["de-DE"]})
    release_id = release["id"] if isinstance(release, dict) else 0  # a 500 page is no JSON
    call("release build", f"/api/v1/releases/{release_id}/build/", method="POST")
    call("promotion", "/api/v1/promotions/", method="POST", body={"locales": ["de-DE"]})
    call("feedback", "/api/v1/feedback/events/", method="POST", body={"events": [f.feedback_item("k1")]})
    call("mining", "/api/v1/feedback/paraphrases/mine/", method="POST", body={})
    call("holidays", "/api/v1/locales/de-DE/holidays/seed/", method="POST", body={"years": [2026]})
    health_status, health = request(url + "/healthz")

    log = log_path.read_text()
    assert {name: status for name, (status, _) in answers.items()} == {
        "import": 202, "release": 202, "release build": 202, "promotion": 202, "feedback": 200, "mining": 202,
        "holidays": 202}, (answers, log[-3000:])
    assert " 500 " not in log and "Traceback" not in log, log[-3000:]
    assert health_status == 503 and health["broker"]["ok"] is False and "6390" in health["broker"]["error"]
    assert health["runs"] == {"unsent": 6}  # the outbox, as an operator sees it
    # Feedback needs only the database: stored, counted by the per-process limit meanwhile.
    assert answers["feedback"][1]["created"] == 1 and FeedbackEvent.objects.count() == 1

    # Each piece of work is recorded once, and says it is not sent yet and why.
    runs = list(TaskRun.objects.order_by("id"))
    assert len(runs) == 6
    for run in runs:
        assert (run.status, run.dispatched_at) == ("queued", None), run
        assert "6390" in run.dispatch_error
    batch = ImportBatch.objects.get()
    assert answers["import"][1]["status"] == "queued" and "broker could not be reached" in answers["import"][1]["waiting"]
    _, listed = request(url + "/api/v1/task-runs/", token=secret)
    assert all("sent when the broker is back" in r["waiting"] for r in listed["results"]), listed

    # The broker is back (this process's REDIS_URL), with a worker: one sweep sends all of them.
    settings.PARLEY_TASK_DISPATCH_RETRY_SECONDS = 0
    queue = f"parley-test-outbox-{uuid.uuid4().hex[:8]}"
    worker_log = tmp_path / "worker.log"
    worker_log.touch()
    worker = start_celery_worker(queue, worker_log, settings.PARLEY_RELEASES_DIR)
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    try:
        swept = task_runs_sweep()
        assert swept == {"lost": 0, "sent": 6, "unsent": 0}, swept
        assert task_runs_sweep()["sent"] == 0  # sent once
        for run in runs:
            run = wait_for_run(run, timeout=120)
            assert run.status == "succeeded", (run.kind, run.error, worker_log.read_text()[-2000:])
            assert run.dispatched_at is not None and run.dispatch_error == ""
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        stop_celery_worker(worker)
    batch.refresh_from_db()
    assert (batch.status, batch.rows_accepted) == ("completed", 2)
    assert Release.objects.get().status != Release.Status.BUILDING


# A worker that took the build's message and lost the broker before publishing: the task runs in a
# process whose broker address is dead, as the web server's above.
BUILD_WITHOUT_BROKER = ("from parley.datasets.tasks import release_build_task; "
                        "release_build_task.apply(kwargs={'task_run_id': %d}, throw=True)")


@pytest.mark.worker
def test_a_publish_while_the_broker_is_down_keeps_its_webhooks_in_the_outbox(transactional_db, tmp_path, settings):
    from parley.datasets.services import release_create
    from parley.datasets.tasks import release_build_task
    from parley.datasets.webhooks import webhook_create
    from parley.runs.services import task_run_create

    settings.PARLEY_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    receiver = Receiver([])
    de = f.locale("de-DE")
    f.utterance(de, f.intent("alarm_set", "alarm"), "weck mich", status="promoted", partition="test",
                source="collected")
    hook, _ = webhook_create(name="trainer", url=receiver.url, actor="test")
    release = release_create(name="core", actor="test")
    build = task_run_create(kind="datasets.release_build", args={"release_id": release.pk}, actor="test",
                            task_name=release_build_task.name)
    worker = None
    try:
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", BUILD_WITHOUT_BROKER % build.pk], cwd=ROOT,
            env={**os.environ, "DATABASE_URL": _test_database_url(), "PARLEY_TESTING": "1", "REDIS_URL": DEAD_BROKER,
                 "PARLEY_RELEASES_DIR": str(settings.PARLEY_RELEASES_DIR)},
            capture_output=True, text=True, timeout=300)
        build.refresh_from_db(), release.refresh_from_db()
        # The release published and its build says so; the broker's absence failed nothing.
        assert (release.status, release.error) == ("published", ""), (release.error, done.stderr[-3000:])
        assert (build.status, build.error) == ("succeeded", ""), (build.error, done.stderr[-3000:])
        assert done.returncode == 0, done.stderr[-3000:]
        # The delivery is recorded with its run, waiting in the outbox with the reason.
        delivery = WebhookDelivery.objects.get(webhook=hook, release=release)
        assert (delivery.status, delivery.attempts) == ("pending", 0)
        sending = TaskRun.objects.get(kind="datasets.webhook_deliver")
        assert sending.args == {"delivery_id": delivery.pk}
        assert (sending.status, sending.dispatched_at) == ("queued", None) and "6390" in sending.dispatch_error
        assert receiver.requests == []

        # The broker is back, with a worker: the sweeper sends the delivery and it reaches the hook once.
        settings.PARLEY_TASK_DISPATCH_RETRY_SECONDS = 0
        queue = f"parley-test-outbox-{uuid.uuid4().hex[:8]}"
        worker_log = tmp_path / "worker.log"
        worker_log.touch()
        worker = start_celery_worker(queue, worker_log, settings.PARLEY_RELEASES_DIR,
                                     env={"PARLEY_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"})
        previous = (app.conf.task_always_eager, app.conf.task_default_queue)
        app.conf.task_always_eager, app.conf.task_default_queue = False, queue
        try:
            assert task_runs_sweep() == {"lost": 0, "sent": 1, "unsent": 0}
            sending = wait_for_run(sending, timeout=120)
        finally:
            app.conf.task_always_eager, app.conf.task_default_queue = previous
        assert sending.status == "succeeded", (sending.error, worker_log.read_text()[-2000:])
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
        assert len(receiver.requests) == 1
    finally:
        if worker is not None:
            stop_celery_worker(worker)
        receiver.close()
