"""Ingestion: POST /api/v1/feedback/events — idempotency, caps, per-item errors, masking, scope."""
import pytest
from rest_framework.test import APIClient

import factories as f
from parley.checks.models import CheckResult
from parley.feedback.models import FeedbackCluster, FeedbackEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/feedback/events"


@pytest.fixture
def world():
    de, ja = f.locale("de-DE"), f.locale("ja-JP")
    sl = f.locale("sl-SI")
    f.alias(sl, "sl-SL")
    f.intent("alarm_query", "alarm", slots=["time"])
    pipe = f.member("pipeline", None, username="pipe")
    _, plaintext = f.token(pipe, scopes=["feedback:write"], locales=[de, sl])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return {"client": client, "de": de, "ja": ja, "sl": sl}


def post(world, *items, capture=None):
    if capture is not None:
        with capture(execute=True):
            return world["client"].post(URL, {"events": list(items)}, format="json")
    return world["client"].post(URL, {"events": list(items)}, format="json")


def test_batch_is_stored_and_clustered(world, django_capture_on_commit_callbacks):
    response = post(world, f.feedback_item("k1"), f.feedback_item("k2", text="Weck mich um sieben!"),
                    capture=django_capture_on_commit_callbacks)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (2, 0, 0)
    assert [r["status"] for r in body["results"]] == ["created", "created"]
    # Same normalized text: one cluster with both (the on-commit drain ran).
    cluster = FeedbackCluster.objects.get()
    assert cluster.event_count == 2
    assert set(FeedbackEvent.objects.values_list("cluster_id", flat=True)) == {cluster.pk}


def test_replay_is_harmless(world):
    first = post(world, f.feedback_item("k1"), f.feedback_item("k2")).json()
    again = post(world, f.feedback_item("k1"), f.feedback_item("k2"), f.feedback_item("k3")).json()
    assert first["created"] == 2
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate", "created"]
    assert FeedbackEvent.objects.count() == 3
    # A key used with other content is no replay: tests/feedback/test_idempotency.py.


def test_the_same_key_twice_in_one_batch_counts_once(world):
    body = post(world, f.feedback_item("k1"), f.feedback_item("k1")).json()
    assert [r["status"] for r in body["results"]] == ["created", "duplicate"]
    assert FeedbackEvent.objects.count() == 1


def test_batch_size_cap(world, settings):
    settings.PARLEY_FEEDBACK_MAX_BATCH = 3
    response = post(world, *[f.feedback_item(f"k{i}") for i in range(4)])
    assert response.status_code == 400
    assert "at most 3 events" in response.json()["error"]["fields"]["events"][0]
    assert not FeedbackEvent.objects.exists()


def test_field_caps_and_errors_name_index_and_field(world):
    body = post(world,
                f.feedback_item("ok"),
                f.feedback_item("long", text="x" * 1001),
                f.feedback_item("k" * 101),
                f.feedback_item("bad-signal", signal="angry"),
                f.feedback_item("bad-slot", slots=[{"type": "time", "value": "v" * 201}]),
                f.feedback_item("naive", timestamp="2026-12-01T10:00:00"),
                f.feedback_item("conf", confidence=1.5),
                f.feedback_item("raw-session", session="user-42@example"),
                "not an object").json()
    results = body["results"]
    assert results[0]["status"] == "created"
    assert [r["index"] for r in results if r["status"] == "rejected"] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert results[1]["errors"] == {"text": ["longer than 1000 characters (1001)"]}
    assert "idempotency_key" in results[2]["errors"]
    assert "signal" in results[3]["errors"]
    assert results[4]["errors"] == {"prediction.slots[0].value": ["longer than 200 characters"]}
    assert "time zone" in results[5]["errors"]["timestamp"][0]
    assert results[6]["errors"] == {"prediction.confidence": ["1.5 is outside 0…1"]}
    assert "session_hash" in results[7]["errors"]
    assert results[8]["errors"] == {"non_field_errors": ["must be an object"]}
    assert FeedbackEvent.objects.count() == 1


def test_locale_resolves_aliases_and_token_locale_limit_is_per_item(world):
    body = post(world, f.feedback_item("sl", locale="sl-SL"), f.feedback_item("ja", locale="ja-JP"),
                f.feedback_item("xx", locale="xx-XX")).json()
    assert [r["status"] for r in body["results"]] == ["created", "rejected", "rejected"]
    assert FeedbackEvent.objects.get().locale == world["sl"]
    # Out of scope and unknown read alike.
    assert body["results"][1]["errors"]["locale"][0].replace("'ja-JP'", "X") == \
        body["results"][2]["errors"]["locale"][0].replace("'xx-XX'", "X")


def test_personal_data_is_masked_before_storage_and_recorded(world):
    post(world, f.feedback_item("pii", text="mail anna@example.org or call +49 170 1234567, card 4111 1111 1111 1111",
                                slots=[{"type": "person", "value": "anna@example.org"}]))
    event = FeedbackEvent.objects.get()
    assert event.text == "mail <email> or call <phone>, card <card>"
    assert event.predicted_slots == [{"type": "person", "value": "<email>"}]
    assert event.masking == [{"type": "email", "count": 2}, {"type": "card", "count": 1}, {"type": "phone", "count": 1}]
    assert "anna" not in str(FeedbackEvent.objects.values().get())


def test_warnings_are_stored_as_check_results(world):
    post(world, f.feedback_item("w", intent="no_such_intent"))
    event = FeedbackEvent.objects.get()
    result = CheckResult.objects.get(target_type="feedback.feedbackevent", target_id=str(event.pk))
    assert result.check_id == "feedback.predicted_intent_known"


def test_token_without_the_scope_is_refused(world):
    pipe = f.member("pipeline", None, username="pipe2")
    _, plaintext = f.token(pipe, scopes=["locales:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert client.post(URL, {"events": [f.feedback_item("k")]}, format="json").status_code == 403
    assert not FeedbackEvent.objects.exists()


def test_rate_limit_counts_events_per_token(world, settings):
    settings.PARLEY_FEEDBACK_RATE_PER_MINUTE = 3
    settings.REDIS_URL = ""
    assert post(world, f.feedback_item("a"), f.feedback_item("b")).status_code == 200
    refused = post(world, f.feedback_item("c"), f.feedback_item("d"))
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "throttled"
    assert post(world, f.feedback_item("c")).status_code == 200  # the refused batch was not counted
    assert FeedbackEvent.objects.count() == 3
