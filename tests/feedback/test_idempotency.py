"""Idempotency keys (issue 15, finding 11): a key is its sender's (the token owner's, shared by
the owner's tokens), so no pipeline learns whether another's key exists; a replay with the same
body answers what the first answer said; a used key with another body is a 409 in the API's
error shape and stores nothing of the batch."""
import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

import factories as f
from parley.feedback.models import FeedbackEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/feedback/events"


@pytest.fixture
def pipelines():
    de = f.locale("de-DE")
    f.intent("alarm_query", "alarm", slots=["time"])
    clients = {}
    for name in ("pipe_a", "pipe_b"):
        owner = f.member("pipeline", None, username=name)
        for n in (1, 2):  # two tokens of one owner
            _, plaintext = f.token(owner, scopes=["feedback:write"], locales=[de])
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
            clients[f"{name}{n}"] = client
    return clients


def push(client, *items):
    return client.post(URL, {"events": list(items)}, format="json")


def test_another_owners_key_neither_blocks_nor_reveals(pipelines):
    assert push(pipelines["pipe_a1"], f.feedback_item("shared-key")).json()["results"][0]["status"] == "created"
    # pipe_b's first use of the same key is its own: created, not "duplicate" (which told it
    # that pipe_a had sent that key).
    other = push(pipelines["pipe_b1"], f.feedback_item("shared-key", text="weck mich um acht")).json()
    assert other["results"][0]["status"] == "created"
    assert FeedbackEvent.objects.filter(idempotency_key="shared-key").count() == 2


def test_same_body_replays_the_first_answer(pipelines):
    first = push(pipelines["pipe_a1"], f.feedback_item("k1")).json()["results"][0]
    # Key order and spacing of the body do not matter; the owner's other token shares the key.
    reordered = dict(reversed(list(f.feedback_item("k1").items())))
    again = push(pipelines["pipe_a2"], reordered)
    assert again.status_code == 200, again.content
    replay = again.json()["results"][0]
    assert (replay["status"], replay["id"]) == ("duplicate", first["id"])
    assert first["status"] == "created" and FeedbackEvent.objects.count() == 1


@pytest.mark.parametrize("second_client", ["pipe_a1", "pipe_a2"])
def test_a_used_key_with_another_body_is_a_409_and_stores_nothing_of_the_batch(pipelines, second_client):
    push(pipelines["pipe_a1"], f.feedback_item("k1"))
    response = push(pipelines[second_client], f.feedback_item("fresh"), f.feedback_item("k1", text="etwas anderes"))
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "conflict" and error["fields"] == {}
    assert "item 1 ('k1')" in error["message"] and "different body" in error["message"]
    assert list(FeedbackEvent.objects.values_list("idempotency_key", "text")) == [("k1", "weck mich um sieben")]


def test_one_key_twice_in_a_batch_with_different_bodies_is_a_409(pipelines):
    response = push(pipelines["pipe_a1"], f.feedback_item("k1"), f.feedback_item("k1", text="anders"))
    assert response.status_code == 409 and "item 1 ('k1')" in response.json()["error"]["message"]
    assert not FeedbackEvent.objects.exists()


def test_backfill_reports_a_reused_key_as_a_rejected_line(pipelines, tmp_path):
    from io import StringIO

    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(f.feedback_item("a")) + "\n", encoding="utf-8")
    call_command("feedback_import", str(path), stdout=StringIO())
    path.write_text("\n".join(json.dumps(item) for item in (
        f.feedback_item("a"), f.feedback_item("a", text="anders"), f.feedback_item("b"))) + "\n", encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("feedback_import", str(path), stdout=out)
    assert "line 2: idempotency_key: used before with a different body" in out.getvalue()
    assert sorted(FeedbackEvent.objects.values_list("idempotency_key", "text")) == [
        ("a", "weck mich um sieben"), ("b", "weck mich um sieben")]


def _plain_sha256(item) -> str:
    import hashlib

    canonical = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_the_stored_hash_is_keyed_so_a_masked_number_cannot_be_found_by_hashing_candidates(pipelines, settings):
    """The item as sent holds the number the text masks; whoever reads the table cannot recompute
    the hash of a candidate body without the server's key."""
    from parley.feedback.services import body_hash_of

    item = f.feedback_item("k-phone", text="ruf 0301234567 an")
    push(pipelines["pipe_a1"], item)
    event = FeedbackEvent.objects.get(idempotency_key="k-phone")
    assert "0301234567" not in event.text
    assert event.body_hash == body_hash_of(item) and len(event.body_hash) == 64
    assert event.body_hash != _plain_sha256(item)
    settings.SECRET_KEY = "another installation's key"
    assert body_hash_of(item) != event.body_hash


def test_a_rotated_key_still_recognises_replays_and_conflicts(pipelines, settings):
    first = push(pipelines["pipe_a1"], f.feedback_item("k1")).json()["results"][0]
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "the key after rotation"
    replay = push(pipelines["pipe_a1"], f.feedback_item("k1")).json()["results"][0]
    assert (replay["status"], replay["id"]) == ("duplicate", first["id"])
    assert push(pipelines["pipe_a1"], f.feedback_item("k1", text="anders")).status_code == 409


@pytest.mark.django_db(transaction=True)
def test_the_migration_clears_plain_hashes_and_says_how_many(pipelines, capsys):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    push(pipelines["pipe_a1"], f.feedback_item("k1"))
    FeedbackEvent.objects.update(body_hash=_plain_sha256(f.feedback_item("k1")))  # as main wrote them
    executor = MigrationExecutor(connection)
    executor.migrate([("feedback", "0002_idempotency_key_per_owner")])
    capsys.readouterr()
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert "feedback.0003: 1 plain body hash(es) cleared" in capsys.readouterr().out
    assert list(FeedbackEvent.objects.values_list("body_hash", flat=True)) == [""]
    assert push(pipelines["pipe_a1"], f.feedback_item("k1")).json()["results"][0]["status"] == "duplicate"
