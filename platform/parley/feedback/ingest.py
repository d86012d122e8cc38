"""Turning submitted feedback items into rows: field checks, locale, masking, the feedback checks.

Pure validation except for the locale lookups (cached per batch) and the checks' shared data.
Used by the API and by the jsonl import, so both refuse the same things with the same words.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from parley.checks.registry import CheckContext, registry
from parley.locales.selectors import UnknownLocale, locale_resolve

from .masking import mask_pii, masking_record
from .models import Kind, Signal

# Longest accepted value of each field (characters); longer values are refused, never cut.
FIELD_LIMITS = {
    "idempotency_key": 100,
    "locale": 35,
    "text": 1000,
    "predicted_intent": 80,
    "response_template_key": 200,
    "session_hash": 128,
    "slot_type": 60,
    "slot_value": 200,
}
MAX_SLOTS = 30
ALLOWED_FIELDS = frozenset({"idempotency_key", "locale", "text", "prediction", "signal", "kind",
                            "response_template_key", "session_hash", "timestamp"})
_SIGNALS = frozenset(Signal.values)  # TextChoices.values builds a new list on every access
_KINDS = frozenset(Kind.values)
_SESSION_HASH_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_=+/:")  # hex, base64(url)


def max_batch() -> int:
    return settings.PARLEY_FEEDBACK_MAX_BATCH


def kind_default(*, signal: str, template_key: str, predicted_intent: str) -> str:
    """The queue an event goes to when the pipeline does not say: a complaint about a turn that
    used a response template is about the response; a low-confidence turn with no intent is a
    capability the assistant lacks; everything else starts as a wrong intent."""
    if template_key and signal in (Signal.NEGATIVE_RATING, Signal.REPORTED_DEFECT):
        return Kind.BAD_RESPONSE
    if signal == Signal.LOW_CONFIDENCE and not predicted_intent:
        return Kind.MISSING_CAPABILITY
    return Kind.WRONG_INTENT


@dataclass
class CleanEvent:
    """One accepted item, ready to insert (FeedbackEvent's columns)."""

    idempotency_key: str
    locale_id: int
    locale_tag: str
    text: str
    predicted_intent: str
    predicted_slots: list
    confidence: float | None
    signal: str
    kind: str
    response_template_key: str
    session_hash: str
    occurred_at: datetime
    masking: list
    warnings: list = field(default_factory=list)  # Findings of warning checks, stored after insert
    body_hash: str = ""  # keyed hash of the item as sent (services.body_hash_of): a replay of its key sends the same body


class LocaleCache:
    """Locale lookups for one batch: each tag or alias resolved once. Resolving costs ~10 ms (tag
    canonicalization), so the process also remembers tag → (id, canonical tag) for a minute and
    only re-reads the row by id (a pipeline sends the same few tags in every batch; a re-pointed
    alias takes effect within a minute)."""

    TTL_SECONDS = 60
    _process: dict[str, tuple[float, int, str]] = {}

    def __init__(self):
        self._found: dict[str, object] = {}

    def _remembered(self, tag: str):
        import time

        from parley.locales.models import Locale

        cached = self._process.get(tag)
        if cached is None or time.monotonic() - cached[0] >= self.TTL_SECONDS:
            return None
        locale = Locale.objects.filter(pk=cached[1]).first()
        return locale if locale is not None and locale.tag == cached[2] else None

    def get(self, tag: str):
        if tag not in self._found:
            import time

            locale = self._remembered(tag)
            if locale is None:
                try:
                    locale = locale_resolve(tag)
                except UnknownLocale:
                    locale = None
                if locale is not None:
                    self._process[tag] = (time.monotonic(), locale.pk, locale.tag)
            self._found[tag] = locale
        return self._found[tag]


def _text(item: dict, name: str, errors: dict, *, required: bool) -> str:
    value = item.get(name)
    if value is None or value == "":
        if required:
            errors.setdefault(name, []).append("required")
        return ""
    if not isinstance(value, str):
        errors.setdefault(name, []).append(f"must be a string, not {type(value).__name__}")
        return ""
    limit = FIELD_LIMITS[name]
    if len(value) > limit:
        errors.setdefault(name, []).append(f"longer than {limit} characters ({len(value)})")
        return ""
    if "\x00" in value:
        errors.setdefault(name, []).append("contains a NUL character")
        return ""
    return value


def _prediction(item: dict, errors: dict) -> tuple[str, list, float | None, Counter]:
    masked: Counter = Counter()
    prediction = item.get("prediction")
    if prediction is None:
        return "", [], None, masked
    if not isinstance(prediction, dict):
        errors.setdefault("prediction", []).append("must be an object with intent, slots and confidence")
        return "", [], None, masked
    unknown = set(prediction) - {"intent", "slots", "confidence"}
    if unknown:
        errors.setdefault("prediction", []).append(f"unknown field(s): {', '.join(sorted(unknown))}")
    intent = prediction.get("intent") or ""
    if not isinstance(intent, str):
        errors.setdefault("prediction.intent", []).append("must be a string")
        intent = ""
    elif len(intent) > FIELD_LIMITS["predicted_intent"]:
        errors.setdefault("prediction.intent", []).append(
            f"longer than {FIELD_LIMITS['predicted_intent']} characters ({len(intent)})")
    confidence = prediction.get("confidence")
    if confidence is not None:
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not math.isfinite(confidence):
            errors.setdefault("prediction.confidence", []).append("must be a number")
            confidence = None
        else:
            confidence = float(confidence)
    slots_in = prediction.get("slots") or []
    slots: list = []
    if not isinstance(slots_in, list):
        errors.setdefault("prediction.slots", []).append("must be a list of {type, value}")
    elif len(slots_in) > MAX_SLOTS:
        errors.setdefault("prediction.slots", []).append(f"more than {MAX_SLOTS} slots ({len(slots_in)})")
    else:
        for number, slot in enumerate(slots_in):
            where = f"prediction.slots[{number}]"
            if not isinstance(slot, dict) or not isinstance(slot.get("type"), str) \
                    or not isinstance(slot.get("value"), str) or not slot["type"] or not slot["value"]:
                errors.setdefault(where, []).append("must be {type: string, value: string}, both non-empty")
                continue
            if len(slot["type"]) > FIELD_LIMITS["slot_type"]:
                errors.setdefault(f"{where}.type", []).append(f"longer than {FIELD_LIMITS['slot_type']} characters")
                continue
            if len(slot["value"]) > FIELD_LIMITS["slot_value"]:
                errors.setdefault(f"{where}.value", []).append(
                    f"longer than {FIELD_LIMITS['slot_value']} characters")
                continue
            value, found = mask_pii(slot["value"])  # slot values repeat the text's personal data
            masked.update(found)
            slots.append({"type": slot["type"], "value": value})
    return intent, slots, confidence, masked


def _timestamp(item: dict, errors: dict) -> datetime | None:
    value = item.get("timestamp")
    if not value:
        errors.setdefault("timestamp", []).append("required (ISO 8601 with a time zone)")
        return None
    if not isinstance(value, str) or len(value) > 40:
        errors.setdefault("timestamp", []).append("must be an ISO 8601 string")
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        errors.setdefault("timestamp", []).append(f"{value!r} is not an ISO 8601 date and time")
        return None
    if timezone.is_naive(parsed):
        errors.setdefault("timestamp", []).append("needs a time zone (e.g. 2026-12-01T21:55:00Z)")
        return None
    return parsed


def event_clean(item, *, locales: LocaleCache, may_write: Callable[[int], bool],
                context: CheckContext) -> tuple[CleanEvent | None, dict[str, list[str]]]:
    """One submitted item → (a clean event, {}) or (None, {field: [reasons]})."""
    if not isinstance(item, dict):
        return None, {"non_field_errors": ["must be an object"]}
    errors: dict[str, list[str]] = {}
    unknown = set(item) - ALLOWED_FIELDS
    if unknown:
        errors["non_field_errors"] = [f"unknown field(s): {', '.join(sorted(unknown))}"]
    key = _text(item, "idempotency_key", errors, required=True)
    tag = _text(item, "locale", errors, required=True)
    raw_text = _text(item, "text", errors, required=True)
    template_key = _text(item, "response_template_key", errors, required=False)
    session_hash = _text(item, "session_hash", errors, required=True)
    if session_hash and (len(session_hash) < 16 or not set(session_hash) <= _SESSION_HASH_CHARS):
        errors.setdefault("session_hash", []).append(
            "must be a hash of the session id (at least 16 hex/base64 characters), never the id itself")
    signal = item.get("signal")
    if signal not in _SIGNALS:
        errors["signal"] = [f"{signal!r} is not one of {', '.join(Signal.values)}"]
    kind = item.get("kind")
    if kind is not None and kind not in _KINDS:
        errors["kind"] = [f"{kind!r} is not one of {', '.join(Kind.values)}"]
    intent, slots, confidence, masked = _prediction(item, errors)
    occurred_at = _timestamp(item, errors)
    locale = None
    if tag:
        locale = locales.get(tag)
        if locale is None or not may_write(locale.pk):
            # Unknown and out-of-scope read alike: a token cannot probe which locales exist.
            errors.setdefault("locale", []).append(f"{tag!r} is not a registered locale in this token's locales")
    if errors:
        return None, errors
    text, found = mask_pii(raw_text)
    masked.update(found)
    event = CleanEvent(
        idempotency_key=key, locale_id=locale.pk, locale_tag=locale.tag, text=text, predicted_intent=intent,
        predicted_slots=slots, confidence=confidence, signal=signal,
        kind=kind or kind_default(signal=signal, template_key=template_key, predicted_intent=intent),
        response_template_key=template_key, session_hash=session_hash, occurred_at=occurred_at,
        masking=masking_record(masked))
    own = context.for_next_object()
    checks = context.shared_once("feedback.checks", lambda: registry.for_kind("feedback"))
    findings = [finding for check in checks for finding in check.run(event, locale=locale.tag, context=own)]
    for finding in findings:
        if finding.is_error:
            errors.setdefault(finding.field or "non_field_errors", []).append(finding.message)
    if errors:
        return None, errors
    event.warnings = findings
    return event, {}


def errors_as_text(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{name}: {', '.join(reasons)}" for name, reasons in errors.items())


def json_line(line: str):
    """One jsonl line parsed, or a ValueError saying why not."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at column {exc.colno}") from None


def clock_skew() -> timedelta:
    return timedelta(seconds=settings.PARLEY_FEEDBACK_CLOCK_SKEW_SECONDS)
