"""xSID as published (mainlp/xsid data/xSID-0.7, and the 0.5/0.6 files of languages 0.7's copy lacks):
both comment styles in any order, text-en as the English parallel, `# slots:` spans checked
against the token lines, labels with '/' stored as given (renamed only by an explicit label map),
and an export that gives each file back line for line.

The files under xsid/ are excerpts of the published files (see docs/formats.md, "xSID").
"""
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

import factories as f
from parley.interchange.exports import conll_blocks
from parley.interchange.models import ImportBatch
from parley.checks.selectors import results_for
from parley.interchange.services import import_batch_create, import_batch_run
from parley.locales.selectors import locale_resolve
from parley.locales.services import locale_packs_load
from parley.nlu.models import Utterance
from parley.nlu.services import utterance_annotation_update

pytestmark = pytest.mark.django_db

PUBLISHED = Path(__file__).parent / "xsid"
# file: (locale to register, --locale or "" for the locale the file name gives, blocks in the file)
FILES = {
    "en.test.conll": ("en", "", 7),
    "de-ba.test.conll": ("bar-DE", "bar-DE", 7),
    "gsw.test.conll": ("gsw-CH", "gsw-CH", 2),
    "nap.test.conll": ("nap-IT", "nap-IT", 1),
    "lt.test.conll": ("lt", "", 4),
    "no.test.conll": ("no", "", 2),
    "zh.test.conll": ("zh", "", 2),
    "ja.test.conll": ("ja", "", 1),
    "ar.test.conll": ("ar", "", 2),
    "id.test.conll": ("id", "", 1),  # the file's end: its last block, then a blank line
    # the file's end: id 500, whose '# text' says "gleichn" over the token "glaichn" (a warning)
    "de-muc.test.conll": ("bar-DE", "bar-DE", 1),
}


def run(path, **options):
    batch = import_batch_create(format="conll", path=str(path), actor="test", **options)
    return import_batch_run(batch=batch, actor="test")


def exported(tag: str) -> str:
    return "".join(conll_blocks(locale=locale_resolve(tag), source="conll"))


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_published_layout_imports_without_rejects_and_exports_line_for_line(name):
    tag, explicit, blocks = FILES[name]
    f.locale(tag)
    batch = run(PUBLISHED / name, create_missing=True, locale=explicit)
    assert (batch.status, batch.rows_rejected, batch.rows_accepted) == ("completed", 0, blocks), \
        [str(r) for r in batch.rejects.all()]
    original = (PUBLISHED / name).read_text(encoding="utf-8")
    assert exported(tag).splitlines() == original.splitlines()
    # byte for byte: after the last block a blank line where the file has one (id, ar, de, gsw, nap,
    # de-muc, lt), none where it has none (de-ba)
    assert exported(tag) == original
    assert run(PUBLISHED / name, create_missing=True, locale=explicit).rows_present == blocks  # idempotent


def test_a_text_comment_with_other_words_than_its_tokens_is_imported_with_a_warning_naming_them():
    f.locale("bar-DE")
    batch = run(PUBLISHED / "de-muc.test.conll", create_missing=True, locale="bar-DE")
    assert (batch.rows_accepted, batch.rows_rejected, batch.rows_warned) == (1, 0, 1)
    row = Utterance.objects.get(external_id="de-muc.test.conll:500")
    # The utterance is the tokens; the comment is kept as the file wrote it.
    assert row.text == "buach a party an eanam campus in da glaichn gegnd fia churrascaria"
    assert row.annotated == ("buach a party an [location : eanam campus in da glaichn gegnd] fia "
                             "[restaurant_type : churrascaria]")
    assert row.provenance["row"]["text"] == "buach a party an eanam campus in da gleichn gegnd fia churrascaria"
    [warning] = results_for(target=row)
    assert (warning.check_id, warning.severity, warning.field, warning.position) == (
        "utterance.source_text_differs", "warning", "text", 36)
    assert warning.message == ("the file's '# text' says 'gleichn' where its tokens say 'glaichn' (word 9); "
                               "the text is taken from the tokens, the comment kept as written")
    assert exported("bar-DE") == (PUBLISHED / "de-muc.test.conll").read_text(encoding="utf-8")

    # An edited row is written with its own text as '# text' (the file's comment is not the row's
    # any more), so the warning about the comment goes and no edit brings it back.
    edited = utterance_annotation_update(utterance=row, actor="test", annotated=(
        "buach a party an [location : eanam campus] in da glaichn gegnd fia [restaurant_type : churrascaria]"))
    assert not results_for(target=edited).exists()
    assert "# text = buach a party an eanam campus in da glaichn gegnd fia churrascaria" in exported("bar-DE")


