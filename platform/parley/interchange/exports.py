"""Streaming exports: one row at a time from a server-side cursor, so memory stays flat.

The same rows go out as MASSIVE jsonl, SLURP-style jsonl or CoNLL/BIO blocks. A row keeps the
fields its source file had (and their order) only when it goes back out in that source's own
format; otherwise it gets the format's standard fields.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connections, transaction

from parley.locales.models import Locale
from parley.locales.selectors import locale_export_tag
from parley.nlu import annotation as notation
from parley.nlu.models import Utterance

from .formats import conll, massive, slurp

FETCH = 2000
LINES_PER_PIECE = 1000


@dataclass(frozen=True)
class ExportRow:
    source: str
    provenance: dict
    external_id: str
    partition: str
    scenario: str
    intent: str
    text: str
    annotated: str
    uid: int


def row_id(*, external_id: str, uid: int) -> str:
    """The id a row goes out with: its source's id, else one made from the utterance id."""
    return external_id or f"parley-{uid}"


def _export_queryset(*, locale: Locale, source: str | None, partition: str | None, statuses=None):
    """A locale's utterances in original order: those of `statuses`, else all but retired ones."""
    qs = Utterance.objects.filter(locale=locale)
    qs = qs.filter(status__in=statuses) if statuses else qs.exclude(status=Utterance.Status.RETIRED)
    if source:
        qs = qs.filter(source=source)
    if partition:
        qs = qs.filter(partition=partition)
    return qs.order_by("source_order", "id")


def export_rows(*, locale: Locale, source: str | None = None, partition: str | None = None, statuses=None
                ) -> Iterator[ExportRow]:
    """A locale's utterances in original order (retired ones left out), from a server-side cursor.

    Read with a raw chunked cursor rather than the ORM's iterator: the ORM's per-row work (value
    converters, the JSON field's decoder) cost more than everything else the export does.
    """
    qs = _export_queryset(locale=locale, source=source, partition=partition, statuses=statuses).values_list(
        "source", "provenance", "external_id", "partition", "intent__scenario__name", "intent__name", "text",
        "annotated", "id")
    sql, params = qs.query.sql_with_params()
    decode = json.JSONDecoder().decode
    connection = connections[qs.db]
    with transaction.atomic(using=qs.db), connection.chunked_cursor() as cursor:  # server-side cursors need one
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH):
            for source_name, provenance, *rest in rows:
                yield ExportRow(source_name, decode(provenance) if isinstance(provenance, str) else provenance,
                                *rest)


def massive_rows(*, locale: Locale, source: str | None = Utterance.Source.MASSIVE, partition: str | None = None,
                 statuses=None) -> Iterator[dict]:
    """MASSIVE rows for one locale in original order, with the locale tag MASSIVE uses (sl-SL)."""
    for row in export_rows(locale=locale, source=source, partition=partition, statuses=statuses):
        yield _massive_row(row, locale_export_tag(locale=locale, source="massive"))


def _massive_row(row: ExportRow, tag: str) -> dict:
    out = massive.row_for_export(
        provenance=row.provenance if row.source == Utterance.Source.MASSIVE else {}, locale_tag=tag,
        external_id=row_id(external_id=row.external_id, uid=row.uid), partition=row.partition, scenario=row.scenario,
        intent=row.intent, utt=row.text, annot_utt=row.annotated)
    if row.source == Utterance.Source.COLLECTED:
        out.update(_collected_provenance(row.provenance))
    elif out.get("judgments"):
        out["judgments"] = _judgments_in_published_order(out["judgments"])
    return out


# PostgreSQL's jsonb orders an object's keys by length, so a MASSIVE judgment stored there reads
# back with slots_score (11 letters) before intent_score (12); every other published key keeps
# its place. The pairs of MASSIVE's scores (0-2 each) written that way, and as published. The same
# text replacements run in SQL (`_judgments_sql`) and here, so both give the same bytes; on a
# database that keeps key order (SQLite) nothing matches and the row goes out as given.
_SCORE_PAIRS_SWAPPED = tuple(
    (f'"slots_score": {slots}, "intent_score": {intent}', f'"intent_score": {intent}, "slots_score": {slots}')
    for intent in range(3) for slots in range(3))


