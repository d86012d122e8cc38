"""Release API and downloads: list, manifest, diff, MASSIVE/tar.gz/Rasa/Alexa, scoping by locale."""
import io
import json
import tarfile

import jsonschema
import pytest
import yaml
from rest_framework.test import APIClient

import factories as f
from parley.datasets.build import release_build
from parley.datasets.services import release_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def published():
    de, ja = f.locale("de-DE"), f.locale("ja-JP")
    alarm = f.intent("alarm_set", "alarm", slots=["time", "date"])
    f.intent("weather_query", "weather", slots=["place_name"])
    f.utterance(de, alarm, "weck mich um [time : fünf uhr]", status="promoted", partition="train", source="feedback")
    f.utterance(de, alarm, "wecker [date : morgen] um [time : sechs]", status="promoted", partition="train",
                source="feedback")
    f.utterance(de, alarm, "wecker um [time : sieben]", status="promoted", partition="test", source="collected")
    f.utterance(ja, alarm, "[time : 五時] に 起こして", status="promoted", partition="train", source="massive",
                external_id="9")
    f.utterance(de, alarm, "wecker um 7 uhr [date : morgen]", status="promoted", partition="train",
                source="feedback")  # digits outside a slot: no Alexa sample
    concept = f.concept("time", "five")
    f.lexicon_entry(concept, de, "fünf uhr", synonyms=["fünf", "17 uhr"])
    release = release_build(release=release_create(name="core", actor="test"), actor="test")
    assert release.status == "published"
    return {"de": de, "ja": ja, "release": release}


