"""Permissions for the culture app: template texts (edit, review, render), registers, sensitive
terms and holidays, in the API and the admin.

As in test_permission_schema: every role is scoped to de-DE (the pipeline token is limited to
de-DE); ja-JP is out of scope for all but the platform admin. Linguists and leads write their
locales' texts, terms and holidays; only leads (and platform admins) approve, retire or reopen
texts and set registers; pipelines read and render; template keys are platform admins' (global).
"""
import pytest
from django.test import Client
from rest_framework.test import APIClient

import factories as f
from role_clients import admin_client, api_client
from parley.culture.models import FormalityRegister, Holiday, ResponseTemplate, SensitiveTerm
from parley.culture.services import holiday_create, holiday_date_add
from parley.nlu.models import Utterance

pytestmark = pytest.mark.django_db

ROLES = ["platform_admin", "locale_lead", "linguist", "annotator", "pipeline_token", "anonymous"]
IN, OUT = "de-DE", "ja-JP"


@pytest.fixture
def world():
    de, ja = f.locale(IN), f.locale(OUT)
    key = f.template_key("alarm_set.confirm", source=de, parameters=[{"name": "count", "type": "number"}])
    f.intent("calendar_query", "calendar", slots=["event_name", "date"])
    actors = {
        "platform_admin": f.member("platform_admin", None, username="admin"),
        "locale_lead": f.member("locale_lead", de, username="lead"),
        "linguist": f.member("linguist", de, username="ling"),
        "annotator": f.member("annotator", de, username="anno", proficiency="native"),
    }
    pipe = f.member("pipeline", None, username="pipe")
    _, plaintext = f.token(pipe, scopes=["culture:read", "culture:write"], locales=[de])
    objects = {}
    for loc, body in ((de, "{count} Wecker gestellt."), (ja, "{count}件のアラーム")):
        registers = {code: f.register(loc, code, default=code == "formal") for code in ("plain", "polite", "formal")}
        term = f.sensitive_term(loc, "schlimm" if loc.tag == IN else "馬鹿")  # before the texts: nothing to re-check
        objects[loc.tag] = {
            "draft": f.template_text(key, loc, body + " ", register="plain"),
            "review": f.template_text(key, loc, body, register="polite", status="in_review"),
            "approved": f.template_text(key, loc, body, register="formal", status="approved"),
            "register": registers["plain"],
            "term": term,
            "holiday": holiday_create(locale=loc, key="local-day", english_name="Local Day", native_name="x",
                                      rule="explicit", actor="test"),
        }
        holiday_date_add(holiday=objects[loc.tag]["holiday"], date="2026-06-01", actor="test")
    return {"de": de, "ja": ja, "actors": actors, "token": plaintext, "objects": objects, "key": key}


# Expected HTTP status for (action, role) on the in-scope and the out-of-scope locale.
API_MATRIX = {
    #                    admin        lead         linguist     annotator    pipeline     anonymous
    "retrieve_text":   [(200, 200), (200, 404), (200, 404), (404, 404), (200, 404), (401, 401)],
    "edit_text":       [(200, 200), (200, 404), (200, 404), (404, 404), (403, 404), (401, 401)],
    "create_text":     [(201, 201), (201, 400), (201, 400), (403, 403), (403, 403), (401, 401)],
    "submit_text":     [(200, 200), (200, 404), (200, 404), (404, 404), (403, 404), (401, 401)],
    "approve_text":    [(200, 200), (200, 404), (403, 404), (404, 404), (403, 404), (401, 401)],
    "render":          [(200, 200), (200, 404), (200, 404), (404, 404), (200, 404), (401, 401)],
    "preview":         [(200, 200), (200, 404), (200, 404), (404, 404), (200, 404), (401, 401)],
    "create_register": [(201, 201), (201, 400), (403, 403), (403, 403), (403, 403), (401, 401)],
    "edit_register":   [(200, 200), (200, 404), (403, 404), (404, 404), (403, 404), (401, 401)],
    "create_term":     [(201, 201), (201, 400), (201, 400), (403, 403), (403, 403), (401, 401)],
    "delete_term":     [(204, 204), (204, 404), (204, 404), (404, 404), (403, 404), (401, 401)],
    "locale_holidays": [(200, 200), (200, 404), (200, 404), (404, 404), (200, 404), (401, 401)],
    "edit_holiday":    [(200, 200), (200, 404), (200, 404), (404, 404), (403, 404), (401, 401)],
    "add_date":        [(200, 200), (200, 404), (200, 404), (404, 404), (403, 404), (401, 401)],
    "create_holiday":  [(201, 201), (201, 400), (201, 400), (403, 403), (403, 403), (401, 401)],
    "seed_holidays":   [(202, 202), (202, 404), (202, 404), (404, 404), (403, 404), (401, 401)],
    "holiday_utts":    [(201, 201), (201, 404), (201, 404), (404, 404), (403, 404), (401, 401)],
}


