"""Who may read the OpenAPI schema and Swagger UI (issue 15, finding 14): API tokens (any scope)
and signed-in users whose roles use the admin; not anonymous visitors, not annotators."""
import pytest
from django.test import Client

import factories as f

pytestmark = pytest.mark.django_db

OPENAPI_JSON = "application/vnd.oai.openapi+json"


@pytest.fixture
def world():
    de = f.locale("de-DE")
    actors = {
        "platform_admin": f.member("platform_admin", None, username="admin"),
        "locale_lead": f.member("locale_lead", de, username="lead"),
        "linguist": f.member("linguist", de, username="ling"),
        "annotator": f.member("annotator", de, username="anno", proficiency="native"),
    }
    pipe = f.member("pipeline", None, username="pipe")
    _, plaintext = f.token(pipe, scopes=["feedback:write"], locales=[de])  # a scope unrelated to the schema
    return {"actors": actors, "token": plaintext}


def client_for(world, who) -> Client:
    if who == "pipeline_token":
        return Client(HTTP_AUTHORIZATION=f"Bearer {world['token']}")
    client = Client()
    if who != "anonymous":
        client.force_login(world["actors"][who])
    return client


@pytest.mark.parametrize("who, allowed", [
    ("platform_admin", True), ("locale_lead", True), ("linguist", True), ("pipeline_token", True),
    ("annotator", False), ("anonymous", False)])
def test_who_may_read_the_schema(world, who, allowed):
    response = client_for(world, who).get("/api/schema/", HTTP_ACCEPT=OPENAPI_JSON)
    if allowed:
        assert response.status_code == 200 and "/api/v1/intents/" in response.json()["paths"]
    else:
        assert response.status_code == (401 if who == "anonymous" else 403)
        assert b"/api/v1/intents/" not in response.content


@pytest.mark.parametrize("who, status", [("platform_admin", 200), ("linguist", 200), ("annotator", 403),
                                         ("anonymous", 302)])
def test_who_may_open_the_swagger_ui(world, who, status):
    response = client_for(world, who).get("/api/docs/")
    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"] == "/admin/login/?next=/api/docs/"


def test_a_revoked_or_made_up_token_gets_no_schema(world):
    response = Client(HTTP_AUTHORIZATION="Bearer prl_nope_nope").get("/api/schema/", HTTP_ACCEPT=OPENAPI_JSON)
    assert response.status_code == 401


def test_the_setting_makes_the_docs_public(world, settings):
    settings.PARLEY_API_DOCS_PUBLIC = True
    assert Client().get("/api/schema/", HTTP_ACCEPT=OPENAPI_JSON).status_code == 200
    assert Client().get("/api/docs/").status_code == 200
