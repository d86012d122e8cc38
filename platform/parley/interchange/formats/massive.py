"""MASSIVE jsonl: read records (one file, a folder of per-locale files or the .tar.gz) and write rows back.

Reading yields (file name, line number, dict) or a RowError; it never raises on bad rows
(a whole input that cannot be read raises SourceRefused).
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .sources import ArchiveLimits, JsonRefused, RowError, decoded_lines, open_members, strict_json_loads

REQUIRED_FIELDS = ("id", "locale", "intent", "utt", "annot_utt")
PARTITIONS = {"train", "dev", "test"}


def read_records(path: str | Path, *, limits: ArchiveLimits, label: str = "") -> Iterator[tuple[str, int, dict] | RowError]:
    """Records from one .jsonl, a folder of per-locale files, or the distribution's .tar.gz."""
    for name, handle in open_members(path, suffixes=(".jsonl",), limits=limits, label=label):
        yield from jsonl_records(name, handle)


def jsonl_records(name: str, handle) -> Iterator[tuple[str, int, dict] | RowError]:
    for item in decoded_lines(name, handle):
        if isinstance(item, RowError):
            yield item
            continue
        number, text = item
        if not text.strip():
            continue
        try:
            record = strict_json_loads(text)
        except JsonRefused as exc:
            yield RowError(name, number, exc.field, str(exc), text[:200])
            continue
        if not isinstance(record, dict):
            yield RowError(name, number, "(line)", "a line must be a JSON object", text[:200])
            continue
        yield name, number, record


NO_MASSIVE_PROVENANCE = {"worker_id": "", "slot_method": [], "judgments": []}


def row_for_export(*, provenance: dict, locale_tag: str, external_id: str, partition: str, scenario: str,
                   intent: str, utt: str, annot_utt: str) -> dict:
    """A MASSIVE row: the original fields in their original order, with current values.

    The original key order is kept in provenance["fields"] because PostgreSQL's jsonb does not
    keep key order.
    """
    original = provenance.get("row")
    current = {"id": original.get("id", external_id) if original else external_id, "locale": locale_tag,
               "partition": partition, "scenario": scenario, "intent": intent, "utt": utt, "annot_utt": annot_utt}
    if not original:
        # MASSIVE's loaders read these three keys from every row; a row of ours has none to tell.
        return {**current, **NO_MASSIVE_PROVENANCE}
    # The original's keys in their original order, current values where Parley has them.
    out = {key: current[key] if key in current else original[key]
           for key in provenance.get("fields") or original if key in original}
    if len(out) < len(original) or not current.keys() <= out.keys():  # rare: fields the original lacked
        for key, value in (*current.items(), *original.items()):
            out.setdefault(key, value)
    return out
