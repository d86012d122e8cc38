"""Response templates: the checks (each catching its bad template), the review lifecycle with
events and stored results, register fallback along the locale chain, and ICU rendering."""
import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

import factories as f
from parley.checks.models import CheckResult
from parley.checks.registry import CheckContext
from parley.culture import messageformat as mf
from parley.culture.models import ResponseTemplate
from parley.culture.selectors import TemplateNotFound, template_render, template_resolve
from parley.culture.services import template_evaluate, template_save, template_status_change
from parley.events.models import Event

pytestmark = pytest.mark.django_db

RU_OK = "{count, plural, one {# будильник} few {# будильника} many {# будильников} other {# будильника}}"
AR_OK = ("{count, plural, zero {لا منبهات} one {منبه واحد} two {منبهان} few {# منبهات} many {# منبهًا} "
         "other {# منبه}}")


@pytest.fixture
def locales():
    return {tag: f.locale(tag) for tag in ("en-US", "de-DE", "ru-RU", "ar-SA", "ja-JP")}


@pytest.fixture
def key(locales):
    return f.template_key("alarm_set.confirm", source=locales["en-US"], parameters=[
        {"name": "count", "type": "number", "sample": 3}])


def findings_of(key, loc, body, register=""):
    candidate = ResponseTemplate(key=key, locale=loc, register=register, body=body)
    return template_evaluate(template=candidate)


def ids(findings, severity=None):
    return {x.check_id for x in findings if severity is None or x.severity.value == severity}


# --- the pattern walker -----------------------------------------------------------------------

def test_walker_finds_arguments_branches_and_text_with_positions():
    pattern = mf.parse("Hi '{name}' {name}, {n, plural, =0 {none} one {# x} other {{n, number} y}}")
    args = pattern.arguments()
    assert [(a.name, a.type, a.position) for a in args] == [("name", "", 12), ("n", "plural", 20),
                                                            ("n", "number", 59)]
    assert [b.key for b in args[1].branches] == ["=0", "one", "other"]
    assert pattern.texts()[0].value == "Hi {name} "


@pytest.mark.parametrize("body, message, position", [
    ("Hello {name", "never closed", 6),
    ("{n, plural, one {x}}", "needs an 'other' branch", 0),
    ("{n, plurl, other {x}}", "unknown argument type 'plurl'", 4),
    ("{n, select, a {x} a {y} other {z}}", "appears twice", 18),
    ("oops }", "without a matching", 5),
])
def test_walker_reports_the_position_of_syntax_errors(body, message, position):
    with pytest.raises(mf.PatternError) as caught:
        mf.parse(body)
    assert message in caught.value.message
    assert caught.value.position == position


# --- each check catches its bad template --------------------------------------------------------

def test_bad_syntax_is_an_error_with_position(key, locales):
    found = findings_of(key, locales["de-DE"], "Wecker für {count, plural, one {# Wecker} other {# Wecker}")
    syntax = [x for x in found if x.check_id == "template.icu_syntax"]
    assert len(syntax) == 1 and syntax[0].is_error and syntax[0].position == 11


def test_ru_plural_missing_few_is_an_error(key, locales):
    body = "{count, plural, one {# будильник} many {# будильников} other {# будильника}}"
    found = [x for x in findings_of(key, locales["ru-RU"], body) if x.check_id == "template.plural_categories"]
    assert len(found) == 1 and found[0].is_error
    assert "'few'" in found[0].message and "'many'" not in found[0].message
    assert not ids(findings_of(key, locales["ru-RU"], RU_OK), "error")


def test_ar_plural_missing_two_is_an_error(key, locales):
    body = AR_OK.replace("two {منبهان} ", "")
    found = [x for x in findings_of(key, locales["ar-SA"], body) if x.check_id == "template.plural_categories"]
    assert len(found) == 1 and "'two'" in found[0].message
    assert not ids(findings_of(key, locales["ar-SA"], AR_OK), "error")