def test_a_text_comment_with_other_words_still_has_its_slot_spans_checked(tmp_path):
    f.locale("en")
    # "sweatr" is shorter than the token "sweater": the spans are checked against the comment alone.
    typo = SWEATER.replace("# text = Do I need a sweater?", "# text = Do I need a sweatr?")
    other_first_word = SWEATER.replace("# text = Do", "# text = So")
    batch = run(write(tmp_path, "en.test.conll", typo.format(slots="12:18:weather/attribute") + "\n"
                      + other_first_word.format(slots="12:19:weather/attribute")), create_missing=True)
    assert (batch.rows_accepted, batch.rows_rejected, batch.rows_warned) == (2, 0, 2), \
        [str(r) for r in batch.rejects.all()]
    bad = typo.format(slots="11:18:weather/attribute")
    batch = run(write(tmp_path, "en.valid.conll", bad), create_missing=True)
    assert [r.reason for r in batch.rejects.all()] == [
        "line 3: slot span '11:18:weather/attribute' (' sweatr') starts or ends on a space"]
    [first, second] = [results_for(target=u).get() for u in Utterance.objects.order_by("source_order")]
    assert (first.message.split(";")[0], first.position) == (
        "the file's '# text' says 'sweatr?' where its tokens say 'sweater' (word 5)", 12)
    assert second.message.startswith("the file's '# text' says 'So' where its tokens say 'Do' (word 1)")


def test_labels_with_slashes_are_stored_as_given_and_an_intent_without_scenario_is_its_own():
    f.locale("no")
    run(PUBLISHED / "no.test.conll", create_missing=True)
    rows = {u.external_id: u for u in Utterance.objects.select_related("intent__scenario")}
    weather = rows["no.test.conll:100/9"]
    assert (weather.intent.name, weather.intent.scenario.name) == ("weather/find", "weather")
    assert weather.annotated == "Ka blir [weather/attribute : temperaturen] [datetime : i dag] ?"
    music = rows["no.test.conll:331/8"]
    assert (music.intent.name, music.intent.scenario.name) == ("PlayMusic", "PlayMusic")
    assert music.provenance["row"]["dialect"] == "V"


def test_comment_styles_in_any_order_and_the_text_compared_by_spacing_only():
    f.locale("gsw-CH")
    run(PUBLISHED / "gsw.test.conll", create_missing=True, locale="gsw-CH")
    row = Utterance.objects.get(external_id="gsw.test.conll:4")
    # "# text = Lösch dErinnerig" over the tokens "Lösch d Erinnerig": only spacing differs.
    assert (row.text, row.annotated) == ("Lösch d Erinnerig", "Lösch [reference : d] Erinnerig")
    assert row.provenance["row"] == {"id": "4", "text-en": "Cancel my reminder", "text-de": "lösche meine Erinnerung",
                                     "text": "Lösch dErinnerig", "intent": "reminder/cancel_reminder"}


def test_text_en_puts_a_translation_in_the_parallel_group_of_its_english_row(tmp_path):
    for tag in ("en", "bar-DE", "lt", "ar"):
        f.locale(tag)
    run(PUBLISHED / "en.test.conll", create_missing=True)
    run(PUBLISHED / "de-ba.test.conll", create_missing=True, locale="bar-DE")
    run(PUBLISHED / "lt.test.conll", create_missing=True)
    run(PUBLISHED / "ar.test.conll", create_missing=True)

    def key(tag, text):
        return Utterance.objects.get(locale__tag=tag, text=text, partition="test").parallel_key

    sweater = key("en", "Do I need a sweater ?")
    assert sweater.startswith("en-text:test:")
    # lt's id 290 is not the English row's number; its text-en is the English row's text.
    assert key("bar-DE", "Brauch i an Pulli ?") == key("lt", "Ar man reikia megztinio ?") == \
        key("ar", "هل أحتاج إلى سترة ؟") == sweater
    assert key("bar-DE", "Lösch mei Erinnerung") == key("en", "Cancel my reminder") != sweater
    row = Utterance.objects.get(locale__tag="bar-DE", text="Brauch i an Pulli ?")
    assert row.provenance["row"]["text-en"] == "Do I need a sweater?"
    # The same English sentence in the valid file is another group (groups never span partitions).
    valid = (PUBLISHED / "en.test.conll").read_text(encoding="utf-8")
    run(write(tmp_path, "en.valid.conll", valid), create_missing=True)
    assert key("en", "Do I need a sweater ?") == sweater
    assert Utterance.objects.get(locale__tag="en", partition="dev", text="Do I need a sweater ?") \
        .parallel_key.startswith("en-text:dev:")


