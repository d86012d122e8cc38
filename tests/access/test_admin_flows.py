"""The admin as its users use it: logging in through a role, saving locales and users."""
import pytest
from django.test import Client

import factories as f
from parley.access.models import Membership, Role
from parley.events.models import Event
from parley.locales.models import Locale

pytestmark = pytest.mark.django_db


def login(username: str) -> Client:
    client = Client()
    response = client.post("/admin/login/", {"username": username, "password": "pw-test-1234",
                                             "next": "/admin/"})
    assert response.status_code == 302, response.content.decode()[-600:]
    return client


def test_linguist_logs_in_through_a_role_without_is_staff():
    f.member("linguist", f.locale("de-DE"), username="ling")
    assert login("ling").get("/admin/locales/locale/").status_code == 200


def test_annotator_is_told_the_account_has_no_admin_role():
    f.member("annotator", f.locale("ar-SA"), username="anno")
    response = Client().post("/admin/login/", {"username": "anno", "password": "pw-test-1234"})
    assert response.status_code == 200
    assert "none of your roles uses the admin" in response.content.decode()


@pytest.fixture
def admin_client():
    f.member("platform_admin", None, username="root")
    return login("root")


def test_admin_edits_a_locale_and_the_edit_becomes_an_override(admin_client):
    de = f.locale("de-DE")
    page = admin_client.get(f"/admin/locales/locale/{de.pk}/change/")
    assert page.status_code == 200
    form = {k: v for k, v in {
        "english_name": de.english_name, "autonym": de.autonym, "parent": "", "script": de.script,
        "direction": de.direction, "plural_cardinal": '["one", "other"]', "plural_ordinal": '["other"]',
        "first_day_of_week": "sun", "calendar": de.calendar, "speaker_population": de.speaker_population,
        "aliases-TOTAL_FORMS": "0", "aliases-INITIAL_FORMS": "0", "aliases-MIN_NUM_FORMS": "0",
        "aliases-MAX_NUM_FORMS": "1000"}.items()}
    response = admin_client.post(f"/admin/locales/locale/{de.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[-2000:]
    de.refresh_from_db()
    assert (de.first_day_of_week, de.overridden_fields) == ("sun", ["first_day_of_week"])
    assert Event.objects.filter(verb="locale.updated", locale_tag="de-DE").exists()
    bad = admin_client.post(f"/admin/locales/locale/{de.pk}/change/", {**form, "first_day_of_week": "xyz"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()


def test_parent_that_loops_through_cldr_rules_is_a_form_error(admin_client):
    de, de_de = f.locale("de"), f.locale("de-DE")
    response = admin_client.post(f"/admin/locales/locale/{de.pk}/change/", {
        "english_name": de.english_name, "autonym": de.autonym, "parent": de_de.pk, "script": de.script,
        "direction": "ltr", "plural_cardinal": '["one", "other"]', "plural_ordinal": '["other"]',
        "first_day_of_week": "mon", "calendar": "gregorian", "speaker_population": "",
        "aliases-TOTAL_FORMS": "0", "aliases-INITIAL_FORMS": "0", "aliases-MIN_NUM_FORMS": "0",
        "aliases-MAX_NUM_FORMS": "1000"})
    assert response.status_code == 200 and "loop" in response.content.decode()
    de.refresh_from_db()
    assert de.parent is None


def test_adding_locales_and_aliases_reports_conflicts_as_form_errors(admin_client):
    sl = f.locale("sl-SI")
    f.alias(sl, "sl-SL")
    assert "not a valid BCP 47" in admin_client.post("/admin/locales/locale/add/", {"tag": "not a tag!!"}).content.decode()
    assert "already registered" in admin_client.post("/admin/locales/locale/add/", {"tag": "sl_SI"}).content.decode()
    created = admin_client.post("/admin/locales/locale/add/", {"tag": "gsw-FR"})
    assert created.status_code == 302 and Locale.objects.get(tag="gsw-FR").english_name == "Swiss German (France)"
    de = f.locale("de-DE")
    response = admin_client.post("/admin/locales/localealias/add/", {"tag": "sl-SL", "locale": de.pk,
                                                                     "source": "other", "note": ""})
    assert response.status_code == 200 and "already an alias of sl-SI" in response.content.decode()


def test_admin_adds_a_user_with_a_membership_and_changes_it(admin_client):
    ja = f.locale("ja-JP")
    lead = Role.objects.get(slug="locale_lead")
    response = admin_client.post("/admin/auth/user/add/", {
        "username": "lead.ja", "password1": "a-Long-pass-123", "password2": "a-Long-pass-123",
        "usable_password": "true",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0", "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000", "memberships-0-role": lead.pk, "memberships-0-locale": ja.pk,
        "memberships-0-proficiency": "native"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    membership = Membership.objects.get(user__username="lead.ja")
    assert (membership.role, membership.locale, membership.proficiency) == (lead, ja, "native")
    assert Event.objects.filter(verb="membership.granted", locale_tag="ja-JP").exists()
