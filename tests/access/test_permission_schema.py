"""Permissions for schema editing: intents and slot types (global), guides, lexicon, coverage targets.

As in test_permission_matrix: every role is scoped to de-DE (the pipeline token is limited to
de-DE); ja-JP is out of scope for all but the platform admin. Global objects (intents, slot
types, concepts) need the permission in every locale, so only platform admins write them.
"""
import pytest
from django.test import Client
from rest_framework.test import APIClient

import factories as f
from role_clients import admin_client, api_client
from parley.nlu.models import CoverageTarget, Intent, IntentGuide, LexiconEntry, SlotType
from parley.nlu.services import coverage_target_set, intent_guide_save

pytestmark = pytest.mark.django_db

ROLES = ["platform_admin", "locale_lead", "linguist", "annotator", "pipeline_token", "anonymous"]
IN, OUT = "de-DE", "ja-JP"


@pytest.fixture
def world():
    de, ja = f.locale(IN), f.locale(OUT)
    intent = f.intent("qa_currency", "qa", slots=["currency_name"])
    f.catalogued("currency_name")
    f.catalogued("color_type")
    jpy = f.concept("currency_name", "JPY")
    actors = {
        "platform_admin": f.member("platform_admin", None, username="admin"),
        "locale_lead": f.member("locale_lead", de, username="lead"),
        "linguist": f.member("linguist", de, username="ling"),
        "annotator": f.member("annotator", de, username="anno", proficiency="native"),
    }
    pipe = f.member("pipeline", None, username="pipe")
    _, plaintext = f.token(pipe, scopes=["schema:read", "schema:write", "utterances:read"], locales=[de])
    objects = {}
    for loc, value in ((de, "Yen"), (ja, "日本円")):
        objects[loc.tag] = {
            "entry": f.lexicon_entry(jpy, loc, value),
            "guide": intent_guide_save(intent=intent, locale=loc, guidance="g", actor="test"),
            "target": coverage_target_set(locale=loc, partition="test", target=40, actor="test"),
        }
    return {"de": de, "ja": ja, "actors": actors, "token": plaintext, "objects": objects, "intent": intent}


# Expected HTTP status for (action, role) on the in-scope and the out-of-scope locale.
API_MATRIX = {
    #                    admin        lead         linguist     annotator    pipeline     anonymous
    "retrieve_entry":  [(200, 200), (200, 404), (200, 404), (404, 404), (200, 404), (401, 401)],
    "edit_entry":      [(200, 200), (200, 404), (200, 404), (404, 404), (403, 404), (401, 401)],
    "delete_entry":    [(204, 204), (204, 404), (204, 404), (404, 404), (403, 404), (401, 401)],
    "create_entry":    [(201, 201), (201, 400), (201, 400), (403, 403), (403, 403), (401, 401)],
    "edit_guide":      [(200, 200), (200, 404), (200, 404), (404, 404), (403, 404), (401, 401)],
    "create_guide":    [(201, 201), (201, 400), (201, 400), (403, 403), (403, 403), (401, 401)],
    "resolved_guide":  [(200, 200), (200, 404), (200, 404), (404, 404), (200, 404), (401, 401)],
    "edit_target":     [(200, 200), (200, 404), (403, 404), (404, 404), (403, 404), (401, 401)],
    "create_target":   [(201, 201), (201, 400), (403, 403), (403, 403), (403, 403), (401, 401)],
}


def _call(client, world, action, tag):
    objects = world["objects"][tag]
    if action == "retrieve_entry":
        return client.get(f"/api/v1/lexicon-entries/{objects['entry'].pk}/")
    if action == "edit_entry":
        return client.patch(f"/api/v1/lexicon-entries/{objects['entry'].pk}/", {"synonyms": ["x"]}, format="json")
    if action == "delete_entry":
        return client.delete(f"/api/v1/lexicon-entries/{objects['entry'].pk}/")
    if action == "create_entry":
        return client.post("/api/v1/lexicon-entries/", {"slot_type": "currency_name", "concept": "JPY", "locale": tag,
                                                        "value": "neu"}, format="json")
    if action == "edit_guide":
        return client.patch(f"/api/v1/intent-guides/{objects['guide'].pk}/", {"guidance": "neu"}, format="json")
    if action == "create_guide":
        return client.post("/api/v1/slot-type-guides/", {"slot_type": "currency_name", "locale": tag,
                                                         "guidance": "neu"}, format="json")
    if action == "resolved_guide":
        return client.get(f"/api/v1/intents/qa_currency/guide/?locale={tag}")
    if action == "edit_target":
        return client.patch(f"/api/v1/coverage-targets/{objects['target'].pk}/", {"target": 41}, format="json")
    return client.post("/api/v1/coverage-targets/", {"locale": tag, "partition": "dev", "target": 5}, format="json")


