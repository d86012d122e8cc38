"""MASSIVE slot annotation notation: parse, validate, serialize, and convert to/from BIO.

A MASSIVE row carries the plain utterance (``utt``) and the same utterance with slots marked
(``annot_utt``)::

    utt:       wake me up at five am this week
    annot_utt: wake me up at [time : five am] [date : this week]

A slot is ``[`` + slot type + ``" : "`` + value + ``]``. The notation has no escaping, so a
literal ``[`` or ``]`` can never be part of the text. Parsing is exact: the separator is exactly
one space, a colon and one space, split on its FIRST occurrence (slot types never contain
whitespace, so a value may itself contain ``" : "``); the value is everything up to ``]``,
verbatim. Nothing is trimmed, which is what makes ``serialize(parse(s).annotation) == s``.

Scripts that write no spaces between words (Han, kana, Thai, Khmer, ...: CLDR's "LB letters")
set each slot off by one space that ``utt`` does not have, because MASSIVE's loader cuts
``annot_utt`` at whitespace and a slot must begin a chunk (ja-JP in MASSIVE 1.0)::

    utt:       这周五点叫我起床
    annot_utt: [date : 这周] [time : 五点] 叫我起床

In those locales ("char split": MASSIVE's loader, and Parley, count characters there) one
U+0020 directly outside each bracket is notation, not text: ``parse`` drops it when it rebuilds
the plain text (and accepts an ``utt`` that has it too, as in "播放 [app_name : Spotify]" for
"播放 Spotify"), ``serialize(spaced=True)`` writes it and ``published_form`` inserts it where a
bracket touches another character.

Pure Python, no Django: models, importers and exporters call this. Whether a locale is char
split is not decided here: callers pass ``char_split=locale.writes_without_spaces`` (the
registry's script, which a linguist may override), so a row is stored and exported alike.
"""
from __future__ import annotations

import re

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace

__all__ = [
    "OPEN",
    "CLOSE",
    "SEPARATOR",
    "UNBALANCED_BRACKET",
    "NESTED_BRACKET",
    "MISSING_SEPARATOR",
    "EMPTY_SLOT_TYPE",
    "INVALID_SLOT_TYPE",
    "EMPTY_VALUE",
    "UNKNOWN_SLOT_TYPE",
    "TEXT_MISMATCH",
    "TOKEN_COUNT_MISMATCH",
    "SLOT_NOT_ALLOWED",
    "VALUE_WHITESPACE",
    "TEXT_CASE_MISMATCH",
    "Slot",
    "Annotation",
    "Issue",
    "ParseResult",
    "AnnotationSyntaxError",
    "parse",
    "serialize",
    "published_form",
    "plain_text",
    "tokenize",
    "token_count",
    "to_bio",
    "from_bio",
]

OPEN = "["
CLOSE = "]"
SEPARATOR = " : "

# The space that sets a slot off in scripts written without spaces (see the module docstring).
NOTATION_SPACE = " "

# Issue codes. Stable strings: callers and stored validation reports depend on them.
# Errors:
UNBALANCED_BRACKET = "unbalanced_bracket"  # "]" without "[", or "[" never closed
NESTED_BRACKET = "nested_bracket"  # "[" inside a slot
MISSING_SEPARATOR = "missing_separator"  # no " : " between "[" and "]"
EMPTY_SLOT_TYPE = "empty_slot_type"  # nothing (or only spaces) before " : "
INVALID_SLOT_TYPE = "invalid_slot_type"  # slot type contains whitespace, e.g. "[time  : x]"
EMPTY_VALUE = "empty_value"  # nothing (or only whitespace) after " : "
UNKNOWN_SLOT_TYPE = "unknown_slot_type"  # not in the slot_types given to parse()
TEXT_MISMATCH = "text_mismatch"  # plain text rebuilt from the annotation != utt
TOKEN_COUNT_MISMATCH = "token_count_mismatch"  # annotation tokens don't line up with utt's
# Warnings:
SLOT_NOT_ALLOWED = "slot_not_allowed"  # known type, but not in allowed_slot_types
VALUE_WHITESPACE = "value_whitespace"  # value starts or ends with whitespace
TEXT_CASE_MISMATCH = "text_case_mismatch"  # plain text differs from utt in letter case only (SLURP)

