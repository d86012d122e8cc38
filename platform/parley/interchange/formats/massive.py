"""MASSIVE jsonl: read records (one file or a folder of per-locale files) and write rows back.

Reading yields (file name, line number, dict) or a RowError; it never raises on bad content.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REQUIRED_FIELDS = ("id", "locale", "intent", "utt", "annot_utt")
PARTITIONS = {"train", "dev", "test"}


@dataclass
class RowError:
    file: str
    line: int
    field: str
    reason: str
    excerpt: str = ""


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix == ".jsonl" and p.is_file() and not p.is_symlink())
    return [path]


def read_records(path: str | Path) -> Iterator[tuple[str, int, dict] | RowError]:
    for file in _files(Path(path)):
        with file.open("rb") as handle:
            for number, raw in enumerate(handle, 1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]  # a BOM on the first line is tolerated
                if not raw.strip():
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield RowError(file.name, number, "(line)", f"not UTF-8 at byte {exc.start}")
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield RowError(file.name, number, "(line)", f"invalid JSON at column {exc.colno}: {exc.msg}",
                                   text[:200])
                    continue
                if not isinstance(record, dict):
                    yield RowError(file.name, number, "(line)", "a line must be a JSON object", text[:200])
                    continue
                yield file.name, number, record


def row_for_export(*, provenance: dict, locale_tag: str, external_id: str, partition: str, scenario: str,
                   intent: str, utt: str, annot_utt: str) -> dict:
    """A MASSIVE row: the original fields in their original order, with current values.

    The original key order is kept in provenance["fields"] because PostgreSQL's jsonb does not
    keep key order.
    """
    original = dict(provenance.get("row", {}))
    current = {"id": original.get("id", external_id), "locale": locale_tag, "partition": partition,
               "scenario": scenario, "intent": intent, "utt": utt, "annot_utt": annot_utt}
    original.update(current)
    order = provenance.get("fields") or list(current)
    out = {key: original[key] for key in order if key in original}
    out.update({k: v for k, v in original.items() if k not in out})
    return out
