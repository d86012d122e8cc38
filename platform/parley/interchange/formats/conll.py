"""CoNLL/BIO: token-per-line blocks with comment lines, as published for xSID and its dialect
extensions (e.g. `de-ba.test.conll`, `gsw.valid.conll`, `nap.test.conll`):

    # id: 12
    # text: set an alarm for 7 am
    # intent: alarm/set_alarm
    1	set	alarm/set_alarm	O
    2	an	alarm/set_alarm	O
    ...

A token line is `index<TAB>token<TAB>…<TAB>label` (the label is the last column) or plain
`token label`. Blocks are separated by blank lines. The file name gives the locale (its first
dot-separated part) and the partition (test, valid/dev, train); the locale from a file name is
only ever looked up in the registry, never guessed: `de-ba` is Bavarian, not German in Bosnia.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from parley.nlu import annotation as notation

from .sources import ArchiveLimits, RowError, decoded_lines, open_members

SUFFIXES = (".conll", ".conllu", ".bio", ".iob", ".tsv", ".txt")
_PARTITION_WORDS = {"test": "test", "valid": "dev", "validation": "dev", "dev": "dev", "devel": "dev",
                    "train": "train", "projectedtrain": "train"}


def locale_from_file_name(name: str) -> str:
    return Path(name).name.split(".", 1)[0]


def partition_from_file_name(name: str) -> str:
    for part in Path(name).name.lower().split(".")[1:]:
        if part in _PARTITION_WORDS:
            return _PARTITION_WORDS[part]
    return "unassigned"


def read_records(path: str | Path, *, limits: ArchiveLimits, label: str = "") -> Iterator[tuple[str, int, dict] | RowError]:
    for name, handle in open_members(path, suffixes=SUFFIXES, limits=limits, label=label):
        yield from _blocks(name, handle)


def _blocks(name: str, handle) -> Iterator[tuple[str, int, dict] | RowError]:
    block: dict | None = None
    number = 0

    def new_block(line: int) -> dict:
        return {"comments": {}, "tokens": [], "labels": [], "line": line, "problem": None}

    def finish(b: dict | None):
        if b is None:
            return None
        if b["problem"]:
            line, reason, excerpt = b["problem"]
            return RowError(name, line, "(line)", reason, excerpt)
        if not b["tokens"]:
            return RowError(name, b["line"], "tokens", "a block with comments but no token lines")
        return name, b["line"], {"comments": b["comments"], "tokens": b["tokens"], "labels": b["labels"],
                                 "ordinal": b["ordinal"]}

    ordinal = 0
    for item in decoded_lines(name, handle):
        if isinstance(item, RowError):
            if block is None:
                block = new_block(item.line)
            block["problem"] = block["problem"] or (item.line, item.reason, "")
            continue
        number, text = item
        if not text.strip():
            done = finish(block)
            if done is not None:
                yield done
            block = None
            continue
        if block is None:
            ordinal += 1
            block = new_block(number)
            block["ordinal"] = ordinal
        if text.startswith("#"):
            key, sep, value = text[1:].partition(":")
            if sep and key.strip():
                block["comments"][key.strip()] = value.strip()
            continue
        columns = text.split("\t") if "\t" in text else text.split()
        if len(columns) >= 3 and columns[0].isdigit():
            token, label = columns[1], columns[-1]
        elif len(columns) == 2:
            token, label = columns
        else:
            block["problem"] = block["problem"] or (
                number, f"token line needs 'token label' or 'index<TAB>token<TAB>…<TAB>label', got "
                        f"{len(columns)} column(s)", text[:200])
            continue
        block["tokens"].append(token.strip())
        block["labels"].append(label.strip())
    done = finish(block)
    if done is not None:
        yield done


def as_common_row(record: dict, *, file: str, locale: str, language: str | None = None
                  ) -> tuple[dict | None, str, str]:
    """The block as MASSIVE-named fields, or None with (field, reason).

    `utt` is the tokens joined by spaces (nothing for ja/zh), so utt and annotation tokenize
    alike as MASSIVE's loader requires; the `# text` comment as written stays in provenance.
    """
    comments = record["comments"]
    intent = comments.get("intent")
    if not intent:
        return None, "intent", "no '# intent:' comment"
    try:
        annotation = notation.from_bio(list(zip(record["tokens"], record["labels"])), locale=language)
    except ValueError as exc:
        return None, "label", str(exc)
    written = comments.get("text")
    if written is not None and "".join(written.split()) != "".join(record["tokens"]):
        # Tokenizers split differently ("7am." vs "7am ."), so only spacing may differ; other
        # differences mean the comment and the token lines describe different sentences.
        return None, "text", (f"the '# text' comment {written[:80]!r} does not match the tokens "
                              f"{' '.join(record['tokens'])[:80]!r} (only spacing may differ)")
    scenario = intent.split("/", 1)[0] if "/" in intent else (intent.split("_", 1)[0] if "_" in intent else None)
    external_id = comments.get("id") or f"{Path(file).name}#{record['ordinal']}"
    return {
        "id": external_id, "locale": locale, "scenario": scenario, "intent": intent,
        "partition": partition_from_file_name(file), "utt": annotation.text,
        "annot_utt": notation.serialize(annotation),
    }, "", ""


def block_lines(*, external_id: str, text: str, intent: str, pairs: list[tuple[str, str]],
                comments: dict | None = None) -> str:
    """One block in xSID layout (id, text, intent comments, then index/token/intent/label)."""
    head = {"id": external_id, "text": text, "intent": intent}
    for key, value in (comments or {}).items():
        head.setdefault(key, value)
    lines = [f"# {key}: {value}" for key, value in head.items()]
    lines += [f"{n}\t{token}\t{intent}\t{label}" for n, (token, label) in enumerate(pairs, 1)]
    return "\n".join(lines) + "\n\n"
