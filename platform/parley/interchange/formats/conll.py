"""CoNLL/BIO as published for xSID (mainlp/xsid, data/xSID-0.7/*.conll; docs/formats.md "xSID").

A block is comment lines, then one token line per token, blocks separated by blank lines:

    # id = 2
    # intent = weather/find
    # text-en = Do I need a sweater?
    # text = Brauch i an Pulli?
    1	Brauch	weather/find	O
    ...
    4	Pulli	weather/find	B-weather/attribute
    5	?	weather/find	O

Comments are `# key = value` or `# key: value`, in any order and mixed within a block (gsw and nap
write `# text-de:`/`# text-it:` among `=` lines; the English files write `# slots:`). A token line
is `index<TAB>token<TAB>intent<TAB>label` (the label is the last column, the index counts from 1)
or plain `token label`. The file name gives the locale (its first dot-separated part) and the
partition (test, valid/dev, train); the locale from a file name is only ever looked up in the
registry, never guessed: `de-ba` is Bavarian, not German in Bosnia.

Every line of a block is kept as written (provenance "lines"), so an unchanged row goes back out
line for line; `as_imported` fingerprints what the import stored, so an edited row is told apart.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from parley.nlu import annotation as notation
from parley.nlu.normalize import normalize_text

from .sources import ArchiveLimits, RowError, decoded_lines, open_members

# A block's token index never needs more digits (int() refuses over 4,300 of them).
INDEX_DIGITS_MAX = 9
SUFFIXES = (".conll", ".conllu", ".bio", ".iob", ".tsv", ".txt")
_PARTITION_WORDS = {"test": "test", "valid": "dev", "validation": "dev", "dev": "dev", "devel": "dev",
                    "train": "train", "projectedtrain": "train"}
# `# key = value` or `# key: value`: the key is everything up to the first space, '=' or ':'.
_COMMENT = re.compile(r"#[ \t]*(?P<key>[^\s=:]+)[ \t]*(?P<sep>[=:])[ \t]?(?P<value>.*)\Z", re.DOTALL)
_SPAN = re.compile(r"(?P<start>\d+):(?P<end>\d+):(?P<label>\S+)\Z")


def locale_from_file_name(name: str) -> str:
    return Path(name).name.split(".", 1)[0]


def partition_from_file_name(name: str) -> str:
    for part in Path(name).name.lower().split(".")[1:]:
        if part in _PARTITION_WORDS:
            return _PARTITION_WORDS[part]
    return "unassigned"


def comment_parts(line: str) -> tuple[str, str, str] | None:
    """(key, prefix as written up to the value, value) of a comment line, or None if malformed."""
    match = _COMMENT.match(line)
    if match is None:
        return None
    return match["key"], line[:match.start("value")], match["value"]


def read_records(path: str | Path, *, limits: ArchiveLimits, label: str = "") -> Iterator[tuple[str, int, dict] | RowError]:
    for name, handle in open_members(path, suffixes=SUFFIXES, limits=limits, label=label):
        yield from _blocks(name, handle)


def _new_block(line: int, ordinal: int) -> dict:
    return {"comments": {}, "comment_lines": {}, "tokens": [], "labels": [], "token_lines": [],
            "intent_columns": [], "lines": [], "line": line, "ordinal": ordinal, "problem": None,
            "blank_line_after": False}


def _blocks(name: str, handle) -> Iterator[tuple[str, int, dict] | RowError]:
    block: dict | None = None
    ordinal = 0
    id_counts: dict[str, int] = {}

    def problem(number: int, field: str, reason: str, excerpt: str = "") -> None:
        if block["problem"] is None:  # the first problem of a block is the one reported
            block["problem"] = (number, field, reason, excerpt[:200])

    def finish(b: dict | None):
        if b is None:
            return None
        if b["problem"]:
            line, field, reason, excerpt = b["problem"]
            return RowError(name, line, field, reason, excerpt)
        if not b["tokens"]:
            return RowError(name, b["line"], "tokens", "a block with comments but no token lines")
        if "id" in b["comments"]:
            # xSID repeats a sentence (and its id) where the English test set repeats it (lt.test.conll
            # ids 89, 137, 190, 227): each occurrence is its own row.
            id_counts[b["comments"]["id"]] = b["occurrence"] = id_counts.get(b["comments"]["id"], 0) + 1
        del b["problem"]
        return name, b["line"], b

    for item in decoded_lines(name, handle):
        if isinstance(item, RowError):
            if block is None:
                ordinal += 1
                block = _new_block(item.line, ordinal)
            problem(item.line, item.field, item.reason)
            continue
        number, text = item
        if not text.strip():
            if block is not None:
                # Most xSID files end on a blank line, de-ba.test.conll on its last token line:
                # the export gives back whichever the last block had.
                block["blank_line_after"] = True
            done = finish(block)
            if done is not None:
                yield done
            block = None
            continue
        if block is None:
            ordinal += 1
            block = _new_block(number, ordinal)
        block["lines"].append(text)
        if "\x00" in text:
            problem(number, "(line)", f"line {number} contains a NUL character at column {text.index(chr(0)) + 1}")
            continue
        if text.startswith("#"):
            parts = comment_parts(text)
            if parts is None:
                problem(number, "comment", f"line {number}: malformed comment (expected '# key = value' or "
                                           "'# key: value')", text)
                continue
            key, _, value = parts
            if key in block["comments"]:
                problem(number, "comment", f"line {number}: '# {key}' given twice in one block (first at line "
                                           f"{block['comment_lines'][key]})", text)
                continue
            block["comments"][key] = value.strip()
            block["comment_lines"][key] = number
            continue
        columns = text.split("\t") if "\t" in text else text.split()
        # An index is ASCII digits: str.isdigit() also holds for "²" and "١", and int() refuses a
        # run over 4,300 digits; either would fail the whole batch instead of this block.
        if len(columns) >= 3 and columns[0].isascii() and columns[0].isdigit():
            expected = len(block["tokens"]) + 1
            if len(columns[0]) > INDEX_DIGITS_MAX or int(columns[0]) != expected:
                shown = columns[0] if len(columns[0]) <= INDEX_DIGITS_MAX else f"{columns[0][:INDEX_DIGITS_MAX]}…"
                problem(number, "(line)", f"line {number}, column 1: token index {shown} where {expected} "
                                          "was expected", text)
                continue
            token, label = columns[1].strip(), columns[-1].strip()
            if len(columns) == 4:  # xSID: index, token, intent, label
                block["intent_columns"].append((number, columns[2].strip()))
        elif len(columns) == 2:
            token, label = columns[0].strip(), columns[1].strip()
        else:
            problem(number, "(line)", f"line {number}: token line needs 'token label' or "
                                      f"'index<TAB>token<TAB>…<TAB>label', got {len(columns)} column(s)", text)
            continue
        block["tokens"].append(token)
        block["labels"].append(label)
        block["token_lines"].append(number)
    done = finish(block)
    if done is not None:
        yield done


def _mapped_label(label: str, slot_types: dict) -> str:
    if slot_types and label[:2] in ("B-", "I-") and label[2:] in slot_types:
        return label[:2] + slot_types[label[2:]]
    return label


def scenario_of(intent: str) -> str:
    """xSID's `weather/find` and MASSIVE's `weather_query` name their scenario first; an intent
    named neither way (SNIPS' `PlayMusic` in no.test.conll) is its own scenario."""
    for separator in ("/", "_"):
        if separator in intent:
            return intent.split(separator, 1)[0]
    return intent


def as_common_row(record: dict, *, file: str, locale: str, char_split: bool = False,
                  label_map: dict | None = None) -> tuple[dict | None, str, str]:
    """The block as MASSIVE-named fields, or None with (field, reason).

    `utt` is the tokens joined by spaces (by nothing with `char_split`, the locale's
    `Locale.writes_without_spaces`), so utt and annotation tokenize alike as MASSIVE's loader
    requires; the `# text` comment as written stays in provenance. Tokenizers split differently
    ("7am." vs "7am ."), so the comment may differ in spacing; one that says other words (a
    publisher's typo: de-muc.test.conll id 500) is the import's warning
    `utterance.source_text_differs` (interchange/checks.py), not a reject.
    `label_map` ({"intents": {...}, "slot_types": {...}}) renames what it lists, nothing else.
    """
    comments = record["comments"]
    written_intent = comments.get("intent")
    if not written_intent:
        return None, "intent", "no '# intent = …' (or '# intent: …') comment"
    for number, column in record["intent_columns"]:
        if column != written_intent:
            return None, "intent", (f"line {number}, column 3: intent {column!r} differs from the '# intent' "
                                    f"comment {written_intent!r}")
    label_map = label_map or {}
    intent = label_map.get("intents", {}).get(written_intent, written_intent)
    slot_types = label_map.get("slot_types", {})
    try:
        annotation = notation.from_bio(
            list(zip(record["tokens"], [_mapped_label(label, slot_types) for label in record["labels"]])),
            char_split=char_split)
    except ValueError as exc:
        index = re.match(r"token (\d+)", str(exc))
        where = f"line {record['token_lines'][int(index[1])]}: " if index else ""
        return None, "label", f"{where}{exc}"
    if "slots" in comments:
        reason = _slot_spans_problem(comments["slots"], comments.get("text"), record)
        if reason:
            return None, "slots", reason
    return {
        "id": external_id(record, file=file), "locale": locale, "scenario": scenario_of(intent), "intent": intent,
        "partition": partition_from_file_name(file), "utt": annotation.text,
        "annot_utt": notation.serialize(annotation),
    }, "", ""


def external_id(record: dict, *, file: str) -> str:
    """`<file name>:<id>` (a repeated id gets `#2`, `#3`…), or `<file name>#<block number>` without one.

    The file name is part of the key because xSID's files of one partition reuse the same ids
    (de-ba, de-muc and de-st may all be stored under one Bavarian locale) and its test and valid
    files both count from 1.
    """
    name = Path(file).name
    written = record["comments"].get("id")
    if not written:
        return f"{name}#{record['ordinal']}"
    occurrence = record.get("occurrence", 1)
    return f"{name}:{written}" + (f"#{occurrence}" if occurrence > 1 else "")


def _token_offsets(text: str, tokens: list[str]) -> tuple[set[int], set[int]]:
    """Start and end offsets of the tokens in `text` (which holds the same non-space characters)."""
    starts, ends, position = set(), set(), 0
    for token in tokens:
        while text[position].isspace():
            position += 1
        starts.add(position)
        remaining = len(token)
        while remaining:
            if not text[position].isspace():
                remaining -= 1
            position += 1
        ends.add(position)
    return starts, ends


def _slot_spans_problem(value: str, text: str | None, record: dict) -> str:
    """Why the `# slots:` spans (start:end:label character offsets into `# text`) do not fit the
    token lines, or "".

    Labels and extents are not compared with the BIO labels: the English files' spans carry the
    source corpus' labels (`reminder/noun`, `weather/noun`, `reminder/reference`) and extents ("for
    five minutes" where the BIO labels mark "five minutes"), see docs/formats.md. What a span must
    do is cover words of the same sentence: not start or end on a space, and not cut through a
    word unless the token lines cut there too. The source's tokenizer split clitics, so a span may
    end between letters and an apostrophe ("today" of the token "today's", en.test.conll).
    """
    line = record["comment_lines"]["slots"]
    if not value.strip():
        return ""
    if text is None:
        return f"line {line}: '# slots:' spans need a '# text' comment to point into"
    # Where the tokens are not the text's words (a typo in `# text`, warned of by the import) the
    # token boundaries cannot be placed in the text: the spans are then checked without them.
    placed = "".join(text.split()) == "".join(record["tokens"])
    starts, ends = _token_offsets(text, record["tokens"]) if placed else (set(), set())

    def cuts_a_word(offset: int, token_boundaries: set[int]) -> bool:
        return (placed and offset not in token_boundaries and 0 < offset < len(text)
                and text[offset - 1].isalnum() and text[offset].isalnum())

    for span in value.split(","):
        span = span.strip()
        match = _SPAN.match(span)
        if match is None:
            return f"line {line}: slot span {span!r} is not start:end:label"
        start, end = int(match["start"]), int(match["end"])
        if not start < end <= len(text):
            return f"line {line}: slot span {span!r} is outside the text ({len(text)} characters)"
        covered = text[start:end]
        if covered != covered.strip():
            return f"line {line}: slot span {span!r} ({covered!r}) starts or ends on a space"
        if cuts_a_word(start, starts) or cuts_a_word(end, ends):
            return f"line {line}: slot span {span!r} ({covered!r}) cuts through a word the token lines keep whole"
    return ""


def english_text(record: dict, *, language: str | None) -> str:
    """The English sentence this row translates (`# text-en`), or its own text in an English file."""
    comments = record["comments"]
    if comments.get("text-en"):
        return comments["text-en"]
    if language and language.replace("_", "-").split("-", 1)[0].lower() == "en":
        return comments.get("text") or " ".join(record["tokens"])
    return ""


def parallel_key(record: dict, *, partition: str, language: str | None) -> str:
    """Rows saying one English sentence in one partition share a key: a dialect row through its
    `# text-en`, the English row through its own text (normalized, so spacing and case do not
    split a group). The English files carry no ids and lt.test.conll's ids are not the English
    rows' numbers, so the English text is what ties a translation to its source."""
    english = normalize_text(english_text(record, language=language))
    if not english:
        return ""
    return f"en-text:{partition}:{hashlib.sha1(english.encode('utf-8')).hexdigest()[:24]}"


def fingerprint(*, intent: str, annotated: str) -> str:
    """What an import stored for a row; an export compares it to tell an unchanged row."""
    return hashlib.sha1(f"{intent}\n{annotated}".encode("utf-8")).hexdigest()[:16]


def slot_spans(annotation: notation.Annotation) -> str:
    return ",".join(f"{s.start}:{s.end}:{s.type}" for s in annotation.slots)


def block_lines(*, external_id: str, text: str, intent: str, pairs: list[tuple[str, str]],
                annotation: notation.Annotation | None = None, written: list[str] | None = None) -> str:
    """One block in xSID's layout.

    `written`: the block's lines as imported; its comments are kept in their order and style,
    with the current text, intent and (recomputed) `# slots:` spans. Without them: `# id = `,
    `# text = `, `# intent = ` as the xSID-0.7 files write them.
    """
    lines = []
    for line in written or ():
        if not line.startswith("#"):
            continue
        parts = comment_parts(line)
        if parts is None:
            lines.append(line)
            continue
        key, prefix, _ = parts
        current = {"text": text, "intent": intent}
        if key == "slots" and annotation is not None:
            current["slots"] = slot_spans(annotation)
        if key not in current:
            lines.append(line)
            continue
        value = current[key]
        lines.append(prefix + ("" if not value or prefix[-1:].isspace() else " ") + value)
    if not written:
        lines = [f"# id = {external_id}", f"# text = {text}", f"# intent = {intent}"]
    lines += [f"{n}\t{token}\t{intent}\t{label}" for n, (token, label) in enumerate(pairs, 1)]
    return "\n".join(lines) + "\n"
