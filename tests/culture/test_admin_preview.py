"""The template admin: source text beside the target, stored findings inline, a preview with the
key's sample values, filters by status and failing check, and the live preview in Chromium."""
import pytest
from django.test import Client

import factories as f
from parley.culture.models import ResponseTemplate

pytestmark = pytest.mark.django_db

RU_OK = "{count, plural, one {# будильник} few {# будильника} many {# будильников} other {# будильника}}"


@pytest.fixture
def ru():
    en, ru = f.locale("en-US"), f.locale("ru-RU")
    key = f.template_key("alarm_set.confirm", source=en, parameters=[{"name": "count", "type": "number", "sample": 3}])
    source = f.template_text(key, en, "{count, plural, one {# alarm} other {# alarms}} set.", status="approved")
    good = f.template_text(key, ru, RU_OK)
    other = f.template_key("timer.set", source=en, parameters=[{"name": "count", "type": "number"}])
    bad = f.template_text(other, ru, "{count, plural, one {#} other {#}}")
    linguist = f.member("linguist", ru, username="ru-ling")
    client = Client()
    client.force_login(linguist)
    return {"key": key, "source": source, "good": good, "bad": bad, "client": client, "user": linguist}


def test_change_page_shows_source_preview_and_findings(ru):
    page = ru["client"].get(f"/admin/culture/responsetemplate/{ru['good'].pk}/change/").content.decode()
    assert "{count, plural, one {# alarm} other {# alarms}} set." in page  # the source text beside it
    assert "3 будильника" in page and "count=3" in page  # preview with the key's sample
    bad = ru["client"].get(f"/admin/culture/responsetemplate/{ru['bad'].pk}/change/").content.decode()
    assert "template.plural_categories" in bad and "&#x27;few&#x27;" in bad


def test_changelist_filters_by_status_and_failing_check(ru):
    client = ru["client"]
    failing = client.get("/admin/culture/responsetemplate/?failing_check=template.plural_categories").content.decode()
    assert f"/{ru['bad'].pk}/change/" in failing and f"/{ru['good'].pk}/change/" not in failing
    drafts = client.get("/admin/culture/responsetemplate/?status__exact=draft").content.decode()
    assert f"/{ru['bad'].pk}/change/" in drafts and f"/{ru['good'].pk}/change/" in drafts


def test_saving_in_the_admin_goes_through_the_service_and_reports_findings(ru):
    response = ru["client"].post(f"/admin/culture/responsetemplate/{ru['bad'].pk}/change/",
                                 {"body": RU_OK.replace("будильник", "таймер")}, follow=True)
    assert response.status_code == 200
    text = ResponseTemplate.objects.get(pk=ru["bad"].pk)
    assert not text.has_errors and "таймер" in text.body
    from parley.culture.services import template_status_change

    for step in ("in_review", "approved"):
        template_status_change(template=ru["good"], to=step, actor="test")
    refused = ru["client"].post(f"/admin/culture/responsetemplate/{ru['good'].pk}/change/", {"body": "changed"})
    assert "reopen it as a draft" in refused.content.decode()
    assert ResponseTemplate.objects.get(pk=ru["good"].pk).body == RU_OK


