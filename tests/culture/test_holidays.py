"""Holidays: seeding from the holidays package (territories, a subdivision, native names),
linguists' rules (fixed, Easter, nth weekday, explicit dates for a lunar holiday), the coverage
report, the locale API, and holidays feeding lexicon values and utterance candidates."""
import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from rest_framework.test import APIClient

import factories as f
from parley.culture.holiday_rules import rule_date, rule_params_problem
from parley.culture.models import Holiday, HolidayDate
from parley.culture.selectors import holiday_coverage, holidays_in_year
from parley.culture.services import (holiday_create, holiday_date_add, holiday_lexicon_feed, holiday_update,
                                     holiday_utterances_generate, holidays_materialize, holidays_seed)
from parley.events.models import Event
from parley.nlu.models import LexiconEntry, Utterance

pytestmark = pytest.mark.django_db


def names(locale, year, **kw):
    return {h["key"]: h for h in holidays_in_year(locale=locale, year=year, **kw)}


def test_seeding_germany_gives_native_names_categories_and_a_bavarian_holiday():
    de = f.locale("de-DE")
    result = holidays_seed(locale=de, years=[2026], actor="test")
    assert result["supported"] and result["native_language"] == "de" and result["subdivisions"] == 17
    christmas = Holiday.objects.get(locale=de, key="christmas-day")
    assert (christmas.native_name, christmas.english_name, christmas.category, christmas.regions) == (
        "Erster Weihnachtstag", "Christmas Day", "public", [])
    assert list(christmas.dates.values_list("date", flat=True)) == [dt.date(2026, 12, 25)]
    epiphany = Holiday.objects.get(locale=de, key="epiphany")
    assert epiphany.native_name == "Heilige Drei Könige" and {"BY", "BW", "ST"} <= set(epiphany.regions)
    # In Bavaria, Epiphany is on the list; in Berlin it is not.
    assert "epiphany" in names(de, 2026, region="BY") and "epiphany" not in names(de, 2026, region="BE")
    assert "christmas-day" in names(de, 2026, region="BE")
    assert Event.objects.filter(verb="holidays.seeded", locale_tag="de-DE").exists()


@pytest.mark.parametrize("tag, key, native", [
    ("ja-JP", "new-years-day", "元日"),
    ("ko-KR", "chuseok", "추석"),
    ("fr-FR", "national-day", "Fête nationale"),
    ("ar-SA", "national-day-holiday", "اليوم الوطني"),
])
def test_seeding_other_territories_uses_the_locales_language(tag, key, native):
    loc = f.locale(tag)
    holidays_seed(locale=loc, years=[2026], actor="test")
    assert Holiday.objects.get(locale=loc, key=key).native_name == native


def test_seeding_is_idempotent_and_leaves_corrected_holidays_alone():
    de = f.locale("de-DE")
    holidays_seed(locale=de, years=[2026], actor="test")
    count, dates = Holiday.objects.count(), HolidayDate.objects.count()
    again = holidays_seed(locale=de, years=[2026], actor="test")
    assert (again["created"], again["dates"]) == (0, 0)
    assert (Holiday.objects.count(), HolidayDate.objects.count()) == (count, dates)
    labour = Holiday.objects.get(locale=de, key="labor-day")
    holiday_update(holiday=labour, native_name="Tag der Arbeit", aliases=["Maifeiertag", "Erster Mai"],
                   rule="fixed", rule_params={"month": 5, "day": 1}, actor="test")
    holidays_seed(locale=de, years=[2026, 2027], actor="test")
    labour.refresh_from_db()
    assert (labour.native_name, labour.source, labour.rule) == ("Tag der Arbeit", "linguist", "fixed")
    assert list(labour.dates.values_list("date", flat=True)) == [dt.date(2026, 5, 1), dt.date(2027, 5, 1)]


def test_a_territory_the_package_does_not_know_is_reported_not_invented():
    assert holidays_seed(locale=f.locale("eo"), years=[2026], actor="test")["supported"] is False
    assert not Holiday.objects.exists()


@pytest.mark.parametrize("rule, params, year, expected", [
    ("fixed", {"month": 10, "day": 3}, 2026, dt.date(2026, 10, 3)),
    ("easter", {"offset": -2}, 2026, dt.date(2026, 4, 3)),  # Good Friday
    ("easter", {"offset": 0, "method": "orthodox"}, 2026, dt.date(2026, 4, 12)),
    ("nth_weekday", {"month": 11, "weekday": 3, "n": 4}, 2026, dt.date(2026, 11, 26)),  # Thanksgiving
    ("nth_weekday", {"month": 5, "weekday": 0, "n": -1}, 2026, dt.date(2026, 5, 25)),  # Memorial Day
    ("nth_weekday", {"month": 2, "weekday": 0, "n": 5}, 2026, None),
    ("fixed", {"month": 2, "day": 29}, 2027, None),
])
def test_date_rules(rule, params, year, expected):
    assert rule_params_problem(rule, params) is None
    assert rule_date(rule, params, year) == expected


