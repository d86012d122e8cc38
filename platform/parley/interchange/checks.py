"""Checks of what an import read, about the file as it was written.

An import's rows are checked as drafts (services._Draft) that may carry `source_text`: the text a
file wrote beside its tokens (xSID's `# text` comment). Stored utterances carry none, so these
checks speak only while a file is read: an edit later, whose text is its own, finds nothing here.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from parley.checks.registry import Check, Severity, register
from parley.nlu.checks import locale_char_split

# A quoted stretch longer than this is cut ("…"): a message names words, not a paragraph.
SHOWN_MAX = 60


def _non_space(text: str) -> list[int]:
    """Offsets of the characters of `text` that are not whitespace."""
    return [i for i, c in enumerate(text) if not c.isspace()]


def _stretch(text: str, at: list[int], first: int, end: int, *, whole_words: bool) -> tuple[int, int]:
    """The span of `text` holding its non-space characters `first`..`end` (indexes into `at`),
    widened to whole words unless the text is written without spaces. An empty range widens only
    inside a word (a letter left out of "glaichn"), else it stays empty (a word left out)."""
    if first < end:
        start, stop = at[first], at[end - 1] + 1
    else:
        start = stop = at[first - 1] + 1 if first else 0
        if not (0 < start < len(text) and not text[start - 1].isspace() and not text[start].isspace()):
            return start, stop
    if whole_words:
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while stop < len(text) and not text[stop].isspace():
            stop += 1
    return start, stop


def text_difference(source: str, text: str, *, whole_words: bool = True) -> tuple[str, str, int] | None:
    """Where `source` and `text` say other characters (spacing aside): (what `source` says there,
    what `text` says, the offset in `text`), or None when they differ in spacing only.

    Linear in the lengths: the common start and end are set aside and what lies between is the
    difference, from its first to its last differing character (a single typo is one word).
    """
    if "".join(source.split()) == "".join(text.split()):  # nearly every row: no offsets needed
        return None
    source_at, text_at = _non_space(source), _non_space(text)
    source_chars = "".join(source[i] for i in source_at)
    text_chars = "".join(text[i] for i in text_at)
    shortest = min(len(source_chars), len(text_chars))
    prefix = 0
    while prefix < shortest and source_chars[prefix] == text_chars[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and source_chars[-1 - suffix] == text_chars[-1 - suffix]:
        suffix += 1
    s_start, s_stop = _stretch(source, source_at, prefix, len(source_chars) - suffix, whole_words=whole_words)
    t_start, t_stop = _stretch(text, text_at, prefix, len(text_chars) - suffix, whole_words=whole_words)
    return source[s_start:s_stop], text[t_start:t_stop], t_start


def _shown(piece: str) -> str:
    if not piece:
        return "nothing"
    return repr(piece if len(piece) <= SHOWN_MAX else piece[:SHOWN_MAX] + "…")


@register
class SourceTextDiffers(Check):
    id = "utterance.source_text_differs"
    severity = Severity.WARNING
    applies_to = "utterance"
    description = _("The file's own text of a row (xSID's '# text' comment) has other words than its token lines, "
                    "not just other spacing (de-muc.test.conll id 500: 'gleichn' over the token 'glaichn'). The "
                    "row's text is built from the tokens; the comment is kept as written.")

    def run(self, obj, *, locale, context):
        source = getattr(obj, "source_text", None)
        if source is None:  # a stored utterance, or a row whose file wrote no text beside its tokens
            return []
        unspaced = locale_char_split(locale, context)
        found = text_difference(source, obj.text, whole_words=not unspaced)
        if found is None:
            return []
        said, tokens, position = found
        where = (f"character {position + 1}" if unspaced
                 else f"word {len(obj.text[:position].split()) + 1}")
        return [self.finding(
            f"the file's '# text' says {_shown(said)} where its tokens say {_shown(tokens)} ({where}); the text "
            "is taken from the tokens, the comment kept as written", position=position, field="text")]
