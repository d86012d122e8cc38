"""The slot value lexicon: CSV/JSON files, all-or-nothing idempotent imports, API and commands."""
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

import factories as f
from parley.events.models import Event
from parley.nlu import lexicon_io
from parley.nlu.models import LexiconConcept, LexiconEntry
from parley.nlu.services import lexicon_entry_create, lexicon_entry_update, lexicon_import

pytestmark = pytest.mark.django_db

CSV = ("slot_type,concept,locale,value,synonyms\n"
       "currency_name,JPY,en-US,japanese yen,yen\n"
       "currency_name,JPY,ja-JP,日本円,\n"
       "currency_name,JPY,de-DE,Yen,\n"
       "currency_name,EUR,sl-SL,evro,evri|euro\n")


@pytest.fixture
def locales():
    sl = f.locale("sl-SI")
    f.alias(sl, "sl-SL")
    return {tag: f.locale(tag) for tag in ("en-US", "ja-JP", "de-DE")} | {"sl-SI": sl}


@pytest.fixture
def currency(locales):
    return f.catalogued("currency_name")


def entries():
    return sorted((e.concept.key, e.locale.tag, e.value, tuple(e.synonyms))
                  for e in LexiconEntry.objects.select_related("concept", "locale"))


def test_csv_import_creates_a_bilingual_lexicon_and_reimport_changes_nothing(currency):
    result = lexicon_import(rows=lexicon_io.read_csv(CSV), actor="test", create_concepts=True)
    assert (result.ok, result.created, result.concepts_created) == (True, 4, 2)
    # The MASSIVE alias sl-SL lands on the canonical sl-SI.
    assert entries() == [("EUR", "sl-SI", "evro", ("evri", "euro")), ("JPY", "de-DE", "Yen", ()),
                         ("JPY", "en-US", "japanese yen", ("yen",)), ("JPY", "ja-JP", "日本円", ())]
    events = Event.objects.count()
    again = lexicon_import(rows=lexicon_io.read_csv(CSV), actor="test", create_concepts=True)
    assert (again.created, again.updated, again.unchanged, again.concepts_created) == (0, 0, 4, 0)
    assert Event.objects.count() == events


def test_one_bad_row_writes_nothing_and_every_reject_is_reported(currency):
    f.catalogued("color_type")
    bad = CSV + ("currency_name,JPY,xx-QQ,yen,\n"       # row 6: unknown locale
                 "date,today,en-US,today,\n"            # row 7: unknown slot type
                 "currency_name,bad key,en-US,x,\n"     # row 8: not a slug
                 "currency_name,JPY,en-US,Japanese  Yen!,\n"  # row 9: same normalized value as row 2
                 "currency_name,JPY,en-US,,\n"          # row 10: empty value
                 "a,b\n")                               # row 11: wrong cell count
    result = lexicon_import(rows=lexicon_io.read_csv(bad), actor="test", create_concepts=True)
    assert not result.ok
    assert [(r.row, r.field) for r in result.rejects] == [
        (6, "locale"), (7, "slot_type"), (8, "concept"), (9, "value"), (10, "value"), (11, "(row)")]
    assert "repeats row 2" in result.rejects[3].reason
    assert LexiconEntry.objects.count() == 0 and LexiconConcept.objects.count() == 0


def test_open_slot_types_and_unknown_concepts_are_refused_without_concept_rights(currency):
    f.intent("weather_query", "weather", slots=["place_name"])
    rows = lexicon_io.read_csv("slot_type,concept,locale,value\nplace_name,paris,en-US,paris\n"
                               "currency_name,JPY,en-US,yen\n")
    result = lexicon_import(rows=rows, actor="test", create_concepts=False)
    assert [(r.row, r.field) for r in result.rejects] == [(2, "slot_type"), (3, "concept")]
    assert "open slot type" in result.rejects[0].reason


def test_scoped_import_treats_unknown_and_foreign_locales_alike(currency, locales):
    f.concept("currency_name", "JPY")
    rows = lexicon_io.read_csv("slot_type,concept,locale,value\ncurrency_name,JPY,ja-JP,円\n"
                               "currency_name,JPY,xx-QQ,y\ncurrency_name,JPY,de-DE,Yen\n")
    result = lexicon_import(rows=rows, actor="test", locale_ids={locales["de-DE"].pk})
    assert [(r.row, r.reason) for r in result.rejects] == [(2, "'ja-JP' is not one of your locales"),
                                                          (3, "'xx-QQ' is not one of your locales")]


