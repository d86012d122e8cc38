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


# --- negative data (schemathesis's negative_data_rejection) --------------------------------------

@pytest.mark.parametrize("query", ["direction=", "status=", "direction=%20"])
def test_an_empty_choice_filter_is_a_400_not_no_filter(admin_api, query):
    f.locale("de-DE")
    response = admin_api.get(f"/api/v1/locales/?{query}")
    assert response.status_code == 400, response.content[:200]
    assert list(response.json()["error"]["fields"]) == [query.split("=")[0]]


def test_an_empty_number_filter_is_a_400_and_an_empty_text_filter_is_no_filter(admin_api):
    f.locale("de-DE")
    response = admin_api.get("/api/v1/feedback/paraphrases/?min_support=")
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["min_support"]
    assert len(admin_api.get("/api/v1/locales/?q=").json()["results"]) == 1
    assert admin_api.get("/api/v1/locales/?direction=ltr").status_code == 200


@pytest.mark.parametrize("path, name", [("/api/v1/coverage/?view=", "view"), ("/api/v1/coverage/?output=", "output"),
                                        ("/api/v1/coverage/?output=xml", "output"),
                                        ("/api/v1/lexicon/export/?output=", "output"),
                                        ("/api/v1/checks/?applies_to=", "applies_to")])
def test_an_empty_or_unknown_enum_parameter_of_a_view_is_a_400(admin_api, path, name):
    response = admin_api.get(path)
    assert response.status_code == 400, response.content[:200]
    assert list(response.json()["error"]["fields"]) == [name]


def test_enum_parameters_of_a_view_still_take_their_values_and_their_absence(admin_api):
    for path in ("/api/v1/coverage/", "/api/v1/coverage/?view=targets", "/api/v1/coverage/?output=json",
                 "/api/v1/lexicon/export/?output=json", "/api/v1/checks/"):
        assert admin_api.get(path).status_code == 200, path
    assert admin_api.get("/api/v1/coverage/?output=csv")["Content-Type"].startswith("text/csv")


def _multipart(client, method, path, body: bytes, boundary="b0undary"):
    return client.generic(method, path, body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("body", [
    b"-8136--b0undary--\r\n",  # found by the fuzz run: no boundary line, so no part
    b"kind=catalogued",  # a urlencoded body sent as multipart
    b'--b0undary\r\nContent-Type: text/plain\r\n\r\ncatalogued\r\n--b0undary--\r\n',  # a part without a name
])
def test_a_multipart_body_that_is_not_a_form_is_a_400_not_a_no_op(admin_api, body):
    f.intent("alarm_set", "alarm", slots=("time",))
    response = _multipart(admin_api, "PATCH", "/api/v1/slot-types/time/", body)
    assert response.status_code == 400, response.content[:200]
    assert "multipart" in response.json()["error"]["message"].lower()


def test_an_empty_multipart_form_is_a_form_without_fields(admin_api):
    f.intent("alarm_set", "alarm", slots=("time",))
    assert _multipart(admin_api, "PATCH", "/api/v1/slot-types/time/", b"--b0undary--\r\n").status_code == 200


def test_a_form_field_with_an_empty_name_is_a_400(admin_api):
    f.intent("alarm_set", "alarm", slots=("time",))
    body = b'--b0undary\r\nContent-Disposition: form-data; name=""\r\n\r\ncatalogued\r\n--b0undary--\r\n'
    assert _multipart(admin_api, "PATCH", "/api/v1/slot-types/time/", body).status_code == 400
    response = admin_api.generic("PATCH", "/api/v1/slot-types/time/", "=catalogued",
                                 content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "empty name" in response.json()["error"]["message"]


def test_form_bodies_document_that_an_empty_value_is_null_or_not_given(admin_api, schema):
    """DRF reads an empty form value as null (nullable) or "not given" (optional): a form cannot
    send null. JSON keeps "" and refuses it where text is needed; the form schema says so."""
    components, paths = schema["components"]["schemas"], schema["paths"]
    patch = paths["/api/v1/slot-types/{name}/"]["patch"]["requestBody"]["content"]
    assert patch["application/json"]["schema"]["$ref"].endswith("/PatchedSlotTypeWriteRequest")
    form = patch["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert patch["application/x-www-form-urlencoded"]["schema"]["$ref"].endswith(f"/{form}")
    assert {"type": "string", "maxLength": 0} .items() <= components[form]["properties"]["name"]["anyOf"][1].items()
    assert components[form]["properties"]["description"] == {"type": "string"}  # takes "" already
    rule = components["PromotionRuleRequestForm"]["properties"]
    assert "anyOf" in rule["locale"] and "anyOf" not in rule["source"]  # source is required
    f.intent("alarm_set", "alarm", slots=("time",))
    assert admin_api.patch("/api/v1/slot-types/time/", {"name": ""}, format="json").status_code == 400
    response = admin_api.patch("/api/v1/slot-types/time/", {"name": "", "kind": "open"}, format="multipart")
    assert response.status_code == 200 and response.json()["name"] == "time"


@pytest.mark.parametrize("years", [[2101, 1934, 1993], [1993, 2101], "2026"])
def test_holiday_seed_checks_every_posted_year(admin_api, years):
    """Found by the fuzz run: a form's repeated `years` was read as its last value only, so 2101
    (over the documented maximum) was accepted; JSON `"2026"` (not a list) was split by commas."""
    f.locale("de-DE")
    form = admin_api.post("/api/v1/locales/de-DE/holidays/seed/", {"years": years}, format="multipart")
    as_json = admin_api.post("/api/v1/locales/de-DE/holidays/seed/", {"years": years}, format="json")
    if isinstance(years, str):  # a form cannot tell one value from a list of one
        assert as_json.status_code == 400 and form.status_code == 202, form.content[:200]
    else:
        assert form.status_code == 400 and as_json.status_code == 400, form.content[:200]
        assert "years" in form.json()["error"]["fields"]


def test_holiday_utterances_body_goes_through_its_serializer(admin_api):
    """The same class as the seed: `patterns` read with request.data.get took a string for a list
    (and a form's last pattern only)."""
    f.locale("de-DE")
    response = admin_api.post("/api/v1/locales/de-DE/holidays/utterances/",
                              {"patterns": "wann ist {holiday}"}, format="json")
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["patterns"]
