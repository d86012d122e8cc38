"""Campaigns: creation rules, the status lifecycle with events, deadlines, and the admin's add form."""
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

import factories as f
from parley.collection.models import Campaign, Task
from parley.collection.services import campaign_create, campaign_status_change, task_claim_next
from parley.events.models import Event

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kwargs, field", [
    ({"task_kinds": []}, "task_kinds"),
    ({"task_kinds": ["validate"]}, "task_kinds"),
    ({"task_kinds": ["localize"]}, "source_locale"),
    ({"required_validations": 0}, "required_validations"),
    ({"target_per_intent": 0}, "target_per_intent"),
    ({"acceptance_rule": {"grammar": 3}}, "acceptance_rule"),
    ({"instructions": {"de-DE": "x"}}, "instructions"),
])
def test_campaign_create_refuses_bad_settings_naming_the_field(kwargs, field):
    ar = f.locale("ar-SA")
    intent = f.intent("alarm_set", "alarm")
    with pytest.raises(ValidationError) as refused:
        campaign_create(name="x", locales=[ar], intents=[intent], actor="test", **kwargs)
    assert field in refused.value.message_dict
    assert Campaign.objects.count() == 0


def test_status_lifecycle_writes_events_per_locale_and_generates_tasks_once():
    ar, ja = f.locale("ar-SA"), f.locale("ja-JP")
    intent = f.intent("alarm_set", "alarm")
    campaign = f.campaign([ar, ja], [intent], activate=False, target_per_intent=3)
    assert Task.objects.count() == 0
    campaign_status_change(campaign=campaign, to="active", actor="test")
    assert Task.objects.count() == 6
    campaign_status_change(campaign=campaign, to="paused", actor="test")
    campaign_status_change(campaign=campaign, to="active", actor="test")
    assert Task.objects.count() == 6  # nothing missing: nothing new
    campaign_status_change(campaign=campaign, to="closed", actor="test")
    with pytest.raises(ValidationError, match="cannot become active"):
        campaign_status_change(campaign=campaign, to="active", actor="test")
    events = Event.objects.filter(verb="campaign.status_changed")
    assert sorted(events.values_list("locale_tag", flat=True)) == sorted(["ar-SA", "ja-JP"] * 4)


def test_paused_closed_or_past_deadline_campaigns_hand_out_nothing():
    ar = f.locale("ar-SA")
    intent = f.intent("alarm_set", "alarm")
    annotator = f.native(ar)
    campaign = f.campaign([ar], [intent], deadline=timezone.now() + timedelta(hours=1))
    assert task_claim_next(annotator=annotator, now=timezone.now() + timedelta(hours=2)) is None
    campaign_status_change(campaign=campaign, to="paused", actor="test")
    assert task_claim_next(annotator=annotator) is None
    campaign_status_change(campaign=campaign, to="active", actor="test")
    assert task_claim_next(annotator=annotator) is not None