def client_for(user=None, token=None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    elif user:
        client.force_authenticate(user)
    return client


def pipeline_token(locales=(), scopes=("datasets:read",)):
    pipe = f.member("pipeline", None)
    return f.token(pipe, scopes=scopes, locales=list(locales))[1]


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_list_and_manifest_are_narrowed_to_the_tokens_locales(published):
    client = client_for(token=pipeline_token(locales=[published["de"]]))
    listing = client.get("/api/v1/releases/").json()["results"]
    assert [(r["name"], r["version"], r["locales"]) for r in listing] == [("core", 1, ["de-DE"])]
    manifest = client.get(f"/api/v1/releases/{published['release'].pk}/manifest/").json()
    assert list(manifest["locales"]) == ["de-DE"]
    assert all(f["locale"] in (None, "de-DE") for f in manifest["files"])
    assert manifest["locales"]["de-DE"]["counts"] == {"test": {"alarm_set": 1}, "train": {"alarm_set": 3}}
    diff = client.get(f"/api/v1/releases/{published['release'].pk}/diff/").json()
    assert diff["locales"] == {"de-DE": {"added": 4, "removed": 0, "changed": 0, "retired": 0}}
    de_diff = json.loads(body(client.get(f"/api/v1/releases/{published['release'].pk}/diff/?locale=de-DE")))
    assert len(de_diff["added"]) == 4
    assert client.get(f"/api/v1/releases/{published['release'].pk}/diff/?locale=ja-JP").status_code == 404


def test_massive_download_of_a_locale_is_the_release_file(published):
    client = client_for(token=pipeline_token())
    response = client.get(f"/api/v1/releases/{published['release'].pk}/download/?locale=de-DE")
    assert response.status_code == 200
    rows = [json.loads(line) for line in body(response).decode().splitlines()]
    assert [r["partition"] for r in rows] == ["train", "train", "test", "train"]
    assert response["Content-Disposition"] == 'attachment; filename="core-v1-de-DE.jsonl"'


def test_out_of_scope_locale_answers_404(published):
    client = client_for(token=pipeline_token(locales=[published["de"]]))
    assert client.get(f"/api/v1/releases/{published['release'].pk}/download/?locale=ja-JP").status_code == 404


def test_whole_release_tar_gz_holds_only_the_readers_locales_in_massive_layout(published):
    client = client_for(token=pipeline_token(locales=[published["de"]]))
    response = client.get(f"/api/v1/releases/{published['release'].pk}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(body(response)), mode="r:gz") as archive:
        names = sorted(archive.getnames())
        manifest = json.load(archive.extractfile("manifest.json"))
        jsonl = archive.extractfile("1.1/data/de-DE.jsonl").read().decode()
    assert names == ["1.1/data/de-DE.jsonl", "diff/de-DE.json", "index/de-DE.tsv", "lexicon/de-DE.json",
                     "manifest.json", "templates/de-DE.json"]
    assert list(manifest["locales"]) == ["de-DE"]
    assert len(jsonl.splitlines()) == 4


def test_whole_release_for_a_platform_admin_has_every_file_with_matching_checksums(published):
    import hashlib
    admin = f.member("platform_admin", None)
    response = client_for(user=admin).get(f"/api/v1/releases/{published['release'].pk}/download/")
    with tarfile.open(fileobj=io.BytesIO(body(response)), mode="r:gz") as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
        for entry in manifest["files"]:
            data = archive.extractfile(entry["path"]).read()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert sorted(manifest["locales"]) == ["de-DE", "ja-JP"]


def test_rasa_export_parses_back_with_entities_and_synonyms(published):
    client = client_for(token=pipeline_token())
    response = client.get(f"/api/v1/releases/{published['release'].pk}/download/?locale=de-DE&output=rasa")
    data = yaml.safe_load(response.content.decode())
    assert data["version"] == "3.1"
    intents = {block["intent"]: block["examples"] for block in data["nlu"] if "intent" in block}
    assert intents["alarm_set"].splitlines() == ["- weck mich um [fünf uhr](time)",
                                                 "- wecker [morgen](date) um [sechs](time)",
                                                 "- wecker um 7 uhr [morgen](date)"]  # train rows only
    synonyms = {block["synonym"]: block["examples"].splitlines() for block in data["nlu"] if "synonym" in block}
    assert synonyms == {"fünf uhr": ["- fünf", "- 17 uhr"]}


NAME = {"type": "string", "pattern": "^[A-Za-z_]+$"}
ALEXA_SLOT = {"type": "object", "required": ["name", "type"],
              "properties": {"name": NAME, "type": {"type": "string", "pattern": "^[A-Za-z_.]+$"}}}
ALEXA_INTENT = {"type": "object", "required": ["name", "samples"],
                "properties": {"name": {"type": "string", "pattern": r"^(AMAZON\.)?[A-Za-z_]+$"},
                               "slots": {"type": "array", "items": ALEXA_SLOT},
                               "samples": {"type": "array", "items": {"type": "string"}, "uniqueItems": True}}}
ALEXA_VALUE = {"type": "object", "required": ["name"], "properties": {"name": {
    "type": "object", "required": ["value"],
    "properties": {"value": {"type": "string", "minLength": 1},
                   "synonyms": {"type": "array", "items": {"type": "string"}}}}}}
ALEXA_TYPE = {"type": "object", "required": ["name", "values"],
              "properties": {"name": NAME, "values": {"type": "array", "minItems": 1, "items": ALEXA_VALUE}}}
ALEXA_LANGUAGE_MODEL = {"type": "object", "required": ["invocationName", "intents", "types"],
                        "properties": {"invocationName": {"type": "string", "pattern": "^[a-z][a-z .']*$"},
                                       "intents": {"type": "array", "items": ALEXA_INTENT},
                                       "types": {"type": "array", "items": ALEXA_TYPE}}}
# The shape of an Alexa skill's interaction model file (the parts Parley writes).
ALEXA_SCHEMA = {"type": "object", "required": ["interactionModel"], "additionalProperties": False,
                "properties": {"interactionModel": {"type": "object", "required": ["languageModel"],
                                                    "properties": {"languageModel": ALEXA_LANGUAGE_MODEL}}}}


def test_alexa_interaction_model_has_the_schema_shape_and_slot_samples(published):
    client = client_for(token=pipeline_token())
    response = client.get(f"/api/v1/releases/{published['release'].pk}/download/?locale=de-DE&output=alexa")
    model = response.json()
    jsonschema.validate(model, ALEXA_SCHEMA)
    language = model["interactionModel"]["languageModel"]
    alarm = next(i for i in language["intents"] if i["name"] == "alarm_set")
    assert alarm["samples"] == ["weck mich um {time}", "wecker {date} um {time}"]
    assert {s["name"]: s["type"] for s in alarm["slots"]} == {"date": "LIST_OF_date", "time": "LIST_OF_time"}
    time_type = next(t for t in language["types"] if t["name"] == "LIST_OF_time")
    assert {"name": {"value": "fünf uhr", "synonyms": ["17 uhr", "fünf"]}} in time_type["values"]
    assert {"name": {"value": "sechs"}} in time_type["values"]
    assert {"AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.HelpIntent"} <= {i["name"] for i in language["intents"]}
    assert response["X-Parley-Skipped-Samples"] == "1"


def test_a_token_without_datasets_read_is_refused(published):
    client = client_for(token=pipeline_token(scopes=("utterances:read",)))
    assert client.get("/api/v1/releases/").status_code == 403


def test_a_building_release_is_hidden_from_readers(published):
    release_create(name="core", actor="test")  # v2, building
    reader = client_for(token=pipeline_token())
    assert [r["version"] for r in reader.get("/api/v1/releases/").json()["results"]] == [1]
    admin = client_for(user=f.member("platform_admin", None))
    assert [r["version"] for r in admin.get("/api/v1/releases/").json()["results"]] == [2, 1]


def test_api_builds_a_release_and_promotes(published, django_capture_on_commit_callbacks):
    de = published["de"]
    alarm = f.intent("alarm_set", "alarm")
    f.utterance(de, alarm, "neuer wecker", status="accepted", source="collected")
    lead = f.member("locale_lead", de)
    client = client_for(user=lead)
    with django_capture_on_commit_callbacks(execute=True):
        promoted = client.post("/api/v1/promotions/", {"locales": ["de-DE"]}, format="json")
    assert promoted.status_code == 202
    assert client.get(f"/api/v1/task-runs/{promoted.json()['task_run']}/").json()["result"]["promoted"] == 1
    assert client.post("/api/v1/promotions/", {"locales": ["ja-JP"]}, format="json").status_code == 400
    assert client.post("/api/v1/releases/", {"name": "core"}, format="json").status_code == 403  # every locale
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/releases/", {"name": "de-only", "locales": ["de-DE"]}, format="json")
    assert created.status_code == 202
    release = client.get(f"/api/v1/releases/{created.json()['id']}/").json()
    assert (release["status"], release["rows"], release["locales"]) == ("published", 5, ["de-DE"])


def test_a_lead_sets_rules_floors_and_retirements_in_their_locale_only(published):
    de = published["de"]
    lead = f.member("locale_lead", de)
    client = client_for(user=lead)
    ok = client.post("/api/v1/promotion-rules/", {"locale": "de-DE", "source": "collected", "target": "dev"},
                     format="json")
    assert ok.status_code == 201 and ok.json()["target"] == "dev"
    assert client.post("/api/v1/promotion-rules/", {"source": "collected", "target": "dev"},
                       format="json").status_code == 403  # the default needs every locale
    assert client.post("/api/v1/promotion-rules/", {"locale": "ja-JP", "source": "collected", "target": "dev"},
                       format="json").status_code == 400
    rules = client.get("/api/v1/promotion-rules/").json()["results"]
    assert {r["locale"] for r in rules} == {None, "de-DE"}
    assert client.post("/api/v1/test-floors/", {"locale": "de-DE", "minimum": 1}, format="json").status_code == 201
    assert client.post("/api/v1/test-floors/", {"locale": "ja-JP", "minimum": 1}, format="json").status_code == 400
    row = json.loads(b"".join(client.get(f"/api/v1/releases/{published['release'].pk}/diff/?locale=de-DE")
                              .streaming_content))
    uid = row["added"][-1]["uid"]
    made = client.post("/api/v1/test-retirements/", {"locale": "de-DE", "row_uid": str(uid), "reason": "typo"},
                       format="json")
    assert made.status_code == 201 and made.json()["retired_by"] == lead.username
    linguist = client_for(user=f.member("linguist", de))
    assert linguist.post("/api/v1/test-retirements/", {"locale": "de-DE", "row_uid": str(uid), "reason": "x"},
                         format="json").status_code == 400


def test_rasa_responses_come_from_the_releases_approved_templates(published):
    de = published["de"]
    f.register(de, "sie", default=True)
    f.register(de, "du")
    confirm = f.template_key("alarm_set.confirm", source=de, parameters=[{"name": "time", "type": "string"}])
    f.template_text(confirm, de, "Ich wecke Sie um {time}.", register="sie", status="approved")
    f.template_text(confirm, de, "Ich wecke dich um {time}.", register="du", status="approved")
    count = f.template_key("alarm_query.count", source=de, parameters=[{"name": "n", "type": "number"}])
    f.template_text(count, de, "{n, plural, one {# Wecker} other {# Wecker}}", register="sie", status="approved")
    draft = f.template_key("alarm_set.later", source=de)
    f.template_text(draft, de, "Später.", register="sie")  # a draft: not in the release
    release = release_build(release=release_create(name="core", actor="test"), actor="test")
    response = client_for(token=pipeline_token()).get(f"/api/v1/releases/{release.pk}/download/?locale=de-DE&output=rasa")
    data = yaml.safe_load(response.content.decode())
    assert data["responses"] == {"utter_alarm_set_confirm": [{"text": "Ich wecke Sie um {time}."}]}
    assert response["X-Parley-Skipped-Responses"] == "1"  # the plural one: Rasa cannot express it
    # The snapshot is the release's: a text approved later does not change this release's download.
    f.template_text(draft, de, "Gleich.", register="du", status="approved")
    again = client_for(token=pipeline_token()).get(f"/api/v1/releases/{release.pk}/download/?locale=de-DE&output=rasa")
    assert again.content == response.content


def test_rasa_and_alexa_read_a_locale_as_its_registry_script_says():
    """Review finding 14: the downloads parsed by the tag (ja-JP: characters; pi-TH: spaces) while
    the rows were stored by the registry's script, which a linguist set to Latn and to Thai."""
    from parley.locales.services import locale_update

    ja, pali = f.locale("ja-JP"), f.locale("pi-TH")
    locale_update(locale=ja, actor="test", script="Latn")  # romanized Japanese
    locale_update(locale=pali, actor="test", script="Thai")  # Pali as Thailand writes it (CLDR: Latin)
    alarm = f.intent("alarm_set", "alarm", slots=["time", "date"])
    f.utterance(ja, alarm, "[date : kyou] no [time : gozen goji] ni okoshite", status="promoted", partition="train")
    f.utterance(pali, alarm, "ปลุกฉันตอน [time : ตีห้า]", status="promoted", partition="train")  # published form
    release = release_build(release=release_create(name="core", actor="test"), actor="test")
    client = client_for(token=pipeline_token())

    def rasa_examples(tag):
        text = client.get(f"/api/v1/releases/{release.pk}/download/?locale={tag}&output=rasa").content.decode()
        return next(b["examples"] for b in yaml.safe_load(text)["nlu"] if b.get("intent") == "alarm_set").splitlines()

    def alexa_samples(tag):
        model = client.get(f"/api/v1/releases/{release.pk}/download/?locale={tag}&output=alexa").json()
        return next(i["samples"] for i in model["interactionModel"]["languageModel"]["intents"]
                    if i["name"] == "alarm_set")

    assert rasa_examples("ja-JP") == ["- [kyou](date) no [gozen goji](time) ni okoshite"]
    assert alexa_samples("ja-JP") == ["{date} no {time} ni okoshite"]
    # the notation space is not text where the script writes no spaces: the stored text "ปลุกฉันตอนตีห้า"
    assert rasa_examples("pi-TH") == ["- ปลุกฉันตอน[ตีห้า](time)"]
    assert alexa_samples("pi-TH") == ["ปลุกฉันตอน{time}"]
