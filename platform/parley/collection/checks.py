"""Submission checks of collected utterances, in the one registry (kind `utterance`).

They join the nlu annotation checks (syntax, slot types known and allowed, text, tokens) and any
other utterance check registered (e.g. banned terms): a submission runs every utterance check.
These ones look only at collected utterances (`source == "collected"`): imported corpora are
judged by their own publishers, and a million-row import must not query duplicates per row.

The localize check needs the task's source utterance, which the collection service passes in
``CheckContext.shared[LOCALIZE_SOURCE_KEY]``; without it the check has nothing to compare.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from parley.checks.registry import Check, Severity, register

from . import scripts

LOCALIZE_SOURCE_KEY = "collection.localize_source"  # the nlu Utterance a localize task adapts
MIN_LETTERS = 2
MAX_WORDS = 30  # voice commands are short; MASSIVE's longest test rows are about this long
COLLECTED = "collected"


def _collected(obj) -> bool:
    return getattr(obj, "source", "") == COLLECTED


def _locale_obj(obj, tag: str, context):
    loc = getattr(obj, "locale", None)
    if loc is not None and hasattr(loc, "script"):
        return loc

    def load():
        from parley.locales.models import Locale

        return Locale.objects.filter(tag=tag).first()

    return context.shared_once(("collection.locale", tag), load)


def _normalized(obj, locale) -> str:
    from parley.nlu.normalize import normalize_text

    return normalize_text(obj.text or "", locale=locale)


@register
class CollectedSlotAllowed(Check):
    id = "utterance.collected_slot_allowed"
    severity = Severity.ERROR
    applies_to = "utterance"
    description = _("A collected utterance uses only slot types its intent allows: a test row with another "
                    "intent's slot would test the wrong schema. (nlu's utterance.slot_allowed says the same "
                    "as a warning for every source.)")

    def run(self, obj, *, locale, context):
        if not _collected(obj):
            return []
        from parley.nlu import annotation as notation
        from parley.nlu.checks import parsed

        result = parsed(obj, locale=locale, context=context)
        return [self.finding(issue.message, position=issue.position, field="annotated", code=issue.code)
                for issue in (*result.errors, *result.warnings) if issue.code == notation.SLOT_NOT_ALLOWED]


@register
class ScriptMatchesLocale(Check):
    id = "utterance.script_matches_locale"
    severity = Severity.ERROR
    applies_to = "utterance"
    description = _("Most letters of a collected utterance are in the locale's script (ja: kana or kanji; "
                    "sr-Latn vs sr-Cyrl; ar-SA in Arabic letters). Brand names in another script are fine "
                    "as long as they are the minority.")

    def run(self, obj, *, locale, context):
        if not _collected(obj):
            return []
        loc = _locale_obj(obj, locale, context)
        wanted = scripts.scripts_for_locale(getattr(loc, "script", "") or "")
        found = scripts.letters(obj.text or "")
        if not wanted or not found:
            return []
        outside = [(i, ch) for i, ch in found if scripts.script_of(ch) not in wanted]
        if len(outside) * 2 <= len(found):
            return []
        seen = sorted({scripts.script_of(ch) or "unknown" for _, ch in outside})
        return [self.finding(
            f"{len(outside)} of {len(found)} letters are not in the {loc.script} script of {loc.tag} "
            f"(found {', '.join(seen)})", position=outside[0][0], field="text", code="wrong_script")]


@register
class ArabicScriptLetters(Check):
    id = "utterance.arabic_script_letters"
    severity = Severity.WARNING
    applies_to = "utterance"
    description = _("Arabic, Persian and Urdu share one script; a letter only another of them uses "
                    "(e.g. Persian گ in Arabic, Arabic ي in Persian) is flagged for a second look.")

    def run(self, obj, *, locale, context):
        if not _collected(obj):
            return []
        loc = _locale_obj(obj, locale, context)
        found = scripts.arabic_letters_foreign_to(getattr(loc, "language", ""), obj.text or "")
        if not found:
            return []
        letters = "".join(sorted({ch for _, ch in found}))
        return [self.finding(f"letters {letters} are not used in {loc.tag}'s alphabet", position=found[0][0],
                             field="text", code="foreign_letter")]


@register
class LocalizeNotUnchanged(Check):
    id = "utterance.localize_unchanged"
    severity = Severity.ERROR
    applies_to = "utterance"
    description = _("A localized utterance is not an unchanged copy of its source (compared in normalized form). "
                    "If the source needs no change in this locale, skip the task and say so.")

    def run(self, obj, *, locale, context):
        source = context.shared.get(LOCALIZE_SOURCE_KEY)
        if not _collected(obj) or source is None:
            return []
        loc = _locale_obj(obj, locale, context)
        if _normalized(obj, loc) != source.normalized and obj.text.strip() != source.text.strip():
            return []
        return [self.finding("the text is the source utterance unchanged", field="text", code="unchanged_copy")]


@register
class DuplicateInLocale(Check):
    id = "utterance.duplicate_in_locale"
    severity = Severity.ERROR
    applies_to = "utterance"
    description = _("No other utterance of the locale has the same normalized text (case, punctuation and, "
                    "for ja/zh/th, word spacing ignored); retired ones do not count.")

    def run(self, obj, *, locale, context):
        if not _collected(obj):
            return []
        from parley.nlu.models import Utterance

        loc = _locale_obj(obj, locale, context)
        if loc is None:
            return []
        normalized = _normalized(obj, loc)
        if not normalized:
            return []
        other = (Utterance.objects.filter(locale_id=loc.pk, normalized=normalized)
                 .exclude(status=Utterance.Status.RETIRED).exclude(pk=obj.pk).values_list("pk", flat=True).first())
        if other is None:
            return []
        return [self.finding(f"utterance {other} of {loc.tag} says the same", field="text", code="duplicate")]


@register
class TooShort(Check):
    id = "utterance.too_short"
    severity = Severity.ERROR
    applies_to = "utterance"
    description = _(f"A collected utterance has at least {MIN_LETTERS} letters.")

    def run(self, obj, *, locale, context):
        if not _collected(obj) or len(scripts.letters(obj.text or "")) >= MIN_LETTERS:
            return []
        return [self.finding(f"fewer than {MIN_LETTERS} letters", field="text", code="too_short")]


@register
class LengthUnusual(Check):
    id = "utterance.length_unusual"
    severity = Severity.WARNING
    applies_to = "utterance"
    description = _(f"A collected utterance of one word or more than {MAX_WORDS} words (ICU word breaks for "
                    "ja/zh/th/km/lo/my) is flagged: few commands are that short or that long.")

    def run(self, obj, *, locale, context):
        if not _collected(obj):
            return []
        words = len(_normalized(obj, _locale_obj(obj, locale, context)).split())
        if words == 1:
            return [self.finding("a single word", field="text", code="one_word")]
        if words > MAX_WORDS:
            return [self.finding(f"{words} words (more than {MAX_WORDS})", field="text", code="too_long")]
        return []