@pytest.mark.parametrize("rule, params, problem", [
    ("fixed", {"month": 2, "day": 30}, "has no day 30"),
    ("nth_weekday", {"month": 5, "weekday": 7, "n": 1}, "weekday"),
    ("easter", {"offset": 1, "method": "julian"}, "western or orthodox"),
    ("lunar", {}, "unknown rule"),
])
def test_bad_rules_say_why(rule, params, problem):
    assert problem in rule_params_problem(rule, params)


def test_a_lunar_holiday_entered_by_explicit_dates_per_year():
    tr = f.locale("tr-TR")
    holiday = holiday_create(locale=tr, key="ramazan-bayrami-announced", english_name="Eid al-Fitr",
                             native_name="Ramazan Bayramı", aliases=["Şeker Bayramı"], category="religious",
                             rule="explicit", greeting="Bayramınız mübarek olsun", actor="test")
    for day in ("2026-03-20", "2026-03-21", "2026-03-22", "2027-03-09"):
        holiday_date_add(holiday=holiday, date=day, actor="test")
    assert [h["dates"] for h in holidays_in_year(locale=tr, year=2026)
            if h["key"] == holiday.key] == [["2026-03-20", "2026-03-21", "2026-03-22"]]
    result = holidays_materialize(locale=tr, years=[2026, 2027, 2028], actor="test")
    assert result["explicit_missing"] == ["ramazan-bayrami-announced 2028"]
    assert holiday.dates.filter(entered=True).count() == 4  # materializing never touches entered dates
    with pytest.raises(ValidationError):
        holiday_date_add(holiday=holiday, date="20.03.2026", actor="test")


def test_a_linguists_rule_holiday_gets_dates_for_materialized_years():
    us = f.locale("en-US")
    holidays_materialize(locale=us, years=[2026], actor="test")
    day = holiday_create(locale=us, key="founders-day", english_name="Founders' Day", native_name="Founders' Day",
                         category="observance", rule="nth_weekday", rule_params={"month": 5, "weekday": 6, "n": 2},
                         actor="test")
    assert list(day.dates.values_list("date", flat=True)) == [dt.date(2026, 5, 10)]
    with pytest.raises(ValidationError) as caught:
        holiday_create(locale=us, key="x", english_name="X", rule="fixed", rule_params={"month": 13, "day": 1},
                       actor="test")
    assert "rule_params" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        holiday_create(locale=us, key="y", english_name="Y", regions=["ZZ"], actor="test")
    assert "not subdivisions of US" in str(caught.value)


def test_coverage_report_lists_what_is_missing():
    de, ja, fr = f.locale("de-DE"), f.locale("ja-JP"), f.locale("fr-FR")
    holidays_materialize(locale=de, years=[2026], actor="test")
    holiday_create(locale=ja, key="tanabata", english_name="Tanabata", rule="explicit", actor="test")
    report = holiday_coverage(years=[2026, 2027])
    assert report["locales_without_holidays"] == ["fr-FR"]
    rows = {r["locale"]: r for r in report["locales"]}
    assert rows["de-DE"]["years_not_materialized"] == [2027]
    assert rows["de-DE"]["without_native_name"] == []
    assert rows["ja-JP"]["without_native_name"] == ["tanabata"]
    assert rows["ja-JP"]["explicit_dates_missing"] == ["tanabata 2026", "tanabata 2027"]
    assert rows["ja-JP"]["years_not_materialized"] == [2026, 2027]
    assert holiday_coverage(locale_ids=[de.pk], years=[2026])["locales_without_holidays"] == []


def test_holidays_seed_command_and_locale_api(capsys):
    de = f.locale("de-DE")
    call_command("holidays_seed", "--locale", "de-DE", "--years", "2026-2027")
    assert "de-DE:" in capsys.readouterr().out
    client = APIClient()
    client.force_authenticate(f.member("linguist", de, username="ling"))
    response = client.get("/api/v1/locales/de-DE/holidays?year=2027")
    assert response.status_code == 200, response.content
    body = response.json()
    unity = next(h for h in body["results"] if h["key"] == "german-unity-day")
    assert (unity["native_name"], unity["dates"], body["year"]) == ("Tag der Deutschen Einheit", ["2027-10-03"], 2027)
    regional = client.get("/api/v1/locales/de-DE/holidays?year=2027&region=BY").json()["results"]
    assert "epiphany" in {h["key"] for h in regional}
    assert client.get("/api/v1/locales/de-DE/holidays?year=nope").status_code == 400


