"""CoNLL/BIO (xSID layout): locale from the registry or an explicit flag, never guessed; BIO export."""
import pytest
from django.core.management import call_command

import factories as f
from parley.interchange.exports import conll_blocks, massive_rows, slurp_rows
from parley.interchange.formats import conll
from parley.interchange.services import import_batch_create, import_batch_run
from parley.locales.selectors import locale_resolve
from parley.nlu.models import Utterance

pytestmark = pytest.mark.django_db

GSW = """# id: 17
# text-en: wake me up at five am
# text: weck mi am föifi
# intent: alarm/set_alarm
1	weck	alarm/set_alarm	O
2	mi	alarm/set_alarm	O
3	am	alarm/set_alarm	B-datetime
4	föifi	alarm/set_alarm	I-datetime

# id: 18
# text: wie isch s wätter z bärn
# intent: weather/find
1	wie	weather/find	O
2	isch	weather/find	O
3	s	weather/find	O
4	wätter	weather/find	B-weather/attribute
5	z	weather/find	O
6	bärn	weather/find	B-location
"""


def run(path, **options):
    batch = import_batch_create(format="conll", path=str(path), actor="test", **options)
    return import_batch_run(batch=batch, actor="test")


def test_file_name_gives_registered_locale_and_partition(tmp_path):
    f.alias(f.locale("gsw-CH"), "gsw", source="conll")
    path = tmp_path / "gsw.test.conll"
    path.write_text(GSW, encoding="utf-8")
    batch = run(path, create_missing=True)
    assert (batch.status, batch.rows_accepted, batch.rows_rejected) == ("completed", 2, 0), list(batch.rejects.all())
    first = Utterance.objects.get(external_id="gsw.test.conll:17")  # ids repeat across xSID's files
    assert (first.locale.tag, first.partition, first.source) == ("gsw-CH", "test", "conll")
    assert (first.text, first.annotated) == ("weck mi am föifi", "weck mi [datetime : am föifi]")
    assert first.intent.name == "alarm/set_alarm" and first.intent.scenario.name == "alarm"
    assert first.provenance["row"]["text-en"] == "wake me up at five am"
    assert run(path, create_missing=True).rows_present == 2  # idempotent


def test_dialect_tag_from_a_file_name_is_never_guessed(tmp_path):
    f.locale("de-DE")
    path = tmp_path / "de-ba.test.conll"  # Bavarian; as BCP 47 "de-BA" would be German in Bosnia
    path.write_text(GSW, encoding="utf-8")
    batch = run(path, create_missing=True)
    assert (batch.rows_accepted, batch.rows_rejected) == (0, 2)
    reject = batch.rejects.first()
    assert reject.field == "locale" and "'de-ba' (from the file name) is not registered" in reject.reason
    assert not Utterance.objects.exists()


def test_explicit_locale_stores_a_dialect_file_under_it(tmp_path):
    bavarian = f.locale("bar-DE")
    path = tmp_path / "de-ba.test.conll"
    path.write_text(GSW, encoding="utf-8")
    batch = run(path, create_missing=True, locale="bar-DE")
    assert batch.rows_accepted == 2
    assert set(Utterance.objects.values_list("locale", flat=True)) == {bavarian.pk}


def test_bad_blocks_are_rejected_with_line_and_reason(tmp_path):
    f.locale("en-US")
    text = ("# text: no intent here\n1\thello\tx\tO\n\n"
            "# intent: alarm/set_alarm\n1\twake\talarm/set_alarm\tX-time\n\n"
            "# intent: alarm/set_alarm\nwake\tup\tO\n\n"
            "# intent: alarm/set_alarm\n1\twake\talarm/set_alarm\tO\n\n"
            "# text: wake me.\n# intent: alarm/set_alarm\n1\twake\talarm/set_alarm\tO\n2\tme\talarm/set_alarm\tO\n"
            "3\t.\talarm/set_alarm\tO\n\n"
            "# text: wake him\n# intent: alarm/set_alarm\n1\twake\talarm/set_alarm\tO\n2\tme\talarm/set_alarm\tO\n\n")
    path = tmp_path / "en-US.train.bio"
    path.write_text(text, encoding="utf-8")
    batch = run(path, create_missing=True)
    rejects = {(r.line, r.field): r.reason for r in batch.rejects.all()}
    assert rejects[(1, "intent")] == "no '# intent = …' (or '# intent: …') comment"
    assert "expected O, B-<type> or I-<type>" in rejects[(4, "label")]
    assert "got 3 column(s)" in rejects[(8, "(line)")]
    assert len(rejects) == 3
    # Spacing may differ between the comment and the tokens ("me." / "me ."); other words are a
    # warning against the row, whose text is the tokens.
    assert (batch.rows_accepted, batch.rows_warned) == (3, 1)
    assert set(Utterance.objects.values_list("text", "partition")) == {
        ("wake", "train"), ("wake me .", "train"), ("wake me", "train")}
    from parley.checks.selectors import results_for
    [warning] = results_for(target=Utterance.objects.get(text="wake me"))
    assert (warning.check_id, warning.position) == ("utterance.source_text_differs", 5)
    assert warning.message.startswith("the file's '# text' says 'him' where its tokens say 'me' (word 2)")
    assert not results_for(target=Utterance.objects.get(text="wake me .")).exists()