@pytest.mark.parametrize("action", API_MATRIX)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", ["in", "out"])
def test_api_schema_matrix(world, action, role, where):
    tag = IN if where == "in" else OUT
    expected = API_MATRIX[action][ROLES.index(role)][0 if where == "in" else 1]
    response = _call(api_client(world, role), world, action, tag)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert "error" in response.json()
    # Refused writes left nothing behind.
    objects = world["objects"][tag]
    if action == "edit_entry":
        assert (LexiconEntry.objects.get(pk=objects["entry"].pk).synonyms == ["x"]) == (expected == 200)
    if action == "delete_entry":
        assert LexiconEntry.objects.filter(pk=objects["entry"].pk).exists() == (expected != 204)
    if action == "edit_guide":
        assert (IntentGuide.objects.get(pk=objects["guide"].pk).guidance == "neu") == (expected == 200)
    if action == "create_target":
        assert CoverageTarget.objects.filter(locale__tag=tag, partition="dev").exists() == (expected == 201)


GLOBAL_MATRIX = {
    #                    admin  lead  linguist annotator pipeline anonymous
    "create_intent":     [201, 403, 403, 403, 403, 401],
    "edit_intent":       [200, 403, 403, 403, 403, 401],
    "delete_slot_type":  [204, 403, 403, 403, 403, 401],
    "create_slot_type":  [201, 403, 403, 403, 403, 401],
    "create_concept":    [201, 403, 403, 403, 403, 401],
}