def test_a_lead_creates_a_campaign_in_the_admin_for_their_locale_only():
    ar, ja = f.locale("ar-SA"), f.locale("ja-JP")
    intent = f.intent("alarm_set", "alarm")
    lead = f.member("locale_lead", ar, username="lead")
    client = Client()
    client.force_login(lead)
    form = {"name": "ar alarms", "description": "", "intents": [intent.pk], "target_per_intent": 5,
            "task_kinds": ["elicit"], "required_validations": 2, "acceptance_rule": "{}", "lease_minutes": 15,
            "campaign_locales-TOTAL_FORMS": 1, "campaign_locales-INITIAL_FORMS": 0,
            "campaign_locales-MIN_NUM_FORMS": 1, "campaign_locales-MAX_NUM_FORMS": 1000,
            "campaign_locales-0-locale": ja.pk, "campaign_locales-0-instructions": "書いて"}
    refused = client.post("/admin/collection/campaign/add/", form)
    assert refused.status_code == 200 and Campaign.objects.count() == 0  # ja-JP is not a choice for her
    form["campaign_locales-0-locale"] = ar.pk
    form["campaign_locales-0-instructions"] = "اكتب"
    response = client.post("/admin/collection/campaign/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert campaign.created_by == lead and campaign.status == "draft"
    assert list(campaign.campaign_locales.values_list("locale__tag", "instructions")) == [("ar-SA", "اكتب")]
    assert Event.objects.filter(verb="campaign.created", target_id=str(campaign.pk)).exists()
    client.post("/admin/collection/campaign/", {"action": "activate", "_selected_action": [campaign.pk]})
    assert Campaign.objects.get().status == "active" and Task.objects.filter(campaign=campaign).count() == 5
    bad = client.post("/admin/collection/campaign/add/", {**form, "task_kinds": ["localize"]})
    assert bad.status_code == 200 and "source locale" in bad.content.decode()


def test_the_demo_campaign_loads_twice_without_change():
    from django.core.management import call_command

    from parley.nlu.services import intent_ensure

    for tag in ("ar-SA", "ja-JP"):
        f.locale(tag)
    intent_ensure(name="alarm_set", scenario="alarm", actor="test")
    intent_ensure(name="weather_query", scenario="weather", actor="test")
    call_command("collection_demo")
    call_command("collection_demo")
    campaign = Campaign.objects.get()
    assert campaign.status == "active" and Task.objects.filter(campaign=campaign).count() == 20
    from django.contrib.auth import get_user_model

    annotator = get_user_model().objects.get(username="annotator2.ja")
    assert task_claim_next(annotator=annotator).locale.tag == "ja-JP"


def test_the_acceptance_rule_is_changed_in_the_admin_by_a_lead_of_every_locale_only():
    from parley.access.models import Role
    from parley.access.services import membership_grant

    ar, ja = f.locale("ar-SA"), f.locale("ja-JP")
    intent = f.intent("alarm_set", "alarm")
    campaign = f.campaign([ar, ja], [intent])  # active: the rule may still change
    both = f.member("locale_lead", ar, username="lead-both")
    membership_grant(user=both, role=Role.objects.get(slug="locale_lead"), locale=ja, actor="test")
    only_ar = f.member("locale_lead", ar, username="lead-ar")
    url = f"/admin/collection/campaign/{campaign.pk}/change/"
    cls = list(campaign.campaign_locales.order_by("locale__tag"))

    def form(rule):
        data = {"name": campaign.name, "description": "", "intents": [intent.pk], "target_per_intent": 2,
                "acceptance_rule": rule, "lease_minutes": 15,
                "campaign_locales-TOTAL_FORMS": 2, "campaign_locales-INITIAL_FORMS": 2,
                "campaign_locales-MIN_NUM_FORMS": 1, "campaign_locales-MAX_NUM_FORMS": 1000}
        for i, cl in enumerate(cls):
            data.update({f"campaign_locales-{i}-id": cl.pk, f"campaign_locales-{i}-campaign": campaign.pk,
                         f"campaign_locales-{i}-locale": cl.locale_id, f"campaign_locales-{i}-instructions": ""})
        return data

    client = Client()
    client.force_login(only_ar)
    assert client.post(url, form('{"min_grammar_score": 4}')).status_code == 403
    client.force_login(both)
    for bad, field in (('{"min_grammar_score": 5}', "min_grammar_score"), ('{"intent_scores": [7]}', "intent_scores"),
                       ('{"intent_score": 2}', "unknown key"), ("[" * 100_000 + "]" * 100_000, "JSON")):
        refused = client.post(url, form(bad))
        assert refused.status_code == 200 and field in refused.content.decode(), field
    assert Campaign.objects.get(pk=campaign.pk).acceptance_rule == {}
    saved = client.post(url, form('{"min_grammar_score": 4}'))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert Campaign.objects.get(pk=campaign.pk).rule["min_grammar_score"] == 4
    assert sorted(Event.objects.filter(verb="campaign.acceptance_rule_changed").values_list("locale_tag", flat=True)) \
        == ["ar-SA", "ja-JP"]