def test_plain_two_column_bio_and_japanese_characters(tmp_path):
    f.locale("ja-JP")
    path = tmp_path / "ja-JP.dev.bio"
    path.write_text("# intent: alarm_set\n# id: a1\n五\tB-time\n時\tI-time\nに\tO\n起こして\tO\n", encoding="utf-8")
    batch = run(path, create_missing=True)
    assert batch.rows_accepted == 1, list(batch.rejects.all())
    row = Utterance.objects.get()
    # stored in MASSIVE's published form: Japanese sets the slot off by a (notation) space
    assert (row.text, row.annotated, row.partition) == ("五時に起こして", "[time : 五時] に起こして", "dev")
    # Unchanged, the row goes back out as the file wrote it.
    assert "".join(conll_blocks(locale=locale_resolve("ja-JP"))) == path.read_text(encoding="utf-8")
    # Edited, it gets MASSIVE's tokens: ja split by character, as MASSIVE's loader splits it.
    Utterance.objects.filter(pk=row.pk).update(intent=f.intent("alarm_query", "alarm"))
    block = "".join(conll_blocks(locale=locale_resolve("ja-JP")))
    assert block.splitlines() == ["# intent: alarm_query", "# id: a1", "1\t五\talarm_query\tB-time",
                                  "2\t時\talarm_query\tI-time", "3\tに\talarm_query\tO", "4\t起\talarm_query\tO",
                                  "5\tこ\talarm_query\tO", "6\tし\talarm_query\tO", "7\tて\talarm_query\tO"]


def test_conll_round_trip_and_the_same_rows_as_massive_and_slurp(tmp_path):
    f.alias(f.locale("gsw-CH"), "gsw", source="conll")
    path = tmp_path / "gsw.test.conll"
    path.write_text(GSW, encoding="utf-8")
    run(path, create_missing=True)
    gsw = locale_resolve("gsw-CH")
    exported = "".join(conll_blocks(locale=gsw))
    again = list(conll.read_records(_write(tmp_path / "gsw.test.again.conll", exported),
                                    limits=conll_limits()))
    original = list(conll.read_records(path, limits=conll_limits()))
    assert [(r[2]["tokens"], r[2]["labels"], r[2]["comments"]["intent"], r[2]["comments"]["id"]) for r in again] == \
           [(r[2]["tokens"], r[2]["labels"], r[2]["comments"]["intent"], r[2]["comments"]["id"]) for r in original]
    assert [r["annot_utt"] for r in massive_rows(locale=gsw, source=None)] == [
        "weck mi [datetime : am föifi]", "wie isch s [weather/attribute : wätter] z [location : bärn]"]
    massive_row = next(massive_rows(locale=gsw, source=None))
    # MASSIVE 1.1's ten fields (its loaders read all of them), the provenance ones empty for a CoNLL row.
    assert list(massive_row) == ["id", "locale", "partition", "scenario", "intent", "utt", "annot_utt", "worker_id",
                                 "slot_method", "judgments"]
    assert (massive_row["worker_id"], massive_row["slot_method"], massive_row["judgments"]) == ("", [], [])
    assert next(slurp_rows(locale=gsw)) == {
        "slurp_id": "gsw.test.conll:17", "sentence": "weck mi am föifi", "sentence_annotation": "weck mi [datetime : am föifi]",
        "scenario": "alarm", "action": "set_alarm", "intent": "alarm/set_alarm"}


def test_export_command_writes_each_format(tmp_path):
    f.alias(f.locale("gsw-CH"), "gsw", source="conll")
    path = tmp_path / "gsw.test.conll"
    path.write_text(GSW, encoding="utf-8")
    call_command("nlu_import", "conll", str(path), "--create-missing")
    for fmt in ("conll", "slurp", "massive"):
        out = tmp_path / f"out.{fmt}"
        call_command("nlu_export", fmt, "--locale", "gsw", "--out", str(out), "--all-sources")
        assert "föifi" in out.read_text(encoding="utf-8")


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def conll_limits():
    from parley.interchange.services import archive_limits

    return archive_limits()


@pytest.mark.parametrize("index", ["²", "١", "9" * 5000], ids=["superscript-two", "arabic-indic-one", "5000-digits"])
def test_an_index_column_int_cannot_read_rejects_its_block_not_the_batch(tmp_path, index):
    """str.isdigit() is true for "²", "١" and a digit run longer than int() reads (4,300 digits):
    such a line is one rejected block with its line number; the other blocks are written."""
    f.locale("en-US")
    text = (f"# intent: alarm_set\n# id: bad\n{index}\twake\talarm_set\tO\n\n"
            "# intent: alarm_set\n# id: good\n1\twake\talarm_set\tO\n2\tme\talarm_set\tO\n")
    batch = run(_write(tmp_path / "en-US.train.conll", text), create_missing=True)
    assert (batch.status, batch.rows_accepted, batch.rows_rejected) == ("completed", 1, 1)
    reject = batch.rejects.get()
    assert (reject.line, reject.field) == (3, "(line)") and reject.reason.startswith("line 3")
    assert len(reject.reason) < 300
    assert list(Utterance.objects.values_list("text", flat=True)) == ["wake me"]
