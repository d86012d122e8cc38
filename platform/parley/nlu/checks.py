"""Utterance checks: one rule per class, all built on one parse of the MASSIVE notation.

The parser (annotation.py) finds every issue in one pass; each check reports the issues of its
rule with the parser's message, code and position. Positions are offsets into ``annotated``,
except for the text and token checks, whose positions are offsets into ``text`` (the ``field``
of each finding says which).
"""
from __future__ import annotations

import copy

from django.utils.translation import gettext_lazy as _

from parley.checks.registry import Check, CheckContext, Finding, Severity, checks_evaluate, register

from . import annotation as notation

# Keys in CheckContext.shared. Callers may pre-seed them, e.g. an importer creating missing slot
# types sets SLOT_TYPES_KEY to None so no slot type counts as unknown.
SLOT_TYPES_KEY = "nlu.slot_types"
ALLOWED_SLOT_TYPES_KEY = "nlu.allowed_slot_types_by_intent"
CHAR_SPLIT_KEY = "nlu.char_split_by_tag"


def locale_char_split(tag: str, context: CheckContext) -> bool:
    """The locale's `Locale.writes_without_spaces` (the registry's script, which a linguist may
    override), asked once per locale and run: an import asks per row. Callers that hold the
    Locale already (an import, whose dry run checks against unsaved stand-ins) seed the answer
    with `locale_char_split_seed`."""
    by_tag = context.shared_once(CHAR_SPLIT_KEY, dict)
    found = by_tag.get(tag)
    if found is None:
        found = by_tag[tag] = _registry_locale(tag).writes_without_spaces
    return found


def locale_char_split_seed(locale, context: CheckContext) -> None:
    context.shared_once(CHAR_SPLIT_KEY, dict)[locale.tag] = locale.writes_without_spaces


def _registry_locale(tag: str):
    from parley.locales.cldr import InvalidTag
    from parley.locales.models import Locale
    from parley.locales.selectors import locale_unregistered

    found = Locale.objects.filter(tag=tag).first()  # checks are given the registered (canonical) tag
    if found is not None:
        return found
    try:  # not registered (yet): what registering it would give
        return locale_unregistered(tag)
    except InvalidTag:
        return Locale(tag=tag)


def _known_slot_types() -> set[str]:
    from .models import SlotType

    return set(SlotType.objects.values_list("name", flat=True))


def _allowed_slot_types_by_intent() -> dict[int, set[str]]:
    from .models import Intent

    allowed: dict[int, set[str]] = {}
    for intent_id, name in Intent.slot_types.through.objects.values_list("intent_id", "slottype__name"):
        allowed.setdefault(intent_id, set()).add(name)
    return allowed


def parsed(utterance, *, locale: str, context: CheckContext) -> notation.ParseResult:
    """The utterance's parse, done once per object and shared by every check below."""
    result = context.stored(_PARSE_KEY)
    if result is not None:
        return result

    def parse() -> notation.ParseResult:
        known = context.shared_once(SLOT_TYPES_KEY, _known_slot_types)
        by_intent = context.shared_once(ALLOWED_SLOT_TYPES_KEY, _allowed_slot_types_by_intent)
        # An intent with no allowed slot types has no through rows: every slot is then "not allowed".
        return notation.parse(utterance.annotated, utt=utterance.text, slot_types=known,
                              allowed_slot_types=by_intent.get(utterance.intent_id, _NOTHING),
                              char_split=locale_char_split(locale, context))

    return context.once(_PARSE_KEY, parse)


_PARSE_KEY = "nlu.parse"


_NOTHING = frozenset()


class ParserRuleCheck(Check):
    """Reports the parser's issues whose code belongs to this rule."""

    applies_to = "utterance"
    codes: frozenset[str] = frozenset()
    field = "annotated"

    def run(self, obj, *, locale, context):
        result = parsed(obj, locale=locale, context=context)
        if not (result.errors or result.warnings):
            return []  # most utterances: no need to look at each rule's codes
        return [self.finding(issue.message, position=issue.position, field=self.field, code=issue.code)
                for issue in (*result.errors, *result.warnings) if issue.code in self.codes]


