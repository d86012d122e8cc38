"""Redis (the shared counter) unreachable: the feedback rate limit counts in the process instead of
failing ingestion with a 500; it still refuses past the limit."""
import pytest
from rest_framework.test import APIClient

import factories as f
from parley.feedback import ratelimit

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens there


@pytest.fixture
def dead_redis(settings, monkeypatch):
    settings.REDIS_URL = DEAD_REDIS
    monkeypatch.setattr(ratelimit, "_client", None)
    monkeypatch.setattr(ratelimit, "_local", {})
    yield
    ratelimit._client = None


def test_limit_falls_back_to_the_process_counter(dead_redis):
    assert ratelimit.rate_take(key="t1", amount=3, limit=5, now=120.0) is None
    assert ratelimit.rate_take(key="t1", amount=3, limit=5, now=121.0) == 59  # 6 > 5 in this minute


def test_ingest_answers_with_redis_down(dead_redis, settings):
    settings.PARLEY_FEEDBACK_RATE_PER_MINUTE = 1
    f.locale("de-DE")
    pipeline = f.member("platform_admin", None, username="pipe")
    _, secret = f.token(pipeline, scopes=["feedback:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    first = client.post("/api/v1/feedback/events/", {"events": [f.feedback_item("k1")]}, format="json")
    assert first.status_code == 200 and first.json()["created"] == 1
    second = client.post("/api/v1/feedback/events/", {"events": [f.feedback_item("k2")]}, format="json")
    assert second.status_code == 429 and second.json()["error"]["code"] == "throttled"