@pytest.mark.browser
def test_live_preview_renders_and_lints_as_the_linguist_types(ru, live_server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{live_server.url}/admin/login/")
            page.fill("#id_username", ru["user"].username)
            page.fill("#id_password", "pw-test-1234")
            page.click("input[type=submit]")
            page.goto(f"{live_server.url}/admin/culture/responsetemplate/{ru['good'].pk}/change/")
            panel = page.locator(".parley-template-live")
            expect(panel.locator(".parley-template-rendered")).to_have_text("3 будильника")
            page.fill("textarea.parley-template-body", "{count, plural, one {# будильник} other {# будильника}}")
            expect(panel.locator("li.parley-error")).to_contain_text("template.plural_categories")
            page.fill("textarea.parley-template-body", RU_OK.replace("будильника}}", "будильника}} готово"))
            expect(panel.locator(".parley-template-rendered")).to_have_text("3 будильника готово")
        finally:
            browser.close()


def test_adding_a_text_and_a_holiday_in_the_admin_goes_through_the_services(ru):
    from parley.culture.models import Holiday
    from parley.events.models import Event

    client = ru["client"]
    locale = ru["good"].locale
    other = f.template_key("weather.today", source=ru["source"].locale, parameters=[])
    response = client.post("/admin/culture/responsetemplate/add/", {
        "key": other.pk, "locale": locale.pk, "register": "", "body": "Сегодня солнечно."})
    assert response.status_code == 302, response.content.decode()[-2000:]
    text = ResponseTemplate.objects.get(key=other, locale=locale)
    assert text.status == "draft"
    assert Event.objects.filter(verb="response_template.created", target_id=str(text.pk)).exists()
    response = client.post("/admin/culture/holiday/add/", {
        "locale": locale.pk, "key": "den-zashchitnika", "english_name": "Defender of the Fatherland Day",
        "native_name": "День защитника Отечества", "aliases": "23 февраля", "category": "public", "regions": "",
        "rule": "fixed", "rule_params": '{"month": 2, "day": 23}', "greeting": "", "notes": "",
        "new_date": ""})
    assert response.status_code == 302, response.content.decode()[-3000:]
    holiday = Holiday.objects.get(locale=locale, key="den-zashchitnika")
    assert (holiday.source, holiday.aliases, holiday.rule_params) == ("linguist", ["23 февраля"], {"month": 2, "day": 23})
    bad = client.post("/admin/culture/holiday/add/", {
        "locale": locale.pk, "key": "x", "english_name": "X", "category": "public", "rule": "fixed",
        "rule_params": '{"month": 2, "day": 31}', "aliases": "", "regions": "", "new_date": ""})
    assert bad.status_code == 200 and "has no day 31" in bad.content.decode()


def test_holiday_dates_are_entered_and_removed_in_the_admin(ru):
    from parley.culture.services import holiday_create, holiday_date_add

    locale = ru["good"].locale
    holiday = holiday_create(locale=locale, key="uraza-bayram", english_name="Eid al-Fitr", native_name="Ураза-байрам",
                             rule="explicit", actor="test")
    kept = holiday_date_add(holiday=holiday, date="2026-03-20", actor="test")
    wrong = holiday_date_add(holiday=holiday, date="2026-03-25", actor="test")
    client = ru["client"]
    page = client.get(f"/admin/culture/holiday/{holiday.pk}/change/")
    assert page.status_code == 200 and "2026-03-25" in page.content.decode()
    prefix = "dates"
    data = {"english_name": "Eid al-Fitr", "native_name": "Ураза-байрам", "aliases": "", "category": "public",
            "regions": "", "rule": "explicit", "rule_params": "{}", "greeting": "", "notes": "", "new_date": "",
            f"{prefix}-TOTAL_FORMS": "3", f"{prefix}-INITIAL_FORMS": "2", f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
            f"{prefix}-0-id": str(kept.pk), f"{prefix}-0-holiday": str(holiday.pk),
            f"{prefix}-1-id": str(wrong.pk), f"{prefix}-1-holiday": str(holiday.pk), f"{prefix}-1-DELETE": "on",
            f"{prefix}-2-holiday": str(holiday.pk), f"{prefix}-2-date": "2027-03-10"}
    response = client.post(f"/admin/culture/holiday/{holiday.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert sorted(d.isoformat() for d in holiday.dates.values_list("date", flat=True)) == ["2026-03-20", "2027-03-10"]
    assert holiday.dates.get(date="2027-03-10").entered


def test_holiday_admin_filters_by_region_and_enters_a_regional_date():
    from parley.culture.services import holiday_create, holidays_seed

    de = f.locale("de-DE")
    holidays_seed(locale=de, years=[2026], actor="test")
    client = Client()
    client.force_login(f.member("linguist", de, username="de-ling"))
    saxony = client.get("/admin/culture/holiday/?region=SN").content.decode()
    bavaria = client.get("/admin/culture/holiday/?region=BY").content.decode()
    assert "Buß- und Bettag" in saxony and "Buß- und Bettag" not in bavaria
    assert "Erster Weihnachtstag" in bavaria  # nationwide
    overview = client.get("/admin/culture/holiday/overview/?locale=de-DE&year=2026&region=BY").content.decode()
    assert "in BY" in overview and "Buß- und Bettag" not in overview
    holiday = holiday_create(locale=de, key="kirchweih", english_name="Kermis", regions=["BY", "BW"], actor="test")
    prefix = "dates"
    response = client.post(f"/admin/culture/holiday/{holiday.pk}/change/", {
        "english_name": "Kermis", "native_name": "", "aliases": "", "category": "public", "regions": "BY, BW",
        "rule": "explicit", "rule_params": "{}", "greeting": "", "notes": "", "new_date": "",
        f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000", f"{prefix}-0-holiday": str(holiday.pk),
        f"{prefix}-0-date": "2026-10-18", f"{prefix}-0-regions": "BY"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert holiday.dates.get(date="2026-10-18").regions == ["BY"]


def _date_rows(holiday, rows, **fields):
    """The holiday change form with its date inline: rows are (id or None, date, regions)."""
    prefix = "dates"
    data = {"english_name": holiday.english_name, "native_name": holiday.native_name, "aliases": "",
            "category": holiday.category, "regions": ", ".join(holiday.regions), "rule": holiday.rule,
            "rule_params": "{}", "greeting": "", "notes": "", "new_date": "",
            f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(sum(1 for r in rows if r[0])),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000", **fields}
    for i, (pk, date, regions) in enumerate(rows):
        data.update({f"{prefix}-{i}-holiday": str(holiday.pk), f"{prefix}-{i}-date": date,
                     f"{prefix}-{i}-regions": regions})
        if pk:
            data[f"{prefix}-{i}-id"] = str(pk)
    return data


@pytest.mark.parametrize("tag, regions, problem", [
    ("de-DE", "ZZ", "ZZ not subdivisions of DE"),  # was a 500 from save_formset
    ("de-DE", "BY, Bavaria", "Bavaria not subdivisions of DE"),
    ("ja-JP", "Tok\u0007yo", "holds a control character"),  # JP: no package subdivisions, any code but this
    ("ja-JP", "A\u0000", "Null characters are not allowed"),
    ("ja-JP", "x" * 41, "at most 40 characters"),
])
def test_a_date_with_bad_regions_is_a_form_error_on_the_regions(tag, regions, problem):
    from parley.culture.services import holiday_create

    locale = f.locale(tag)
    client = Client()
    client.force_login(f.member("linguist", locale, username="ling"))
    holiday = holiday_create(locale=locale, key="local-day", english_name="Local day", actor="test")
    response = client.post(f"/admin/culture/holiday/{holiday.pk}/change/",
                           _date_rows(holiday, [(None, "2026-10-18", regions)]))
    assert response.status_code == 200, response.status_code
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert list(errors[0]) == ["regions"] and problem in " ".join(errors[0]["regions"]), errors
    assert not holiday.dates.exists()


def test_a_dates_regions_are_changed_and_cleared_in_the_admin_and_its_date_stays():
    from parley.culture.services import holiday_create, holiday_date_add
    from parley.events.models import Event

    de = f.locale("de-DE")
    client = Client()
    client.force_login(f.member("linguist", de, username="de-ling"))
    holiday = holiday_create(locale=de, key="kirchweih", english_name="Kermis", regions=["BY", "BW"], actor="test")
    row = holiday_date_add(holiday=holiday, date="2026-10-18", regions=["BY"], actor="test")
    response = client.post(f"/admin/culture/holiday/{holiday.pk}/change/",
                           _date_rows(holiday, [(row.pk, "2027-01-01", "BY, BW")]))
    assert response.status_code == 302, response.content.decode()[-3000:]
    row.refresh_from_db()
    assert (row.date.isoformat(), row.regions) == ("2026-10-18", ["BY", "BW"])  # the date is not editable
    response = client.post(f"/admin/culture/holiday/{holiday.pk}/change/",
                           _date_rows(holiday, [(row.pk, "2026-10-18", "")]))
    assert response.status_code == 302, response.content.decode()[-3000:]
    row.refresh_from_db()
    assert row.regions == []
    changes = [e.payload["regions"] for e in Event.objects.filter(verb="holiday.date_changed").order_by("id")]
    assert changes == [{"from": ["BY"], "to": ["BY", "BW"]}, {"from": ["BY", "BW"], "to": []}]