def _call(client, world, action, tag):
    objects = world["objects"][tag]
    if action == "retrieve_text":
        return client.get(f"/api/v1/response-templates/{objects['approved'].pk}/")
    if action == "edit_text":
        return client.patch(f"/api/v1/response-templates/{objects['draft'].pk}/", {"body": "{count} neu"},
                            format="json")
    if action == "create_text":
        return client.post("/api/v1/response-templates/", {"key": "alarm_set.confirm", "locale": tag,
                                                           "register": "new", "body": "{count} x"}, format="json")
    if action == "submit_text":
        return client.post(f"/api/v1/response-templates/{objects['draft'].pk}/status/", {"status": "in_review"},
                           format="json")
    if action == "approve_text":
        return client.post(f"/api/v1/response-templates/{objects['review'].pk}/status/", {"status": "approved"},
                           format="json")
    if action == "render":
        return client.post("/api/v1/templates/alarm_set.confirm/render", {"locale": tag, "parameters": {"count": 2}},
                           format="json")
    if action == "preview":
        return client.post("/api/v1/response-templates/preview/", {"key": "alarm_set.confirm", "locale": tag,
                                                                   "body": "{count} x"}, format="json")
    if action == "create_register":
        return client.post("/api/v1/formality-registers/", {"locale": tag, "code": "honorific", "name": "h"},
                           format="json")
    if action == "edit_register":
        return client.patch(f"/api/v1/formality-registers/{objects['register'].pk}/", {"guidance": "neu"},
                            format="json")
    if action == "create_term":
        return client.post("/api/v1/sensitive-terms/", {"locale": tag, "term": "neuwort", "severity": "warn"},
                           format="json")
    if action == "delete_term":
        return client.delete(f"/api/v1/sensitive-terms/{objects['term'].pk}/")
    if action == "locale_holidays":
        return client.get(f"/api/v1/locales/{tag}/holidays?year=2026")
    if action == "edit_holiday":
        return client.patch(f"/api/v1/holidays/{objects['holiday'].pk}/", {"greeting": "neu"}, format="json")
    if action == "add_date":
        return client.post(f"/api/v1/holidays/{objects['holiday'].pk}/dates/", {"date": "2027-06-02"},
                           format="json")
    if action == "create_holiday":
        return client.post("/api/v1/holidays/", {"locale": tag, "english_name": "New Day", "rule": "explicit"},
                           format="json")
    if action == "seed_holidays":
        return client.post(f"/api/v1/locales/{tag}/holidays/seed", {"years": [2026]}, format="json")
    return client.post(f"/api/v1/locales/{tag}/holidays/utterances", {"intent": "calendar_query"}, format="json")


@pytest.mark.parametrize("action", API_MATRIX)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", ["in", "out"])
def test_api_culture_matrix(world, action, role, where):
    tag = IN if where == "in" else OUT
    expected = API_MATRIX[action][ROLES.index(role)][0 if where == "in" else 1]
    response = _call(api_client(world, role), world, action, tag)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert "error" in response.json()
    objects = world["objects"][tag]
    # Refused writes left nothing behind; allowed ones did what they said.
    if action == "edit_text":
        assert (ResponseTemplate.objects.get(pk=objects["draft"].pk).body == "{count} neu") == (expected == 200)
    if action == "create_text":
        assert ResponseTemplate.objects.filter(locale__tag=tag, register="new").exists() == (expected == 201)
    if action == "approve_text":
        assert (ResponseTemplate.objects.get(pk=objects["review"].pk).status == "approved") == (expected == 200)
    if action == "render" and expected == 200:
        assert response.json()["locale"] == tag
    if action == "edit_register":
        assert (FormalityRegister.objects.get(pk=objects["register"].pk).guidance == "neu") == (expected == 200)
    if action == "delete_term":
        assert SensitiveTerm.objects.filter(pk=objects["term"].pk).exists() == (expected != 204)
    if action == "locale_holidays" and expected == 200:
        assert [h["key"] for h in response.json()["results"]] == ["local-day"]
    if action == "edit_holiday":
        assert (Holiday.objects.get(pk=objects["holiday"].pk).greeting == "neu") == (expected == 200)
    if action == "add_date":
        assert objects["holiday"].dates.filter(date="2027-06-02").exists() == (expected == 200)
    if action == "holiday_utts":
        assert Utterance.objects.filter(locale__tag=tag, source="holiday-generated").exists() == (expected == 201)


