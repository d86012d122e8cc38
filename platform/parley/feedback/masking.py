"""Masking obvious personal data before anything is stored. Pure: no Django.

Emails, card-like numbers (13–19 digits that pass the Luhn check) and phone-like numbers (7–15
digits, optionally with +, spaces, dashes, dots or brackets, not shaped like a date) become
``<email>``, ``<card>`` and ``<phone>``. Angle brackets keep the MASSIVE notation's ``[ ]`` free,
so a masked text can still be annotated. What was replaced is recorded by type and count, never
the replaced text. Erring towards masking: a bare seven-digit amount is masked as phone-like, a card
next to other digits or letters is still found, and digits of any script count.

Matching runs on a normalized copy, so look-alikes do not hide anything (issue 15, finding 5):
NFKC (full-width ``＠`` and digits, superscript and circled digits, compatibility spaces), every
white-space character (``str.isspace``: tab, line breaks, the ASCII separators, NEL, every Unicode
space) as a plain space, even in ASCII text, every dash as ``-``, the ideographic full stops
(``。``, ``｡``, ``︒``: domain label separators in IDNA) as ``.``, and invisible characters (format
characters such as zero-width spaces, joiners, soft hyphens, bidi controls; variation selectors,
fillers) dropped. Each normalized character remembers the original characters it came from, so a match
replaces exactly those and everything not masked is the original text, character for character.
"""
from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections import Counter

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# Digit runs with short separators between digits (no colon: times stay). Only a digit next to a
# run ends it: a letter does not ("kartennr4111…", "…1111EUR" are still numbers).
_DIGITS_WITH_SEPARATORS = re.compile(r"(?<![\d+])\+?\(?\d(?:[\s.\-()/]{0,3}\d)+\)?(?!\d)")
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


# White space other than " " in ASCII text ("4111\t1111…", "555\n123\n4567"), one character for one.
_ASCII_SPACES = {code: " " for code in range(128) if chr(code).isspace() and code != 32}
_ASCII_SPACE = re.compile("[" + re.escape("".join(chr(code) for code in _ASCII_SPACES)) + "]")
# What NFKC leaves of the ideographic full stops (U+3002; U+FF61 and U+FE12 become it): a dot.
_FULL_STOPS = {"\u3002": "."}

# Invisible characters that are not format characters (Cf): the combining grapheme joiner, variation
# selectors, Mongolian free variation selectors, Hangul fillers.
_INVISIBLE = frozenset([0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, *range(0x180B, 0x1810), *range(0xFE00, 0xFE10),
                        *range(0xE0100, 0xE01F0)])


@functools.cache
def _unicode_tables() -> tuple[frozenset, re.Pattern]:
    """Built once, on the first non-ASCII text (~0.3 s over all of Unicode): the characters that
    normalize to something else besides NFKC, and an email pattern whose words may carry combining
    marks (Devanagari, Thai, … vowel signs are marks, not \\w, and would cut an address short)."""
    special, marks = set(), []
    for code in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if code in _INVISIBLE or category in ("Cf", "Zs", "Zl", "Zp", "Pd") or chr(code).isspace() \
                or chr(code) in _FULL_STOPS:
            special.add(chr(code))
        elif category[0] == "M":
            marks.append(code)
    ranges, start = [], None
    for previous, code in zip([None] + marks, marks):
        if start is None or code != previous + 1:
            if start is not None:
                ranges.append((start, previous))
            start = code
    if start is not None:
        ranges.append((start, marks[-1]))
    mark_class = "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)
    word = rf"[\w\-{mark_class}]"
    email = re.compile(rf"[\w.%+\-{mark_class}]+@{word}+(?:\.{word}+)+")
    return frozenset(special) - {" ", "-"}, email


def _normal_char(char: str) -> str:
    if ord(char) in _INVISIBLE:
        return ""
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    if category in ("Zs", "Zl", "Zp") or char.isspace():
        return " "
    if category == "Pd":
        return "-"
    normal = unicodedata.normalize("NFKC", char)
    return _FULL_STOPS.get(normal, normal)


def _normalized(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """The text to match on, and for each of its characters where it came from in `text`: the
    start and end of the original cluster (a character with its combining marks, normalized
    together so "u" + U+0308 matches as "ü"). ASCII text keeps its positions (None, None): only its
    white space other than " " changes, one character for one."""
    if text.isascii():
        return (text.translate(_ASCII_SPACES) if _ASCII_SPACE.search(text) else text), None, None
    if unicodedata.is_normalized("NFKC", text) and _unicode_tables()[0].isdisjoint(text):
        return text, None, None
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.category(text[j])[0] == "M" and ord(text[j]) not in _INVISIBLE:
            j += 1
        if j == i + 1:
            piece = _normal_char(text[i])
        else:
            piece = _normal_char(text[i]) + "".join(text[i + 1:j])
            piece = unicodedata.normalize("NFKC", piece) if piece else piece
        for char in piece:
            out.append(char)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(out), starts, ends


def _spans(normal: str) -> list[tuple[int, int, str]]:
    """Where the personal data is in the normalized text: (start, end, type), in order."""
    spans = []
    if "@" in normal:
        email = EMAIL if normal.isascii() else _unicode_tables()[1]
        spans = [(m.start(), m.end(), "email") for m in email.finditer(normal)]
        if spans:
            # Emails are no numbers: blank them (same length, so positions hold) before looking for digits.
            chars = list(normal)
            for start, end, _kind in spans:
                chars[start:end] = "\x00" * (end - start)
            normal = "".join(chars)
    if _HAS_DIGIT.search(normal):
        digits = normal.translate(_ASCII_DIGITS)  # same length: spans found here are spans of `normal`
        for match in _DIGITS_WITH_SEPARATORS.finditer(digits):
            run = match.group(0)
            kind = _number_kind(run)
            for start, end, span_kind in ([(0, len(run), kind)] if kind else _inner_numbers(run)):
                spans.append((match.start() + start, match.start() + end, span_kind))
        spans.sort()
    return spans


def mask_pii(text: str) -> tuple[str, Counter]:
    """The text with personal data replaced, and how many of each type were replaced."""
    found: Counter = Counter()
    normal, starts, ends = _normalized(text)
    spans = _spans(normal)
    if not spans:
        return text, found
    out, position = [], 0
    for start, end, kind in spans:
        if starts is not None:
            start, end = starts[start], ends[end - 1]
        found[kind] += 1
        if start < position:  # two matches inside one original cluster (e.g. "½"): one placeholder
            position = max(position, end)
            continue
        out.append(text[position:start])
        out.append(PLACEHOLDERS[kind])
        position = end
    out.append(text[position:])
    return "".join(out), found


def masking_record(found: Counter) -> list[dict]:
    """As stored on the event: [{"type": "email", "count": 1}], types in a fixed order."""
    return [{"type": kind, "count": found[kind]} for kind in PLACEHOLDERS if found.get(kind)]
