"""MASSIVE import: every rejected row reported, idempotent, atomic; export equal row for row."""
import json

import pytest
from django.core.management import call_command

import factories as f
from factories import DE, EN, EN2, JA, SL, jsonl
from parley.interchange.exports import massive_rows
from parley.interchange.models import ImportBatch
from parley.interchange.services import import_batch_create, import_batch_run
from parley.locales.selectors import locale_resolve
from parley.nlu.normalize import normalize_text
from parley.nlu.models import Utterance

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    for tag, alias in [("en-US", "en-US"), ("de-DE", "de-DE"), ("ja-JP", "ja-JP"), ("sl-SI", "sl-SL")]:
        f.alias(f.locale(tag), alias)


def run_import(tmp_path, text, name="data.jsonl", **options):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    batch = import_batch_create(format="massive", path=str(path), actor="test", **options)
    return import_batch_run(batch=batch, actor="test")


def test_import_keeps_every_field_and_exports_row_for_row(registry, tmp_path):
    batch = run_import(tmp_path, jsonl(EN, DE, JA, SL, EN2), create_missing=True)
    assert (batch.status, batch.rows_read, batch.rows_accepted, batch.rows_rejected) == ("completed", 5, 5, 0)
    sl = Utterance.objects.get(locale__tag="sl-SI")
    assert (sl.partition, sl.status, sl.external_id) == ("train", "promoted", "2")
    assert sl.slots == [{"type": "time", "value": "petih zjutraj", "start": 12, "end": 25},
                        {"type": "date", "value": "ta teden", "start": 26, "end": 34}]
    ja = Utterance.objects.get(locale__tag="ja-JP")
    # ICU word segmentation: words are separated, and spacing in the input does not matter.
    assert ja.normalized.startswith("今週 の ")
    assert normalize_text("今週の 午前五時に、起こして！", locale=ja.locale) == ja.normalized
    for row in (EN, DE, JA, SL):
        exported = list(massive_rows(locale=locale_resolve(row["locale"])))
        originals = [r for r in (EN, DE, JA, SL, EN2) if r["locale"] == row["locale"]]
        assert exported == originals
        assert [list(r) for r in exported] == [list(r) for r in originals]  # field order too


def test_imported_judgments_go_back_out_byte_for_byte(registry, tmp_path):
    """The published row's judgments, keys in MASSIVE's order (PostgreSQL's jsonb would put slots_score first)."""
    from parley.interchange.exports import massive_jsonl

    run_import(tmp_path, jsonl(DE), create_missing=True)
    assert '"judgments": [{"worker_id": "11", "intent_score": 1, "slots_score": 1' in jsonl(DE)
    assert "".join(massive_jsonl(locale=locale_resolve("de-DE"), source=None)) == jsonl(DE)


def test_reimport_changes_nothing(registry, tmp_path):
    run_import(tmp_path, jsonl(EN, DE), create_missing=True)
    before = list(Utterance.objects.values_list("id", "updated_at"))
    again = run_import(tmp_path, jsonl(EN, DE), create_missing=True)
    assert (again.rows_accepted, again.rows_present, again.rows_rejected) == (0, 2, 0)
    assert list(Utterance.objects.values_list("id", "updated_at")) == before


