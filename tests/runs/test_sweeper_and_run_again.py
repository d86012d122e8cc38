"""Lost workers' runs are failed with a reason and their owner told; a late message for them is
ignored; "run again" is allowed to exactly who may start that work there (API and admin)."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

import factories as f
from parley.events.models import Event
from parley.interchange.models import ImportBatch
from parley.runs.execution import run_recorded
from parley.runs.models import TaskRun
from parley.runs.services import task_runs_sweep
from parley.runs.workers import waiting_reason

pytestmark = pytest.mark.django_db

IMPORT_TASK = "parley.interchange.tasks.import_batch_task"
PROMOTE_TASK = "parley.datasets.tasks.promotion_task"


def running_import(tmp_path, *, beat_age: float) -> tuple[TaskRun, ImportBatch]:
    path = tmp_path / "rows.jsonl"
    path.write_text(f.jsonl(f.EN))
    batch = ImportBatch.objects.create(format="massive", path=str(path), source_name="rows.jsonl",
                                       status=ImportBatch.Status.VALIDATING, rows_read=2000)
    beat = timezone.now() - timedelta(seconds=beat_age)
    run = TaskRun.objects.create(kind="interchange.import", args={"batch_id": batch.pk}, task_name=IMPORT_TASK,
                                 status=TaskRun.Status.RUNNING, started_at=beat, heartbeat_at=beat,
                                 dispatched_at=beat, attempts=1)
    ImportBatch.objects.filter(pk=batch.pk).update(task_run=run)
    return run, batch


def test_the_sweeper_fails_a_silent_run_and_its_batch_and_leaves_a_beating_one(tmp_path, settings):
    settings.PARLEY_TASK_STALE_SECONDS = 30
    silent, silent_batch = running_import(tmp_path, beat_age=31)
    beating, beating_batch = running_import(tmp_path, beat_age=5)
    assert task_runs_sweep() == {"lost": 1, "sent": 0, "unsent": 0}
    silent.refresh_from_db(), silent_batch.refresh_from_db(), beating.refresh_from_db()
    assert (silent.status, beating.status) == ("failed", "running")
    assert silent.lost_at is not None and silent.error.startswith("worker lost: no heartbeat since")
    assert (silent_batch.status, silent_batch.error) == ("failed", silent.error)
    beating_batch.refresh_from_db()
    assert beating_batch.status == "validating"
    assert task_runs_sweep()["lost"] == 0  # idempotent: nothing more to do
    assert Event.objects.filter(verb="task_run.lost", target_id=str(silent.pk)).count() == 1


def test_a_late_message_for_a_lost_run_and_a_duplicate_for_a_live_one_are_not_run(tmp_path, settings):
    settings.PARLEY_TASK_STALE_SECONDS = 30
    calls = []
    lost, _ = running_import(tmp_path, beat_age=60)
    task_runs_sweep()
    run_recorded(lost.pk, lambda run, report: calls.append(run.pk) or {})
    live, _ = running_import(tmp_path, beat_age=1)
    run_recorded(live.pk, lambda run, report: calls.append(run.pk) or {})
    assert calls == []
    # A running run whose heartbeat is stale (its worker died, no sweep yet) is taken over.
    stale, _ = running_import(tmp_path, beat_age=60)
    run_recorded(stale.pk, lambda run, report: calls.append(run.pk) or {"ok": True})
    stale.refresh_from_db()
    assert calls == [stale.pk] and (stale.status, stale.attempts) == ("succeeded", 2)


def failed_run(kind: str, task: str, *, locale_tag: str = "", args=None) -> TaskRun:
    return TaskRun.objects.create(kind=kind, args=args or {}, task_name=task, locale_tag=locale_tag,
                                  status=TaskRun.Status.FAILED, error="worker lost: ...", lost_at=timezone.now())


def api(user, token_scopes=None):
    client = APIClient()
    if token_scopes is None:
        client.force_authenticate(user)
    else:
        _, secret = f.token(user, scopes=token_scopes)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_run_again_is_for_who_may_start_that_work_in_its_locales():
    de, fr = f.locale("de-DE"), f.locale("fr-FR")
    lead_de = f.member("locale_lead", de, username="lead_de")
    lead_fr = f.member("locale_lead", fr, username="lead_fr")
    linguist_de = f.member("linguist", de, username="ling_de")
    promotion = failed_run("datasets.promote", PROMOTE_TASK, locale_tag="de-DE", args={"locales": ["de-DE"]})
    url = f"/api/v1/task-runs/{promotion.pk}/run-again/"
    assert api(lead_fr).post(url).status_code == 404  # not even visible
    refused = api(linguist_de).post(url)
    assert refused.status_code == 403 and "de-DE" in refused.json()["error"]["message"]
    no_scope = api(lead_de, token_scopes=["runs:read"]).post(url)
    assert no_scope.status_code == 403 and "datasets:write" in no_scope.json()["error"]["message"]
    assert TaskRun.objects.get(pk=promotion.pk).status == "failed"
    answer = api(lead_de, token_scopes=["runs:read", "datasets:write"]).post(url)
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    promotion.refresh_from_db()
    assert (promotion.status, promotion.error, promotion.lost_at) == ("queued", "", None)
    again = api(lead_de).post(url)  # only a failed run is run again
    assert again.status_code == 400 and "status" in again.json()["error"]["fields"]


def test_run_again_through_a_token_needs_runs_read_too():
    """The 202 answer is the whole run (args, result, error): a token that may not read runs is
    refused before anything is queued, even when it carries the kind's own scope."""
    de = f.locale("de-DE")
    lead = f.member("locale_lead", de, username="lead_de")
    promotion = failed_run("datasets.promote", PROMOTE_TASK, locale_tag="de-DE", args={"locales": ["de-DE"]})
    refused = api(lead, token_scopes=["datasets:write"]).post(f"/api/v1/task-runs/{promotion.pk}/run-again/")
    assert refused.status_code == 403 and "runs:read" in refused.json()["error"]["message"]
    assert "args" not in refused.json()
    promotion.refresh_from_db()
    assert (promotion.status, promotion.error) == ("failed", "worker lost: ...")


