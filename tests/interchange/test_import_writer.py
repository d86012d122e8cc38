"""The overlapped write path: a writer thread COPYs validated chunks into one open transaction, and
an import into an empty utterance table rebuilds the table's indexes instead of maintaining them.

Both only run outside a transaction on PostgreSQL, so these tests commit (transaction=True); the
other import tests (inside a test transaction) exercise the spill-then-write path. Each mode must
give the same accepted rows, rejects and warnings.
"""
import json

import pytest

import factories as f
from factories import DE, EN, EN2, JA, SL, jsonl
from parley.checks.models import CheckResult
from parley.interchange import services
from parley.interchange.models import ImportBatch
from parley.interchange.services import import_batch_create, import_batch_run
from parley.nlu.models import SlotType, Utterance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def registry():
    for tag, alias in [("en-US", "en-US"), ("de-DE", "de-DE"), ("ja-JP", "ja-JP"), ("sl-SI", "sl-SL")]:
        f.alias(f.locale(tag), alias)
    f.intent("alarm_set", "alarm", slots=["time"])  # "date" exists but is not allowed: a warning
    f.intent("weather_query", "weather", slots=["place_name"])
    SlotType.objects.get_or_create(name="date")


def every_kind_of_row() -> str:
    """Accepted rows (some with warnings) between rejects of every kind the pipeline reports."""
    lines = [
        jsonl(EN, DE, JA, SL, EN2),
        "{not json\n",
        jsonl({**EN, "id": "2", "locale": "xx-YY"}),
        jsonl({**EN, "id": "3", "intent": "alarm_snooze"}),
        jsonl({**EN, "id": "4", "annot_utt": "wake me up at [time five am] [date : this week]"}),
        jsonl({**EN, "id": "5", "annot_utt": "wake me up at [time : five am [date : this week]"}),
        jsonl({**EN, "id": "6", "annot_utt": "wake me at [time : five am] [date : this week]"}),
        jsonl({**EN, "id": "7", "annot_utt": "wake me up at [hour : five am] [date : this week]"}),
        jsonl({**EN, "id": "8", "utt": "wakeme up at five am this week"}),  # token count
        jsonl({**EN, "id": "9", "utt": ""}),
        jsonl({**EN, "id": "10", "partition": "holdout"}),
        jsonl(EN),  # duplicate id
        jsonl({**EN, "id": "11", "scenario": "weather"}),
        "[1, 2]\n",
        jsonl({**EN, "id": "12", "partition": ["train"]}, {**EN, "id": "x" * 101},
              {**EN, "id": "13", "utt": "wake\x00me", "annot_utt": "wake\x00me"}),
        jsonl({**EN, "id": "14", "utt": "wake me up at  five am", "annot_utt": "wake me up at [time :  five am]"}),
        jsonl({**EN, "id": "15", "utt": 'say "hi"\tand \\ back', "annot_utt": 'say "hi"\tand \\ back'}),
        jsonl(*[{**EN2, "id": f"w{i}", "utt": f"what is the weather in paris {i}",
                 "annot_utt": f"what is the weather in [place_name : paris] {i}"} for i in range(7)]),
    ]
    return "".join(lines)


def outcome(batch: ImportBatch) -> dict:
    rows = sorted(Utterance.objects.values_list(
        "locale__tag", "external_id", "intent__name", "text", "annotated", "slots", "normalized", "partition",
        "status", "provenance", "parallel_key"), key=lambda r: (r[0], r[1]))
    by_pk = {str(pk): (tag, key) for pk, tag, key in Utterance.objects.values_list("pk", "locale__tag", "external_id")}
    warnings = sorted((by_pk[r.target_id], r.check_id, r.severity, r.message, r.position)
                      for r in CheckResult.objects.all())
    rejects = sorted((r.file, r.line, r.field, r.reason) for r in batch.rejects.all())
    counts = (batch.status, batch.rows_read, batch.rows_accepted, batch.rows_rejected, batch.rows_present,
              batch.rows_warned)
    return {"rows": rows, "warnings": warnings, "rejects": rejects, "counts": counts}


def run(tmp_path, text, **options):
    path = tmp_path / "data.jsonl"
    path.write_text(text, encoding="utf-8")
    return import_batch_run(batch=import_batch_create(format="massive", path=str(path), actor="t", **options),
                            actor="t")


def clear():
    CheckResult.objects.all().delete()
    Utterance.objects.all().delete()


def index_definitions() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname",
                       [Utterance._meta.db_table])
        return [r[0] for r in cursor.fetchall()]


