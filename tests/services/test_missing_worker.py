"""A queued task with nobody to run it says so, in the API and in /healthz; with a worker it runs."""
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

import factories as f
from parley.config.celery import app
from parley.runs.models import TaskRun
from parley.runs.workers import worker_state


@pytest.fixture
def queue_without_worker(settings):
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = f"parley-nobody-{uuid.uuid4().hex[:8]}"
    yield app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = previous


@pytest.mark.redis
@pytest.mark.django_db
def test_queued_run_without_a_worker_is_reported(queue_without_worker, settings):
    settings.PARLEY_TASK_PICKUP_GRACE_SECONDS = 15
    admin = f.member("platform_admin", None, username="root")
    fresh = TaskRun.objects.create(kind="interchange.import", args={})
    stale = TaskRun.objects.create(kind="interchange.import", args={})
    TaskRun.objects.filter(pk=stale.pk).update(queued_at=timezone.now() - timedelta(seconds=90))
    client = APIClient()
    client.force_authenticate(admin)
    assert client.get(f"/api/v1/task-runs/{fresh.pk}/").json()["waiting"] == ""  # still within the grace period
    waiting = client.get(f"/api/v1/task-runs/{stale.pk}/").json()["waiting"]
    assert "no worker consumes queue" in waiting and queue_without_worker in waiting
    health = Client().get("/healthz").json()
    assert health["status"] == "degraded" and health["workers"] == {
        "ok": False, "queue": queue_without_worker, "consumers": 0}


@pytest.mark.worker
def test_worker_on_the_queue_is_seen(celery_worker_process):
    state = worker_state(fresh=True)
    assert state.ok and state.consumers == 1 and state.queue == app.conf.task_default_queue
    assert Client().get("/healthz").json()["workers"]["consumers"] == 1


@pytest.mark.django_db
def test_eager_mode_never_reports_waiting():
    run = TaskRun.objects.create(kind="x", args={})
    TaskRun.objects.filter(pk=run.pk).update(queued_at=timezone.now() - timedelta(days=1))
    admin = f.member("platform_admin", None, username="root")
    client = APIClient()
    client.force_authenticate(admin)
    assert client.get(f"/api/v1/task-runs/{run.pk}/").json()["waiting"] == ""