@pytest.mark.parametrize("role, expected", [
    ("platform_admin", 201), ("locale_lead", 403), ("linguist", 403), ("annotator", 403), ("pipeline_token", 403),
    ("anonymous", 401)])
def test_api_template_keys_are_written_by_platform_admins_only(world, role, expected):
    response = api_client(world, role).post("/api/v1/template-keys/", {
        "key": "timer.set", "source_locale": IN, "parameters": [{"name": "minutes", "type": "number"}]},
        format="json")
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("role, visible", [
    ("platform_admin", {IN, OUT}), ("locale_lead", {IN}), ("linguist", {IN}), ("annotator", set()),
    ("pipeline_token", {IN}),
])
def test_api_lists_never_leak_out_of_scope(world, role, visible):
    client = api_client(world, role)
    for url in ("/api/v1/response-templates/", "/api/v1/formality-registers/", "/api/v1/sensitive-terms/"):
        assert {r["locale"] for r in client.get(url).json()["results"]} == visible, url
    assert {r["locale"] for r in client.get(f"/api/v1/response-templates/?locale={OUT}").json()["results"]} == \
        visible & {OUT}
    keys = client.get("/api/v1/template-keys/").json()["results"]
    assert [k["key"] for k in keys] == ([] if role == "annotator" else ["alarm_set.confirm"])


@pytest.mark.parametrize("role, visible", [
    ("platform_admin", {IN, OUT}), ("locale_lead", {IN}), ("linguist", {IN}), ("pipeline_token", {IN}),
])
def test_holiday_lists_and_coverage_are_scoped(world, role, visible):
    client = api_client(world, role)
    assert {h["locale"] for h in client.get("/api/v1/holidays/").json()["results"]} == visible
    report = client.get("/api/v1/holidays/coverage?year=2026").json()
    assert {r["locale"] for r in report["locales"]} | set(report["locales_without_holidays"]) == visible


def test_token_scopes_gate_culture_endpoints(world):
    admin = world["actors"]["platform_admin"]
    _, read_only = f.token(admin, scopes=["culture:read"])
    _, other = f.token(admin, scopes=["schema:read"])

    def client(token):
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return c

    render = {"locale": IN, "parameters": {"count": 1}}
    assert client(read_only).post("/api/v1/templates/alarm_set.confirm/render", render, format="json"
                                  ).status_code == 200
    refused = client(read_only).post("/api/v1/sensitive-terms/", {"locale": IN, "term": "x"}, format="json")
    assert refused.status_code == 403 and "culture:write" in refused.json()["error"]["message"]
    assert client(other).post("/api/v1/templates/alarm_set.confirm/render", render, format="json").status_code == 403
    assert client(other).get("/api/v1/response-templates/").status_code == 403


# Admin: (changelist shows in-scope, shows out-of-scope, change page in, change page out)
ADMIN_MATRIX = {
    "platform_admin": (True, True, 200, 200),
    "locale_lead": (True, False, 200, 302),
    "linguist": (True, False, 200, 302),
}


@pytest.mark.parametrize("model, key", [("responsetemplate", "approved"), ("formalityregister", "register"),
                                        ("sensitiveterm", "term"), ("holiday", "holiday")])
