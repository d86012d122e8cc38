"""Masking obvious personal data before anything is stored. Pure: no Django.

Emails, card-like numbers (13–19 digits that pass the Luhn check) and phone-like numbers (7–15
digits, optionally with +, spaces, dashes, dots or brackets, not shaped like a date) become
``<email>``, ``<card>`` and ``<phone>``. Angle brackets keep the MASSIVE notation's ``[ ]`` free,
so a masked text can still be annotated. What was replaced is recorded by type and count, never
the replaced text. Erring towards masking: a bare seven-digit amount is masked as phone-like, a card
next to other digits or letters is still found, and digits of any script count.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# Digit runs with short separators between digits (no colon: times stay). Only a digit next to a
# run ends it: a letter does not ("kartennr4111…", "…1111EUR" are still numbers).
_DIGITS_WITH_SEPARATORS = re.compile(r"(?<![\d+])\+?\(?\d(?:[ .\-()/]{0,3}\d)+\)?(?!\d)")
_GROUPS = re.compile(r"\d+")
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


class _AsciiDigits(dict):
    """str.translate table: any decimal digit (Arabic-Indic, Devanagari, full-width …) to ASCII,
    one character for one, so offsets into the translated text are offsets into the original."""

    def __missing__(self, codepoint: int):
        char = chr(codepoint)
        value = str(unicodedata.digit(char)) if unicodedata.category(char) == "Nd" else None
        self[codepoint] = value if value is not None else codepoint
        return self[codepoint]


_ASCII_DIGITS = _AsciiDigits()


def _inner_numbers(run: str) -> list[tuple[int, int, str]]:
    """In a run that is neither a card nor a phone as a whole (a card next to an amount or a CVV,
    two phone numbers side by side), the spans that are: a card over consecutive digit groups,
    else a phone in one group of 7–15 digits."""
    groups = [(m.start(), m.end()) for m in _GROUPS.finditer(run)]
    spans, i = [], 0
    while i < len(groups):
        for j in range(len(groups), i, -1):
            digits = "".join(run[a:b] for a, b in groups[i:j])
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                spans.append((groups[i][0], groups[j - 1][1], "card"))
                i = j
                break
        else:
            a, b = groups[i]
            if 7 <= b - a <= 15:
                spans.append((a, b, "phone"))
            i += 1
    return spans


def mask_pii(text: str) -> tuple[str, Counter]:
    """The text with personal data replaced, and how many of each type were replaced."""
    found: Counter = Counter()
    if "@" in text:
        text, n = EMAIL.subn(PLACEHOLDERS["email"], text)
        if n:
            found["email"] += n
    if not _HAS_DIGIT.search(text):
        return text, found
    digits_text = text.translate(_ASCII_DIGITS)  # same length: spans found here cut the original
    out, position = [], 0
    for match in _DIGITS_WITH_SEPARATORS.finditer(digits_text):
        run = match.group(0)
        kind = _number_kind(run)
        spans = [(0, len(run), kind)] if kind else _inner_numbers(run)
        for start, end, span_kind in spans:
            out.append(text[position:match.start() + start])
            out.append(PLACEHOLDERS[span_kind])
            found[span_kind] += 1
            position = match.start() + end
    out.append(text[position:])
    return "".join(out), found


def masking_record(found: Counter) -> list[dict]:
    """As stored on the event: [{"type": "email", "count": 1}], types in a fixed order."""
    return [{"type": kind, "count": found[kind]} for kind in PLACEHOLDERS if found.get(kind)]