def test_an_import_run_is_run_again_only_by_a_platform_admin_and_queues_its_batch(tmp_path):
    de = f.locale("de-DE")
    lead = f.member("locale_lead", de, username="lead")
    admin = f.member("platform_admin", None, username="root")
    run, batch = running_import(tmp_path, beat_age=60)
    task_runs_sweep()
    url = f"/api/v1/task-runs/{run.pk}/run-again/"
    assert api(lead).post(url).status_code == 404  # runs without a locale are platform admins'
    assert api(admin).post(url).status_code == 202
    batch.refresh_from_db()
    assert (batch.status, batch.error) == ("queued", "")
    unknown = failed_run("retired.kind", "parley.locales.tasks.locales_bootstrap_task")
    refused = api(admin).post(f"/api/v1/task-runs/{unknown.pk}/run-again/")
    assert refused.status_code == 403 and "cannot be run again" in refused.json()["error"]["message"]


def test_a_holiday_seed_is_run_again_by_who_may_add_holidays_in_its_locale():
    de = f.locale("de-DE")
    linguist = f.member("linguist", de, username="ling_de")
    annotator = f.member("annotator", de, username="ann_de")
    seed = failed_run("holidays_materialize", "parley.culture.tasks.holidays_materialize_task", locale_tag="de-DE",
                      args={"locale": "de-DE", "years": [2026]})
    url = f"/api/v1/task-runs/{seed.pk}/run-again/"
    assert api(annotator).post(url).status_code == 404  # annotators do not see task runs
    no_scope = api(linguist, token_scopes=["runs:read"]).post(url)
    assert no_scope.status_code == 403 and "culture:write" in no_scope.json()["error"]["message"]
    answer = api(linguist, token_scopes=["runs:read", "culture:write"]).post(url)
    assert answer.status_code == 202 and answer.json()["status"] == "queued"


def test_a_locale_bootstrap_is_run_again_by_a_platform_admin_only():
    de = f.locale("de-DE")
    lead = f.member("locale_lead", de, username="lead")
    admin = f.member("platform_admin", None, username="root")
    bootstrap = failed_run("locales.bootstrap", "parley.locales.tasks.locales_bootstrap_task", args={"top": 5})
    url = f"/api/v1/task-runs/{bootstrap.pk}/run-again/"
    assert api(lead).post(url).status_code == 404  # a run without a locale is platform admins'
    no_scope = api(admin, token_scopes=["runs:read"]).post(url)
    assert no_scope.status_code == 403 and "locales:write" in no_scope.json()["error"]["message"]
    assert api(admin, token_scopes=["runs:read", "locales:write"]).post(url).status_code == 202