def test_seed_api_runs_as_a_task_run(django_capture_on_commit_callbacks):
    de = f.locale("de-DE")
    client = APIClient()
    client.force_authenticate(f.member("locale_lead", de, username="lead"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/locales/de-DE/holidays/seed", {"years": [2026]}, format="json")
    assert response.status_code == 202, response.content
    run = client.get(response.json()["url"]).json()
    assert run["status"] == "succeeded" and run["result"]["created"] > 10
    assert Holiday.objects.filter(locale=de).count() == run["result"]["created"]


def test_holidays_feed_the_lexicon():
    de = f.locale("de-DE")
    f.catalogued("holiday_name")
    holidays_seed(locale=de, years=[2026], actor="test")
    christmas = Holiday.objects.get(locale=de, key="christmas-day")
    holiday_update(holiday=christmas, aliases=["Weihnachten", "erster Feiertag"], actor="test")
    without = holiday_lexicon_feed(locale=de, slot_type_name="holiday_name", actor="test", create_concepts=False)
    assert "christmas-day" in without["no_concept"] and without["created"] == 0
    fed = holiday_lexicon_feed(locale=de, slot_type_name="holiday_name", actor="test", create_concepts=True)
    entry = LexiconEntry.objects.get(concept__key="christmas-day", locale=de)
    assert (entry.value, entry.synonyms) == ("Erster Weihnachtstag", ["Weihnachten", "erster Feiertag"])
    assert fed["created"] == Holiday.objects.filter(locale=de).count()
    again = holiday_lexicon_feed(locale=de, slot_type_name="holiday_name", actor="test", create_concepts=True)
    assert (again["created"], again["updated"]) == (0, 0)
    with pytest.raises(ValidationError) as caught:
        holiday_lexicon_feed(locale=de, slot_type_name="date", actor="test", create_concepts=True)
    assert "no slot type" in str(caught.value) or "open slot type" in str(caught.value)


def test_holidays_become_submitted_utterance_candidates_not_dataset_rows():
    de = f.locale("de-DE")
    intent = f.intent("calendar_query", "calendar", slots=["event_name", "date"])
    holiday_create(locale=de, key="nikolaus", english_name="St Nicholas Day", native_name="Nikolaustag",
                   aliases=["Nikolaus"], category="observance", rule="fixed", rule_params={"month": 12, "day": 6},
                   actor="test")
    result = holiday_utterances_generate(locale=de, intent=intent, actor="test")
    assert result["created"] == 4  # two names × two patterns
    rows = Utterance.objects.filter(locale=de, source="holiday-generated").order_by("external_id")
    assert {r.status for r in rows} == {"submitted"} and {r.partition for r in rows} == {"unassigned"}
    assert rows[0].annotated == "wann ist [event_name : nikolaustag]"
    assert rows[1].annotated == "auf welchen tag fällt [event_name : nikolaustag] [date : dieses jahr]"
    assert rows[0].slots == [{"type": "event_name", "value": "nikolaustag", "start": 9, "end": 20}]
    assert Event.objects.filter(verb="utterance.created", target_id=str(rows[0].pk)).exists()
    assert holiday_utterances_generate(locale=de, intent=intent, actor="test") == {
        "created": 0, "skipped": 4, "patterns": result["patterns"]}
    with pytest.raises(ValidationError) as caught:
        holiday_utterances_generate(locale=de, intent=intent, actor="test", patterns=["wann [ist {holiday}"])
    assert "nikolaus" in str(caught.value)
    assert Utterance.objects.filter(source="holiday-generated").count() == 4


def test_holiday_api_enters_and_removes_dates_and_answers_with_them():
    ar = f.locale("ar-SA")
    client = APIClient()
    client.force_authenticate(f.member("linguist", ar, username="ar-ling"))
    created = client.post("/api/v1/holidays/", {"locale": "ar-SA", "english_name": "Eid al-Fitr",
                                                "native_name": "عيد الفطر", "category": "religious",
                                                "rule": "explicit", "greeting": "عيد مبارك"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["key"] == "eid-al-fitr" and created.json()["source"] == "linguist"
    added = client.post(f"/api/v1/holidays/{pk}/dates/", {"date": "2026-03-20"}, format="json")
    assert added.status_code == 200 and added.json()["dates"] == ["2026-03-20"]
    removed = client.post(f"/api/v1/holidays/{pk}/dates/", {"date": "2026-03-20", "remove": True}, format="json")
    assert removed.json()["dates"] == []
    bad = client.patch(f"/api/v1/holidays/{pk}/", {"rule": "nth_weekday", "rule_params": {"month": 3}},
                       format="json")
    assert bad.status_code == 400 and "rule_params" in bad.json()["error"]["fields"]


# --- regions (issue 14): a region gets its own dates, not the union of every subdivision's ---------

def _christmas_break(days):
    return [d for d in days if d.startswith("2026-12") or d.startswith("2026-01")]


def test_a_region_gets_its_own_dates_of_a_holiday_whose_dates_differ_by_subdivision():
    import holidays as package

    de = f.locale("de-DE")
    holidays_seed(locale=de, years=[2026], actor="test")
    # What the package gives Bavaria, asked directly (school category: Christmas Break).
    bavaria = package.country_holidays("DE", subdiv="BY", years=2026, categories=("school",))
    expected = sorted(d.isoformat() for d, name in bavaria.items() if name == "Christmas Break")
    assert len(expected) == 13
    by = names(de, 2026, region="BY")["christmas-break"]
    assert by["dates"] == expected
    everywhere = names(de, 2026)["christmas-break"]
    assert len(everywhere["dates"]) == 21  # the union of the 16 states
    assert "BY" in everywhere["date_regions"]["2026-12-24"]
    # A national holiday is in every region; a regional one only in its own.
    assert names(de, 2026, region="BY")["christmas-day"]["dates"] == ["2026-12-25"]
    assert "repentance-and-prayer-day" not in names(de, 2026, region="BY")
    assert names(de, 2026, region="SN")["repentance-and-prayer-day"]["dates"] == ["2026-11-18"]


def test_region_api_answers_the_regions_dates_and_refuses_an_unknown_region():
    de = f.locale("de-DE")
    holidays_seed(locale=de, years=[2026], actor="test")
    client = APIClient()
    client.force_authenticate(f.member("linguist", de, username="ling"))
    body = client.get("/api/v1/locales/de-DE/holidays?year=2026&region=BY").json()
    breaks = next(h for h in body["results"] if h["key"] == "christmas-break")
    assert len(breaks["dates"]) == 13 and body["region"] == "BY"
    # The ISO 3166-2 form and another case name the same subdivision.
    assert client.get("/api/v1/locales/de-DE/holidays?year=2026&region=de-by").json()["region"] == "BY"
    assert client.get("/api/v1/locales/de-DE/holidays?year=2026&region=Bayern").json()["region"] == "BY"
    bad = client.get("/api/v1/locales/de-DE/holidays?year=2026&region=XX")
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert list(error["fields"]) == ["region"] and "BY" in error["fields"]["region"][0] \
        and "NW" in error["fields"]["region"][0]
    # The holiday list filters by region too, and the overview answers the region's dates.
    listed = client.get("/api/v1/holidays/?locale=de-DE&region=BY&key=repentance-and-prayer-day").json()
    assert listed["results"] == []
    listed = client.get("/api/v1/holidays/?locale=de-DE&region=SN&key=repentance-and-prayer-day").json()
    assert [h["key"] for h in listed["results"]] == ["repentance-and-prayer-day"]
    assert client.get("/api/v1/holidays/?locale=de-DE&region=XX").status_code == 400
    overview = client.get("/api/v1/locales/de-DE/culture?year=2026&region=BY").json()
    assert len(next(h for h in overview["holidays"] if h["key"] == "christmas-break")["dates"]) == 13


def test_reseeding_gives_dates_seeded_before_regions_their_regions():
    de = f.locale("de-DE")
    holidays_seed(locale=de, years=[2026], actor="test")
    HolidayDate.objects.update(regions=[])  # as stored before dates had regions
    assert len(names(de, 2026, region="BY")["christmas-break"]["dates"]) == 21
    holidays_seed(locale=de, years=[2026], actor="test")
    assert len(names(de, 2026, region="BY")["christmas-break"]["dates"]) == 13


def test_an_entered_date_can_hold_in_some_regions_only():
    de = f.locale("de-DE")
    holiday = holiday_create(locale=de, key="kirchweih", english_name="Kermis", regions=["BY", "BW"], actor="test")
    holiday_date_add(holiday=holiday, date="2026-10-18", regions=["BY"], actor="test")
    holiday_date_add(holiday=holiday, date="2026-10-25", actor="test")
    assert names(de, 2026, region="BY")["kirchweih"]["dates"] == ["2026-10-18", "2026-10-25"]
    assert names(de, 2026, region="BW")["kirchweih"]["dates"] == ["2026-10-25"]
    assert "kirchweih" not in names(de, 2026, region="BE")
    holiday_date_add(holiday=holiday, date="2026-10-25", regions=["BW"], actor="test")  # a correction
    assert names(de, 2026, region="BY")["kirchweih"]["dates"] == ["2026-10-18"]
    assert Event.objects.get(verb="holiday.date_changed").payload["regions"] == {"from": [], "to": ["BW"]}
    with pytest.raises(ValidationError) as error:
        holiday_date_add(holiday=holiday, date="2026-10-19", regions=["ZZ"], actor="test")
    assert "regions" in error.value.message_dict


# --- a date's regions through the API (review of issues 14/15, finding 9) ----------------------------

def _dates_client(tag, username):
    client = APIClient()
    client.force_authenticate(f.member("linguist", f.locale(tag), username=username))
    return client


@pytest.mark.parametrize("tag, body, field", [
    ("ja-JP", {"date": "2026-05-03", "regions": ["A\u0000"]}, "regions"),  # no package subdivisions: was a 500
    ("ja-JP", {"date": "2026-05-03", "regions": ["\ud800"]}, "regions"),  # a lone surrogate
    ("ja-JP", {"date": "2026-05-03", "regions": ["Tok\u0007yo"]}, "regions"),
    ("ja-JP", {"date": "2026-05-03", "regions": ["x" * 41]}, "regions"),
    ("ja-JP", {"date": "2026-05-03", "regions": "13"}, "regions"),
    ("ja-JP", {"date": "2026-05-03", "regions": [["13"]]}, "regions"),
    ("ja-JP", {"date": "2026-05-03", "regions": [" "]}, "regions"),
    ("de-DE", {"date": "2026-05-03", "regions": ["ZZ"]}, "regions"),  # not a subdivision of DE
    ("de-DE", {"date": "2026-05-03", "regions": ["BY", None]}, "regions"),
    ("de-DE", {"date": "3 May", "regions": ["BY"]}, "date"),
    ("de-DE", {"date": "2026-05-03", "remove": "perhaps"}, "remove"),
])
def test_bad_date_regions_are_a_400_naming_the_field(tag, body, field):
    client = _dates_client(tag, "ling")
    holiday = holiday_create(locale=f.locale(tag), key="local-day", english_name="Local day", actor="test")
    # Sent as a pipeline sends it: JSON with escapes (a lone surrogate cannot be encoded otherwise).
    response = client.post(f"/api/v1/holidays/{holiday.pk}/dates/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == [field]
    assert not holiday.dates.exists()


def test_a_dates_regions_are_set_kept_and_cleared_through_the_api():
    client = _dates_client("de-DE", "ling")
    holiday = holiday_create(locale=f.locale("de-DE"), key="kirchweih", english_name="Kermis", regions=["BY", "BW"],
                             actor="test")
    url = f"/api/v1/holidays/{holiday.pk}/dates/"
    assert client.post(url, {"date": "2026-10-18", "regions": ["BY"]}, format="json").json()["date_regions"] == {
        "2026-10-18": ["BY"]}
    kept = client.post(url, {"date": "2026-10-18"}, format="json")  # no regions: kept
    assert kept.status_code == 200 and kept.json()["date_regions"] == {"2026-10-18": ["BY"]}
    cleared = client.post(url, {"date": "2026-10-18", "regions": []}, format="json")
    assert cleared.status_code == 200 and cleared.json()["date_regions"] == {}
    assert holiday.dates.get(date="2026-10-18").regions == []
    assert Event.objects.filter(verb="holiday.date_changed").last().payload["regions"] == {"from": ["BY"], "to": []}
    # A territory without package subdivisions takes any code it can store.
    jp = _dates_client("ja-JP", "jp-ling")
    kodomo = holiday_create(locale=f.locale("ja-JP"), key="local-day", english_name="Local day", actor="test")
    response = jp.post(f"/api/v1/holidays/{kodomo.pk}/dates/", {"date": "2026-05-05", "regions": ["13", "Tokyo"]},
                       format="json")
    assert response.status_code == 200 and response.json()["date_regions"] == {"2026-05-05": ["13", "Tokyo"]}