def test_a_repeated_id_is_a_row_of_its_own():
    f.locale("lt")
    batch = run(PUBLISHED / "lt.test.conll", create_missing=True)
    assert batch.rows_rejected == 0
    assert sorted(Utterance.objects.values_list("external_id", flat=True)) == [
        "lt.test.conll:190", "lt.test.conll:190#2", "lt.test.conll:290", "lt.test.conll:89"]


SWEATER = ("# text = Do I need a sweater?\n# intent = weather/find\n# slots: {slots}\n"
           "1\tDo\tweather/find\tO\n2\tI\tweather/find\tO\n3\tneed\tweather/find\tO\n4\ta\tweather/find\tO\n"
           "5\tsweater\tweather/find\tB-weather/attribute\n6\t?\tweather/find\tO\n")


@pytest.mark.parametrize("slots, reason", [
    ("11:19:weather/attribute", "line 13: slot span '11:19:weather/attribute' (' sweater') starts or ends on a space"),
    ("12:18:weather/attribute", "line 13: slot span '12:18:weather/attribute' ('sweate') cuts through a word the "
                                "token lines keep whole"),
    ("13:19:weather/attribute", "line 13: slot span '13:19:weather/attribute' ('weater') cuts through a word the "
                                "token lines keep whole"),
    ("12:40:weather/attribute", "line 13: slot span '12:40:weather/attribute' is outside the text (20 characters)"),
    ("12-19:weather/attribute", "line 13: slot span '12-19:weather/attribute' is not start:end:label"),
    ("19:12:weather/attribute", "line 13: slot span '19:12:weather/attribute' is outside the text (20 characters)"),
])
def test_slot_spans_that_disagree_with_the_token_lines_are_rejected_naming_row_and_span(tmp_path, slots, reason):
    f.locale("en")
    good = SWEATER.format(slots="12:19:weather/attribute")
    path = write(tmp_path, "en.test.conll", good + "\n" + SWEATER.format(slots=slots))
    batch = run(path, create_missing=True)
    assert batch.rows_accepted == 1
    reject = batch.rejects.get()
    assert (reject.file, reject.line, reject.field, reject.reason) == ("en.test.conll", 11, "slots", reason)


def test_malformed_comments_and_token_lines_are_rejected_with_file_line_and_position(tmp_path):
    f.locale("en")
    blocks = [
        "# text = hi\n# just a remark\n# intent = x/y\n1\thi\tx/y\tO",
        "# text = hi\n# intent = x/y\n# text: hi again\n1\thi\tx/y\tO",
        "# text = hi there\n# intent = x/y\n1\thi\tx/y\tO\n3\tthere\tx/y\tO",
        "# text = hi\n# intent = x/y\n1\thi\tx/z\tO",
        "# text = hi\n# intent = x/y\n1\thi\x00\tx/y\tO",
        "# text = hi\n# intent = x/y\n1\thi\tx/y\tB-",
        "# text = hi\n1\thi\tx/y\tO",
        "# text = fine\n# intent = x/y\n1\tfine\tx/y\tO",
    ]
    batch = run(write(tmp_path, "en.test.conll", "\n\n".join(blocks) + "\n"), create_missing=True)
    assert batch.status == "completed" and batch.rows_accepted == 1
    rejects = [(r.file, r.line, r.field, r.reason) for r in batch.rejects.order_by("line")]
    assert rejects == [
        ("en.test.conll", 2, "comment", "line 2: malformed comment (expected '# key = value' or '# key: value')"),
        ("en.test.conll", 8, "comment", "line 8: '# text' given twice in one block (first at line 6)"),
        ("en.test.conll", 14, "(line)", "line 14, column 1: token index 3 where 2 was expected"),
        ("en.test.conll", 16, "intent", "line 18, column 3: intent 'x/z' differs from the '# intent' comment 'x/y'"),
        ("en.test.conll", 22, "(line)", "contains a NUL character at column 5"),
        ("en.test.conll", 20 + 4, "label", "line 26: token 0 has tag 'B-'; expected O, B-<type> or I-<type>"),
        ("en.test.conll", 28, "intent", "no '# intent = …' (or '# intent: …') comment"),
    ]


