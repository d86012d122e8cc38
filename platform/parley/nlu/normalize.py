"""The normalized form of an utterance, used to find duplicates across sources.

NFKC, case-folded, punctuation dropped, whitespace collapsed; for languages whose script is
written without spaces (CLDR's "LB letters" scripts: Japanese, Chinese, Cantonese, Thai, Khmer,
Lao, Burmese, ...) ICU's word breaker inserts the word boundaries, so "明日の天気" and
"明日 の 天気" normalize alike.
"""
import unicodedata
from functools import lru_cache

from icu4py.breakers import WordBreaker
from icu4py.locale import Locale as IcuLocale

from parley.locales.cldr import script_writes_without_spaces, tag_script


@lru_cache(maxsize=512)
def is_segmented_language(language: str) -> bool:
    """Whether the language's (likely) script writes no spaces between words: its words are found
    by ICU's word breaker, not by spaces. Decided once per language."""
    return bool(language) and script_writes_without_spaces(tag_script(language))


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


def normalize_text(text: str, *, language: str = "") -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    if is_segmented_language(language):
        folded = " ".join(WordBreaker(folded.replace(" ", ""), _icu_locale(language)))
    return " ".join(_strip_punctuation(folded).split())