# Codes whose presence means the notation itself could not be turned into an Annotation.
_BLOCKING = frozenset({
    UNBALANCED_BRACKET, NESTED_BRACKET, MISSING_SEPARATOR, EMPTY_SLOT_TYPE,
    INVALID_SLOT_TYPE, EMPTY_VALUE,
})


# --------------------------------------------------------------------------- data types


def _slot_type_problem(slot_type: object) -> str | None:
    """Code of what is wrong with a slot type, or None. Shared by parse() and Slot so that
    everything parse() accepts is constructible and everything constructible serializes back."""
    if not isinstance(slot_type, str) or not slot_type or slot_type.isspace():
        return EMPTY_SLOT_TYPE
    # Whitespace would make the " : " split ambiguous and breaks MASSIVE's own loader, which
    # reads the type from the whitespace chunk "[type". str.split() cuts at exactly the
    # characters str.isspace() calls whitespace, in C (this runs for every slot of an import).
    if slot_type.split() != [slot_type] or OPEN in slot_type or CLOSE in slot_type:
        return INVALID_SLOT_TYPE
    return None


def _value_problem(value: object) -> str | None:
    if not isinstance(value, str) or not value or value.isspace():
        return EMPTY_VALUE
    if OPEN in value or CLOSE in value:
        return NESTED_BRACKET
    return None


@dataclass(frozen=True)
class Slot:
    """One slot. ``start``/``end`` are character offsets of ``value`` in the PLAIN text
    (``Annotation.text``, i.e. MASSIVE's ``utt``), end exclusive, so ``text[start:end] == value``.
    """

    type: str
    value: str
    start: int
    end: int

    def __post_init__(self) -> None:
        problem = _slot_type_problem(self.type)
        if problem:
            raise ValueError(f"invalid slot type {self.type!r} ({problem})")
        problem = _value_problem(self.value)
        if problem:
            raise ValueError(f"invalid slot value {self.value!r} ({problem})")
        for name in ("start", "end"):
            offset = getattr(self, name)
            if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
                raise ValueError(f"slot {name} must be a non-negative int, got {offset!r}")
        if self.end - self.start != len(self.value):
            raise ValueError(
                f"slot offsets {self.start}..{self.end} do not span value {self.value!r}"
            )


