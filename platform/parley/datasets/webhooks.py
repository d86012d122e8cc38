"""Telling pipelines a release was published: one delivery per active hook, HMAC-signed, retried.

A delivery is created in the publishing transaction (one per hook, event and release, so a retried
publish creates none twice) and attempted on commit. A failed attempt is rescheduled with
exponential backoff; the periodic `webhook_retry_due_task` (Celery beat) attempts what is due, and a
delivery gives up after PARLEY_WEBHOOK_MAX_ATTEMPTS. Every attempt is logged on the delivery.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from parley.events.services import event_record

from .models import Release, Webhook, WebhookDelivery

EVENT_RELEASE_PUBLISHED = "release.published"
EVENTS = (EVENT_RELEASE_PUBLISHED,)
SIGNATURE_HEADER = "X-Parley-Signature"
TIMESTAMP_HEADER = "X-Parley-Timestamp"


def webhook_signature(*, secret: str, body: bytes, timestamp: str) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`: what a receiver recomputes with its
    secret. The timestamp (X-Parley-Timestamp, Unix seconds) is signed too, so a receiver can refuse
    an old delivery replayed at it."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A hook's URL is where the body goes; a redirect elsewhere (another scheme or host) is a failure.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl} refused", headers, fp)


_opener = urllib.request.build_opener(_NoRedirects)


def _url_clean(url: str) -> str:
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError({"url": f"{url!r} is not an http(s) URL"}) from None
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


def webhook_deliveries_create(*, release: Release) -> list[WebhookDelivery]:
    """Deliveries for a release being published (call inside its transaction); attempted on commit."""
    from .tasks import webhook_deliver_task

    created = []
    for hook in Webhook.objects.filter(active=True).order_by("id"):
        if EVENT_RELEASE_PUBLISHED not in hook.events:
            continue
        delivery, new = WebhookDelivery.objects.get_or_create(
            webhook=hook, event=EVENT_RELEASE_PUBLISHED, release=release,
            defaults={"payload": release_payload(release), "next_attempt_at": timezone.now()})
        if new:
            created.append(delivery)
            transaction.on_commit(lambda pk=delivery.pk: webhook_deliver_task.delay(delivery_id=pk))
    return created


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=settings.PARLEY_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempts - 1))


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
    request = urllib.request.Request(delivery.webhook.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "Parley-Webhook/1",
        "X-Parley-Event": delivery.event, "X-Parley-Delivery": str(delivery.pk), TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_signature(secret=delivery.webhook.secret, body=body, timestamp=timestamp)})
    code, error = None, ""
    try:
        with _opener.open(request, timeout=settings.PARLEY_WEBHOOK_TIMEOUT_SECONDS) as response:
            code = response.status
    except urllib.error.HTTPError as exc:
        code, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
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