@pytest.mark.parametrize("action", GLOBAL_MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_api_global_schema_writes_are_for_platform_admins(world, action, role):
    client = api_client(world, role)
    expected = GLOBAL_MATRIX[action][ROLES.index(role)]
    if action == "create_intent":
        response = client.post("/api/v1/intents/", {"name": "qa_x", "scenario": "qa"}, format="json")
    elif action == "edit_intent":
        response = client.patch("/api/v1/intents/qa_currency/", {"description": "d"}, format="json")
    elif action == "delete_slot_type":
        response = client.delete("/api/v1/slot-types/color_type/")
    elif action == "create_slot_type":
        response = client.post("/api/v1/slot-types/", {"name": "x_type"}, format="json")
    else:
        response = client.post("/api/v1/lexicon-concepts/", {"slot_type": "currency_name", "key": "EUR"},
                               format="json")
    assert response.status_code == expected, response.content
    assert Intent.objects.filter(name="qa_x").exists() == (action == "create_intent" and expected == 201)
    assert SlotType.objects.filter(name="color_type").exists() == (action != "delete_slot_type" or expected != 204)


@pytest.mark.parametrize("role, visible", [
    ("platform_admin", {IN, OUT}), ("locale_lead", {IN}), ("linguist", {IN}), ("annotator", set()),
    ("pipeline_token", {IN}),
])
def test_api_lists_and_exports_never_leak_out_of_scope(world, role, visible):
    client = api_client(world, role)
    assert {r["locale"] for r in client.get("/api/v1/lexicon-entries/").json()["results"]} == visible
    assert {r["locale"] for r in client.get(f"/api/v1/lexicon-entries/?locale={OUT}").json()["results"]} == \
        visible & {OUT}
    assert {r["locale"] for r in client.get("/api/v1/intent-guides/").json()["results"]} == visible
    assert {r["locale"] for r in client.get("/api/v1/coverage-targets/").json()["results"]} == visible
    exported = b"".join(client.get("/api/v1/lexicon/export/").streaming_content).decode().splitlines()[1:]
    assert {line.split(",")[2] for line in exported} == visible
    concepts = client.get("/api/v1/lexicon-concepts/").json()["results"]
    assert [c["key"] for c in concepts] == ([] if role == "annotator" else ["JPY"])


def test_token_scopes_gate_schema_endpoints(world):
    pipe = world["actors"]["platform_admin"]
    _, read_only = f.token(pipe, scopes=["schema:read"])
    _, no_schema = f.token(pipe, scopes=["locales:read"])
    _, limited = f.token(pipe, scopes=["schema:read", "schema:write"], locales=[world["de"]])

    def client(token):
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return c

    entry = {"slot_type": "currency_name", "concept": "JPY", "value": "neu"}
    response = client(read_only).post("/api/v1/lexicon-entries/", {**entry, "locale": IN}, format="json")
    assert response.status_code == 403 and "schema:write" in response.json()["error"]["message"]
    assert client(no_schema).get("/api/v1/lexicon-entries/").status_code == 403
    assert client(no_schema).get("/api/v1/intents/").status_code == 403
    # A token limited to de-DE narrows even a platform admin: no global writes, no ja-JP.
    assert client(limited).post("/api/v1/intents/", {"name": "qa_x", "scenario": "qa"}, format="json"
                                ).status_code == 403
    assert client(limited).post("/api/v1/lexicon-entries/", {**entry, "locale": OUT}, format="json"
                                ).status_code == 400
    assert client(limited).post("/api/v1/lexicon-entries/", {**entry, "locale": IN}, format="json"
                                ).status_code == 201
    assert client(limited).get(f"/api/v1/lexicon-entries/{world['objects'][OUT]['entry'].pk}/").status_code == 404


def test_lexicon_import_writes_only_in_the_actors_locales(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = f"slot_type,concept,locale,value\ncurrency_name,JPY,{OUT},円\n"
    for role, expected in (("linguist", 400), ("annotator", 403), ("pipeline_token", 403), ("platform_admin", 200)):
        response = api_client(world, role).post("/api/v1/lexicon/import/", {
            "file": SimpleUploadedFile("x.csv", csv.encode())}, format="multipart")
        assert response.status_code == expected, (role, response.content)
    assert LexiconEntry.objects.filter(locale__tag=OUT, value="円").count() == 1


# Admin: (changelist shows in-scope, shows out-of-scope, change page in, change page out)
ADMIN_MATRIX = {
    "platform_admin": (True, True, 200, 200),
    "locale_lead": (True, False, 200, 302),
    "linguist": (True, False, 200, 302),
}


@pytest.mark.parametrize("model", ["lexiconentry", "intentguide", "coveragetarget"])
@pytest.mark.parametrize("role", list(ADMIN_MATRIX))
def test_admin_changelists_and_pages_are_scoped(world, role, model):
    shows_in, shows_out, page_in, page_out = ADMIN_MATRIX[role]
    key = {"lexiconentry": "entry", "intentguide": "guide", "coveragetarget": "target"}[model]
    client = admin_client(world, role)
    listing = client.get(f"/admin/nlu/{model}/").content.decode()
    ids = {tag: world["objects"][tag][key].pk for tag in (IN, OUT)}
    assert (f"/admin/nlu/{model}/{ids[IN]}/change/" in listing) == shows_in
    assert (f"/admin/nlu/{model}/{ids[OUT]}/change/" in listing) == shows_out
    assert client.get(f"/admin/nlu/{model}/{ids[IN]}/change/").status_code == page_in
    assert client.get(f"/admin/nlu/{model}/{ids[OUT]}/change/").status_code == page_out


@pytest.mark.parametrize("role, intent_add, concept_list, concept_add, target_add", [
    ("platform_admin", 200, 200, 200, 200),
    ("locale_lead", 403, 200, 403, 200),
    ("linguist", 403, 200, 403, 403),
])
def test_admin_global_schema_pages_by_role(world, role, intent_add, concept_list, concept_add, target_add):
    client = admin_client(world, role)
    assert client.get("/admin/nlu/intent/add/").status_code == intent_add
    assert client.get("/admin/nlu/lexiconconcept/").status_code == concept_list
    assert client.get("/admin/nlu/lexiconconcept/add/").status_code == concept_add
    assert client.get("/admin/nlu/coveragetarget/add/").status_code == target_add


def test_admin_cannot_be_tricked_into_writing_out_of_scope(world):
    client = admin_client(world, "linguist")
    concept = world["objects"][IN]["entry"].concept
    response = client.post("/admin/nlu/lexiconentry/add/", {"concept": concept.pk, "locale": world["ja"].pk,
                                                           "value": "円", "synonyms": ""})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post("/admin/nlu/lexiconentry/add/", {"concept": concept.pk, "locale": world["de"].pk,
                                                           "value": "Japanischer Yen", "synonyms": "JPY | Yen"})
    assert response.status_code == 302
    assert LexiconEntry.objects.get(value="Japanischer Yen").synonyms == ["JPY", "Yen"]
    response = client.post(f"/admin/nlu/intentguide/{world['objects'][OUT]['guide'].pk}/delete/", {"post": "yes"})
    assert IntentGuide.objects.filter(locale__tag=OUT).exists()


@pytest.mark.parametrize("role, status", [("linguist", 200), ("locale_lead", 200), ("platform_admin", 200)])
def test_admin_coverage_page_is_open_to_utterance_readers_only_for_their_locales(world, role, status):
    page = admin_client(world, role).get("/admin/nlu/coveragetarget/coverage/")
    assert page.status_code == status
    table = page.content.decode().split('id="coverage-matrix"')[1]
    assert (f"<td>{OUT}</td>" in table) == (role == "platform_admin")
    assert f"<td>{IN}</td>" in table


def test_admin_coverage_page_is_closed_to_roles_without_admin(world):
    response = Client().get("/admin/nlu/utterance/coverage/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("role", ["locale_lead", "linguist"])
def test_admin_index_offers_guides_and_lexicon_to_linguists_and_leads(world, role):
    index = admin_client(world, role).get("/admin/").content.decode()
    for url in ("/admin/nlu/lexiconentry/", "/admin/nlu/intentguide/", "/admin/nlu/slottypeguide/",
                "/admin/nlu/lexiconconcept/", "/admin/nlu/coveragetarget/"):
        assert url in index
