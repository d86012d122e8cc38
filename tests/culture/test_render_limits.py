"""Rendering along the fallback chain and at the edges (issues 14 and 15): the text may come
from a parent locale but numbers, dates and plurals follow the requested one; dates before the
Gregorian calendar, year 1, year 9999, huge numbers and deeply nested ICU texts are 400s in the
API's error shape naming the field, never 500s."""
import pytest
from rest_framework.test import APIClient

import factories as f
from parley.culture import messageformat as mf
from parley.culture.checks import NestingDepth
from parley.culture.models import ResponseTemplate
from parley.culture.selectors import template_render

pytestmark = pytest.mark.django_db

RENDER = "/api/v1/templates/calendar.when/render"


def nested(depth: int) -> str:
    return "{day, select, other {" * depth + "x" + "}}" * depth


@pytest.fixture
def world():
    en, de, at = f.locale("en-US"), f.locale("de"), f.locale("de-AT")
    key = f.template_key("calendar.when", source=en, parameters=[{"name": "day", "type": "date"},
                                                                 {"name": "count", "type": "number"}])
    f.template_text(key, de, "Am {day, date, long}: {count, number} {count, plural, one {Termin} other {Termine}}.",
                    status="approved")
    client = APIClient()
    client.force_authenticate(f.member("pipeline", None, username="pipe"))
    return {"key": key, "de": de, "at": at, "client": client}


def render(world, day, *, count=1, tag="de", **extra):
    return world["client"].post(RENDER, {"locale": tag, "parameters": {"day": day, "count": count}, **extra},
                                format="json")


# --- formats along the fallback chain ------------------------------------------------------------

def test_a_text_from_the_parent_is_formatted_with_the_requested_locales_cldr_data(world):
    response = render(world, "2026-01-05", count=1234.5, tag="de-AT")
    assert response.status_code == 200, response.content
    body = response.json()
    # de-AT's CLDR data: "Jänner" and a no-break space between thousands; de says "Januar" and "1.234,5".
    assert body["text"] == "Am 5. Jänner 2026: 1\u00a0234,5 Termine."
    assert (body["text_locale"], body["format_locale"], body["locale"]) == ("de", "de-AT", "de")
    assert any("used de" in w for w in body["warnings"])
    own = render(world, "2026-01-05", count=1234.5).json()
    assert own["text"] == "Am 5. Januar 2026: 1.234,5 Termine."
    assert (own["text_locale"], own["format_locale"]) == ("de", "de")


def test_the_warm_render_of_a_fallback_text_is_formatted_per_requested_locale(world):
    # Both locales share de's one copy of the key's texts; the compiled formats differ.
    at = template_render(key="calendar.when", locale=world["at"], register=None,
                         parameters={"day": "2026-01-05", "count": 1})
    de = template_render(key="calendar.when", locale=world["de"], register=None,
                         parameters={"day": "2026-01-05", "count": 1})
    assert (at.text, de.text) == ("Am 5. Jänner 2026: 1 Termin.", "Am 5. Januar 2026: 1 Termin.")


# --- dates at the edges ----------------------------------------------------------------------------

@pytest.mark.parametrize("day", ["1582-10-14", "1582-10-04", "0001-01-01", "0001-01-01T00:00:00", "1500-02-28"])
def test_a_date_before_the_gregorian_calendar_is_refused_naming_the_parameter(world, day):
    # ICU would say 1582-10-14 as "4. Oktober 1582" (Julian); Python's date is proleptic Gregorian.
    response = render(world, day)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == ["parameters.day"]
    assert "1582-10-15" in error["fields"]["parameters.day"][0]


def test_the_first_gregorian_day_and_year_9999_are_said(world):
    assert render(world, "1582-10-15").json()["text"] == "Am 15. Oktober 1582: 1 Termin."
    assert render(world, "9999-12-31").json()["text"] == "Am 31. Dezember 9999: 1 Termin."


def test_a_date_time_that_leaves_year_9999_in_the_asked_zone_names_the_zone(world):
    response = render(world, "9999-12-31T23:00:00-05:00", time_zone="Europe/Berlin")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == ["time_zone"]


@pytest.mark.parametrize("count", ["1e999999", "NaN", "-Infinity", 10**30])
def test_a_huge_or_non_finite_number_is_refused_naming_the_parameter(world, count):
    response = render(world, "2026-01-05", count=count)
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == ["parameters.count"]


# --- nesting ----------------------------------------------------------------------------------------

def test_the_nesting_bound_is_the_one_the_check_describes():
    assert str(mf.MAX_NESTING) in str(NestingDepth.description)
    assert len(mf.parse(nested(mf.MAX_NESTING)).arguments()) == mf.MAX_NESTING
    with pytest.raises(mf.NestingTooDeep) as error:
        mf.parse(nested(mf.MAX_NESTING + 1))
    assert error.value.position == len("{day, select, other {") * mf.MAX_NESTING


@pytest.mark.parametrize("depth", [mf.MAX_NESTING + 1, 5000])
def test_saving_a_text_nested_too_deep_is_a_400_naming_the_body(world, depth):
    client = APIClient()
    client.force_authenticate(f.member("linguist", world["at"], username="at-ling"))
    response = client.post("/api/v1/response-templates/", {"key": "calendar.when", "locale": "de-AT",
                                                           "body": nested(depth)}, format="json")
    assert response.status_code == 400, response.content[:500]
    assert list(response.json()["error"]["fields"]) == ["body"]
    assert not ResponseTemplate.objects.filter(locale=world["at"]).exists()
    preview = client.post("/api/v1/response-templates/preview/", {"key": "calendar.when", "locale": "de-AT",
                                                                  "body": nested(depth)}, format="json")
    assert preview.status_code == 200, preview.content[:500]
    found = {x["check"] for x in preview.json()["findings"]}
    assert "template.nesting_depth" in found and "template.icu_syntax" not in found
    ok = client.post("/api/v1/response-templates/", {"key": "calendar.when", "locale": "de-AT",
                                                     "body": nested(mf.MAX_NESTING)}, format="json")
    assert ok.status_code == 201, ok.content


@pytest.mark.parametrize("depth", [mf.MAX_NESTING + 1, 5000])
def test_rendering_a_stored_text_nested_too_deep_is_a_400_naming_the_body(world, depth):
    # Stored before the bound existed (or by hand): the render guard refuses it.
    ResponseTemplate.objects.filter(locale=world["de"]).update(body=nested(depth))
    response = render(world, "2026-01-05")
    assert response.status_code == 400, response.content[:500]
    assert list(response.json()["error"]["fields"]) == ["body"]


@pytest.mark.parametrize("sample, kind", [("1582-10-04", "date"), ("many", "number"), ("1e999999", "number")])
def test_a_key_sample_no_preview_could_render_is_refused_by_position(sample, kind):
    client = APIClient()
    client.force_authenticate(f.member("platform_admin", None, username="admin"))
    f.locale("en-US")
    response = client.post("/api/v1/template-keys/", {"key": "timer.set", "source_locale": "en-US", "parameters": [
        {"name": "n", "type": kind, "sample": sample}]}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]["parameters"][0].startswith("parameters[0].sample")