@pytest.mark.parametrize("role", list(ADMIN_MATRIX))
def test_admin_changelists_and_pages_are_scoped(world, role, model, key):
    shows_in, shows_out, page_in, page_out = ADMIN_MATRIX[role]
    client = admin_client(world, role)
    listing = client.get(f"/admin/culture/{model}/").content.decode()
    ids = {tag: world["objects"][tag][key].pk for tag in (IN, OUT)}
    assert (f"/admin/culture/{model}/{ids[IN]}/change/" in listing) == shows_in
    assert (f"/admin/culture/{model}/{ids[OUT]}/change/" in listing) == shows_out
    assert client.get(f"/admin/culture/{model}/{ids[IN]}/change/").status_code == page_in
    assert client.get(f"/admin/culture/{model}/{ids[OUT]}/change/").status_code == page_out


@pytest.mark.parametrize("role, approves", [("linguist", False), ("locale_lead", True), ("platform_admin", True)])
def test_admin_approve_action_is_for_reviewers(world, role, approves):
    review = world["objects"][IN]["review"]
    client = admin_client(world, role)
    client.post("/admin/culture/responsetemplate/", {"action": "approve", "_selected_action": [review.pk]})
    assert (ResponseTemplate.objects.get(pk=review.pk).status == "approved") == approves


def test_admin_actions_never_reach_out_of_scope_texts(world):
    out = world["objects"][OUT]["review"]
    client = admin_client(world, "locale_lead")
    client.post("/admin/culture/responsetemplate/", {"action": "approve", "_selected_action": [out.pk]})
    assert ResponseTemplate.objects.get(pk=out.pk).status == "in_review"


def test_admin_cannot_be_tricked_into_writing_out_of_scope(world):
    client = admin_client(world, "linguist")
    response = client.post("/admin/culture/responsetemplate/add/", {
        "key": world["key"].pk, "locale": world["ja"].pk, "register": "x", "body": "{count}"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post("/admin/culture/sensitiveterm/add/", {
        "locale": world["ja"].pk, "kind": "term", "term": "x", "severity": "warn"})
    assert response.status_code == 200 and not SensitiveTerm.objects.filter(term="x").exists()
    # Registers are a lead's: a linguist's add page is refused.
    assert client.get("/admin/culture/formalityregister/add/").status_code == 403
    assert client.get("/admin/culture/templatekey/add/").status_code == 403


@pytest.mark.parametrize("role, status_in, status_out", [
    ("platform_admin", 200, 200), ("locale_lead", 200, 404), ("linguist", 200, 404), ("annotator", 404, 404),
    ("pipeline_token", 200, 404), ("anonymous", 401, 401)])
def test_api_locale_culture_overview_is_scoped(world, role, status_in, status_out):
    client = api_client(world, role)
    inside = client.get(f"/api/v1/locales/{IN}/culture?year=2026")
    assert inside.status_code == status_in, inside.content
    assert client.get(f"/api/v1/locales/{OUT}/culture?year=2026").status_code == status_out
    if status_in == 200:
        body = inside.json()
        assert [(r["code"], r["is_default"]) for r in body["registers"]] == [
            ("formal", True), ("plain", False), ("polite", False)]
        assert [t["term"] for t in body["terms"]] == ["schlimm"]
        assert {t["register"] for t in body["templates"]["texts"]} == {"plain", "polite", "formal"}
        assert [h["key"] for h in body["holidays"]] == ["local-day"]


@pytest.mark.parametrize("role", list(ADMIN_MATRIX))
def test_admin_overview_and_holiday_coverage_pages_are_scoped(world, role):
    client = admin_client(world, role)
    page = client.get(f"/admin/culture/responsetemplate/overview/?locale={IN}&year=2026")
    assert page.status_code == 200
    html = page.content.decode()
    assert "schlimm" in html and "Local Day" in html and "馬鹿" not in html
    out = client.get(f"/admin/culture/responsetemplate/overview/?locale={OUT}&year=2026")
    assert out.status_code == (200 if role == "platform_admin" else 404)
    coverage = client.get("/admin/culture/holiday/holiday-coverage/?year=2026").content.decode()
    table = coverage.split('id="holiday-coverage"')[1]
    assert f"<td>{IN}</td>" in table
    assert (f"<td>{OUT}</td>" in table) == (role == "platform_admin")


def test_admin_overview_is_closed_to_roles_without_culture():
    anno = f.member("annotator", f.locale(IN), username="anno2")
    client = Client()
    client.force_login(anno)
    assert client.get("/admin/culture/responsetemplate/overview/").status_code == 302  # no admin site at all