@dataclass(frozen=True)
class Annotation:
    """A plain utterance plus its slots, ordered by position and non-overlapping.

    Construction validates, so every Annotation can be serialized and round-trips through
    parse(). ``slots`` may be given in any order or as a list; it is stored as a sorted tuple
    so that equality does not depend on how the annotation was built.
    """

    text: str
    slots: tuple[Slot, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise ValueError(f"text must be a str, got {type(self.text).__name__}")
        for bracket in (OPEN, CLOSE):
            if bracket in self.text:
                raise ValueError(
                    f"text contains {bracket!r} at {self.text.index(bracket)}; MASSIVE notation "
                    "cannot escape brackets"
                )
        slots = tuple(sorted(self.slots, key=lambda s: s.start))
        object.__setattr__(self, "slots", slots)
        previous_end = 0
        for slot in slots:
            if not isinstance(slot, Slot):
                raise ValueError(f"slots must be Slot instances, got {slot!r}")
            if slot.start < previous_end:
                raise ValueError(f"slot {slot!r} overlaps the previous slot")
            if slot.end > len(self.text) or self.text[slot.start:slot.end] != slot.value:
                raise ValueError(
                    f"slot {slot!r} does not match text[{slot.start}:{slot.end}] = "
                    f"{self.text[slot.start:slot.end]!r}"
                )
            previous_end = slot.end

    def segments(self) -> list[tuple[str, Slot | None]]:
        """The text cut into consecutive non-empty pieces, each paired with its slot (or None
        for text outside slots). Concatenating the pieces gives ``text``."""
        pieces: list[tuple[str, Slot | None]] = []
        position = 0
        for slot in self.slots:
            if slot.start > position:
                pieces.append((self.text[position:slot.start], None))
            pieces.append((slot.value, slot))
            position = slot.end
        if position < len(self.text):
            pieces.append((self.text[position:], None))
        return pieces


def _built(cls, **values):
    """An instance of a frozen dataclass without its __post_init__ checks, for what parse() has
    already checked itself (every slot type, value and offset): a third of parse()'s time was
    re-checking them."""
    instance = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(instance, name, value)
    return instance


@dataclass(frozen=True)
class Issue:
    """A problem found by parse().

    ``position`` is a 0-based character offset into ``annot_utt``, except for
    ``text_mismatch`` and ``token_count_mismatch`` where it is an offset into ``utt`` (their
    messages say so). None when there is no meaningful position.
    """

    code: str
    message: str
    position: int | None = None


@dataclass
class ParseResult:
    """Outcome of parse().

    ``annotation`` is set whenever the notation itself is well formed, even if checks against
    ``utt`` or ``slot_types`` failed, so a UI can still show it; use ``ok`` before trusting it.
    It is None when the notation is broken (brackets, separator, empty type/value).
    """

    annotation: Annotation | None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class AnnotationSyntaxError(ValueError):
    """Raised by the convenience plain_text() when the notation is malformed."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("; ".join(i.message for i in issues) or "malformed annotation")


# --------------------------------------------------------------------------- tokenization


_TOKEN = re.compile(r"\S+")
_BRACKET = re.compile(r"[\[\]]")
_CHARACTER = re.compile(r"\S")


def _tokens_with_offsets(text: str, char_split: bool) -> list[tuple[str, int]]:
    """(token, start offset) pairs. Whitespace means str.isspace() (what re's Unicode \\s
    matches too), the same set str.split() uses, so counts agree with MASSIVE's loader (which
    calls utt.split())."""
    pattern = _CHARACTER if char_split else _TOKEN
    return [(m.group(), m.start()) for m in pattern.finditer(text)]


def tokenize(text: str, *, char_split: bool = False) -> list[str]:
    """Whitespace tokens, or non-space characters in char-split locales.

    Note: for ja/zh MASSIVE's loader keeps all-ASCII whitespace chunks (code-switched Latin
    words) whole; here every character is a token, as Parley's export specifies. Counts compared
    with each other use the same rule on both sides, so validation is unaffected.
    """
    return [tok for tok, _ in _tokens_with_offsets(text, char_split)]


def token_count(text: str, *, char_split: bool = False) -> int:
    """Number of tokens in ``text``: whitespace-split, or non-space characters when char-split."""
    return len(_tokens_with_offsets(text, char_split))


# --------------------------------------------------------------------------- parsing


def _scan_brackets(annot_utt: str, errors: list[Issue]) -> list[tuple[int, int, bool]]:
    """Find slots as (open index, close index, nested) and record bracket errors.

    Scanning continues after an error so that every bracket problem is reported: a stray "]"
    is skipped, a nested "[" is matched with its own "]" (the enclosing slot is then reported
    as nested, not parsed), and every "[" still open at the end is reported as unclosed.
    """
    slots: list[tuple[int, int, bool]] = []
    stack: list[int] = []
    nested = False
    for match in _BRACKET.finditer(annot_utt):  # only the brackets, not every character
        i, ch = match.start(), match.group()
        if ch == OPEN:
            if stack:
                nested = True
                errors.append(Issue(
                    NESTED_BRACKET,
                    f"'[' at {i} is inside the slot opened at {stack[0]}; slots cannot nest "
                    "and brackets cannot be escaped",
                    i,
                ))
            stack.append(i)
        elif ch == CLOSE:
            if not stack:
                errors.append(Issue(
                    UNBALANCED_BRACKET,
                    f"']' at {i} has no matching '['; brackets cannot be escaped",
                    i,
                ))
                continue
            opened = stack.pop()
            if not stack:
                slots.append((opened, i, nested))
                nested = False
    for opened in stack:
        errors.append(Issue(UNBALANCED_BRACKET, f"'[' at {opened} is never closed", opened))
    return slots


def _boundary_inside_token(annotation: Annotation) -> bool:
    text = annotation.text
    for slot in annotation.slots:
        for edge in (slot.start, slot.end):
            if 0 < edge < len(text) and not text[edge - 1].isspace() and not text[edge].isspace():
                return True
    return False


def _without_notation_spaces(parts: list[str], slots: list[Slot]) -> Annotation:
    """The annotation with the one notation space outside each bracket taken out of the text.

    ``parts`` alternate text outside the slots (even indexes, possibly empty) and slot values, as
    parse() rebuilt them. A piece between two slots that is one space ("] [") was that one shared
    space; otherwise a piece loses one leading space after a slot and one trailing space before one.
    """
    compact = parts[:]
    last = len(parts) - 1
    for index in range(0, last + 1, 2):
        piece = parts[index]
        if 0 < index < last and piece == NOTATION_SPACE:
            compact[index] = ""
            continue
        if index and piece[:1] == NOTATION_SPACE:
            piece = piece[1:]
        if index < last and piece[-1:] == NOTATION_SPACE:
            piece = piece[:-1]
        compact[index] = piece
    spaced_out: list[Slot] = []
    length = 0
    for index, piece in enumerate(compact):
        if index % 2:
            spaced_out.append(_built(Slot, type=slots[index // 2].type, value=piece, start=length,
                                     end=length + len(piece)))
        length += len(piece)
    return _built(Annotation, text="".join(compact), slots=tuple(spaced_out))


def _aligned_to_utt(annotation: Annotation, utt: str) -> Annotation | None:
    """The annotation over ``utt`` when ``utt`` is its text with some of the notation spaces left
    out (each bracket on its own: "播放 [app_name : Spotify]上的歌" for "播放 Spotify上的歌"), else None.

    Each piece of text outside the slots is tried with and without its notation spaces; a choice
    holds when ``utt`` goes on with the next slot's value (or ends after the last piece).
    """
    segments = annotation.segments()
    slots: list[Slot] = []
    cursor = 0
    last = len(segments) - 1
    for index, (piece, slot) in enumerate(segments):
        if slot is not None:
            if not utt.startswith(piece, cursor):
                return None
            slots.append(_built(Slot, type=slot.type, value=piece, start=cursor, end=cursor + len(piece)))
            cursor += len(piece)
            continue
        lead = bool(index) and piece[0] == NOTATION_SPACE
        trail = index < last and piece[-1] == NOTATION_SPACE
        candidates = [piece]
        if lead:
            candidates.append(piece[1:])
        if trail:
            candidates.append(piece[:-1])
            if lead and len(piece) > 1:
                candidates.append(piece[1:-1])
        following = segments[index + 1][0] if index < last else None
        for candidate in candidates:
            end = cursor + len(candidate)
            if utt.startswith(candidate, cursor) and (
                    utt.startswith(following, end) if following is not None else end == len(utt)):
                cursor = end
                break
        else:
            return None
    if cursor != len(utt):
        return None
    return _built(Annotation, text=utt, slots=tuple(slots))


def _over_differently_cased_utt(annotation: Annotation, utt: str, warnings: list[Issue]) -> Annotation:
    """When the annotation's text and utt differ in letter case only (31 rows of SLURP's test split:
    "[date : Friday]" in "... this friday"), a warning and the annotation over utt's own characters;
    otherwise the annotation unchanged (and the text check rejects it)."""
    text = annotation.text
    if len(text) != len(utt) or text.lower() != utt.lower():
        return annotation
    if any(a != b and a.lower() != b.lower() for a, b in zip(text, utt)):
        return annotation  # equal only once lower-cased as a whole (a character whose lower case is longer)
    first = next(i for i, (a, b) in enumerate(zip(text, utt)) if a != b)
    warnings.append(Issue(
        TEXT_CASE_MISMATCH,
        f"plain text of the annotation differs from utt in letter case only, first at utt offset {first} "
        f"(annotation has {text[first:first + 12]!r}, utt has {utt[first:first + 12]!r}); both are kept",
        first,
    ))
    slots = tuple(_built(Slot, type=s.type, value=utt[s.start:s.end], start=s.start, end=s.end)
                  for s in annotation.slots)
    return _built(Annotation, text=utt, slots=slots)


def _check_against_utt(
    annotation: Annotation, utt: str, char_split: bool, errors: list[Issue]
) -> None:
    text = annotation.text
    if text != utt:
        first = next(
            (i for i, (a, b) in enumerate(zip(text, utt)) if a != b), min(len(text), len(utt))
        )
        errors.append(Issue(
            TEXT_MISMATCH,
            f"plain text of the annotation differs from utt at utt offset {first} "
            f"(annotation has {text[first:first + 12]!r}, utt has {utt[first:first + 12]!r})",
            first,
        ))

    # Count tokens per segment, i.e. the tokens a BIO export produces. When the text matches
    # utt this only differs from utt's count if a slot boundary falls inside a whitespace token
    # (e.g. "[person : john]'s"), which no token-level label sequence can represent.
    if text == utt and (char_split or not _boundary_inside_token(annotation)):
        return  # the common case, decided from the slot boundaries alone (imports run this per row)
    annotated: list[str] = []
    for piece, _slot in annotation.segments():
        annotated.extend(tok for tok, _ in _tokens_with_offsets(piece, char_split))
    utt_tokens = _tokens_with_offsets(utt, char_split)
    if len(annotated) != len(utt_tokens):
        k = next(
            (k for k, (a, (b, _)) in enumerate(zip(annotated, utt_tokens)) if a != b),
            min(len(annotated), len(utt_tokens)),
        )
        position = utt_tokens[k][1] if k < len(utt_tokens) else len(utt)
        unit = "characters" if char_split else "whitespace tokens"
        errors.append(Issue(
            TOKEN_COUNT_MISMATCH,
            f"annotation has {len(annotated)} {unit} (counting each slot value separately) but "
            f"utt has {len(utt_tokens)}; first difference at utt offset {position}",
            position,
        ))


def parse(
    annot_utt: str,
    *,
    utt: str | None = None,
    slot_types: Collection[str] | None = None,
    allowed_slot_types: Collection[str] | None = None,
    char_split: bool = False,
) -> ParseResult:
    """Parse MASSIVE ``annot_utt`` notation. Never raises for any string input.

    - ``char_split``: whether the locale writes no spaces between words (the caller passes its
      ``Locale.writes_without_spaces``). Then tokens are characters,
      the notation space outside each bracket is not text, and ``annotation`` is over ``utt``
      (or over the text without notation spaces when no ``utt`` is given).
    - ``utt``: if given, the rebuilt plain text must equal it (``text_mismatch``) and its
      tokens must line up with the annotation's (``token_count_mismatch``). Skipped when the
      notation is malformed, and the first error says so.
    - ``slot_types``: the known slot vocabulary; others are ``unknown_slot_type`` errors.
    - ``allowed_slot_types``: types allowed in this context (e.g. for an intent); a known type
      outside it is a ``slot_not_allowed`` WARNING (not reported again if already unknown).

    Errors located in ``annot_utt`` come first, ordered by position; utt checks follow.
    """
    if not isinstance(annot_utt, str):
        raise TypeError(f"annot_utt must be a str, got {type(annot_utt).__name__}")
    errors: list[Issue] = []
    warnings: list[Issue] = []

    spans = _scan_brackets(annot_utt, errors)

    # Slot contents. Nested slots were already reported; their content is not parsed.
    parsed: list[tuple[int, int, str, str]] = []  # (open, close, type, value)
    for opened, closed, nested in spans:
        if nested:
            continue
        content = annot_utt[opened + 1:closed]
        sep = content.find(SEPARATOR)
        if sep < 0:
            errors.append(Issue(
                MISSING_SEPARATOR,
                f"slot at {opened} has no ' : ' (space, colon, space) between type and value",
                opened,
            ))
            continue
        slot_type, value = content[:sep], content[sep + len(SEPARATOR):]
        type_pos, value_pos = opened + 1, opened + 1 + sep + len(SEPARATOR)
        bad = False
        problem = _slot_type_problem(slot_type)
        if problem == EMPTY_SLOT_TYPE:
            errors.append(Issue(EMPTY_SLOT_TYPE, f"slot at {opened} has an empty type", type_pos))
            bad = True
        elif problem == INVALID_SLOT_TYPE:
            errors.append(Issue(
                INVALID_SLOT_TYPE,
                f"slot type {slot_type!r} at {type_pos} contains whitespace",
                type_pos,
            ))
            bad = True
        if _value_problem(value):
            errors.append(Issue(
                EMPTY_VALUE, f"slot at {opened} has an empty or blank value", value_pos
            ))
            bad = True
        elif value != value.strip():
            warnings.append(Issue(
                VALUE_WHITESPACE,
                f"value {value!r} at {value_pos} starts or ends with whitespace; MASSIVE values "
                "never do (it is kept verbatim)",
                value_pos,
            ))
        if not problem:
            if slot_types is not None and slot_type not in slot_types:
                errors.append(Issue(
                    UNKNOWN_SLOT_TYPE, f"unknown slot type {slot_type!r} at {type_pos}", type_pos
                ))
            elif allowed_slot_types is not None and slot_type not in allowed_slot_types:
                warnings.append(Issue(
                    SLOT_NOT_ALLOWED,
                    f"slot type {slot_type!r} at {type_pos} is not allowed here",
                    type_pos,
                ))
        if not bad:
            parsed.append((opened, closed, slot_type, value))

    errors.sort(key=lambda issue: issue.position if issue.position is not None else -1)

    blocking = [i for i, issue in enumerate(errors) if issue.code in _BLOCKING]
    if blocking:
        if utt is not None:
            first = blocking[0]
            errors[first] = replace(
                errors[first],
                message=errors[first].message
                + " (annotation not built: text and token checks against utt skipped)",
            )
        return ParseResult(annotation=None, errors=errors, warnings=warnings)

    # Well formed: rebuild the plain text and slot offsets.
    text_parts: list[str] = []
    slots: list[Slot] = []
    length = 0
    cursor = 0
    for opened, closed, slot_type, value in parsed:
        before = annot_utt[cursor:opened]
        text_parts.append(before)
        length += len(before)
        text_parts.append(value)
        slots.append(_built(Slot, type=slot_type, value=value, start=length, end=length + len(value)))
        length += len(value)
        cursor = closed + 1
    text_parts.append(annot_utt[cursor:])
    text = "".join(text_parts)
    if char_split and slots and (utt is None or text != utt):
        # Written without spaces: the notation spaces are not text (see the module docstring).
        annotation = _without_notation_spaces(text_parts, slots)
        if utt is not None and annotation.text != utt:
            spaced = _built(Annotation, text=text, slots=tuple(slots))
            annotation = _aligned_to_utt(spaced, utt) or annotation
    else:
        # Slots in order, non-overlapping, each spanning its value in the text: true by construction.
        annotation = _built(Annotation, text=text, slots=tuple(slots))
    if utt is not None:
        if annotation.text != utt:
            annotation = _over_differently_cased_utt(annotation, utt, warnings)
        _check_against_utt(annotation, utt, char_split, errors)
    return ParseResult(annotation=annotation, errors=errors, warnings=warnings)


def plain_text(annot_utt: str, *, char_split: bool = False) -> str:
    """The plain utterance of ``annot_utt`` (slot markup removed, values kept; in char-split
    locales the notation spaces too).

    Raises AnnotationSyntaxError (a ValueError) if the notation is malformed.
    """
    result = parse(annot_utt, char_split=char_split)
    if result.annotation is None:
        raise AnnotationSyntaxError(result.errors)
    return result.annotation.text


def serialize(annotation: Annotation, *, spaced: bool = False) -> str:
    """MASSIVE notation for ``annotation``: text verbatim, slots as ``[type : value]``.

    ``spaced`` (locales written without spaces) sets every slot off by one notation space, except
    at the very start and end, one space between two adjacent slots: "[date : 这周] [time : 五点] 叫我起床".
    """
    out: list[str] = []
    after_slot = False
    for piece, slot in annotation.segments():
        if slot is None:
            if spaced and after_slot:
                out.append(NOTATION_SPACE)
            out.append(piece)
            after_slot = False
        else:
            if spaced and out:
                out.append(NOTATION_SPACE)
            out.append(f"{OPEN}{slot.type}{SEPARATOR}{slot.value}{CLOSE}")
            after_slot = True
    return "".join(out)


# "[" after a non-space (but not after "]", which the other branch already set off) or "]" before one.
_BRACKET_TOUCHING = re.compile(r"(?<=[^\s\]])\[|\](?=\S)")


def published_form(annot_utt: str) -> str:
    """``annot_utt`` with one notation space inserted wherever a bracket touches a character that is
    not whitespace (the form of MASSIVE's ja-JP/zh-CN/zh-TW files, which its loader needs: every
    "[" begins a whitespace chunk). Nothing else changes, so the text it stands for is the same.
    For locales written without spaces only; "][" becomes "] [".
    """
    if OPEN not in annot_utt:
        return annot_utt
    return _BRACKET_TOUCHING.sub(_spaced_bracket, annot_utt)


def _spaced_bracket(match: re.Match) -> str:
    return NOTATION_SPACE + OPEN if match.group() == OPEN else CLOSE + NOTATION_SPACE


# --------------------------------------------------------------------------- BIO


def to_bio(annotation: Annotation, *, char_split: bool = False) -> list[tuple[str, str]]:
    """(token, tag) pairs with IOB2 tags ``B-type``/``I-type``/``O``.

    Tokens are whitespace tokens, or non-space characters when char-split. Each slot value and each
    piece of outside text is tokenized separately, so a slot boundary inside a word (which
    parse() reports as token_count_mismatch against utt) still yields correct tags.
    """
    pairs: list[tuple[str, str]] = []
    for piece, slot in annotation.segments():
        for n, (token, _) in enumerate(_tokens_with_offsets(piece, char_split)):
            if slot is None:
                tag = "O"
            else:
                tag = f"{'B' if n == 0 else 'I'}-{slot.type}"
            pairs.append((token, tag))
    return pairs


def from_bio(pairs: Iterable[tuple[str, str]], *, char_split: bool = False) -> Annotation:
    """Build an Annotation from (token, tag) pairs.

    Tokens are joined with single spaces, or with nothing when char-split. So
    ``from_bio(to_bio(a)) == a`` holds only when ``a.text`` is its tokens joined that way
    (single spaces, no leading/trailing whitespace; no whitespace at all when char-split) and every
    slot covers whole tokens. An ``I-x`` not continuing an ``x`` slot starts a new slot, as
    conlleval does. Raises ValueError on malformed tags or tokens that are empty or contain
    whitespace.
    """
    separator = "" if char_split else " "
    text_parts: list[str] = []
    spans: list[list] = []  # [type, start, end]
    length = 0
    current: list | None = None
    for index, item in enumerate(pairs):
        token, tag = item
        if not isinstance(token, str) or not token or any(ch.isspace() for ch in token):
            raise ValueError(f"token {index} ({token!r}) is empty or contains whitespace")
        if text_parts:
            text_parts.append(separator)
            length += len(separator)
        start = length
        text_parts.append(token)
        length += len(token)
        if tag == "O":
            current = None
        elif isinstance(tag, str) and tag[:2] in ("B-", "I-") and len(tag) > 2:
            slot_type = tag[2:]
            if tag[0] == "I" and current is not None and current[0] == slot_type:
                current[2] = length
            else:
                current = [slot_type, start, length]
                spans.append(current)
        else:
            raise ValueError(f"token {index} has tag {tag!r}; expected O, B-<type> or I-<type>")
    text = "".join(text_parts)
    return Annotation(text, tuple(Slot(t, text[s:e], s, e) for t, s, e in spans))
