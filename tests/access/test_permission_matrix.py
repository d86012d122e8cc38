"""The permission matrix: role × action × in-scope / out-of-scope locale, in the API and the admin.

Every role below is scoped to de-DE (the pipeline token is limited to de-DE); ja-JP is out of
scope for all but the platform admin. Each later feature adds its rows here.
"""
import pytest
from django.test import Client
from rest_framework.test import APIClient

import factories as f
from parley.events.services import event_record
from parley.locales.models import Locale

pytestmark = pytest.mark.django_db

ROLES = ["platform_admin", "locale_lead", "linguist", "annotator", "pipeline_token", "anonymous"]
IN, OUT = "de-DE", "ja-JP"


@pytest.fixture
def world():
    de, ja = f.locale(IN), f.locale(OUT)
    for loc in (de, ja):
        event_record(actor="test", verb="test.happened", target=loc, locale=loc)
    actors = {
        "platform_admin": f.member("platform_admin", None, username="admin"),
        "locale_lead": f.member("locale_lead", de, username="lead"),
        "linguist": f.member("linguist", de, username="ling"),
        "annotator": f.member("annotator", de, username="anno", proficiency="native"),
    }
    pipe = f.member("pipeline", None, username="pipe")
    _, plaintext = f.token(pipe, scopes=["locales:read", "locales:write", "events:read", "tokens:admin"], locales=[de])
    return {"de": de, "ja": ja, "actors": actors, "token": plaintext}


def api_client(world, role) -> APIClient:
    client = APIClient()
    if role == "pipeline_token":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world['token']}")
    elif role != "anonymous":
        client.force_authenticate(world["actors"][role])
    return client


def admin_client(world, role) -> Client | None:
    if role in ("pipeline_token", "anonymous"):
        return Client()  # no session: the admin must send them to the login page
    client = Client()
    client.force_login(world["actors"][role])
    return client


# Expected HTTP status for (action, role) on the in-scope and the out-of-scope locale.
API_MATRIX = {
    #                   admin        lead         linguist     annotator    pipeline     anonymous
    "retrieve_locale": [(200, 200), (200, 404), (200, 404), (200, 404), (200, 404), (401, 401)],
    "change_status":   [(200, 200), (200, 404), (403, 404), (403, 404), (403, 404), (401, 401)],
}


@pytest.mark.parametrize("action", API_MATRIX)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", ["in", "out"])
def test_api_locale_matrix(world, action, role, where):
    tag = IN if where == "in" else OUT
    expected = API_MATRIX[action][ROLES.index(role)][0 if where == "in" else 1]
    client = api_client(world, role)
    if action == "retrieve_locale":
        response = client.get(f"/api/v1/locales/{tag}/")
    else:
        response = client.post(f"/api/v1/locales/{tag}/status/", {"status": "collecting"}, format="json")
    assert response.status_code == expected, response.content
    assert ("error" in response.json()) == (expected >= 400)
    if action == "change_status":
        changed = Locale.objects.get(tag=tag).status == "collecting"
        assert changed == (expected == 200)


@pytest.mark.parametrize("role, visible", [
    ("platform_admin", {IN, OUT}), ("locale_lead", {IN}), ("linguist", {IN}), ("annotator", {IN}),
    ("pipeline_token", {IN}),
])
def test_api_list_and_filters_never_leak_out_of_scope(world, role, visible):
    client = api_client(world, role)
    assert {r["tag"] for r in client.get("/api/v1/locales/").json()["results"]} == visible
    # Asking by filter or search for an out-of-scope locale returns nothing, not the row.
    assert {r["tag"] for r in client.get("/api/v1/locales/?q=ja").json()["results"]} == visible & {OUT}
    assert {r["tag"] for r in client.get("/api/v1/locales/?language=ja").json()["results"]} == visible & {OUT}


