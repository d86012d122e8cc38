"""The schema tells the truth (issue 15, finding 17): what the fuzz run found, pinned as plain tests
so each runs in SQLite mode too."""
import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api():
    client = APIClient()
    client.force_authenticate(f.member("platform_admin", None))
    return client


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize("value", ["null", "abc", "0", "-5", "1001", "1.5", "٣", "9" * 30])
def test_page_size_outside_the_documented_range_is_a_400(admin_api, value):
    f.locale("de-DE")
    response = admin_api.get(f"/api/v1/locales/?page_size={value}")
    assert response.status_code == 400, response.content[:200]
    assert list(response.json()["error"]["fields"]) == ["page_size"]


def test_page_size_twice_is_a_400_and_a_valid_one_pages(admin_api):
    for tag in ("de-DE", "de-AT", "de-CH"):
        f.locale(tag)
    assert admin_api.get("/api/v1/locales/?page_size=1&page_size=2").status_code == 400
    assert len(admin_api.get("/api/v1/locales/?page_size=2").json()["results"]) == 2


def test_page_size_range_is_in_the_schema(schema):
    parameter = next(p for p in schema["paths"]["/api/v1/locales/"]["get"]["parameters"] if p["name"] == "page_size")
    assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == (1, 1000)


def test_unknown_check_kind_is_a_400_not_every_check(admin_api):
    response = admin_api.get("/api/v1/checks/?applies_to=AAA")
    assert response.status_code == 400 and "applies_to" in response.json()["error"]["fields"]
    assert admin_api.get("/api/v1/checks/?applies_to=utterance").status_code == 200


def test_a_locale_without_parent_and_a_campaign_without_source_locale_match_their_schema(admin_api, schema):
    components = schema["components"]["schemas"]
    assert components["LocaleDetail"]["properties"]["parent"].get("nullable") is True
    assert components["Campaign"]["properties"]["source_locale"].get("nullable") is True
    f.locale("de-DE")
    assert admin_api.get("/api/v1/locales/de-DE/").json()["parent"] is None


def test_every_operation_documents_the_error_shape(schema):
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"error"}
    missing = [(method, path, code) for path, item in schema["paths"].items() for method, op in item.items()
               for code in ("400", "401", "403", "404") if code not in op["responses"]]
    assert missing == []
    with_body = [op for item in schema["paths"].values() for op in item.values() if "requestBody" in op]
    assert with_body and all({"413", "415"} <= set(op["responses"]) for op in with_body)


def test_holiday_with_a_key_longer_than_a_concept_key_is_a_400_when_fed_to_the_lexicon(admin_api):
    """Found by the schema fuzz run: a 120-character holiday key reached an 80-character column."""
    from parley.culture.services import holiday_create

    de = f.locale("de-DE")
    f.lexicon_entry(f.concept("event_name", "x"), de, "x")  # makes event_name catalogued
    holiday_create(locale=de, key="k" * 120, english_name="Long day", actor="test")
    response = admin_api.post("/api/v1/locales/de-DE/holidays/lexicon/", {"slot_type": "event_name"}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "longer than 80 characters" in response.json()["error"]["fields"]["key"][0]


def test_responses_found_undocumented_by_the_fuzz_run_are_in_the_schema(schema):
    paths = schema["paths"]
    assert list(paths["/api/v1/collection/campaigns/{id}/judgments/"]["get"]["responses"]["200"]["content"]) == [
        "text/csv"]
    progress = paths["/api/v1/collection/campaigns/{id}/progress/"]["get"]["responses"]["200"]
    assert progress["content"]["application/json"]["schema"]["$ref"].endswith("/CampaignProgress")
    for upsert in ("coverage-targets", "intent-guides", "slot-type-guides"):
        assert {"200", "201"} <= set(paths[f"/api/v1/{upsert}/"]["post"]["responses"])
    assert {"200", "201"} <= set(paths["/api/v1/locales/{tag}/holidays/utterances/"]["post"]["responses"])
    assert "200" in paths["/api/v1/feedback/events/"]["post"]["responses"]
    download = paths["/api/v1/releases/{id}/download/"]["get"]["responses"]["200"]["content"]
    assert {"application/gzip", "application/x-ndjson", "application/x-yaml", "application/json"} == set(download)
    lexicon = paths["/api/v1/lexicon/export/"]["get"]["responses"]["200"]["content"]
    assert lexicon["application/json"]["schema"]["type"] == "array"


@pytest.mark.parametrize("value", ["maybe", "9007199254740992.0", "1", ""])
def test_a_boolean_filter_refuses_what_it_would_ignore(admin_api, value):
    response = admin_api.get(f"/api/v1/feedback/clusters/?escalated={value}")
    assert response.status_code == 400, response.content[:200]
    assert list(response.json()["error"]["fields"]) == ["escalated"]


def test_a_boolean_filter_takes_true_and_false(admin_api):
    for value in ("true", "false", "True", "False"):
        assert admin_api.get(f"/api/v1/feedback/clusters/?escalated={value}").status_code == 200


def test_holiday_seed_body_is_optional_in_the_schema(schema):
    body = schema["paths"]["/api/v1/locales/{tag}/holidays/seed/"]["post"].get("requestBody", {})
    assert not body.get("required")