def test_japanese_needs_only_other_and_a_one_branch_is_a_warning(key, locales):
    found = findings_of(key, locales["ja-JP"], "{count, plural, one {# 件} other {# 件}}のアラーム")
    assert "template.plural_categories" not in ids(found)
    assert ids(found, "warning") >= {"template.plural_unused_category"}


def test_unknown_placeholder_and_wrong_type_are_errors(key, locales):
    found = findings_of(key, locales["de-DE"], "Wecker um {time} gestellt, {count} Stück")
    unknown = [x for x in found if x.check_id == "template.unknown_placeholder"]
    assert [(x.code, x.position) for x in unknown] == [("unknown", 10)]
    f.template_key("timer.set", parameters=[{"name": "label", "type": "string"}])
    from parley.culture.models import TemplateKey

    typed = findings_of(TemplateKey.objects.get(key="timer.set"), locales["de-DE"],
                        "{label, plural, one {x} other {y}}")
    assert [x.code for x in typed if x.check_id == "template.unknown_placeholder"] == ["type"]


def test_unused_parameter_is_a_warning(key, locales):
    found = findings_of(key, locales["de-DE"], "Wecker gestellt.")
    assert "template.unused_parameter" in ids(found, "warning")


def test_banned_term_is_an_error_and_warned_term_a_warning(key, locales):
    de = locales["de-DE"]
    f.sensitive_term(de, "Idiot", severity="block", reason="insult", replacement="")
    f.sensitive_term(de, "Weib", severity="warn", reason="derogatory", replacement="Frau")
    banned = findings_of(key, de, "Du Idiot, {count} Wecker sind gestellt.")
    assert "template.banned_term" in ids(banned, "error")
    warned = [x for x in findings_of(key, de, "Für das Weib: {count} Wecker.") if x.check_id == "template.warned_term"]
    assert len(warned) == 1 and "Frau" in warned[0].message and not warned[0].is_error
    # Whole words only: "Idioten" is not "Idiot" by this rule, and the term inside a word is not matched.
    assert "template.banned_term" not in ids(findings_of(key, de, "Idiotensicher: {count} Wecker."))


def test_banned_term_in_japanese_matches_without_spaces(key, locales):
    ja = locales["ja-JP"]
    f.sensitive_term(ja, "馬鹿", severity="block")
    assert "template.banned_term" in ids(findings_of(key, ja, "{count}件の馬鹿なアラーム"), "error")


def test_register_must_be_one_of_the_locale_and_default_register_text_should_exist(key, locales):
    de = locales["de-DE"]
    f.register(de, "du", order=0)
    f.register(de, "sie", default=True, order=1)
    no_register = findings_of(key, de, "{count} Wecker gestellt.")
    assert [x.code for x in no_register if x.check_id == "template.register_known"] == ["missing"]
    assert [x.code for x in findings_of(key, de, "{count} Wecker.", register="ihr")
            if x.check_id == "template.register_known"] == ["unknown"]
    du = findings_of(key, de, "Ich habe {count} Wecker für dich gestellt.", register="du")
    assert "template.register_known" not in ids(du)
    assert "template.default_register" in ids(du, "warning")
    f.template_text(key, de, "Ich habe {count} Wecker für Sie gestellt.", register="sie")
    assert "template.default_register" not in ids(
        findings_of(key, de, "Ich habe {count} Wecker für dich gestellt.", register="du"))


def test_missing_locales_and_length_ratio(key, locales):
    en, de, ja = locales["en-US"], locales["de-DE"], locales["ja-JP"]
    source = f.template_text(key, en, "I set {count, plural, one {# alarm} other {# alarms}} for you.")
    other = f.template_key("timer.set", source=en, parameters=[])
    f.template_text(other, ja, "タイマーをセットしました")
    found = template_evaluate(template=source)
    missing = [x for x in found if x.check_id == "template.missing_locales"]
    assert len(missing) == 1 and "ja-JP" in missing[0].message
    assert "template.length_ratio" in ids(findings_of(key, de, "{count} Wecker.", register=""))
    assert "template.length_ratio" not in ids(findings_of(
        key, de, "Ich habe {count, plural, one {# Wecker} other {# Wecker}} für dich gestellt."))
    # Japanese is dense: a short text is not an outlier.
    assert "template.length_ratio" not in ids(findings_of(key, ja, "アラームを{count}件セットしました。"))
    no_source = [x for x in template_evaluate(template=ResponseTemplate(
        key=other, locale=de, register="", body="Timer gestellt.")) if x.check_id == "template.missing_locales"]
    assert no_source and "source locale en-US has no text" in no_source[0].message


