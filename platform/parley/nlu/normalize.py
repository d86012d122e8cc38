"""The normalized form of an utterance, used to find duplicates across sources.

NFKC, case-folded, punctuation dropped, whitespace collapsed; for scripts written without
spaces (Japanese, Chinese, Thai, Khmer, Lao, Burmese) ICU's word breaker inserts the word
boundaries, so "明日の天気" and "明日 の 天気" normalize alike.
"""
import unicodedata
from functools import lru_cache

from icu4py.breakers import WordBreaker
from icu4py.locale import Locale as IcuLocale

SEGMENTED_LANGUAGES = frozenset({"ja", "zh", "yue", "th", "km", "lo", "my"})


@lru_cache(maxsize=64)
def _icu_locale(language: str) -> IcuLocale:
    return IcuLocale(language)


def _strip_punctuation(text: str) -> str:
    return "".join(" " if unicodedata.category(ch)[0] in "PSZ" else ch for ch in text)


def normalize_text(text: str, *, language: str = "") -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    if language in SEGMENTED_LANGUAGES:
        folded = " ".join(WordBreaker(folded.replace(" ", ""), _icu_locale(language)))
    return " ".join(_strip_punctuation(folded).split())
