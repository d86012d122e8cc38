"""The broker is down: every endpoint that queues work answers without a 500 and records nothing
that waits forever. Runs it could not send stay in the outbox (queued, unsent, saying why); once
the broker is back the sweeper sends them and a real worker runs them to the end."""
import uuid

import pytest

import factories as f
from factories import DE, EN, jsonl
from parley.config.celery import app
from parley.datasets.models import Release
from parley.feedback.models import FeedbackEvent
from parley.interchange.models import ImportBatch
from parley.runs.models import TaskRun
from parley.runs.services import task_runs_sweep
from servers import request, runserver_command, start_server, stop_server
from workers import start_celery_worker, stop_celery_worker, wait_for_run

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
