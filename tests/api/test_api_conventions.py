"""API conventions: one error shape, cursor pagination, schema and offline docs."""
import pytest
from django.test import Client
from rest_framework.test import APIClient

import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api():
    client = APIClient()
    client.force_authenticate(f.member("platform_admin", None))
    return client


def test_validation_error_shape_names_fields(admin_api):
    f.locale("de-DE")
    response = admin_api.post("/api/v1/locales/de-DE/status/", {"status": "shipping"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "status" in error["fields"]


def test_service_validation_error_becomes_400_with_field(admin_api):
    f.locale("de-DE")
    response = admin_api.post("/api/v1/locales/de-DE/status/", {"status": "launched"}, format="json")
    assert response.status_code == 400
    assert "cannot go from planned to launched" in response.json()["error"]["fields"]["status"][0]


def test_not_found_and_unauthenticated_shapes(admin_api):
    assert admin_api.get("/api/v1/locales/xx-YY/").json()["error"]["code"] == "not_found"
    response = APIClient().get("/api/v1/locales/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    unknown = APIClient().get("/api/v1/no-such-thing")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_cursor_pagination_walks_every_locale_once(admin_api):
    tags = [f"de-{t}" for t in ("AT", "BE", "CH", "DE", "IT", "LI", "LU")]
    for tag in tags:
        f.locale(tag)
    seen, url = [], "/api/v1/locales/?page_size=3"
    while url:
        page = admin_api.get(url).json()
        seen += [r["tag"] for r in page["results"]]
        url = page["next"]
    assert seen == sorted(tags)


def test_locale_detail_has_fallback_chain_and_plurals(admin_api):
    f.locale("es-MX")
    body = admin_api.get("/api/v1/locales/es-MX/").json()
    assert body["fallback_chain"] == ["es-MX", "es-419", "es", "und"]
    assert body["plural_cardinal"] == ["one", "many", "other"]


def test_locale_list_filters(admin_api):
    for tag in ("ar-SA", "he-IL", "de-DE", "sr-Cyrl-RS"):
        f.locale(tag)
    rtl = {r["tag"] for r in admin_api.get("/api/v1/locales/?direction=rtl").json()["results"]}
    assert rtl == {"ar-SA", "he-IL"}
    cyrl = {r["tag"] for r in admin_api.get("/api/v1/locales/?script=Cyrl").json()["results"]}
    assert cyrl == {"sr-Cyrl-RS"}
    planned = admin_api.get("/api/v1/locales/?status=launched").json()["results"]
    assert planned == []


def test_openapi_schema_and_offline_docs():
    client = Client()  # API users only: who else may is in tests/access/test_permission_api_docs.py
    client.force_login(f.member("linguist", f.locale("de-DE")))
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/locales/", "/api/v1/me/", "/api/v1/tokens/"} <= set(paths)
    assert "apiToken" in schema.json()["components"]["securitySchemes"]
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in docs
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()


def test_me_lists_roles_per_locale():
    de = f.locale("de-DE")
    user = f.member("linguist", de)
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/v1/me/").json()["roles"] == [
        {"role": "linguist", "role_name": "Linguist", "locale": "de-DE", "proficiency": ""}]


def test_writes_to_unknown_or_slashless_paths_get_json_not_csrf_pages(admin_api):
    f.locale("de-DE")
    assert admin_api.get("/api/v1/locales").status_code == 200  # trailing slash optional
    response = APIClient().post("/api/v1/no-such-thing", {"x": 1}, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_openapi_schema_generates_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