# MASSIVE's keys, in its order (alexa/massive README.md): collected rows write them in this order
# whatever order the database kept them in.
_SLOT_METHOD_KEYS = ("slot", "method")
_JUDGMENT_KEYS = ("worker_id", "intent_score", "slots_score", "grammar_score", "spelling_score",
                  "language_identification")


def _judgments_in_published_order(judgments):
    text = original = _encode(judgments)
    for stored, published in _SCORE_PAIRS_SWAPPED:
        text = text.replace(stored, published)
    return judgments if text == original else json.loads(text)


def _collected_provenance(provenance: dict) -> dict:
    """A collected utterance's own MASSIVE fields: its author (worker_id), how each slot was carried
    over (slot_method, localize tasks) and its last decided round's judgments (kept there by
    collection in MASSIVE's form; empty while none was decided)."""
    worker = provenance.get("worker_id")
    return {"worker_id": "" if worker is None else str(worker),
            "slot_method": [{key: item.get(key) for key in _SLOT_METHOD_KEYS}
                            for item in provenance.get("slot_method") or []],
            "judgments": [{key: item.get(key) for key in _JUDGMENT_KEYS} for item in provenance.get("judgments") or []]}


# One encoder for every line: json.dumps(..., ensure_ascii=False) would build a new one per call.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def massive_jsonl(*, locale: Locale, source: str | None = Utterance.Source.MASSIVE, partition: str | None = None
                  ) -> Iterator[str]:
    """MASSIVE jsonl text, in pieces of whole or partial lines (concatenate them).

    On PostgreSQL the database builds the lines and this process only joins a thousand at a time
    into one piece (1M rows: ~100k rows/s against ~35k building them here). Elsewhere the lines are built here from `massive_rows`. Both give the same bytes;
    tests/interchange check that on PostgreSQL.
    """
    if connections[Utterance.objects.db].vendor == "postgresql":
        yield from _massive_jsonl_postgres(locale=locale, source=source, partition=partition)
        return
    for row in massive_rows(locale=locale, source=source, partition=partition):
        yield _encode(row) + "\n"


def massive_jsonl_python(**kwargs) -> Iterator[str]:
    """The same text as `massive_jsonl`, always built in Python (the reference for the SQL one)."""
    for row in massive_rows(**kwargs):
        yield _encode(row) + "\n"


_MASSIVE_CURRENT_KEYS = ("id", "locale", "partition", "scenario", "intent", "utt", "annot_utt")
_MASSIVE_1_1_KEYS = _MASSIVE_CURRENT_KEYS + ("worker_id", "slot_method", "judgments")


def _json_key(key: str) -> str:
    return json.dumps(key)


def _current_value_sql(key: str) -> str:
    """SQL for the JSON text of one of Parley's own fields (as `massive.row_for_export` fills them)."""
    return {
        "id": "COALESCE(x.orig->'id', to_jsonb(COALESCE(NULLIF(x.external_id, ''), 'parley-' || x.id)))::text",
        "locale": "to_json(%(tag)s::text)::text",
        "partition": "to_json(x.partition)::text",
        "scenario": "to_json(x.scenario)::text",
        "intent": "to_json(x.intent)::text",
        "utt": "to_json(x.text)::text",
        "annot_utt": "to_json(x.annotated)::text",
    }[key]


# Rows of other sources carry MASSIVE's provenance fields empty (massive.NO_MASSIVE_PROVENANCE).
_EMPTY_PROVENANCE_SQL = {"worker_id": "'\"\"'", "slot_method": "'[]'", "judgments": "'[]'"}


def _objects_sql(array: str, keys) -> str:
    """SQL for the JSON text of an array of objects written with `keys` in that order (null where
    one lacks a key), as the Python encoder writes `[{key: item.get(key) for key in keys}, ...]`."""
    fields = " || ', ' || ".join(f"'{_json_key(key)}: ' || COALESCE((e.item->'{key}')::text, 'null')" for key in keys)
    return (f"COALESCE((SELECT '[' || string_agg('{{' || {fields} || '}}', ', ' ORDER BY e.n) || ']' "
            f"FROM jsonb_array_elements(COALESCE({array}, '[]')) WITH ORDINALITY e(item, n)), '[]')")