@pytest.mark.parametrize("role, expected", [
    ("platform_admin", {IN, OUT}), ("locale_lead", {IN}), ("linguist", None), ("annotator", None),
    ("pipeline_token", None),  # the scope is there, the pipeline role has no event permission
])
def test_api_event_log_matrix(world, role, expected):
    response = api_client(world, role).get("/api/v1/events/?verb=test.happened")
    assert response.status_code == 200
    tags = {r["locale_tag"] for r in response.json()["results"]}
    assert tags == (expected or set())


@pytest.mark.parametrize("role, list_status, create_status", [
    ("platform_admin", 200, 201), ("locale_lead", 403, 403), ("linguist", 403, 403), ("annotator", 403, 403),
    ("pipeline_token", 403, 403), ("anonymous", 401, 401),
])
def test_api_token_management_is_for_platform_admins_only(world, role, list_status, create_status):
    client = api_client(world, role)
    assert client.get("/api/v1/tokens/").status_code == list_status
    response = client.post("/api/v1/tokens/", {"name": "x", "user": "pipe", "scopes": ["locales:read"]}, format="json")
    assert response.status_code == create_status


# Admin: (changelist shows in-scope, changelist shows out-of-scope, change page in, change page out)
ADMIN_LOCALE_MATRIX = {
    "platform_admin": (True, True, 200, 200),
    "locale_lead": (True, False, 200, 302),
    "linguist": (True, False, 200, 302),
}


@pytest.mark.parametrize("role", list(ADMIN_LOCALE_MATRIX))
def test_admin_locale_matrix(world, role):
    shows_in, shows_out, page_in, page_out = ADMIN_LOCALE_MATRIX[role]
    client = admin_client(world, role)
    listing = client.get("/admin/locales/locale/").content.decode()
    assert (f">{IN}<" in listing) == shows_in
    assert (f">{OUT}<" in listing) == shows_out
    searched = client.get("/admin/locales/locale/?q=ja-JP").content.decode()
    assert (f">{OUT}<" in searched) == shows_out
    # Django's admin redirects to the index ("doesn't exist, perhaps deleted") for objects
    # outside the queryset: the same answer as for a missing object.
    assert client.get(f"/admin/locales/locale/{world['de'].pk}/change/").status_code == page_in
    assert client.get(f"/admin/locales/locale/{world['ja'].pk}/change/").status_code == page_out


@pytest.mark.parametrize("role, can_edit", [("platform_admin", True), ("locale_lead", True), ("linguist", False)])
def test_admin_status_action_respects_scope_and_role(world, role, can_edit):
    client = admin_client(world, role)
    for loc in (world["de"], world["ja"]):
        client.post("/admin/locales/locale/", {"action": "move_to_collecting", "_selected_action": [loc.pk]})
    statuses = dict(Locale.objects.values_list("tag", "status"))
    assert (statuses[IN] == "collecting") == can_edit
    assert (statuses[OUT] == "collecting") == (role == "platform_admin")