# --- lifecycle, events, stored results ----------------------------------------------------------

def test_a_template_with_an_error_cannot_be_approved_and_results_are_stored(key, locales):
    bad = template_save(key=key, locale=locales["ru-RU"], body="{count, plural, one {#} other {#}}", actor="test")
    assert bad.has_errors
    stored = CheckResult.objects.filter(target_type="culture.responsetemplate", target_id=str(bad.pk))
    assert {r.check_id for r in stored if r.severity == "error"} == {"template.plural_categories"}
    assert stored.first().locale_tag == "ru-RU"
    template_status_change(template=bad, to="in_review", actor="test")
    with pytest.raises(ValidationError) as caught:
        template_status_change(template=bad, to="approved", actor="test")
    assert "template.plural_categories" in str(caught.value)
    assert ResponseTemplate.objects.get(pk=bad.pk).status == "in_review"
    fixed = template_save(key=key, locale=locales["ru-RU"], body=RU_OK, actor="test")
    assert fixed.status == "draft" and not fixed.has_errors  # an edit in review goes back to draft
    assert not CheckResult.objects.filter(target_id=str(bad.pk), severity="error").exists()
    template_status_change(template=fixed, to="in_review", actor="test")
    template_status_change(template=fixed, to="approved", actor="test")
    verbs = list(Event.objects.filter(target_type="culture.responsetemplate").values_list("verb", "payload__to"))
    assert ("response_template.status_changed", "approved") in verbs
    assert ("response_template.created", None) in verbs


def test_lifecycle_refuses_skipping_review_and_editing_approved_texts(key, locales):
    text = template_save(key=key, locale=locales["de-DE"], body="{count} Wecker gestellt.", actor="test")
    with pytest.raises(ValidationError):
        template_status_change(template=text, to="approved", actor="test")
    text = f.template_text(key, locales["de-DE"], "{count} Wecker gestellt.", status="approved")
    with pytest.raises(ValidationError):
        template_save(key=key, locale=locales["de-DE"], body="anders", actor="test")
    template_status_change(template=text, to="retired", actor="test")
    assert ResponseTemplate.objects.get(pk=text.pk).status == "retired"


# --- register fallback along the chain ------------------------------------------------------------

def test_register_fallback_prefers_the_register_up_the_chain_before_swapping_it(key, locales):
    de, at = locales["de-DE"], f.locale("de-AT")
    from parley.locales.services import locale_parent_set

    locale_parent_set(locale=at, parent=de, actor="test")
    for loc in (de, at):
        f.register(loc, "du", order=0)
        f.register(loc, "sie", default=True, order=1)
    f.template_text(key, de, "Ich habe {count} Wecker für Sie gestellt.", register="sie", status="approved")
    f.template_text(key, at, "I hab {count} Wecker für di gstellt.", register="du", status="approved")

    used, chain, warnings = template_resolve(key=key, locale=at, register="sie")
    assert (used.locale.tag, used.register) == ("de-DE", "sie")
    assert chain[:2] == ["de-AT", "de-DE"] and "used de-DE" in warnings[0]
    used, _chain, warnings = template_resolve(key=key, locale=at, register="du")
    assert (used.locale.tag, used.register, warnings) == ("de-AT", "du", [])
    # No register asked: the locale's default (sie), found up the chain.
    used, _chain, _w = template_resolve(key=key, locale=at)
    assert (used.locale.tag, used.register) == ("de-DE", "sie")
    # A locale with no text of its own asks for its own default (du here) up the chain.
    ch = f.locale("de-CH")
    locale_parent_set(locale=ch, parent=de, actor="test")
    f.register(ch, "du", default=True)
    f.template_text(key, de, "Ich habe {count} Wecker für dich gestellt.", register="du", status="approved")
    rendered = template_render(key=key, locale=ch, register=None, parameters={"count": 1})
    assert (rendered.locale, rendered.register, rendered.text) == ("de-DE", "du", "Ich habe 1 Wecker für dich gestellt.")
    # A register nobody wrote: the default along the chain, with a warning.
    used, _chain, warnings = template_resolve(key=key, locale=de, register="ihr")
    assert (used.register, any("register 'ihr'" in w for w in warnings)) == ("sie", True)


