"""Webhooks on publish: HMAC-signed POSTs to a real local HTTP server, retried with backoff."""
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

import factories as f
from http_receiver import Receiver
from parley.datasets.build import release_build
from parley.datasets.models import WebhookDelivery
from parley.datasets.services import release_create
from parley.datasets.webhooks import (webhook_create, webhook_deliveries_due, webhook_delivery_attempt,
                                      webhook_signature)

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver_factory():
    made = []

    def make(statuses=()):
        receiver = Receiver(statuses)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def corpus():
    de = f.locale("de-DE")
    alarm = f.intent("alarm_set", "alarm")
    f.utterance(de, alarm, "weck mich", status="promoted", partition="test", source="collected")


def publish():
    return release_build(release=release_create(name="core", actor="test"), actor="test")


def test_publishing_posts_a_signed_body_once(corpus, receiver_factory, django_capture_on_commit_callbacks):
    receiver = receiver_factory()
    hook, secret = webhook_create(name="trainer", url=receiver.url, actor="test")
    with django_capture_on_commit_callbacks(execute=True):
        release = publish()
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    signed = request["headers"]["X-Parley-Timestamp"].encode() + b"." + request["body"]
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert request["headers"]["X-Parley-Signature"] == expected
    assert request["headers"]["X-Parley-Event"] == "release.published"
    payload = json.loads(request["body"])
    assert payload["release"] == {**payload["release"], "id": release.pk, "name": "core", "version": 1, "rows": 1,
                                  "locales": ["de-DE"]}
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    # A second build attempt of the same release creates no second delivery.
    with django_capture_on_commit_callbacks(execute=True):
        release_build(release=release, actor="test")
    assert WebhookDelivery.objects.count() == 1 and len(receiver.requests) == 1


def test_a_wrong_secret_body_or_timestamp_does_not_verify():
    body = b'{"event": "release.published"}'
    good = webhook_signature(secret="a", body=body, timestamp="1700000000")
    assert good != webhook_signature(secret="b", body=body, timestamp="1700000000")
    assert good != webhook_signature(secret="a", body=body + b" ", timestamp="1700000000")
    assert good != webhook_signature(secret="a", body=body, timestamp="1700000001")


def test_a_redirect_is_a_failed_delivery_not_followed(corpus, receiver_factory):
    receiver = receiver_factory(statuses=[302])
    webhook_create(name="moved", url=receiver.url, actor="test")
    publish()
    delivery = webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)


def test_failures_are_retried_with_backoff_then_delivered(corpus, receiver_factory, settings):
    settings.PARLEY_WEBHOOK_BACKOFF_SECONDS = 30
    receiver = receiver_factory(statuses=[500, 503])
    webhook_create(name="trainer", url=receiver.url, actor="test")
    publish()  # the on-commit attempt is not run here: the clock below drives every attempt
    delivery = WebhookDelivery.objects.get()
    start = timezone.now()
    delivery = webhook_delivery_attempt(delivery_id=delivery.pk, now=start)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == start + timedelta(seconds=30)
    assert webhook_deliveries_due(now=start + timedelta(seconds=29)) == []
    assert webhook_delivery_attempt(delivery_id=delivery.pk, now=start + timedelta(seconds=29)).attempts == 1
    delivery = webhook_delivery_attempt(delivery_id=delivery.pk, now=start + timedelta(seconds=30))
    assert (delivery.attempts, delivery.last_status_code, delivery.status) == (2, 503, "pending")
    assert delivery.next_attempt_at == start + timedelta(seconds=30 + 60)  # doubled
    delivery = webhook_delivery_attempt(delivery_id=delivery.pk, now=start + timedelta(seconds=90))
    assert (delivery.attempts, delivery.status) == (3, "delivered")
    assert len(receiver.requests) == 3
    assert len({r["body"] for r in receiver.requests}) == 1  # the same signed body every time


def test_a_delivery_gives_up_after_the_last_attempt(corpus, settings):
    settings.PARLEY_WEBHOOK_MAX_ATTEMPTS = 2
    webhook_create(name="gone", url="http://127.0.0.1:9/nothing-listens", actor="test")
    publish()
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()
    delivery = webhook_delivery_attempt(delivery_id=delivery.pk, now=now)
    assert delivery.status == "pending" and "Connection refused" in delivery.last_error
    delivery = webhook_delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(hours=1))
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)


def test_webhook_urls_and_events_are_checked(corpus):
    from django.core.exceptions import ValidationError
    with pytest.raises(ValidationError):
        webhook_create(name="x", url="ftp://example.org/hook", actor="test")
    with pytest.raises(ValidationError):
        webhook_create(name="x", url="https://example.org/hook", events=["release.deleted"], actor="test")


def test_webhook_edits_are_checked_and_logged(corpus):
    from django.core.exceptions import ValidationError

    from parley.datasets.webhooks import webhook_update
    from parley.events.models import Event

    hook, _secret = webhook_create(name="x", url="https://example.org/hook", actor="test")
    with pytest.raises(ValidationError):
        webhook_update(webhook=hook, url="ftp://example.org/", name="x", active=True, actor="test")
    webhook_update(webhook=hook, url="https://example.org/v2", name="x", active=False, actor="test")
    assert Event.objects.filter(verb="webhook.changed").count() == 1


def test_the_beat_task_attempts_what_is_due(corpus, receiver_factory, settings):
    from parley.datasets.tasks import webhook_retry_due_task

    receiver = receiver_factory(statuses=[500])
    webhook_create(name="trainer", url=receiver.url, actor="test")
    publish()
    assert webhook_retry_due_task() == 1  # the first attempt (500)
    assert webhook_retry_due_task() == 0  # backing off
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert webhook_retry_due_task() == 1
    assert WebhookDelivery.objects.get().status == "delivered"