def test_the_admin_action_runs_again_what_the_user_may_start_and_says_why_not_otherwise():
    de = f.locale("de-DE")
    linguist = f.member("linguist", de, username="ling")
    lead = f.member("locale_lead", de, username="lead")
    promotion = failed_run("datasets.promote", PROMOTE_TASK, locale_tag="de-DE", args={"locales": ["de-DE"]})
    data = {"action": "run_again", "_selected_action": [promotion.pk]}
    for user, expected in ((linguist, "failed"), (lead, "queued")):
        client = Client()
        client.force_login(user)
        response = client.post("/admin/runs/taskrun/", data, follow=True)
        assert response.status_code == 200
        promotion.refresh_from_db()
        assert promotion.status == expected, [str(m) for m in response.context["messages"]]


def test_a_run_the_broker_did_not_take_says_so_at_once():
    run = TaskRun.objects.create(kind="interchange.import", args={}, task_name=IMPORT_TASK,
                                 dispatch_error="OperationalError: Error 111 connecting to 127.0.0.1:6390.")
    reason = waiting_reason(run=run)
    assert reason.startswith("not sent yet: the broker could not be reached") and "6390" in reason


def test_a_lost_build_says_so_on_its_release_until_a_later_run_publishes_it(django_capture_on_commit_callbacks,
                                                                               settings):
    from parley.datasets.models import Release
    from parley.datasets.services import release_create

    settings.PARLEY_TASK_STALE_SECONDS = 30
    de = f.locale("de-DE")
    f.utterance(de, f.intent("alarm_set", "alarm"), "weck mich", status="promoted", partition="test",
                source="collected")
    admin = f.member("platform_admin", None, username="root")
    release = release_create(name="core", actor="test")
    beat = timezone.now() - timedelta(seconds=60)
    run = TaskRun.objects.create(kind="datasets.release_build", args={"release_id": release.pk},
                                 task_name="parley.datasets.tasks.release_build_task", status=TaskRun.Status.RUNNING,
                                 started_at=beat, heartbeat_at=beat, dispatched_at=beat, attempts=1)
    Release.objects.filter(pk=release.pk).update(task_run=run)
    assert task_runs_sweep()["lost"] == 1
    run.refresh_from_db(), release.refresh_from_db()
    # Still building (the one status a release is built again from), and saying why it stopped.
    assert release.status == Release.Status.BUILDING
    assert release.error == f"the last build attempt failed: {run.error}" and "worker lost" in release.error
    told = Event.objects.get(verb="release.build_attempt_failed", target_id=str(release.pk))
    assert told.payload["error"] == run.error
    shown = api(admin).get(f"/api/v1/releases/{release.pk}/").json()
    assert (shown["status"], shown["error"]) == ("building", release.error)
    with django_capture_on_commit_callbacks(execute=True):
        assert api(admin).post(f"/api/v1/task-runs/{run.pk}/run-again/").status_code == 202
    run.refresh_from_db(), release.refresh_from_db()
    assert (run.status, release.status, release.error) == ("succeeded", "published", "")


def declared_lost(run):
    """What the sweeper does to a worker that stopped beating (stalled, paused, cut off)."""
    TaskRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=60))
    assert task_runs_sweep()["lost"] == 1


def outcome_events(run):
    return list(Event.objects.filter(target_id=str(run.pk), verb__in=["task_run.succeeded", "task_run.failed"])
                .values_list("verb", flat=True))


@pytest.mark.parametrize("then", ["reports progress", "returns", "raises"])
def test_a_worker_whose_run_was_declared_lost_stops_and_overwrites_nothing(settings, then):
    """A worker the sweeper gave up on may still be running (it was paused or cut off, not dead):
    its next progress report stops the body, and neither its result nor its error replaces the
    sweeper's "worker lost"."""
    settings.PARLEY_TASK_STALE_SECONDS = 30
    run = TaskRun.objects.create(kind="tests.body", args={}, task_name=IMPORT_TASK, dispatched_at=timezone.now())
    steps = []

    def body(held, report):
        report(1, 3)
        steps.append(1)
        declared_lost(held)
        if then == "reports progress":
            report(2, 3)
            steps.append(2)
        elif then == "raises":
            raise ValueError("the lost worker's own failure")
        return {"done": 3}

    run_recorded(run.pk, body)
    run.refresh_from_db()
    assert steps == [1]
    assert run.status == "failed" and run.lost_at is not None and run.error.startswith("worker lost")
    assert (run.done, run.result) == (1, {})
    assert outcome_events(run) == []