def test_an_edited_row_keeps_its_comments_and_gets_current_tokens_and_spans():
    f.locale("en")
    run(PUBLISHED / "en.test.conll", create_missing=True)
    row = Utterance.objects.get(text="Do I need a sweater ?")
    Utterance.objects.filter(pk=row.pk).update(annotated="Do I need a [clothing : sweater] ?")
    block = exported("en").split("\n\n")[1]
    assert block.splitlines() == [
        "# text = Do I need a sweater ?", "# intent = weather/find", "# slots: 12:19:clothing",
        "1\tDo\tweather/find\tO", "2\tI\tweather/find\tO", "3\tneed\tweather/find\tO", "4\ta\tweather/find\tO",
        "5\tsweater\tweather/find\tB-clothing", "6\t?\tweather/find\tO"]
    others = exported("en").split("\n\n")
    assert others[0] == (PUBLISHED / "en.test.conll").read_text(encoding="utf-8").split("\n\n")[0]


LABEL_MAP = {"intents": {"weather/find": "weather_query", "reminder/set_reminder": "calendar_set"},
             "slot_types": {"weather/attribute": "weather_descriptor", "datetime": "date"}}


def test_a_label_map_renames_what_it_lists_and_the_export_still_gives_the_file_back(tmp_path):
    f.locale("bar-DE")
    map_file = write(tmp_path, "xsid-to-massive.json", json.dumps(LABEL_MAP))
    call_command("nlu_import", "conll", str(PUBLISHED / "de-ba.test.conll"), "--locale", "bar-DE",
                 "--create-missing", "--label-map", str(map_file))
    sweater = Utterance.objects.select_related("intent__scenario").get(text="Brauch i an Pulli ?")
    assert (sweater.intent.name, sweater.intent.scenario.name) == ("weather_query", "weather")
    assert sweater.annotated == "Brauch i an [weather_descriptor : Pulli] ?"
    todo = Utterance.objects.get(external_id="de-ba.test.conll:3")
    assert todo.intent.name == "calendar_set"
    assert todo.annotated == "Stei ma a Erinnerung füa [date : heid um viere nammidog] ei"
    unlisted = Utterance.objects.get(external_id="de-ba.test.conll:1")  # not in the map: stored as written
    assert (unlisted.intent.name, unlisted.annotated) == ("reminder/show_reminders",
                                                          "Zoag ma [reference : olle] Erinnerungen")
    assert ImportBatch.objects.get().options["label_map"] == LABEL_MAP  # the renaming is on record
    assert exported("bar-DE") == (PUBLISHED / "de-ba.test.conll").read_text(encoding="utf-8")


@pytest.mark.parametrize("content, message", [
    (b"{not json", "not valid JSON at line 1, column 2"),
    (json.dumps({"intent": {}}).encode(), "unknown key(s) 'intent'"),
    (json.dumps({"slot_types": {"datetime": "date time"}}).encode(), "cannot hold whitespace or brackets"),
    (json.dumps({"intents": ["x"]}).encode(), "'intents' must be an object"),
    (json.dumps({"intents": {"a": ""}}).encode(), "the new name must be a non-empty string"),
])
def test_a_bad_label_map_is_refused_before_anything_is_read(tmp_path, content, message):
    f.locale("en")
    map_file = tmp_path / "map.json"
    map_file.write_bytes(content)
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("nlu_import", "conll", str(PUBLISHED / "en.test.conll"), "--label-map", str(map_file))
    assert not Utterance.objects.exists()


def test_the_import_api_takes_a_label_map_for_conll_only(django_capture_on_commit_callbacks):
    f.locale("bar-DE")
    admin = f.member("platform_admin", None, username="root")
    client = APIClient()
    client.force_authenticate(admin)
    data = (PUBLISHED / "de-ba.test.conll").read_bytes()

    def post(fmt, label_map):
        return client.post("/api/v1/imports/", {
            "file": SimpleUploadedFile("de-ba.test.conll" if fmt == "conll" else "x.jsonl", data), "format": fmt,
            "locale": "bar-DE", "create_missing": "true", "label_map": SimpleUploadedFile("map.json", label_map)},
            format="multipart")

    refused = post("massive", json.dumps(LABEL_MAP).encode())
    assert refused.status_code == 400 and "CoNLL" in refused.json()["error"]["fields"]["label_map"][0]
    bad = post("conll", b"[1, 2]")
    assert bad.status_code == 400 and "JSON object" in bad.json()["error"]["fields"]["label_map"][0]
    with django_capture_on_commit_callbacks(execute=True):
        accepted = post("conll", json.dumps(LABEL_MAP).encode())
    assert accepted.status_code == 202, accepted.content
    assert accepted.json()["options"]["label_map"] == LABEL_MAP
    assert Utterance.objects.get(text="Brauch i an Pulli ?").intent.name == "weather_query"