@pytest.mark.parametrize("role", ["annotator", "pipeline_token", "anonymous"])
def test_admin_is_closed_to_roles_without_admin_access(world, role):
    response = admin_client(world, role).get("/admin/locales/locale/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("role, status", [("platform_admin", 200), ("locale_lead", 403), ("linguist", 403)])
def test_admin_tokens_and_users_are_for_platform_admins(world, role, status):
    client = admin_client(world, role)
    assert client.get("/admin/access/apitoken/").status_code == status
    assert client.get("/admin/auth/user/").status_code == status


@pytest.mark.parametrize("role, visible", [("platform_admin", {IN, OUT}), ("locale_lead", {IN})])
def test_admin_event_log_is_scoped(world, role, visible):
    listing = admin_client(world, role).get("/admin/events/event/?verb=test.happened").content.decode()
    assert {tag for tag in (IN, OUT) if f">{tag}<" in listing} == visible


def test_admin_cannot_be_tricked_into_moving_an_alias_out_of_scope(world):
    client = admin_client(world, "locale_lead")
    response = client.post("/admin/locales/localealias/add/", {"tag": "ja-XX", "locale": world["ja"].pk,
                                                               "source": "massive", "note": ""})
    assert response.status_code == 200  # form re-shown with an error: ja-JP is not a valid choice
    assert "Select a valid choice" in response.content.decode()
    assert not world["ja"].aliases.exists()


# --- Utterances (issue 4) --------------------------------------------------------------------
@pytest.fixture
def utterances(world):
    from parley.nlu.models import Utterance

    intent = f.intent("alarm_set", "alarm", slots=["time"])
    made = {}
    for loc in (world["de"], world["ja"]):
        made[loc.tag] = Utterance.objects.create(
            locale=loc, intent=intent, text="at five", annotated="at [time : five]", normalized="at five",
            source="manual", slots=[{"type": "time", "value": "five", "start": 3, "end": 7}])
    _, world["utt_token"] = f.token(world["actors"]["linguist"], scopes=["utterances:read", "utterances:write"])
    return made


UTTERANCE_MATRIX = {
    #            admin        lead         linguist     annotator    linguist's token  anonymous
    "retrieve": [(200, 200), (200, 404), (200, 404), (404, 404), (200, 404), (401, 401)],
    "edit":     [(200, 200), (200, 404), (200, 404), (404, 404), (200, 404), (401, 401)],
}


@pytest.mark.parametrize("action", UTTERANCE_MATRIX)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", ["in", "out"])
def test_api_utterance_matrix(world, utterances, action, role, where):
    utt = utterances[IN if where == "in" else OUT]
    expected = UTTERANCE_MATRIX[action][ROLES.index(role)][0 if where == "in" else 1]
    if role == "pipeline_token":
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world['utt_token']}")
    else:
        client = api_client(world, role)
    if action == "retrieve":
        response = client.get(f"/api/v1/utterances/{utt.pk}/")
    else:
        response = client.patch(f"/api/v1/utterances/{utt.pk}/", {"annotated": "at [time : five]"}, format="json")
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("role, visible", [("platform_admin", {IN, OUT}), ("locale_lead", {IN}), ("linguist", {IN}),
                                           ("annotator", set())])
def test_utterance_list_export_and_admin_are_scoped(world, utterances, role, visible):
    client = api_client(world, role)
    listed = {r["locale"] for r in client.get("/api/v1/utterances/").json()["results"]}
    assert listed == visible
    assert {r["locale"] for r in client.get(f"/api/v1/utterances/?locale={OUT}").json()["results"]} == visible & {OUT}
    export = client.get(f"/api/v1/exports/massive/?locale={OUT}")
    assert export.status_code == (200 if OUT in visible else 404)
    if role != "annotator":
        page = admin_client(world, role).get("/admin/nlu/utterance/").content.decode()
        assert (f"/admin/nlu/utterance/{utterances[OUT].pk}/change/" in page) == (OUT in visible)
        out_page = admin_client(world, role).get(f"/admin/nlu/utterance/{utterances[OUT].pk}/change/")
        assert out_page.status_code == (200 if OUT in visible else 302)


@pytest.mark.parametrize("role, status", [("platform_admin", 200), ("locale_lead", 403), ("linguist", 403),
                                          ("pipeline_token", 403)])
def test_imports_are_for_platform_admins(world, role, status):
    assert api_client(world, role).get("/api/v1/imports/").status_code == status


@pytest.mark.parametrize("role, visible", [("platform_admin", {IN, OUT}), ("linguist", {IN}), ("annotator", set())])
def test_coverage_is_scoped_and_exports_csv(world, utterances, role, visible):
    client = api_client(world, role)
    rows = client.get("/api/v1/coverage/").json()["rows"]
    assert {r["locale"] for r in rows} == visible
    assert all(r == {"locale": r["locale"], "intent": "alarm_set", "partition": "unassigned", "status": "draft",
                     "count": 1} for r in rows)
    assert client.get(f"/api/v1/coverage/?locale={OUT}").status_code == (200 if OUT in visible else 404)
    csv_text = client.get("/api/v1/coverage/?output=csv").content.decode()
    assert csv_text.splitlines()[0] == "locale,intent,partition,status,count"
    assert len(csv_text.splitlines()) == 1 + len(visible)
