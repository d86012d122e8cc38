"""Lexicon files: CSV and JSON, one row per entry (slot_type, concept, locale, value, synonyms).

Pure Python, no Django: the import service validates what the readers return, the export
writes what the selector yields. CSV joins synonyms with "|"; JSON keeps them as a list.
Row numbers are what a person finds in the file: the CSV line (the header is line 1) or the
position in the JSON array (the first object is row 1).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from parley.config.csv_cells import csv_cell_restored, csv_writer

FIELDS = ("slot_type", "concept", "locale", "value", "synonyms")
REQUIRED = ("slot_type", "concept", "locale", "value")
SYNONYM_SEPARATOR = "|"
FORMATS = ("csv", "json")


@dataclass(frozen=True)
class LexiconRow:
    row: int
    slot_type: str
    concept: str
    locale: str
    value: str
    synonyms: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RowProblem:
    row: int
    field: str
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "reason": self.reason}

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"


def format_for(name: str, default: str = "csv") -> str:
    """The format a file name implies (.json or .csv), else `default`."""
    lowered = name.lower()
    return "json" if lowered.endswith(".json") else "csv" if lowered.endswith(".csv") else default


def decode(data: bytes) -> tuple[str | None, RowProblem | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, RowProblem(0, "(file)", f"not UTF-8: byte {exc.start}")


def read(text: str, fmt: str) -> list[LexiconRow | RowProblem]:
    if fmt not in FORMATS:
        return [RowProblem(0, "(file)", f"unknown format {fmt!r}; use one of {list(FORMATS)}")]
    return read_json(text) if fmt == "json" else read_csv(text)


def _split_synonyms(raw: str) -> list[str]:
    return [s.strip() for s in raw.split(SYNONYM_SEPARATOR) if s.strip()]


def read_csv(text: str) -> list[LexiconRow | RowProblem]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [RowProblem(1, "(header)", "the file is empty; expected the header " + ",".join(FIELDS))]
    except csv.Error as exc:
        return [RowProblem(1, "(header)", f"unreadable CSV: {exc}")]
    names = [h.strip() for h in header]
    missing = [n for n in REQUIRED if n not in names]
    unknown = [n for n in names if n not in FIELDS]
    if missing or unknown or len(set(names)) != len(names):
        reason = "; ".join(filter(None, [missing and f"missing column(s) {missing}",
                                         unknown and f"unknown column(s) {unknown}",
                                         len(set(names)) != len(names) and "a column appears twice"]))
        return [RowProblem(1, "(header)", f"{reason}; expected {','.join(FIELDS)}")]
    out: list[LexiconRow | RowProblem] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.append(RowProblem(reader.line_num, "(row)", f"unreadable CSV: {exc}"))
            break
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank lines are not rows
        if len(cells) != len(names):
            out.append(RowProblem(line, "(row)", f"{len(cells)} cells, the header has {len(names)}"))
            continue
        # Cells the export quoted against spreadsheet formulas ('=…) come back as they were.
        record = dict(zip(names, map(csv_cell_restored, cells)))
        out.append(LexiconRow(row=line, slot_type=record["slot_type"].strip(), concept=record["concept"].strip(),
                              locale=record["locale"].strip(), value=record["value"].strip(),
                              synonyms=_split_synonyms(record.get("synonyms", ""))))
    return out


def read_json(text: str) -> list[LexiconRow | RowProblem]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [RowProblem(0, "(file)", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")]
    if not isinstance(data, list):
        return [RowProblem(0, "(file)", "must be a JSON array of entry objects")]
    out: list[LexiconRow | RowProblem] = []
    for number, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            out.append(RowProblem(number, "(row)", "must be an object"))
            continue
        unknown = sorted(set(record) - set(FIELDS))
        if unknown:
            out.append(RowProblem(number, unknown[0], f"unknown field; expected {list(FIELDS)}"))
            continue
        bad = next((n for n in REQUIRED if not isinstance(record.get(n, ""), str)), None)
        if bad:
            out.append(RowProblem(number, bad, "must be a string"))
            continue
        synonyms = record.get("synonyms", [])
        if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
            out.append(RowProblem(number, "synonyms", "must be a list of strings"))
            continue
        out.append(LexiconRow(row=number, slot_type=record.get("slot_type", "").strip(),
                              concept=record.get("concept", "").strip(), locale=record.get("locale", "").strip(),
                              value=record.get("value", "").strip(), synonyms=[s.strip() for s in synonyms]))
    return out


def write_csv(rows: Iterable[dict]) -> Iterator[str]:
    """CSV text, one chunk a row (stream it or join it)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\n")

    def take() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    writer.writerow(FIELDS)
    yield take()
    for r in rows:
        writer.writerow([r["slot_type"], r["concept"], r["locale"], r["value"],
                         SYNONYM_SEPARATOR.join(r["synonyms"])])
        yield take()


def write_json(rows: Iterable[dict]) -> Iterator[str]:
    """A JSON array, one entry object a line (readable diffs), streamed."""
    first = True
    yield "["
    for r in rows:
        item = {name: r[name] for name in FIELDS}
        yield ("\n" if first else ",\n") + json.dumps(item, ensure_ascii=False)
        first = False
    yield "\n]\n"
