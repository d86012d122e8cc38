"""MASSIVE's language identification codes as published (alexa/massive README.md), and the scales'
wording going through gettext."""
import pytest
from django.utils.functional import Promise

from parley.collection import scales

# README.md: "language_identification : ... (check all that apply)"; the stored value is the checked
# names joined by "|" (rows of the distribution: "target", "target|english", "target|other").
PUBLISHED_CODES = {1: ("target", "target"), 2: ("english", "english"), 3: ("other", "other"),
                   4: ("target|english", "target & english"), 5: ("target|other", "target & other"),
                   6: ("english|other", "english & other"), 7: ("target|english|other", "target & english & other")}


@pytest.mark.parametrize("code", sorted(PUBLISHED_CODES))
def test_every_language_code_has_its_published_value_and_wording(code):
    value, wording = PUBLISHED_CODES[code]
    assert scales.language_code(value) == code
    assert str(dict(scales.LANGUAGE_CHOICES)[value]) == wording
    assert scales.language_value(reversed(value.split("|"))) == value  # boxes in any order
    assert scales.language_canonical("|".join(reversed(value.split("|")))) == value


@pytest.mark.parametrize("odd", ["", "mixed", "target|", "|target", "target|target", "Target", "target english",
                                 None, 4, ["target"], "target|" * 40])
def test_anything_else_is_not_a_published_value(odd):
    assert scales.language_canonical(odd) is None


def test_every_question_and_meaning_is_translatable():
    texts = [scales.LANGUAGE_QUESTION, *(label for _n, label in scales.LANGUAGE_PARTS)]
    for scale in scales.SCORE_SCALES:
        texts += [scale.question, *(meaning for _v, meaning in scale.options)]
    assert texts and all(isinstance(text, Promise) for text in texts)  # gettext_lazy: the judge's language
    assert [s.values for s in scales.SCORE_SCALES] == [(0, 1, 2), (0, 1, 2), (0, 1, 2, 3, 4), (0, 1, 2)]