def test_every_rejected_row_is_reported_with_line_field_and_reason(registry, tmp_path):
    f.intent("alarm_set", "alarm", slots=["time", "date"])
    lines = [
        jsonl(EN),                                                          # 1 ok
        "{not json\n",                                                      # 2
        jsonl({**EN, "id": "2", "locale": "xx-YY"}),                        # 3 unknown locale
        jsonl({**EN, "id": "3", "intent": "alarm_snooze"}),                 # 4 unknown intent
        jsonl({**EN, "id": "4", "annot_utt": "wake me up at [time five am] [date : this week]"}),  # 5 separator
        jsonl({**EN, "id": "5", "annot_utt": "wake me up at [time : five am [date : this week]"}),  # 6 nesting
        jsonl({**EN, "id": "6", "annot_utt": "wake me at [time : five am] [date : this week]"}),    # 7 text differs
        jsonl({**EN, "id": "7", "annot_utt": "wake me up at [hour : five am] [date : this week]"}), # 8 slot type
        jsonl({**EN, "id": "8", "utt": ""}),                               # 9 missing utt
        jsonl({**EN, "id": "9", "partition": "holdout"}),                  # 10 partition
        jsonl(EN),                                                          # 11 duplicate id
        jsonl({**EN, "id": "10", "scenario": "weather"}),                   # 12 scenario mismatch
        "[1, 2]\n",                                                          # 13 not an object
    ]
    batch = run_import(tmp_path, "".join(lines))
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (13, 1, 12)
    report = {(r.line, r.field): r.reason for r in batch.rejects.all()}
    assert set(report) == {(2, "(line)"), (3, "locale"), (4, "intent"), (5, "annot_utt"), (6, "annot_utt"),
                           (7, "annot_utt"), (8, "annot_utt"), (9, "utt"), (10, "partition"), (11, "id"),
                           (12, "intent"), (13, "(line)")}
    assert "missing_separator" in report[(5, "annot_utt")]
    assert "nested_bracket" in report[(6, "annot_utt")]
    assert "text_mismatch" in report[(7, "annot_utt")]
    assert "unknown_slot_type" in report[(8, "annot_utt")]
    assert "first at data.jsonl:1" in report[(11, "id")]
    assert "xx-YY" in report[(3, "locale")]


def test_strict_import_writes_nothing_when_a_row_is_rejected(registry, tmp_path):
    batch = run_import(tmp_path, jsonl(EN, {**EN, "id": "2", "locale": "xx-YY"}), create_missing=False, strict=True)
    assert batch.status == "rejected" and Utterance.objects.count() == 0