def test_writer_thread_rebuild_and_spill_give_the_same_rows_rejects_and_warnings(registry, tmp_path, monkeypatch,
                                                                                   settings):
    monkeypatch.setattr(services, "CHUNK", 4)  # several chunks through the queue
    text = every_kind_of_row()
    indexes = index_definitions()
    results = {}
    for mode in ("writer + index rebuild", "writer", "spill"):
        settings.PARLEY_IMPORT_EMPTY_TABLE_REBUILD = mode != "writer"

        def sink_for(source, batch, actor, mode=mode):
            return services._SpillSink() if mode == "spill" else services._WriterThread(source, batch, actor)

        monkeypatch.setattr(services, "_sink_for", sink_for)
        clear()
        results[mode] = outcome(run(tmp_path, text))
        assert index_definitions() == indexes  # every index is back, as it was defined
    first = results["writer + index rebuild"]
    assert first["counts"] == ("completed", 30, 14, 16, 0, 5)
    assert {w[1] for w in first["warnings"]} == {"utterance.slot_allowed", "utterance.slot_value_whitespace"}
    odd = next(r for r in first["rows"] if r[1] == "15")  # tab, quotes, backslash: COPY escapes them
    assert odd[3] == 'say "hi"\tand \\ back' and odd[9]["row"]["utt"] == odd[3]
    assert results["writer"] == first
    assert results["spill"] == first


def test_a_failed_write_in_the_writer_thread_leaves_nothing_and_the_indexes_stand(registry, tmp_path,
                                                                                   monkeypatch):
    indexes = index_definitions()
    calls = {"n": 0}
    real = services.utterances_bulk_insert

    def explode(*, rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(rows=rows)

    monkeypatch.setattr(services, "CHUNK", 2)
    monkeypatch.setattr(services, "utterances_bulk_insert", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        run(tmp_path, jsonl(*[{**EN, "id": str(i)} for i in range(8)]), create_missing=True)
    assert Utterance.objects.count() == 0
    batch = ImportBatch.objects.get()
    assert batch.status == "failed" and "disk full" in batch.error
    assert index_definitions() == indexes


def test_progress_commits_while_the_write_transaction_is_open(registry, tmp_path, monkeypatch, settings):
    """Chunks are written by the writer thread inside its open transaction: its connection sees the
    validation's committed progress, and a third connection sees none of the rows until commit."""
    import threading

    import psycopg
    from django.db import connection

    settings.PARLEY_IMPORT_EMPTY_TABLE_REBUILD = False  # that lock would make the third connection wait
    seen = []
    real = services.utterances_bulk_insert

    def watch(*, rows):
        count = real(rows=rows)
        params = connection.settings_dict
        with psycopg.connect(dbname=params["NAME"], user=params["USER"], password=params["PASSWORD"],
                             host=params["HOST"], port=params["PORT"] or 5432) as other:
            visible = other.execute(f"SELECT count(*) FROM {Utterance._meta.db_table}").fetchone()[0]
        read = ImportBatch.objects.values_list("rows_read", flat=True).get()  # the writer's own connection
        seen.append((threading.current_thread().name, read, visible))
        return count

    monkeypatch.setattr(services, "CHUNK", 2)
    monkeypatch.setattr(services, "utterances_bulk_insert", watch)
    batch = run(tmp_path, jsonl(*[{**EN, "id": str(i)} for i in range(8)]))
    assert batch.status == "completed" and Utterance.objects.count() == 8
    assert len(seen) == 4
    assert all(name.startswith("import-writer") and read >= 2 and visible == 0 for name, read, visible in seen)


def test_strict_reject_rolls_back_what_the_writer_already_copied(registry, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "CHUNK", 2)
    rows = [{**EN, "id": str(i)} for i in range(6)] + [{**EN, "id": "bad", "locale": "xx-YY"}]
    batch = run(tmp_path, jsonl(*rows), strict=True)
    assert (batch.status, batch.rows_rejected) == ("rejected", 1)
    assert Utterance.objects.count() == 0


def test_reimport_into_a_filled_table_keeps_its_indexes_and_changes_nothing(registry, tmp_path):
    indexes = index_definitions()
    first = run(tmp_path, jsonl(EN, DE, EN2))
    assert first.rows_accepted == 3
    again = run(tmp_path, jsonl(EN, DE, EN2, {**EN, "id": "20"}))
    assert (again.rows_accepted, again.rows_present) == (1, 3)
    assert index_definitions() == indexes
    assert json.loads(json.dumps(Utterance.objects.get(external_id="20").provenance))["row"]["id"] == "20"