def test_scenario_override_changes_the_default_register(locales):
    from parley.culture.services import register_override_set
    from parley.nlu.models import Scenario

    de = locales["de-DE"]
    intent = f.intent("alarm_set", "alarm", slots=["time"])
    key = f.template_key("alarm_set.done", source=de, intent=intent, parameters=[])
    f.register(de, "du", order=0)
    sie = f.register(de, "sie", default=True, order=1)
    f.template_text(key, de, "Erledigt, dein Wecker steht.", register="du", status="approved")
    f.template_text(key, de, "Erledigt, Ihr Wecker steht.", register="sie", status="approved")
    assert template_resolve(key=key, locale=de)[0].register == "sie"
    register_override_set(locale=de, scenario=Scenario.objects.get(name="alarm"),
                          register=f.register(de, "du"), actor="test")
    assert template_resolve(key=key, locale=de)[0].register == "du"
    assert sie.is_default


def test_no_approved_text_anywhere_in_the_chain_is_not_found(key, locales):
    f.template_text(key, locales["de-DE"], "{count} Wecker.", status="in_review")
    with pytest.raises(TemplateNotFound) as caught:
        template_resolve(key=key, locale=locales["de-DE"])
    assert "de-DE → de → und" in str(caught.value)


# --- rendering: plurals and numbers by ICU for the locale ------------------------------------------

@pytest.mark.parametrize("tag, body, count, expected", [
    ("de-DE", "{count, plural, one {# Wecker ist} other {# Wecker sind}} gestellt.", 1, "1 Wecker ist gestellt."),
    ("de-DE", "{count, plural, one {# Wecker ist} other {# Wecker sind}} gestellt.", 1234,
     "1.234 Wecker sind gestellt."),
    ("ru-RU", RU_OK, 3, "3 будильника"),
    ("ru-RU", RU_OK, 5, "5 будильников"),
    ("ru-RU", RU_OK, 21, "21 будильник"),
    ("ru-RU", RU_OK, 1234, "1 234 будильника"),
    ("ar-SA", AR_OK, 2, "منبهان"),
    ("ar-SA", AR_OK, 0, "لا منبهات"),
    ("ar-SA", AR_OK, 3, "٣ منبهات"),
    ("ar-SA", AR_OK, 11, "١١ منبهًا"),
    ("ja-JP", "{count, plural, other {#件}}のアラームをセットしました", 1234567, "1,234,567件のアラームをセットしました"),
])
def test_render_formats_plurals_and_numbers_for_the_locale(key, locales, tag, body, count, expected):
    f.template_text(key, locales[tag], body, status="approved")
    rendered = template_render(key=key, locale=locales[tag], register=None, parameters={"count": count})
    # ICU writes a no-break space as the Russian group separator; compare on what a reader sees.
    assert rendered.text.replace("\u00a0", " ").replace("\u202f", " ") == expected
    assert (rendered.locale, rendered.register, rendered.warnings) == (tag, "", [])


def test_render_formats_dates_for_the_locale(locales):
    key = f.template_key("calendar.when", source=locales["en-US"], parameters=[{"name": "day", "type": "date"}])
    f.template_text(key, locales["de-DE"], "Am {day, date, long}.", status="approved")
    f.template_text(key, locales["ja-JP"], "{day, date, long}です。", status="approved")
    de = template_render(key=key, locale=locales["de-DE"], register=None, parameters={"day": "2026-12-24"})
    ja = template_render(key=key, locale=locales["ja-JP"], register=None, parameters={"day": "2026-12-24"})
    assert de.text == "Am 24. Dezember 2026."
    assert ja.text == "2026年12月24日です。"