# Collected rows carry their own (`_collected_provenance`).
_COLLECTED_PROVENANCE_SQL = {
    "worker_id": "to_json(COALESCE(x.own->>'worker_id', ''))::text",
    "slot_method": _objects_sql("x.own->'slot_method'", _SLOT_METHOD_KEYS),
    "judgments": _objects_sql("x.own->'judgments'", _JUDGMENT_KEYS),
}


def _judgments_sql() -> str:
    """SQL for a MASSIVE row's own judgments with the published key order back (`_SCORE_PAIRS_SWAPPED`).
    Plain replace() calls: rebuilding each object from jsonb_each cost ~50 µs a row, a regexp ~100 µs,
    these ~3 µs."""
    text = "(x.orig->'judgments')::text"
    for stored, published in _SCORE_PAIRS_SWAPPED:
        text = f"replace({text}, '{stored}', '{published}')"
    return text


_JUDGMENTS_SQL = _judgments_sql()


def _concatenated_sql(keys, *, own_row: bool = False, collected: bool = False) -> str:
    parts = []
    for index, key in enumerate(keys):
        if key in _MASSIVE_CURRENT_KEYS:
            value = _current_value_sql(key)
        elif collected:
            value = _COLLECTED_PROVENANCE_SQL[key]
        elif own_row:
            value = _EMPTY_PROVENANCE_SQL[key]
        elif key == "judgments":
            value = _JUDGMENTS_SQL
        else:
            value = f"(x.orig->'{key}')::text"
        parts.append(f"'{'{' if index == 0 else ', '}{_json_key(key)}: ' || {value}")
    return " || ".join(parts) + " || '}'"


# Any row, as row_for_export orders it: the original's keys in the file's order, then Parley's
# fields the original lacked, then original keys the recorded order missed; Parley's values win.
_GENERIC_LINE_SQL = """(
  SELECT '{' || string_agg(to_json(k.key)::text || ': ' || CASE k.key %(current_cases)s
                                                         ELSE (x.orig->k.key)::text END, ', ' ORDER BY k.ord) || '}'
  FROM (SELECT key, min(ord) AS ord FROM (
          SELECT f.key, f.n AS ord FROM jsonb_array_elements_text(COALESCE(x.fields, '[]')) WITH ORDINALITY f(key, n)
           WHERE x.orig ? f.key
          UNION ALL SELECT c.key, 1000 + c.n FROM unnest(%(current_keys)s::text[]) WITH ORDINALITY c(key, n)
          UNION ALL SELECT o.key, 2000 + o.n FROM jsonb_object_keys(COALESCE(x.orig, '{}')) WITH ORDINALITY o(key, n)
        ) keys GROUP BY key) k)"""


def _line_sql() -> str:
    current_cases = " ".join(f"WHEN '{key}' THEN {_current_value_sql(key)}" for key in _MASSIVE_CURRENT_KEYS)
    current_cases += f" WHEN 'judgments' THEN {_JUDGMENTS_SQL}"
    generic = _GENERIC_LINE_SQL.replace("%(current_cases)s", current_cases)
    # Two shapes cover nearly every row and are plain concatenations: rows from another source
    # (MASSIVE 1.1's ten fields, provenance empty) and MASSIVE 1.1 rows with exactly the distribution's ten fields.
    # `fields` is written with `row` by the importer, from the same record, so it lists exactly the
    # row's keys: equal to the standard ten (and all ten present), the row has no others. (Testing
    # that with `orig - keys = '{}'` built a new jsonb a row: a sixth of the export's time.)
    return f"""CASE
      WHEN x.own IS NOT NULL THEN {_concatenated_sql(_MASSIVE_1_1_KEYS, collected=True)}
      WHEN x.orig IS NULL THEN {_concatenated_sql(_MASSIVE_1_1_KEYS, own_row=True)}
      WHEN x.fields = %(standard_fields)s::jsonb AND x.orig ?& %(standard_keys)s::text[]
           THEN {_concatenated_sql(_MASSIVE_1_1_KEYS)}
      ELSE {generic} END"""