@register
class AnnotationSyntax(ParserRuleCheck):
    id = "utterance.annotation_syntax"
    severity = Severity.ERROR
    description = _("The annotation is well-formed MASSIVE notation: balanced, unnested brackets, "
                    "'[type : value]' with a type without spaces and a non-blank value.")
    codes = frozenset({notation.UNBALANCED_BRACKET, notation.NESTED_BRACKET, notation.MISSING_SEPARATOR,
                       notation.EMPTY_SLOT_TYPE, notation.INVALID_SLOT_TYPE, notation.EMPTY_VALUE})


@register
class SlotTypeKnown(ParserRuleCheck):
    id = "utterance.slot_type_known"
    severity = Severity.ERROR
    description = _("Every slot type in the annotation is a registered slot type.")
    codes = frozenset({notation.UNKNOWN_SLOT_TYPE})


@register
class TextMatchesAnnotation(ParserRuleCheck):
    id = "utterance.text_matches_annotation"
    severity = Severity.ERROR
    description = _("The text is the annotation with its slot markup removed.")
    codes = frozenset({notation.TEXT_MISMATCH})
    field = "text"


@register
class TextCaseDiffers(ParserRuleCheck):
    id = "utterance.text_case_differs"
    severity = Severity.WARNING
    description = _("The text and the annotation differ in letter case only (as in 31 rows of SLURP's test "
                    "split); both are kept as given.")
    codes = frozenset({notation.TEXT_CASE_MISMATCH})
    field = "text"


@register
class TokenCount(ParserRuleCheck):
    id = "utterance.token_count"
    severity = Severity.ERROR
    description = _("The annotation's tokens line up with the text's (MASSIVE's rule: no slot boundary "
                    "inside a word; characters in scripts written without spaces, e.g. Japanese, Chinese, Thai).")
    codes = frozenset({notation.TOKEN_COUNT_MISMATCH})
    field = "text"


@register
class SlotAllowed(ParserRuleCheck):
    id = "utterance.slot_allowed"
    severity = Severity.WARNING
    description = _("Every slot type is one the utterance's intent allows.")
    codes = frozenset({notation.SLOT_NOT_ALLOWED})


@register
class SlotValueWhitespace(ParserRuleCheck):
    id = "utterance.slot_value_whitespace"
    severity = Severity.WARNING
    description = _("No slot value starts or ends with whitespace (MASSIVE values never do).")
    codes = frozenset({notation.VALUE_WHITESPACE})


def utterance_edit_evaluate(*, utterance, annotated: str, intent=None
                            ) -> tuple[notation.Annotation | None, list[Finding]]:
    """An edit's findings, checked as it would be saved (text re-derived from the annotation).

    Returns the parsed annotation (None when the notation is broken) and the findings. Nothing is
    written: the form shows the findings, the service refuses errors and stores the rest. In a
    locale written without spaces the text leaves out the notation spaces (see annotation.py).
    """
    candidate = copy.copy(utterance)  # Django copies the instance state, so the original is untouched
    candidate.annotated = annotated
    candidate.intent = intent or utterance.intent
    built = notation.parse(annotated, char_split=utterance.locale.writes_without_spaces).annotation
    if built is not None:
        candidate.text = built.text
    return built, checks_evaluate(candidate, applies_to="utterance", locale=utterance.locale.tag)


def edit_errors_as_messages(findings: list[Finding]) -> list[str]:
    """The error messages in the shape edits have always reported: "<message> (position <n>)".

    Issues in the annotation come first, by position, then those against the text (the parser's order).
    """
    errors = sorted((f for f in findings if f.is_error),
                    key=lambda f: (f.field != "annotated", f.position if f.position is not None else -1))
    return [f"{f.message} (position {f.position})" for f in errors]