def test_render_api_returns_text_locale_register_and_warnings(key, locales):
    de = locales["de-DE"]
    f.register(de, "sie", default=True)
    f.register(de, "du")
    f.template_text(key, de, "{count, plural, one {# Wecker ist} other {# Wecker sind}} für Sie gestellt.",
                    register="sie", status="approved")
    client = APIClient()
    client.force_authenticate(f.member("pipeline", None, username="pipe"))
    response = client.post("/api/v1/templates/alarm_set.confirm/render", {
        "locale": "de-DE", "register": "du", "parameters": {"count": 2}}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["text"], body["locale"], body["register"]) == ("2 Wecker sind für Sie gestellt.", "de-DE", "sie")
    assert body["requested_register"] == "du" and any("'du'" in w for w in body["warnings"])
    bad = client.post("/api/v1/templates/alarm_set.confirm/render", {"locale": "de-DE", "parameters": {
        "count": "many"}}, format="json")
    assert bad.status_code == 400 and "parameters.count" in bad.json()["error"]["fields"]
    unknown = client.post("/api/v1/templates/alarm_set.confirm/render", {"locale": "de-DE", "parameters": {
        "count": 1, "when": "x"}}, format="json")
    assert unknown.status_code == 400 and "when" in str(unknown.json())
    assert client.post("/api/v1/templates/nope.key/render", {"locale": "de-DE"}, format="json").status_code == 404
    assert client.post("/api/v1/templates/alarm_set.confirm/render", {"locale": "ja-JP", "parameters": {
        "count": 1}}, format="json").status_code == 404  # no approved text in ja-JP's chain


