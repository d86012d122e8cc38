"""The normalized form of an utterance, used to find duplicates across sources.

NFKC, case-folded, punctuation dropped, whitespace collapsed; for locales written without
spaces (`Locale.writes_without_spaces`: Japanese, Chinese, Cantonese, Thai, Khmer, Lao, Burmese,
...) ICU's word breaker, in the locale's language, inserts the word boundaries, so "明日の天気" and
"明日 の 天気" normalize alike.
"""
import unicodedata
from functools import lru_cache

from icu4py.breakers import WordBreaker
from icu4py.locale import Locale as IcuLocale


@lru_cache(maxsize=64)
def _icu_locale(language: str) -> IcuLocale:
    return IcuLocale(language)


class _PunctuationToSpace(dict):
    """A str.translate table filled on first sight of each character: punctuation, symbols and
    separators (Unicode categories P*, S*, Z*) become spaces. Translating in C is several times
    faster than a per-character Python loop, and the table stays as small as the alphabet seen."""

    def __missing__(self, codepoint: int):
        value = " " if unicodedata.category(chr(codepoint))[0] in "PSZ" else None
        self[codepoint] = value if value is not None else codepoint
        return self[codepoint]


_PUNCTUATION_TO_SPACE = _PunctuationToSpace()


def _strip_punctuation(text: str) -> str:
    return text.translate(_PUNCTUATION_TO_SPACE)


def normalize_text(text: str, *, locale=None) -> str:
    """`text` normalized for `locale` (a registry Locale; None: no word breaking, e.g. a search
    term of any locale)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if locale is not None and locale.writes_without_spaces:
        folded = " ".join(WordBreaker(folded.replace(" ", ""), _icu_locale(locale.language)))
    return " ".join(_strip_punctuation(folded).split())