def test_changed_synonyms_update_in_place(currency):
    lexicon_import(rows=lexicon_io.read_csv(CSV), actor="test", create_concepts=True)
    changed = CSV.replace("japanese yen,yen", "Japanese yen,yen|JPY")
    result = lexicon_import(rows=lexicon_io.read_csv(changed), actor="test")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    assert LexiconEntry.objects.get(locale__tag="en-US").synonyms == ["yen", "JPY"]


def test_json_and_csv_round_trip_through_export(currency):
    lexicon_import(rows=lexicon_io.read_csv(CSV), actor="test", create_concepts=True)
    from parley.nlu.selectors import lexicon_rows

    as_json = "".join(lexicon_io.write_json(lexicon_rows()))
    as_csv = "".join(lexicon_io.write_csv(lexicon_rows()))
    assert json.loads(as_json)[0] == {"slot_type": "currency_name", "concept": "EUR", "locale": "sl-SI",
                                      "value": "evro", "synonyms": ["evri", "euro"]}
    assert as_csv.splitlines()[1] == "currency_name,EUR,sl-SI,evro,evri|euro"
    for text, reader in ((as_json, lexicon_io.read_json), (as_csv, lexicon_io.read_csv)):
        result = lexicon_import(rows=reader(text), actor="test")
        assert (result.ok, result.created, result.updated, result.unchanged) == (True, 0, 0, 4)


def test_json_reader_names_the_row_and_field():
    rows = lexicon_io.read_json('[{"slot_type": "currency_name", "concept": "JPY", "locale": "en-US", '
                                '"value": "yen", "synonyms": "yen"}, 3, {"colour": 1}]')
    assert [(r.row, r.field) for r in rows] == [(1, "synonyms"), (2, "(row)"), (3, "colour")]
    assert lexicon_io.read_json("{oops")[0].field == "(file)"
    assert lexicon_io.read_csv("value,concept\n")[0].field == "(header)"


def test_entry_services_refuse_duplicates_and_normalize_synonyms(currency, locales):
    jpy = f.concept("currency_name", "JPY")
    entry = lexicon_entry_create(concept=jpy, locale=locales["en-US"], value="japanese yen",
                                 synonyms=["yen", "Yen", "Japanese Yen", " "], actor="test")
    assert entry.synonyms == ["yen"]  # repeats of each other and of the value dropped
    with pytest.raises(Exception) as exc:
        lexicon_entry_create(concept=jpy, locale=locales["en-US"], value="JAPANESE YEN", actor="test")
    assert "already has" in str(exc.value)
    with pytest.raises(Exception, match="CSV separator"):
        lexicon_entry_update(entry=entry, synonyms=["a|b"], actor="test")
    assert Event.objects.filter(verb="lexicon_entry.created", locale_tag="en-US").count() == 1


def test_commands_import_and_export(currency, tmp_path):
    path = tmp_path / "lexicon.csv"
    path.write_text(CSV, encoding="utf-8")
    call_command("lexicon_import", str(path))
    call_command("lexicon_import", str(path))  # idempotent
    assert LexiconEntry.objects.count() == 4
    out = tmp_path / "out.json"
    call_command("lexicon_export", "--out", str(out), "--locale", "sl-SL", "--slot-type", "currency_name")
    assert [r["value"] for r in json.loads(out.read_text(encoding="utf-8"))] == ["evro"]
    bad = tmp_path / "bad.csv"
    bad.write_text("slot_type,concept,locale,value\ncurrency_name,JPY,xx-QQ,y\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad.csv: row 2: locale: 'xx-QQ' is not a registered locale"):
        call_command("lexicon_import", str(bad))