def _massive_lines_statement(*, locale: Locale, source: str | None, partition: str | None, statuses=None,
                             keyed: bool = False) -> tuple[str, dict, str]:
    """The SQL that builds each row's MASSIVE line (newline included), optionally with the row's keys
    (uid, id, partition, intent, source) before it; and the database alias to run it on."""
    # Unordered inside: the outer query sorts once, after the OFFSET 0 fence below.
    qs = _export_queryset(locale=locale, source=source, partition=partition, statuses=statuses).order_by().values_list(
        "external_id", "partition", "intent__scenario__name", "intent__name", "text", "annotated", "source",
        "provenance", "source_order", "id")
    inner_sql, inner_params = qs.query.sql_with_params()
    # Django's SQL names the columns after the tables; the outer query wants short names.
    inner = f"""SELECT * FROM ({inner_sql}) AS r (external_id, partition, scenario, intent, text, annotated,
                                               source, provenance, source_order, id)"""
    keys = ("x.id, COALESCE(x.orig->>'id', NULLIF(x.external_id, ''), 'parley-' || x.id), x.partition, x.intent, "
            "x.source, ") if keyed else ""
    # OFFSET 0 keeps the subquery x from being flattened into the line expression, which would
    # extract provenance->'row' once for every one of the line's references to x.orig (~2 µs a row).
    statement = f"""SELECT {keys}{_line_sql()} || E'\\n' FROM (
        SELECT r.external_id, r.partition, r.scenario, r.intent, r.text, r.annotated, r.source_order, r.id, r.source,
               CASE WHEN r.source = 'massive' THEN r.provenance->'row' END AS orig,
               CASE WHEN r.source = 'massive' THEN r.provenance->'fields' END AS fields,
               CASE WHEN r.source = 'collected' THEN r.provenance END AS own
        FROM ({inner}) AS r OFFSET 0) AS x ORDER BY x.source_order, x.id"""
    named = {"tag": locale_export_tag(locale=locale, source="massive"),
             "standard_fields": json.dumps(list(_MASSIVE_1_1_KEYS)), "standard_keys": list(_MASSIVE_1_1_KEYS),
             "current_keys": list(_MASSIVE_CURRENT_KEYS)}
    # The inner query's positional %s parameters become named ones so both kinds can be merged.
    positional = {f"p{index}": value for index, value in enumerate(inner_params)}
    for index in range(len(inner_params)):
        statement = statement.replace("%s", f"%(p{index})s", 1)
    return statement, {**named, **positional}, qs.db


@contextmanager
def _lines_cursor(db: str):
    """A server-side cursor (it needs a transaction) whose sort of one locale's rows stays in
    memory (PostgreSQL's default 4 MB spills a large locale's wide rows to disk), without JIT:
    the statement's cost estimate triggers JIT compilation, ~40 ms a locale for a query that
    runs in ~130 ms."""
    with transaction.atomic(using=db):
        with connections[db].cursor() as plain:
            plain.execute("SET LOCAL work_mem = '64MB'")
            plain.execute("SET LOCAL jit = off")
        with connections[db].chunked_cursor() as cursor:
            yield cursor


def _massive_jsonl_postgres(*, locale: Locale, source: str | None, partition: str | None) -> Iterator[str]:
    statement, params, db = _massive_lines_statement(locale=locale, source=source, partition=partition)
    with _lines_cursor(db) as cursor:
        cursor.execute(statement, params)
        while rows := cursor.fetchmany(LINES_PER_PIECE):
            yield "".join([line for (line,) in rows])


