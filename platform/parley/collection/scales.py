"""MASSIVE's judgment scales, as published in alexa/massive README.md ("judgments").

The questions and the meaning of every score are the distribution's own words (wrapped in gettext so
a judge can read them in the interface's language); the stored values are the published ones, so a
collected utterance's judgments go out in MASSIVE's `judgments` field unchanged. docs/formats.md
quotes the source.

language_identification is a "check all that apply" question: the published codes 1-7 are the
combinations of target, english and other, and the distribution writes a judgment's answer as the
checked names joined by "|" in that order ("target", "target|english", ...).
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Scale:
    name: str
    question: object  # a lazy translation
    options: tuple  # ((value, meaning), ...) in the published order

    @property
    def values(self) -> tuple:
        return tuple(value for value, _meaning in self.options)

    def meaning(self, value):
        return dict(self.options).get(value)


INTENT_SCORE = Scale("intent_score", _("Does the sentence match the intent?"), (
    (0, _("No")),
    (1, _("Yes")),
    (2, _("It is a reasonable interpretation of the goal")),
))
SLOTS_SCORE = Scale("slots_score", _("Do all these terms match the categories in square brackets?"), (
    (0, _("No")),
    (1, _("Yes")),
    (2, _("There are no words in square brackets (utterance without a slot)")),
))
GRAMMAR_SCORE = Scale("grammar_score", _("Read the sentence out loud. Ignore any spelling, punctuation, or "
                                         "capitalization errors. Does it sound natural?"), (
    (0, _("Completely unnatural (nonsensical, cannot be understood at all)")),
    (1, _("Severe errors (the meaning cannot be understood and doesn't sound natural in your language)")),
    (2, _("Some errors (the meaning can be understood but it doesn't sound natural in your language)")),
    (3, _("Good enough (easily understood and sounds almost natural in your language)")),
    (4, _("Perfect (sounds natural in your language)")),
))
SPELLING_SCORE = Scale("spelling_score", _("Are all words spelled correctly? Ignore any spelling variances that "
                                           "may be due to differences in dialect. Missing spaces should be marked "
                                           "as a spelling error."), (
    (0, _("There are more than 2 spelling errors")),
    (1, _("There are 1-2 spelling errors")),
    (2, _("All words are spelled correctly")),
))
SCORE_SCALES = (INTENT_SCORE, SLOTS_SCORE, GRAMMAR_SCORE, SPELLING_SCORE)
SCORE_SCALES_BY_NAME = {scale.name: scale for scale in SCORE_SCALES}

LANGUAGE_QUESTION = _("The following sentence contains words in the following languages (check all that apply)")
# The three boxes, in the order the published codes combine them.
LANGUAGE_PARTS = (("target", _("target")), ("english", _("english")), ("other", _("other")))
_PART_NAMES = tuple(name for name, _label in LANGUAGE_PARTS)
# Code → the value the distribution stores, and the published wording of the code.
LANGUAGE_CODES = {
    1: ("target", _("target")),
    2: ("english", _("english")),
    3: ("other", _("other")),
    4: ("target|english", _("target & english")),
    5: ("target|other", _("target & other")),
    6: ("english|other", _("english & other")),
    7: ("target|english|other", _("target & english & other")),
}
LANGUAGE_CHOICES = [(value, meaning) for value, meaning in LANGUAGE_CODES.values()]
LANGUAGE_VALUES = tuple(value for value, _meaning in LANGUAGE_CHOICES)
LANGUAGE_VALUE_MAX_LENGTH = max(len(v) for v in LANGUAGE_VALUES)


def language_value(parts) -> str | None:
    """The stored value for a set of checked boxes ("target", "english", "other"), or None when the
    set is empty or names something else. Order and repetition of `parts` do not matter."""
    chosen = set(parts)
    if not chosen or not chosen <= set(_PART_NAMES):
        return None
    return "|".join(name for name in _PART_NAMES if name in chosen)


def language_canonical(value) -> str | None:
    """A published value ("target|english"; boxes in any order) in the distribution's order, or None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    parts = value.split("|")
    if len(parts) != len(set(parts)):
        return None
    return language_value(parts)


def language_parts(value: str) -> tuple[str, ...]:
    return tuple(value.split("|")) if value else ()


def language_code(value: str) -> int | None:
    """The published code (1-7) of a stored value."""
    for code, (stored, _meaning) in LANGUAGE_CODES.items():
        if stored == value:
            return code
    return None


def language_includes_target(value: str) -> bool:
    return "target" in language_parts(value)