def test_preview_api_lints_and_renders_an_unsaved_text(key, locales):
    client = APIClient()
    client.force_authenticate(f.member("linguist", locales["ru-RU"], username="ru-ling"))
    response = client.post("/api/v1/response-templates/preview/", {
        "key": key.key, "locale": "ru-RU", "body": "{count, plural, one {#} other {#}}"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["text"] is None
    assert "template.plural_categories" in {x["check"] for x in response.json()["findings"]}
    ok = client.post("/api/v1/response-templates/preview/", {"key": key.key, "locale": "ru-RU", "body": RU_OK},
                     format="json").json()
    assert ok["text"] == "3 будильника" and ok["parameters"] == {"count": 3}
    assert not ResponseTemplate.objects.exists()


def test_checks_share_one_parse_per_text(key, locales):
    context = CheckContext()
    template_evaluate(template=ResponseTemplate(key=key, locale=locales["de-DE"], body="{count} Wecker"),
                      context=context)
    assert "culture.parse" in context._memo


def test_key_parameters_are_checked_and_tied_to_the_intents_slots(locales):
    from parley.culture.services import template_key_create, template_key_update

    intent = f.intent("alarm_set", "alarm", slots=["time", "date"])
    with pytest.raises(ValidationError) as caught:
        template_key_create(key="alarm_set.done", source_locale=locales["en-US"], intent=intent, actor="test",
                            parameters=[{"name": "when", "type": "date", "slot_type": "place_name"},
                                        {"name": "when", "type": "money"}, {"name": "2x"}])
    problems = caught.value.message_dict["parameters"]
    assert any(p.startswith("parameters[0].slot_type") and "time" in p for p in problems)
    assert any(p.startswith("parameters[1].name") and "twice" in p for p in problems)
    assert any(p.startswith("parameters[1].type") for p in problems)
    assert any(p.startswith("parameters[2].name") for p in problems)
    with pytest.raises(ValidationError):
        template_key_create(key="Alarm Set", source_locale=locales["en-US"], actor="test")
    key = template_key_create(key="alarm_set.done", source_locale=locales["en-US"], intent=intent, actor="test",
                              parameters=[{"name": "when", "type": "date", "slot_type": "time"}])
    text = f.template_text(key, locales["de-DE"], "Wecker für {when, date, short} gestellt.")
    assert not text.has_errors
    # Renaming the parameter re-checks every text of the key: the old name is now unknown.
    template_key_update(template_key=key, parameters=[{"name": "at", "type": "date"}], actor="test")
    text.refresh_from_db()
    assert text.has_errors


def test_template_key_api_reports_bad_parameters_by_position(locales):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(f.member("platform_admin", None, username="admin"))
    response = client.post("/api/v1/template-keys/", {"key": "timer.set", "source_locale": "en-US",
                                                      "parameters": [{"name": "n", "type": "integer"}]},
                           format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["parameters"][0].startswith("parameters[0].type")
    ok = client.post("/api/v1/template-keys/", {"key": "timer.set", "source_locale": "en-US",
                                                "parameters": [{"name": "n", "type": "number"}]}, format="json")
    assert ok.status_code == 201 and ok.json()["parameters"] == [{"name": "n", "type": "number"}]
    assert client.patch("/api/v1/template-keys/timer.set/", {"description": "d"}, format="json").status_code == 200


def test_template_list_carries_findings_without_a_query_per_text(key, locales, django_assert_max_num_queries):
    client = APIClient()
    client.force_authenticate(f.member("platform_admin", None, username="admin"))
    for i in range(5):
        other = f.template_key(f"k.n{i}", source=locales["en-US"])
        template_save(key=other, locale=locales["ru-RU"], body="{count, plural, one {#} other {#}}", actor="test")
    with django_assert_max_num_queries(6):  # a query per text would be 5 more
        body = client.get("/api/v1/response-templates/?locale=ru-RU").json()
    assert len(body["results"]) == 5
    assert all("template.plural_categories" in {x["check"] for x in r["findings"]} for r in body["results"])


def test_date_times_are_said_in_the_wall_time_of_their_offset_or_of_the_asked_zone(locales):
    de = locales["de-DE"]
    key = f.template_key("alarm_set.at", source=locales["en-US"], parameters=[{"name": "at", "type": "date"}])
    f.template_text(key, de, "Wecker um {at, time, short}.", status="approved")

    def said(value, zone=None):
        return template_render(key=key, locale=de, register=None, parameters={"at": value}, time_zone=zone).text

    assert said("2026-12-24T07:30:00") == "Wecker um 07:30."
    assert said("2026-12-24T07:30:00+01:00") == "Wecker um 07:30."  # the user's clock, not UTC's 06:30
    assert said("2026-12-24T06:30:00Z", "Europe/Berlin") == "Wecker um 07:30."
    assert said("2026-07-01T05:30:00Z", "Europe/Berlin") == "Wecker um 07:30."  # summer time
    client = APIClient()
    client.force_authenticate(f.member("pipeline", None, username="pipe"))
    bad = client.post("/api/v1/templates/alarm_set.at/render", {"locale": "de-DE", "time_zone": "Mars/Olympus",
                                                                 "parameters": {"at": "2026-12-24T07:30:00Z"}},
                      format="json")
    assert bad.status_code == 400 and "time_zone" in bad.json()["error"]["fields"]
    good = client.post("/api/v1/templates/alarm_set.at/render", {"locale": "de-DE", "time_zone": "Asia/Tokyo",
                                                                  "parameters": {"at": "2026-12-24T07:30:00Z"}},
                       format="json")
    assert good.status_code == 200 and good.json()["text"] == "Wecker um 16:30."


def test_render_refuses_unknown_fields_by_name(key, locales):
    f.template_text(key, locales["de-DE"], "{count} Wecker.", status="approved")
    client = APIClient()
    client.force_authenticate(f.member("pipeline", None, username="pipe"))
    response = client.post("/api/v1/templates/alarm_set.confirm/render", {
        "locale": "de-DE", "timezone": "Europe/Berlin", "parameters": {"count": 1}}, format="json")
    assert response.status_code == 400 and "timezone" in response.json()["error"]["fields"]
