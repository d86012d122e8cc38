"""Telling pipelines a release was published: one delivery per active hook, HMAC-signed, retried.

A delivery is created in the publishing transaction (one per hook, event and release, so a retried
publish creates none twice) with a task run that attempts it (the outbox: sent on commit, or by the
sweeper once an unreachable broker is back). A failed attempt is rescheduled with
exponential backoff; the periodic `webhook_retry_due_task` (Celery beat) attempts what is due, and a
delivery gives up after PARLEY_WEBHOOK_MAX_ATTEMPTS. Every attempt is logged on the delivery.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from parley.events.services import event_record

from .destinations import DestinationRefused, destination_check, pinned_connection
from .models import Release, Webhook, WebhookDelivery

logger = logging.getLogger("parley.webhooks")

EVENT_RELEASE_PUBLISHED = "release.published"
EVENTS = (EVENT_RELEASE_PUBLISHED,)
SIGNATURE_HEADER = "X-Parley-Signature"
TIMESTAMP_HEADER = "X-Parley-Timestamp"
# What a delivery records when no HTTP answer came: a refused destination (not public), a name that
# does not resolve, a closed port, a timeout, a TLS or protocol failure all read the same, so the
# delivery log is no port scanner. The detail goes to the server log (logger "parley.webhooks").
UNREACHABLE = "could not reach the destination (details in the server log)"


def webhook_signature(*, secret: str, body: bytes, timestamp: str) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`: what a receiver recomputes with its
    secret. The timestamp (X-Parley-Timestamp, Unix seconds) is signed too, so a receiver can refuse
    an old delivery replayed at it."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _url_clean(url: str) -> str:
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError({"url": f"{url!r} is not an http(s) URL"}) from None
    try:
        destination_check(url, resolve_name=False)
    except DestinationRefused as exc:
        raise ValidationError({"url": str(exc)}) from None
    return url


@transaction.atomic
def webhook_update(*, webhook: Webhook, actor, url: str, name: str, active: bool) -> Webhook:
    before = Webhook.objects.get(pk=webhook.pk)
    webhook.url, webhook.name, webhook.active = _url_clean(url), name, active
    webhook.save(update_fields=["url", "name", "active"])
    event_record(actor=actor, verb="webhook.changed", target=webhook,
                 payload={"from": {"url": before.url, "active": before.active}, "to": {"url": url, "active": active}})
    return webhook


@transaction.atomic
def webhook_create(*, name: str, url: str, actor, events=EVENTS) -> tuple[Webhook, str]:
    """A new hook and its secret (shown once: only the hook's receiver should know it)."""
    _url_clean(url)
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise ValidationError({"events": f"events must be some of {', '.join(EVENTS)}; got {unknown or 'none'}"})
    secret = secrets.token_hex(32)
    hook = Webhook.objects.create(name=name, url=url, secret=secret, events=list(events),
                                  created_by=actor if getattr(actor, "pk", None) else None)
    event_record(actor=actor, verb="webhook.created", target=hook, payload={"url": url, "events": list(events)})
    return hook, secret


def release_payload(release: Release) -> dict:
    return {"event": EVENT_RELEASE_PUBLISHED,
            "release": {"id": release.pk, "name": release.name, "version": release.version, "rows": release.rows,
                        "locales": sorted(release.manifest.get("locales", {})),
                        "published_at": release.published_at.isoformat() if release.published_at else None,
                        "diff": release.diff_summary,
                        "manifest": f"/api/v1/releases/{release.pk}/manifest/"}}


def webhook_deliveries_create(*, release: Release, actor) -> list[WebhookDelivery]:
    """Deliveries for a release being published (call inside its transaction), each queued as a
    task run: sent on commit, or by the sweeper once the broker is back (never failing the publish)."""
    from .tasks import webhook_delivery_queue

    created = []
    for hook in Webhook.objects.filter(active=True).order_by("id"):
        if EVENT_RELEASE_PUBLISHED not in hook.events:
            continue
        delivery, new = WebhookDelivery.objects.get_or_create(
            webhook=hook, event=EVENT_RELEASE_PUBLISHED, release=release,
            defaults={"payload": release_payload(release), "next_attempt_at": timezone.now()})
        if new:
            created.append(delivery)
            webhook_delivery_queue(delivery=delivery, actor=actor)
    return created


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=settings.PARLEY_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempts - 1))


def _post(url: str, *, body: bytes, headers: dict) -> int:
    """POST to the checked address of `url` (resolved once, every address public) and return the
    status; redirects are not followed."""
    destination = destination_check(url, resolve_name=True)
    connection = pinned_connection(destination, timeout=settings.PARLEY_WEBHOOK_TIMEOUT_SECONDS)
    try:
        connection.request("POST", destination.path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def webhook_delivery_attempt(*, delivery_id: int, now=None) -> WebhookDelivery:
    """POST the delivery once if it is pending and due; record the outcome and the next attempt."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("webhook").get(pk=delivery_id)
        if delivery.status != WebhookDelivery.Status.PENDING or (
                delivery.next_attempt_at and delivery.next_attempt_at > now):
            return delivery
        # Claim the attempt before the network call, so a second worker finds it not due.
        delivery.attempts += 1
        delivery.next_attempt_at = now + _backoff(delivery.attempts)
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    body = json.dumps(delivery.payload, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json", "User-Agent": "Parley-Webhook/1",
        "X-Parley-Event": delivery.event, "X-Parley-Delivery": str(delivery.pk), TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_signature(secret=delivery.webhook.secret, body=body, timestamp=timestamp)}
    code, error = None, ""
    try:
        code = _post(delivery.webhook.url, body=body, headers=headers)
        if not 200 <= code < 300:
            error = f"HTTP {code}"  # a redirect too: the hook's URL is where the body goes, nowhere else
    except (DestinationRefused, OSError, http.client.HTTPException) as exc:
        logger.warning("webhook %s (%s), delivery %s, attempt %s: %s: %s", delivery.webhook_id, delivery.webhook.url,
                       delivery.pk, delivery.attempts, type(exc).__name__, exc)
        error = UNREACHABLE
    delivered = code is not None and 200 <= code < 300
    fields = {"last_status_code": code, "last_error": error[:2000]}
    if delivered:
        fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now(), next_attempt_at=None)
    elif delivery.attempts >= settings.PARLEY_WEBHOOK_MAX_ATTEMPTS:
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    delivery.refresh_from_db()
    event_record(actor="task:webhook", verb=f"webhook.delivery_{delivery.status}", target=delivery,
                 payload={"attempt": delivery.attempts, "status_code": code, "error": error[:300]})
    return delivery


def webhook_deliveries_due(*, now=None) -> list[int]:
    now = now or timezone.now()
    return list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
                .order_by("next_attempt_at", "id").values_list("id", flat=True)[:500])


def webhook_delivery_retry_now(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """An admin's "try again now": a failed delivery gets one more attempt, a pending one is due now."""
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        raise ValidationError({"status": "already delivered"})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.PENDING,
                                                          next_attempt_at=timezone.now())
    event_record(actor=actor, verb="webhook.delivery_retry_requested", target=delivery)
    return webhook_delivery_attempt(delivery_id=delivery.pk)