def test_failed_write_leaves_no_partial_batch(registry, tmp_path, monkeypatch):
    from parley.interchange import services

    calls = {"n": 0}
    real = services.utterances_bulk_insert

    def explode(*, rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(rows=rows)

    monkeypatch.setattr(services, "CHUNK", 2)
    monkeypatch.setattr(services, "utterances_bulk_insert", explode)
    rows = [{**EN, "id": str(i)} for i in range(6)]
    with pytest.raises(RuntimeError):
        run_import(tmp_path, jsonl(*rows), create_missing=True)
    assert Utterance.objects.count() == 0
    batch = ImportBatch.objects.get()
    assert batch.status == "failed" and "disk full" in batch.error


def test_folder_of_locale_files_and_bom(registry, tmp_path):
    folder = tmp_path / "1.1" / "data"
    folder.mkdir(parents=True)
    (folder / "en-US.jsonl").write_bytes(b"\xef\xbb\xbf" + jsonl(EN, EN2).encode())
    (folder / "ja-JP.jsonl").write_text(jsonl(JA), encoding="utf-8")
    batch = import_batch_create(format="massive", path=str(folder), actor="test", create_missing=True)
    batch = import_batch_run(batch=batch, actor="test")
    assert (batch.rows_accepted, batch.rows_rejected) == (3, 0)


def test_command_import_and_export(registry, tmp_path, capsys):
    path = tmp_path / "sl.jsonl"
    path.write_text(jsonl(SL), encoding="utf-8")
    call_command("nlu_import", "massive", str(path), "--create-missing")
    assert "accepted 1" in capsys.readouterr().out
    out = tmp_path / "out.jsonl"
    call_command("nlu_export", "massive", "--locale", "sl-SL", "--out", str(out))
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == [SL]


SLURP_ROW = {"slurp_id": 13804, "sentence": "siri what is one american dollar in japanese yen",
             "sentence_annotation": "siri what is one [currency_name : american dollar] in [currency_name : japanese yen]",
             "intent": "qa_currency", "action": "currency", "scenario": "qa",
             "tokens": [{"surface": "siri", "id": 0, "lemma": "siri", "pos": "VB"}],
             "entities": [{"span": [4, 5], "type": "currency_name"}], "recordings": []}


def test_slurp_import_takes_partition_from_file_name_and_keeps_the_record(registry, tmp_path):
    bad = {**SLURP_ROW, "slurp_id": 2, "sentence_annotation": "siri what is [currency_name : one"}
    path = tmp_path / "devel.jsonl"
    path.write_text(jsonl(SLURP_ROW, bad), encoding="utf-8")
    batch = import_batch_create(format="slurp", path=str(path), actor="test", create_missing=True)
    batch = import_batch_run(batch=batch, actor="test")
    assert (batch.rows_accepted, batch.rows_rejected) == (1, 1)
    utt = Utterance.objects.get()
    assert (utt.source, utt.partition, utt.locale.tag, utt.intent.name, utt.external_id) == (
        "slurp", "dev", "en-US", "qa_currency", "13804")
    assert utt.provenance["row"] == SLURP_ROW
    assert batch.rejects.get().field == "annot_utt"


def test_slurp_rows_with_only_the_action_in_intent_get_the_massive_name(registry, tmp_path):
    path = tmp_path / "test.jsonl"
    path.write_text(jsonl({"slurp_id": 1, "sentence": "do i have any appointments today",
                           "sentence_annotation": "do i have any appointments [date : today]",
                           "intent": "query", "scenario": "calendar", "action": "query"}), encoding="utf-8")
    batch = import_batch_run(batch=import_batch_create(format="slurp", path=str(path), actor="test",
                                                       create_missing=True), actor="test")
    assert batch.rows_accepted == 1
    assert Utterance.objects.get().intent.name == "calendar_query"
    assert Utterance.objects.get().partition == "test"


def test_import_runs_the_utterance_checks_and_stores_their_warnings(registry, tmp_path):
    from parley.checks.models import CheckResult

    f.intent("alarm_set", "alarm", slots=["time"])  # "date" exists but alarm_set does not allow it
    from parley.nlu.models import SlotType

    SlotType.objects.create(name="date")
    row = {**EN, "annot_utt": "wake me up at [time : five am] [date : this week]"}
    batch = run_import(tmp_path, jsonl(row))
    assert (batch.rows_accepted, batch.rows_rejected, batch.rows_warned) == (1, 0, 1)
    result = CheckResult.objects.get()
    utterance = Utterance.objects.get()
    assert (result.target_type, result.target_id, result.check_id, result.severity, result.locale_tag) == (
        "nlu.utterance", str(utterance.pk), "utterance.slot_allowed", "warning", "en-US")
    assert "'date'" in result.message


def test_import_rejects_with_the_registry_checks_message(registry, tmp_path):
    f.intent("alarm_set", "alarm", slots=["time"])
    batch = run_import(tmp_path, jsonl({**EN, "annot_utt": "wake me up at [time : five am] [colour : this week]"}))
    reject = batch.rejects.get()
    assert reject.field == "annot_utt" and reject.reason.startswith("unknown_slot_type at 32: unknown slot type 'colour'")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_big_import_vacuums_so_coverage_reads_the_index_alone(registry, tmp_path, settings):
    from django.db import connection

    settings.PARLEY_IMPORT_VACUUM_ROWS = 3
    rows = [{**EN, "id": str(i)} for i in range(3)]
    batch = run_import(tmp_path, jsonl(*rows), create_missing=True)
    assert batch.status == "completed"
    with connection.cursor() as cursor:
        cursor.execute("SELECT vacuum_count + autovacuum_count, analyze_count + autoanalyze_count "
                       "FROM pg_stat_user_tables WHERE relname = 'nlu_utterance'")
        vacuums, analyzes = cursor.fetchone()
    assert vacuums >= 1 and analyzes >= 1


def test_same_key_with_changed_content_is_reported_not_skipped(registry, tmp_path):
    run_import(tmp_path, jsonl(EN, DE), create_missing=True)
    changed = {**DE, "utt": "weck mich um sechs uhr diese woche",
               "annot_utt": "weck mich um [time : sechs uhr] [date : diese woche]"}
    batch = run_import(tmp_path, jsonl(EN, changed), create_missing=True)
    assert (batch.rows_present, batch.rows_rejected, batch.rows_accepted) == (1, 1, 0)
    reject = batch.rejects.get()
    assert (reject.line, reject.field) == (2, "id")
    assert "stored for this locale with a different text, annotated" in reject.reason
    assert Utterance.objects.get(locale__tag="de-DE").text == DE["utt"]  # nothing overwritten


def test_rows_from_several_files_keep_the_order_they_were_read_in(registry, tmp_path):
    folder = tmp_path / "split"
    folder.mkdir()
    (folder / "a.jsonl").write_text(jsonl({**EN, "id": "z"}, {**EN, "id": "y"}))
    (folder / "b.jsonl").write_text(jsonl({**EN, "id": "x"}))
    batch = import_batch_run(batch=import_batch_create(format="massive", path=str(folder), actor="t",
                                                       create_missing=True), actor="t")
    assert batch.rows_accepted == 3
    assert [r["id"] for r in massive_rows(locale=locale_resolve("en-US"))] == ["z", "y", "x"]


def test_cli_refuses_a_file_of_another_format(registry, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "gsw.test.conll"
    path.write_text("# intent: x\n1\tx\tx\tO\n")
    with pytest.raises(CommandError, match="a massive import reads .jsonl"):
        call_command("nlu_import", "massive", str(path))


def test_rows_with_wrong_types_long_ids_or_nul_are_rejected_not_fatal(registry, tmp_path):
    rows = [{**EN, "id": "a", "partition": ["train"]}, {**EN, "id": "x" * 101},
            {**EN, "id": "b", "utt": "wake\x00me", "annot_utt": "wake\x00me"}, {**EN, "id": "c", "id2": 1}]
    batch = run_import(tmp_path, jsonl(*rows), create_missing=True)
    assert batch.status == "completed" and batch.rows_accepted == 1
    assert sorted(r.field for r in batch.rejects.all()) == ["id", "partition", "utt"]


def test_slurp_rows_with_non_string_fields_are_rejected(tmp_path):
    f.locale("en-US")
    path = tmp_path / "devel.jsonl"
    path.write_text(jsonl({"slurp_id": 1, "sentence": "hi", "sentence_annotation": "hi", "intent": 5}))
    batch = import_batch_run(batch=import_batch_create(format="slurp", path=str(path), actor="t",
                                                       create_missing=True), actor="t")
    assert batch.status == "completed" and batch.rejects.get().reason == "must be a string"


@pytest.mark.postgres
def test_lines_built_by_postgresql_equal_the_python_reference(registry, tmp_path):
    """The SQL line builder must give byte for byte what the Python reference gives, for every row shape."""
    from parley.interchange.exports import massive_jsonl, massive_jsonl_python

    odd = {"locale": "en-US", "id": "9", "partition": "dev", "scenario": "alarm", "intent": "alarm_set",
           "utt": 'say "hi" \\ back\tnow', "annot_utt": 'say "hi" \\ back\tnow', "extra": {"z": 1.5, "a": [None, True]}}
    no_extras = {k: EN2[k] for k in ("id", "locale", "partition", "scenario", "intent", "utt", "annot_utt")}
    numeric_id = {**EN2, "id": 11, "utt": "what is the weather in köln ✓", "annot_utt":
                  "what is the weather in [place_name : köln] ✓"}
    odd_judgments = {**EN2, "id": "12", "judgments": [
        {"worker_id": "1", "intent_score": 1, "slots_score": 1, "grammar_score": 4, "spelling_score": 2,
         "language_identification": "target", "note": "extra"}, {}, {"slots_score": 0, "intent_score": 2}]}
    run_import(tmp_path, jsonl(EN, EN2, odd, no_extras | {"id": "10"}, numeric_id, odd_judgments), create_missing=True)
    en = locale_resolve("en-US")
    # Rows of another source and a row whose recorded field order misses some of its keys.
    f.utterance(en, f.intent("alarm_set", "alarm"), "wake me at [time : nine]", source="manual", status="promoted",
                partition="train", source_order=10**12)
    # Collected rows: their author, slot methods and judgments as collection keeps them (MASSIVE's keys, any order).
    judged = {"worker_id": "7", "slot_method": [{"method": "translation", "slot": "time"}],
              "judgments": [{"language_identification": "target|english", "spelling_score": 2, "grammar_score": 3,
                             "slots_score": 1, "intent_score": 2, "worker_id": "12"},
                            {"worker_id": "13", "intent_score": 1, "slots_score": 0, "grammar_score": 4,
                             "spelling_score": 1, "language_identification": "target"}],
              "collection": {"campaign": 1, "task": 2, "round": 1}}
    f.utterance(en, f.intent("alarm_set", "alarm"), "wake me at [time : \"ten\"]", source="collected",
                status="accepted", source_order=10**12 + 1, provenance=judged)
    f.utterance(en, f.intent("alarm_set", "alarm"), "wake me at [time : eleven]", source="collected",
                status="in_validation", source_order=10**12 + 2, provenance={"worker_id": "7", "judgments": []})
    partial = Utterance.objects.get(locale=en, external_id="9")
    partial.provenance = {**partial.provenance, "fields": ["utt", "id"]}
    partial.save()
    sql = "".join(massive_jsonl(locale=en, source=None))
    assert sql == "".join(massive_jsonl_python(locale=en, source=None))
    assert len(sql.splitlines()) == 9
    # MASSIVE's scores in its order again; a key MASSIVE does not have stays where jsonb put it
    assert '"judgments": [{"note": "extra", "worker_id": "1", "intent_score": 1, "slots_score": 1, ' \
           '"grammar_score": 4, "spelling_score": 2, "language_identification": "target"}, {}, ' \
           '{"intent_score": 2, "slots_score": 0}]}' in sql.splitlines()[5]
    assert sql.splitlines()[7].endswith(
        ', "worker_id": "7", "slot_method": [{"slot": "time", "method": "translation"}], "judgments": ['
        '{"worker_id": "12", "intent_score": 2, "slots_score": 1, "grammar_score": 3, "spelling_score": 2, '
        '"language_identification": "target|english"}, {"worker_id": "13", "intent_score": 1, "slots_score": 0, '
        '"grammar_score": 4, "spelling_score": 1, "language_identification": "target"}]}')
    assert sql.splitlines()[8].endswith(', "worker_id": "7", "slot_method": [], "judgments": []}')
    assert json.loads(sql.splitlines()[2]) == odd and list(json.loads(sql.splitlines()[2]))[:2] == ["utt", "id"]


def test_strict_create_missing_creates_no_locale_intent_or_slot_type_when_a_row_is_rejected(registry, tmp_path):
    from parley.locales.models import Locale
    from parley.nlu.models import Intent, SlotType

    new = {**EN, "id": "7", "locale": "gsw-CH", "intent": "yodel_start", "scenario": "music",
           "annot_utt": "jodle am [yodel_style : morgen]", "utt": "jodle am morgen"}
    bad = {**EN, "id": "8", "annot_utt": "wake me [time : five"}
    before = (Locale.objects.count(), Intent.objects.count(), SlotType.objects.count())
    batch = run_import(tmp_path, jsonl(EN, new, bad), create_missing=True, strict=True)
    assert batch.status == "rejected" and batch.rows_rejected == 1 and batch.rows_accepted == 0
    assert batch.rejects.get().line == 3
    assert (Locale.objects.count(), Intent.objects.count(), SlotType.objects.count()) == before
    assert not Utterance.objects.exists()
    # Without the bad row the same strict import creates them and writes every row.
    batch = run_import(tmp_path, jsonl(EN, new), create_missing=True, strict=True)
    assert batch.status == "completed" and batch.rows_accepted == 2 and batch.rows_read == 2
    assert Locale.objects.filter(tag="gsw-CH").exists() and Intent.objects.filter(name="yodel_start").exists()
    assert SlotType.objects.filter(name="yodel_style").exists()
