"""Ingestion and clustering against the real services: PostgreSQL (concurrent replays, the
drain's advisory lock), Redis (the shared rate counter), a Celery worker (on-commit clustering
and a mining task run)."""
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone as tz

import pytest
from django.db import connection

import factories as f
from parley.feedback import ratelimit, services
from parley.feedback.models import FeedbackCluster, FeedbackEvent, ParaphraseCandidate
from parley.runs.models import TaskRun


def _threads(target, n=2):
    barrier = threading.Barrier(n)
    outcomes, errors = [], []

    def run():
        from django.db import connections

        try:
            barrier.wait()
            outcomes.append(target())
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return outcomes


@pytest.mark.postgres
def test_concurrent_replays_store_each_key_once(transactional_db):
    assert connection.vendor == "postgresql"
    f.locale("de-DE")
    items = [f.feedback_item(f"race-{i}", text=f"satz {i % 7}") for i in range(300)]
    outcomes = _threads(lambda: services.events_ingest(items=items, may_write=lambda _id: True))
    assert sum(o["created"] for o in outcomes) == 300
    assert sum(o["duplicates"] for o in outcomes) == 300
    assert FeedbackEvent.objects.count() == 300


@pytest.mark.postgres
def test_concurrent_drains_cluster_every_event_once(transactional_db, monkeypatch):
    import hashlib

    f.locale("de-DE")
    monkeypatch.setattr(services, "_cluster_soon", lambda: None)  # leave the drain to the threads below
    texts = [hashlib.md5(str(g).encode()).hexdigest()[:16] for g in range(40)]  # 40 texts, none alike
    for start in (0, 600):
        services.events_ingest(items=[f.feedback_item(f"d-{i}", text=texts[i % 40])
                                      for i in range(start, start + 600)], may_write=lambda _id: True)
    assert FeedbackEvent.objects.filter(cluster__isnull=True).count() == 1200
    _threads(lambda: services.events_cluster(chunk_size=100), n=3)
    services.events_cluster()  # whatever a drain that found the lock taken left behind
    assert not FeedbackEvent.objects.filter(cluster__isnull=True).exists()
    assert FeedbackCluster.objects.count() == 40
    assert sum(FeedbackCluster.objects.values_list("event_count", flat=True)) == 1200


@pytest.mark.redis
def test_rate_counter_is_shared_through_redis(settings):
    import os

    settings.REDIS_URL = os.environ["REDIS_URL"]
    ratelimit._client = None
    key = f"test-{uuid.uuid4().hex}"
    now = 1_000_000.0
    assert ratelimit.rate_take(key=key, amount=6, limit=10, now=now) is None
    ratelimit._local.clear()  # another process: only Redis knows the count
    assert ratelimit.rate_take(key=key, amount=5, limit=10, now=now) == 60 - int(now % 60)
    assert ratelimit.rate_take(key=key, amount=4, limit=10, now=now) is None  # the refused 5 were not counted
    assert ratelimit.rate_take(key=key, amount=5, limit=10, now=now + 60) is None  # the next minute
    ratelimit._client = None


def _wait(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.worker
def test_worker_clusters_after_ingest_and_runs_mining(celery_worker_process):
    _, log_path = celery_worker_process
    f.locale("de-DE")
    f.intent("alarm_set", "alarm", slots=["time"])
    t0 = datetime(2026, 11, 30, 10, tzinfo=tz.utc)
    items = []
    for n in range(3):
        session = f"w{n}".ljust(32, "0")
        items += [f.feedback_item(f"wf{n}", session=session, text="bring mich um sieben hoch",
                                  timestamp=t0.isoformat()),
                  f.feedback_item(f"ws{n}", session=session, text="weck mich um sieben", signal="success",
                                  intent="alarm_set", slots=[{"type": "time", "value": "sieben"}],
                                  timestamp=(t0 + timedelta(seconds=5)).isoformat())]
    services.events_ingest(items=items, may_write=lambda _id: True)  # commits: sends the drain
    assert _wait(lambda: not FeedbackEvent.objects.filter(cluster__isnull=True).exclude(signal="success").exists()), \
        log_path.read_text()[-2000:]
    assert FeedbackCluster.objects.get().event_count == 3
    from parley.feedback.tasks import paraphrase_mining_queue

    run = paraphrase_mining_queue(actor="test", window_seconds=60, min_support=3)
    assert _wait(lambda: TaskRun.objects.get(pk=run.pk).status in ("succeeded", "failed"))
    run.refresh_from_db()
    assert run.status == "succeeded", (run.error, log_path.read_text()[-2000:])
    assert ParaphraseCandidate.objects.get().support == 3
