"""Invisible characters and markup in template texts (issue 15, finding 18): bidi embeddings and
overrides, unbalanced isolates, byte-order marks and controls are errors; isolates, marks,
zero-width characters out of place and markup are warnings; ZWNJ/ZWJ where a script spells with
them (Persian, Indic, emoji) and U+200B between Thai words are not flagged."""
import pytest
from django.core.exceptions import ValidationError

import factories as f
from parley.culture.models import ResponseTemplate
from parley.culture.services import template_evaluate, template_save, template_status_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    return f.template_key("weather.today", source=f.locale("en-US"), parameters=[{"name": "name", "type": "string"}])


def found(key, tag, body):
    candidate = ResponseTemplate(key=key, locale=f.locale(tag), register="", body=body)
    return {(x.check_id, x.severity.value, x.position, x.code) for x in template_evaluate(template=candidate)
            if x.check_id in ("template.control_character", "template.invisible_character", "template.markup",
                              "template.active_markup")}


@pytest.mark.parametrize("tag, body, expected", [
    # Trojan Source: an override makes "Sunny" display where the text says something else.
    ("en-US", "It is \u202eynnus\u202c, {name}.",
     {("template.control_character", "error", 6, "U+202E"), ("template.control_character", "error", 12, "U+202C")}),
    ("en-US", "It is sunny\u202a, {name}.",
     {("template.control_character", "error", 11, "U+202A")}),  # and never closed: one finding a position
    ("ar-SA", "الجو مشمس يا \u2067{name}.",
     {("template.invisible_character", "warning", 13, "U+2067"), ("template.control_character", "error", 13, "U+2067")}),
    ("ar-SA", "الجو مشمس يا \u2067{name}\u2069.",
     {("template.invisible_character", "warning", 13, "U+2067"), ("template.invisible_character", "warning", 20, "U+2069")}),
    ("he-IL", "\u200fשלום {name}", {("template.invisible_character", "warning", 0, "U+200F")}),
    ("ar-SA", "\u061c{name}", {("template.invisible_character", "warning", 0, "U+061C")}),
    ("en-US", "Sun\u200bny, {name}.", {("template.invisible_character", "warning", 3, "U+200B")}),
    ("en-US", "Sunny\u2060, {name}.", {("template.invisible_character", "warning", 5, "U+2060")}),
    ("en-US", "Sun\u200dny, {name}.", {("template.invisible_character", "warning", 3, "U+200D")}),
    ("en-US", "Sun\u200cny, {name}.", {("template.invisible_character", "warning", 3, "U+200C")}),
    ("en-US", "\ufeffSunny, {name}.", {("template.control_character", "error", 0, "U+FEFF")}),
    ("en-US", "Sunny,\x07 {name}.", {("template.control_character", "error", 6, "U+0007")}),
    # Spelling, not tricks: Persian ZWNJ, a Devanagari half form, an emoji sequence, Thai word breaks.
    ("fa-IR", "می\u200cخواهم {name}", set()),
    ("hi-IN", "क्\u200dष {name}", set()),
    ("en-US", "Coding weather 👩\u200d💻, {name}.", set()),
    ("th-TH", "อากาศ\u200bดี {name}", set()),
    ("en-US", "Sunny,\n{name}.\tTab.", set()),
    # Markup: said or shown literally; active markup would run in a client rendering HTML.
    ("en-US", "It is <b>sunny</b>, {name}.",
     {("template.markup", "warning", 6, "markup"), ("template.markup", "warning", 14, "markup")}),
    ("en-US", "Sun &amp; rain, {name}.", {("template.markup", "warning", 4, "markup")}),
    ("en-US", "Sunny<script>alert(1)</script>, {name}.",
     {("template.active_markup", "error", 5, "active"), ("template.active_markup", "error", 21, "active")}),
    ("en-US", "<span onmouseover=alert(1)>Sunny</span> {name}",
     {("template.active_markup", "error", 0, "active"), ("template.markup", "warning", 32, "markup")}),
    ("en-US", "If 3 < 4 and 5 > 2, {name}.", set()),
])
def test_invisible_characters_and_markup_are_flagged_by_class(key, tag, body, expected):
    assert found(key, tag, body) == expected


def test_a_text_with_a_bidi_override_is_stored_with_its_error_and_cannot_be_approved(key):
    en = f.locale("en-US")
    text = template_save(key=key, locale=en, body="It is \u202eynnus\u202c, {name}.", actor="test")
    assert text.has_errors
    template_status_change(template=text, to="in_review", actor="test")
    with pytest.raises(ValidationError):
        template_status_change(template=text, to="approved", actor="test")
