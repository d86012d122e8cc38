"""Masking obvious personal data before anything is stored. Pure: no Django.

Emails, card-like numbers (13–19 digits that pass the Luhn check) and phone-like numbers (7–15
digits, optionally with +, spaces, dashes, dots or brackets, not shaped like a date) become
``<email>``, ``<card>`` and ``<phone>``. Angle brackets keep the MASSIVE notation's ``[ ]`` free,
so a masked text can still be annotated. What was replaced is recorded by type and count, never
the replaced text. Erring towards masking: a bare seven-digit amount is masked as phone-like.
"""
from __future__ import annotations

import re
from collections import Counter

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# Digit runs with single separators between digits (no letters, no colon: times stay).
_DIGITS_WITH_SEPARATORS = re.compile(r"(?<![\w+])\+?\(?\d(?:[ .\-()]{0,2}\d)+\)?(?!\w)")
_DATE_SHAPE = re.compile(r"^\d{4}[-.]\d{1,2}[-.]\d{1,2}$|^\d{1,2}[-.]\d{1,2}[-.]\d{2,4}$")

_HAS_DIGIT = re.compile(r"\d")
PLACEHOLDERS = {"email": "<email>", "card": "<card>", "phone": "<phone>"}


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _number_kind(match: str) -> str | None:
    digits = "".join(c for c in match if c.isdigit())
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return "card"
    if 7 <= len(digits) <= 15 and not _DATE_SHAPE.match(match.strip("()")):
        return "phone"
    return None


def mask_pii(text: str) -> tuple[str, Counter]:
    """The text with personal data replaced, and how many of each type were replaced."""
    found: Counter = Counter()
    if "@" in text:
        text, n = EMAIL.subn(PLACEHOLDERS["email"], text)
        if n:
            found["email"] += n
    if not _HAS_DIGIT.search(text):
        return text, found

    def number(match: re.Match) -> str:
        kind = _number_kind(match.group(0))
        if kind is None:
            return match.group(0)
        found[kind] += 1
        return PLACEHOLDERS[kind]

    return _DIGITS_WITH_SEPARATORS.sub(number, text), found


def masking_record(found: Counter) -> list[dict]:
    """As stored on the event: [{"type": "email", "count": 1}], types in a fixed order."""
    return [{"type": kind, "count": found[kind]} for kind in PLACEHOLDERS if found.get(kind)]