def massive_keyed_lines(*, locale: Locale, statuses) -> Iterator[list[tuple[int, str, str, str, str, str]]]:
    """Chunks of (uid, id, partition, intent, source, line) for a locale's rows of `statuses`, in
    original order: what a release writes into its jsonl and its index in one pass. The lines are
    those `massive_jsonl` gives (built by PostgreSQL there, here elsewhere)."""
    if connections[Utterance.objects.db].vendor == "postgresql":
        statement, params, db = _massive_lines_statement(locale=locale, source=None, partition=None,
                                                         statuses=statuses, keyed=True)
        with _lines_cursor(db) as cursor:
            cursor.execute(statement, params)
            while rows := cursor.fetchmany(LINES_PER_PIECE):
                yield rows
        return
    tag = locale_export_tag(locale=locale, source="massive")
    chunk = []
    for row in export_rows(locale=locale, statuses=statuses):
        chunk.append((row.uid, row_id(external_id=row.external_id, uid=row.uid), row.partition, row.intent,
                      row.source, _encode(_massive_row(row, tag)) + "\n"))
        if len(chunk) >= LINES_PER_PIECE:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def slurp_rows(*, locale: Locale, source: str | None = None, partition: str | None = None) -> Iterator[dict]:
    """SLURP-style rows: slurp_id, sentence, sentence_annotation, scenario, action, intent."""
    for row in export_rows(locale=locale, source=source, partition=partition):
        original = dict(row.provenance.get("row", {})) if row.source == Utterance.Source.SLURP else {}
        prefixed = row.intent.startswith((f"{row.scenario}_", f"{row.scenario}/"))
        action = row.intent[len(row.scenario) + 1:] if prefixed else row.intent
        current = {"slurp_id": original.get("slurp_id", row.external_id), "sentence": row.text,
                   "sentence_annotation": row.annotated, "scenario": row.scenario, "action": action,
                   "intent": row.intent}
        if original and slurp.intent_of(original) == row.intent:
            # Unchanged intent: give it back as the file wrote it ("query" + action), not as mapped.
            current.update({k: original[k] for k in ("scenario", "action", "intent") if k in original})
        order = row.provenance.get("fields") if original else None
        original.update(current)
        out = {key: original[key] for key in (order or current) if key in original}
        out.update({k: v for k, v in original.items() if k not in out})
        yield out


def slurp_jsonl(**kwargs) -> Iterator[str]:
    for row in slurp_rows(**kwargs):
        yield _encode(row) + "\n"


def conll_blocks(*, locale: Locale, source: str | None = None, partition: str | None = None) -> Iterator[str]:
    """CoNLL blocks in xSID's layout (docs/formats.md, "xSID").

    A row imported from CoNLL and unchanged since (its intent and annotation fingerprint as
    imported) goes out exactly as its block was written, line for line. An edited one keeps its
    comments in their order and style with the current text, intent and slot spans, and gets
    token lines from its annotation; other rows get `# id`, `# text`, `# intent`. Tokens are
    MASSIVE's (characters where `Locale.writes_without_spaces`).
    """
    # xSID's files put one blank line between blocks; after the last, most have one more blank
    # line and de-ba.test.conll none: the last block exported ends as its block was read.
    separator = ""
    ending = ""
    char_split = locale.writes_without_spaces  # the registry's, as imports and edits stored the rows
    for row in export_rows(locale=locale, source=source, partition=partition):
        from_conll = row.source == Utterance.Source.CONLL
        written = row.provenance.get("lines") if from_conll else None
        if written and row.provenance.get("as_imported") == conll.fingerprint(intent=row.intent,
                                                                             annotated=row.annotated):
            yield separator + "\n".join(written) + "\n"
        else:
            parsed = notation.parse(row.annotated, char_split=char_split)
            if not parsed.ok:  # every stored annotation was validated on its way in; never emit a broken block
                continue
            yield separator + conll.block_lines(external_id=row_id(external_id=row.external_id, uid=row.uid),
                                                text=row.text, intent=row.intent,
                                                pairs=notation.to_bio(parsed.annotation, char_split=char_split),
                                                annotation=parsed.annotation, written=written)
        separator = "\n"
        ending = "\n" if from_conll and row.provenance.get("blank_line_after") else ""
    if ending:
        yield ending


@dataclass(frozen=True)
class ExportFormat:
    stream: object
    content_type: str
    suffix: str


EXPORT_FORMATS = {
    "massive": ExportFormat(massive_jsonl, "application/x-ndjson; charset=utf-8", ".jsonl"),
    "slurp": ExportFormat(slurp_jsonl, "application/x-ndjson; charset=utf-8", ".jsonl"),
    "conll": ExportFormat(conll_blocks, "text/plain; charset=utf-8", ".conll"),
}