def test_the_admin_upload_takes_a_label_map_for_conll_only(django_capture_on_commit_callbacks):
    from django.test import Client

    f.locale("bar-DE")
    client = Client()
    client.force_login(f.member("platform_admin", None, username="root"))
    data = (PUBLISHED / "de-ba.test.conll").read_bytes()

    def post(fmt, label_map):
        return client.post("/admin/interchange/importbatch/add/", {
            "format": fmt, "upload": SimpleUploadedFile("de-ba.test.conll" if fmt == "conll" else "x.jsonl", data),
            "locale": "bar-DE", "create_missing": "on", "label_map": SimpleUploadedFile("map.json", label_map)})

    refused = post("massive", json.dumps(LABEL_MAP).encode())
    assert refused.status_code == 200 and "a label map applies to CoNLL imports only" in refused.content.decode()
    bad = post("conll", b'{"slots": {}}')
    assert bad.status_code == 200 and "unknown key(s) &#x27;slots&#x27;" in bad.content.decode()
    assert not ImportBatch.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert post("conll", json.dumps(LABEL_MAP).encode()).status_code == 302
    assert ImportBatch.objects.get().options["label_map"] == LABEL_MAP
    assert Utterance.objects.get(text="Brauch i an Pulli ?").intent.name == "weather_query"


@pytest.fixture
def massive_locales():
    """The 52 shipped locale packs, as `locales_load` registers them on a fresh install."""
    locale_packs_load(directory=settings.PARLEY_LOCALE_PACKS_DIR, actor="test")


@pytest.mark.parametrize("name, tag", [("ar.test.conll", "ar-SA"), ("no.test.conll", "nb-NO"),
                                       ("en.test.conll", "en-US")])
def test_a_bare_language_file_name_is_the_one_registered_locale_of_that_language(massive_locales, name, tag):
    batch = run(PUBLISHED / name, create_missing=True)
    assert (batch.rows_rejected, batch.rows_accepted) == (0, FILES[name][2]), [str(r) for r in batch.rejects.all()]
    assert set(Utterance.objects.values_list("locale__tag", flat=True)) == {tag}
    assert exported(tag) == (PUBLISHED / name).read_text(encoding="utf-8")


def test_a_bare_language_with_several_or_no_registered_locales_is_refused_saying_which(massive_locales):
    several = run(PUBLISHED / "zh.test.conll", create_missing=True)
    assert (several.rows_accepted, several.rows_rejected) == (0, 2)
    assert {(r.field, r.reason) for r in several.rejects.all()} == {(
        "locale", "locale 'zh' (from the file name) is not registered, and 2 registered locales are of its "
                  "language (zh-Hans-CN, zh-Hant-TW); pass --locale with the one this file is")}
    none = run(PUBLISHED / "lt.test.conll", create_missing=True)
    assert (none.rows_accepted, none.rows_rejected) == (0, 4)
    assert {(r.field, r.reason) for r in none.rejects.all()} == {(
        "locale", "locale 'lt' (from the file name) is not registered, and no registered locale is of its "
                  "language (Lithuanian); pass --locale TAG --create-missing to register the locale this file is")}
    assert not Utterance.objects.exists()
    assert run(PUBLISHED / "lt.test.conll", create_missing=True, locale="lt-LT").rows_accepted == 4


def test_a_file_name_with_a_subtag_is_never_resolved_by_its_language(massive_locales):
    # de-DE is the one German locale, but de-ba is Bavarian (as BCP 47, German in Bosnia).
    batch = run(PUBLISHED / "de-ba.test.conll", create_missing=True)
    assert (batch.rows_accepted, batch.rows_rejected) == (0, 7)
    assert {r.reason for r in batch.rejects.all()} == {
        "locale 'de-ba' (from the file name) is not registered; pass --locale, or register 'de-ba' as an alias "
        "of the locale it means (source conll)"}