def test_a_worker_whose_run_was_run_again_elsewhere_leaves_it_to_the_new_attempt(settings):
    from parley.runs.services import task_run_again, task_run_start

    settings.PARLEY_TASK_STALE_SECONDS = 30
    run = TaskRun.objects.create(kind="tests.body", args={}, task_name=IMPORT_TASK, dispatched_at=timezone.now())
    calls = []

    def first(held, report):
        declared_lost(held)
        task_run_again(run=TaskRun.objects.get(pk=held.pk), actor="test")
        assert task_run_start(run=TaskRun.objects.get(pk=held.pk)).attempts == 2  # another worker took it
        calls.append("first")
        report(5)  # the first worker: no longer its run
        calls.append("first went on")
        return {"by": "first"}

    run_recorded(run.pk, first)
    run.refresh_from_db()
    assert calls == ["first"]
    assert (run.status, run.attempts, run.done, run.lost_at) == ("running", 2, 0, None)
    assert outcome_events(run) == []


def test_the_message_of_a_celery_retry_runs_a_run_whose_attempt_failed():
    """Promotion, release builds and holidays retry a connection error (autoretry_for): Celery
    sends the retry as a new message after run_recorded recorded the failure, so a failed run must
    stay claimable by a later message (the duplicate sends are prevented at sending instead)."""
    run = TaskRun.objects.create(kind="tests.flaky", args={}, task_name=PROMOTE_TASK)
    seen = []

    def body(held, report):
        seen.append(held.attempts)
        if held.attempts == 1:
            raise ConnectionError("the database blinked")
        return {"ok": True}

    with pytest.raises(ConnectionError):
        run_recorded(run.pk, body)  # what Celery then retries
    run.refresh_from_db()
    assert run.status == "failed"
    assert run_recorded(run.pk, body) == {"ok": True}  # the retry's message
    run.refresh_from_db()
    assert seen == [1, 2] and (run.status, run.attempts, run.error) == ("succeeded", 2, "")


def test_the_sweeper_waits_from_when_a_run_was_queued_again_not_from_its_creation(settings):
    """Run again keeps the row (and its creation time): the outbox's grace counts from `queued_at`,
    so the sweeper leaves a run just queued again to its own on-commit send."""
    from parley.runs.services import task_run_again

    settings.PARLEY_TASK_DISPATCH_RETRY_SECONDS = 30
    f.locale("de-DE")
    run = failed_run("datasets.promote", PROMOTE_TASK, locale_tag="de-DE", args={"locales": ["de-DE"]})
    TaskRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=1))
    task_run_again(run=run, actor="test")  # its on-commit send has not run yet (the test's transaction)
    run.refresh_from_db()
    assert run.status == "queued" and run.dispatched_at is None
    assert task_runs_sweep() == {"lost": 0, "sent": 0, "unsent": 0}
    run.refresh_from_db()
    assert run.status == "queued"
    later = timezone.now() + timedelta(seconds=31)
    assert task_runs_sweep(now=later)["sent"] == 1  # never sent at all: the sweeper's to send
    run.refresh_from_db()
    assert run.status == "succeeded" and run.dispatched_at is not None


@pytest.mark.redis
def test_a_queued_run_is_sent_once_however_many_senders_race(settings):
    """The on-commit hook and a sweep may both try to send a run: the first to claim it (sets
    `dispatched_at` where it is empty) sends; the other sends nothing. Counted on Redis itself."""
    import os
    import uuid

    import redis

    from parley.config.celery import app
    from parley.runs.services import task_run_dispatch

    queue = f"parley-test-once-{uuid.uuid4().hex[:8]}"
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    broker = redis.Redis.from_url(app.conf.broker_url or os.environ["REDIS_URL"])
    try:
        run = TaskRun.objects.create(kind="datasets.promote", args={"locales": ["de-DE"]}, task_name=PROMOTE_TASK,
                                     locale_tag="de-DE")
        sent = [task_run_dispatch(run_id=run.pk), task_run_dispatch(run_id=run.pk)]
        assert sent == [True, None]
        assert broker.llen(queue) == 1
        run.refresh_from_db()
        assert run.dispatched_at is not None and run.dispatch_error == ""
    finally:
        broker.delete(queue)
        app.conf.task_always_eager, app.conf.task_default_queue = previous
