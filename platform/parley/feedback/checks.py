"""Feedback checks: the sanity of one event as submitted (after masking). Errors refuse the item
with its index and field; warnings are stored against the event (parley.checks results)."""
from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parley.checks.registry import Check, Severity, register

from .models import Signal

KNOWN_INTENTS_KEY = "feedback.known_intents"
STALE_DAYS = 365


def _known_intents() -> set[str]:
    from parley.nlu.models import Intent

    return set(Intent.objects.values_list("name", flat=True))


@register
class TextNotBlank(Check):
    id = "feedback.text_not_blank"
    severity = Severity.ERROR
    applies_to = "feedback"
    description = _("The utterance text has something besides whitespace and masked personal data.")

    def run(self, obj, *, locale, context):
        rest = obj.text
        for placeholder in ("<email>", "<phone>", "<card>"):
            rest = rest.replace(placeholder, "")
        if not rest.strip():
            return [self.finding("the text is empty once whitespace and masked personal data are removed",
                                 field="text")]
        return []


@register
class ConfidenceInRange(Check):
    id = "feedback.confidence_in_range"
    severity = Severity.ERROR
    applies_to = "feedback"
    description = _("The model's confidence, when given, is between 0 and 1.")

    def run(self, obj, *, locale, context):
        if obj.confidence is not None and not 0.0 <= obj.confidence <= 1.0:
            return [self.finding(f"{obj.confidence} is outside 0…1", field="prediction.confidence")]
        return []


@register
class TimestampNotInFuture(Check):
    id = "feedback.timestamp_not_in_future"
    severity = Severity.ERROR
    applies_to = "feedback"
    description = _("The event did not happen in the future (beyond the allowed clock skew).")

    def run(self, obj, *, locale, context):
        from .ingest import clock_skew

        latest = context.shared_once("feedback.latest", lambda: timezone.now() + clock_skew())
        if obj.occurred_at > latest:
            return [self.finding(f"{obj.occurred_at.isoformat()} is in the future", field="timestamp")]
        return []


@register
class TimestampNotStale(Check):
    id = "feedback.timestamp_not_stale"
    severity = Severity.WARNING
    applies_to = "feedback"
    description = _("The event is less than a year old (older feedback is kept but may describe an old model).")

    def run(self, obj, *, locale, context):
        now = context.shared_once("feedback.now", timezone.now)
        if (now - obj.occurred_at).days > STALE_DAYS:
            return [self.finding(f"{obj.occurred_at.date().isoformat()} is more than {STALE_DAYS} days ago",
                                 field="timestamp")]
        return []


@register
class PredictedIntentKnown(Check):
    id = "feedback.predicted_intent_known"
    severity = Severity.WARNING
    applies_to = "feedback"
    description = _("The predicted intent, when given, is a registered intent.")

    def run(self, obj, *, locale, context):
        if obj.predicted_intent and obj.predicted_intent not in context.shared_once(KNOWN_INTENTS_KEY, _known_intents):
            return [self.finding(f"{obj.predicted_intent!r} is not a registered intent", field="prediction.intent")]
        return []


@register
class LowConfidenceSignalConsistent(Check):
    id = "feedback.low_confidence_consistent"
    severity = Severity.WARNING
    applies_to = "feedback"
    description = _("An event signalled as low confidence does not report a high confidence (≥ 0.9).")

    def run(self, obj, *, locale, context):
        if obj.signal == Signal.LOW_CONFIDENCE and obj.confidence is not None and obj.confidence >= 0.9:
            return [self.finding(f"signal is low_confidence but the confidence is {obj.confidence}",
                                 field="signal")]
        return []