def test_api_import_reports_all_rejects_and_export_streams_scoped(currency, locales):
    f.concept("currency_name", "JPY"), f.concept("currency_name", "EUR")
    linguist = f.member("linguist", locales["de-DE"])
    client = APIClient()
    client.force_authenticate(linguist)
    upload = SimpleUploadedFile("lexicon.csv", CSV.encode())
    response = client.post("/api/v1/lexicon/import/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "rejected"
    assert [(r["row"], r["field"]) for r in body["rejects"]] == [(2, "locale"), (3, "locale"), (5, "locale")]
    assert LexiconEntry.objects.count() == 0
    only_de = "slot_type,concept,locale,value\ncurrency_name,JPY,de-DE,Yen\n"
    response = client.post("/api/v1/lexicon/import/", {"file": SimpleUploadedFile("x.csv", only_de.encode())},
                           format="multipart")
    assert response.status_code == 200 and response.json()["created"] == 1
    f.lexicon_entry(LexiconConcept.objects.get(key="JPY"), locales["ja-JP"], "日本円")
    exported = b"".join(client.get("/api/v1/lexicon/export/?output=json").streaming_content).decode()
    assert [r["locale"] for r in json.loads(exported)] == ["de-DE"]
    assert client.get("/api/v1/lexicon/export/?locale=ja-JP").status_code == 404


def test_api_entry_crud_records_events(currency, locales):
    f.concept("currency_name", "JPY")
    client = APIClient()
    client.force_authenticate(f.member("linguist", locales["de-DE"]))
    created = client.post("/api/v1/lexicon-entries/", {"slot_type": "currency_name", "concept": "JPY",
                                                       "locale": "de-DE", "value": "Yen", "synonyms": ["JPY"]},
                          format="json")
    assert created.status_code == 201, created.content
    entry_id = created.json()["id"]
    duplicate = client.post("/api/v1/lexicon-entries/", {"slot_type": "currency_name", "concept": "JPY",
                                                         "locale": "de-DE", "value": "yen"}, format="json")
    assert duplicate.status_code == 400 and "value" in duplicate.json()["error"]["fields"]
    patched = client.patch(f"/api/v1/lexicon-entries/{entry_id}/", {"synonyms": ["JPY", "Japanischer Yen"]},
                           format="json")
    assert patched.json()["synonyms"] == ["JPY", "Japanischer Yen"]
    moved = client.patch(f"/api/v1/lexicon-entries/{entry_id}/", {"locale": "ja-JP"}, format="json")
    assert moved.status_code == 400
    assert client.get("/api/v1/lexicon-entries/?q=japanischer").json()["results"][0]["id"] == entry_id
    assert client.delete(f"/api/v1/lexicon-entries/{entry_id}/").status_code == 204
    verbs = list(Event.objects.filter(verb__startswith="lexicon_entry.").values_list("verb", flat=True))
    assert sorted(verbs) == ["lexicon_entry.created", "lexicon_entry.deleted", "lexicon_entry.updated"]


def test_admin_concept_search_matches_values_only_in_the_users_locales(currency):
    from django.test import Client

    lexicon_import(rows=lexicon_io.read_csv(CSV), actor="test", create_concepts=True)
    linguist = f.member("linguist", f.locale("de-DE"), username="de-linguist")
    client = Client()
    client.force_login(linguist)

    def found(term):
        page = client.get("/admin/nlu/lexiconconcept/", {"q": term}).content.decode()
        return {key for key in ("JPY", "EUR") if f">{key}<" in page}

    assert found("yen") == {"JPY"}  # German "Yen"
    assert found("evro") == set()  # a Slovenian value: not this linguist's locale
    assert found("EUR") == {"EUR"}  # the key itself is global


def test_csv_export_quotes_formula_values_and_reads_them_back(currency):
    """Issue 15, finding 12: a value like "=1+1" is no formula in a spreadsheet, and re-imports unchanged."""
    rows = lexicon_io.read_csv("slot_type,concept,locale,value,synonyms\n"
                               "currency_name,JPY,en-US,=1+1,-yen|+円\n")
    lexicon_import(rows=rows, actor="test", create_concepts=True)
    from parley.nlu.selectors import lexicon_rows

    as_csv = "".join(lexicon_io.write_csv(lexicon_rows()))
    assert as_csv.splitlines()[1] == "currency_name,JPY,en-US,'=1+1,'-yen|+円"
    result = lexicon_import(rows=lexicon_io.read_csv(as_csv), actor="test")
    assert (result.ok, result.unchanged) == (True, 1)
    assert entries() == [("JPY", "en-US", "=1+1", ("-yen", "+円"))]
