"""Which writing system a letter belongs to, by Unicode block. Pure Python.

Python's unicodedata has no Script property and none of our pinned libraries exposes ICU's
uscript, so this is a table of the blocks of the scripts Parley's locales use. Limits, honestly:
- blocks, not the Script property: a few symbols inside a block count as its script;
- only letters are classified (digits, punctuation, marks and symbols are ignored);
- it tells scripts apart, not languages in one script: Arabic vs Persian vs Urdu share the
  Arabic script (see `arabic_letters_foreign_to` for the letters that set them apart), Serbian
  Latin vs English is not detectable, Chinese vs Japanese kanji-only text is not either;
- a script missing from the table reads as "unknown", and a locale whose script is unknown
  (or not in the table) is not checked at all.
"""
from __future__ import annotations

import bisect
import unicodedata

_BLOCKS: list[tuple[int, int, str]] = sorted([
    (0x0041, 0x005A, "Latn"), (0x0061, 0x007A, "Latn"), (0x00C0, 0x024F, "Latn"), (0x1E00, 0x1EFF, "Latn"),
    (0x2C60, 0x2C7F, "Latn"), (0xA720, 0xA7FF, "Latn"), (0xFF21, 0xFF3A, "Latn"), (0xFF41, 0xFF5A, "Latn"),
    (0x0250, 0x02AF, "Latn"),
    (0x0370, 0x03FF, "Grek"), (0x1F00, 0x1FFF, "Grek"),
    (0x0400, 0x052F, "Cyrl"), (0x1C80, 0x1C8F, "Cyrl"), (0x2DE0, 0x2DFF, "Cyrl"), (0xA640, 0xA69F, "Cyrl"),
    (0x0530, 0x058F, "Armn"),
    (0x0590, 0x05FF, "Hebr"), (0xFB1D, 0xFB4F, "Hebr"),
    (0x0600, 0x06FF, "Arab"), (0x0750, 0x077F, "Arab"), (0x08A0, 0x08FF, "Arab"), (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"),
    (0x0700, 0x074F, "Syrc"), (0x0780, 0x07BF, "Thaa"),
    (0x0900, 0x097F, "Deva"), (0x0980, 0x09FF, "Beng"), (0x0A00, 0x0A7F, "Guru"), (0x0A80, 0x0AFF, "Gujr"),
    (0x0B00, 0x0B7F, "Orya"), (0x0B80, 0x0BFF, "Taml"), (0x0C00, 0x0C7F, "Telu"), (0x0C80, 0x0CFF, "Knda"),
    (0x0D00, 0x0D7F, "Mlym"), (0x0D80, 0x0DFF, "Sinh"), (0x0E00, 0x0E7F, "Thai"), (0x0E80, 0x0EFF, "Laoo"),
    (0x0F00, 0x0FFF, "Tibt"), (0x1000, 0x109F, "Mymr"), (0xAA60, 0xAA7F, "Mymr"),
    (0x10A0, 0x10FF, "Geor"), (0x1C90, 0x1CBF, "Geor"), (0x2D00, 0x2D2F, "Geor"),
    (0x1100, 0x11FF, "Hang"), (0x3130, 0x318F, "Hang"), (0xAC00, 0xD7AF, "Hang"), (0xA960, 0xA97F, "Hang"),
    (0xD7B0, 0xD7FF, "Hang"), (0xFFA0, 0xFFDC, "Hang"),
    (0x1200, 0x139F, "Ethi"), (0x2D80, 0x2DDF, "Ethi"), (0xAB00, 0xAB2F, "Ethi"),
    (0x1780, 0x17FF, "Khmr"), (0x19E0, 0x19FF, "Khmr"),
    (0x1800, 0x18AF, "Mong"),
    (0x3040, 0x309F, "Hira"), (0x30A0, 0x30FF, "Kana"), (0x31F0, 0x31FF, "Kana"), (0xFF66, 0xFF9F, "Kana"),
    (0x3005, 0x3007, "Hani"), (0x3400, 0x4DBF, "Hani"), (0x4E00, 0x9FFF, "Hani"), (0xF900, 0xFAFF, "Hani"),
    (0x20000, 0x2FA1F, "Hani"),
])
_STARTS = [start for start, _, _ in _BLOCKS]

# Scripts that are written with several of the table's scripts (ISO 15924 composites).
COMPOSITES = {
    "Jpan": frozenset({"Hani", "Hira", "Kana"}),
    "Kore": frozenset({"Hang", "Hani"}),
    "Hans": frozenset({"Hani"}),
    "Hant": frozenset({"Hani"}),
    "Hrkt": frozenset({"Hira", "Kana"}),
}
KNOWN_SCRIPTS = frozenset(s for _, _, s in _BLOCKS) | frozenset(COMPOSITES)


def script_of(char: str) -> str:
    """The table's script of one character, or "" when it is not in the table."""
    code = ord(char)
    i = bisect.bisect_right(_STARTS, code) - 1
    if i >= 0:
        start, end, script = _BLOCKS[i]
        if start <= code <= end:
            return script
    return ""


def scripts_for_locale(script: str) -> frozenset[str]:
    """The table scripts a locale's ISO 15924 script is written in (empty: cannot check)."""
    if script in COMPOSITES:
        return COMPOSITES[script]
    return frozenset({script}) if script in KNOWN_SCRIPTS else frozenset()


def letters(text: str) -> list[tuple[int, str]]:
    """(offset, character) of every letter in `text` (Unicode category L*)."""
    return [(i, ch) for i, ch in enumerate(text) if unicodedata.category(ch).startswith("L")]


# Letters of the Arabic script that belong to one language's alphabet and not another's. A
# handful of telltale letters, not a language identifier: text without them says nothing.
_PERSIAN_ONLY = frozenset("پچژگکی")  # pe, che, zhe, gaf, keheh, Farsi yeh
_ARABIC_ONLY = frozenset("يكة")  # Arabic yeh and kaf (Persian writes ی and ک), teh marbuta is rare in Persian
_URDU_ONLY = frozenset("ٹڈڑںےہ")
_FOREIGN_LETTERS = {
    "ar": _PERSIAN_ONLY | _URDU_ONLY,
    "fa": (_ARABIC_ONLY - {"ة"}) | _URDU_ONLY,
    "ur": frozenset("يكة"),
}


def arabic_letters_foreign_to(language: str, text: str) -> list[tuple[int, str]]:
    """(offset, letter) of Arabic-script letters that the language's own alphabet does not use."""
    foreign = _FOREIGN_LETTERS.get(language)
    if not foreign:
        return []
    return [(i, ch) for i, ch in enumerate(text) if ch in foreign]
