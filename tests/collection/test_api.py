"""The campaign API a pipeline or lead reads: progress, agreement and judgments with a scoped token."""
import csv
import io

import pytest
from rest_framework.test import APIClient

import factories as f
from parley.access.models import Role
from parley.access.services import membership_grant
from parley.collection.acceptance import DEFAULT_ACCEPTANCE_RULE
from parley.collection.models import Campaign
from parley.collection.services import task_claim_next, task_submit_judgment, task_submit_utterance
from parley.events.models import Event

pytestmark = pytest.mark.django_db


def judge(world, who, **scores):
    task = task_claim_next(annotator=world[who])
    task_submit_judgment(task=task, annotator=world[who], **{
        "intent_score": 2, "slots_score": 2, "grammar_score": 4, "spelling_score": 2,
        "language_identification": "target", **scores})


def test_progress_agreement_and_judgments_through_a_token(world):
    task = task_claim_next(annotator=world["amal"])
    utterance = task_submit_utterance(task=task, annotator=world["amal"], annotated="أيقظني الساعة [time : الخامسة]")
    judge(world, "badr")
    judge(world, "carim", grammar_score=3)
    lead = f.member("locale_lead", world["ar"])
    _, plain = f.token(lead, scopes=["collection:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    base = f"/api/v1/collection/campaigns/{world['campaign'].pk}/"
    detail = client.get(base).json()
    assert detail["acceptance_rule"] == DEFAULT_ACCEPTANCE_RULE and detail["task_kinds"] == ["elicit"]
    progress = client.get(base + "progress/").json()
    cell = {(c["locale"], c["intent"]): c for c in progress["cells"]}[("ar-SA", "alarm_set")]
    assert (cell["accepted"], cell["target"], cell["gap"], cell["open"]) == (1, 2, 1, 1)
    assert progress["totals"]["accepted"] == 1 and sum(d["submitted"] for d in progress["throughput"]) == 3
    agreement = client.get(base + "agreement/").json()
    assert agreement["metric"] == {"intent_score": "nominal", "slots_score": "nominal", "grammar_score": "interval",
                                   "spelling_score": "interval", "language_identification": "nominal"}
    assert agreement["locales"]["ar-SA"]["units"] == 1
    # one unit (4, 3): Do = 2/2 = 1, De = 2*1*1*1/(2*1) = 1, so alpha = 0; spelling (2, 2) has no variation
    assert agreement["locales"]["ar-SA"]["alpha"]["grammar_score"] == 0.0
    assert agreement["locales"]["ar-SA"]["alpha"]["spelling_score"] is None
    rows = list(csv.DictReader(io.StringIO(client.get(base + "judgments/").content.decode())))
    assert [(r["utterance_id"], r["annotator_id"], r["grammar_score"]) for r in rows] == [
        (str(utterance.pk), str(world["badr"].pk), "4"), (str(utterance.pk), str(world["carim"].pk), "3")]


def client_of(user, scopes=None):
    client = APIClient()
    if scopes is None:
        client.force_login(user)
    else:
        _, plain = f.token(user, scopes=scopes)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def lead_of(*locales):
    lead = f.member("locale_lead", locales[0])
    for loc in locales[1:]:
        membership_grant(user=lead, role=Role.objects.get(slug="locale_lead"), locale=loc, actor="test")
    return lead


def test_acceptance_rule_is_read_by_viewers_and_set_by_a_lead_of_every_locale(world):
    campaign = world["campaign"]  # ar-SA and ja-JP
    url = f"/api/v1/collection/campaigns/{campaign.pk}/acceptance-rule/"
    both = lead_of(world["ar"], world["ja"])
    got = client_of(both, ["collection:read"]).get(url).json()
    assert got["rule"] == DEFAULT_ACCEPTANCE_RULE and got["overrides"] == {}
    strict = {"min_grammar_score": 4, "intent_scores": [1]}
    # a lead of one of its locales sees the campaign but may not change its rule
    only_ar = client_of(lead_of(world["ar"]))
    assert only_ar.get(url).status_code == 200
    assert only_ar.put(url, {"overrides": strict}, format="json").status_code == 403
    # a linguist reads campaigns but leads none; a token without collection:write cannot write
    linguist = f.member("linguist", world["ar"])
    membership_grant(user=linguist, role=Role.objects.get(slug="linguist"), locale=world["ja"], actor="test")
    assert client_of(linguist).put(url, {"overrides": strict}, format="json").status_code == 403
    assert client_of(both, ["collection:read"]).put(url, {"overrides": strict}, format="json").status_code == 403
    # a lead of another locale does not see the campaign at all
    assert client_of(lead_of(f.locale("de-DE"))).put(url, {"overrides": strict}, format="json").status_code == 404
    assert Campaign.objects.get(pk=campaign.pk).acceptance_rule == {}
    answer = client_of(both, ["collection:read", "collection:write"]).put(url, {"overrides": strict}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["rule"] == {**DEFAULT_ACCEPTANCE_RULE, **strict}
    assert Campaign.objects.get(pk=campaign.pk).rule["min_grammar_score"] == 4
    changed = Event.objects.filter(verb="campaign.acceptance_rule_changed")
    assert sorted(changed.values_list("locale_tag", flat=True)) == ["ar-SA", "ja-JP"]
    assert changed.first().payload == {"from": {}, "to": strict}


@pytest.mark.parametrize("overrides, field", [
    ({"min_grammar_score": 5}, "min_grammar_score"),
    ({"min_grammar_score": 10**40}, "min_grammar_score"),
    ({"intent_scores": [3]}, "intent_scores"),
    ({"intent_scores": []}, "intent_scores"),
    ({"slots_scores": [1, 1]}, "slots_scores"),
    ({"slots_scores": ["1"]}, "slots_scores"),
    ({"min_spelling_score": -1}, "min_spelling_score"),
    ({"require_target_language": "yes"}, "require_target_language"),
    ({"max_rework_rounds": True}, "max_rework_rounds"),
    ({"intent_score": 2}, "intent_score"),  # the old key: unknown now
    ({"\u0000": 1}, "unknown key"),
    ([1, 2], "an object of overrides"),
    ("strict", "an object of overrides"),
])
def test_out_of_range_rules_are_a_400_naming_the_field(world, overrides, field):
    lead = lead_of(world["ar"], world["ja"])
    url = f"/api/v1/collection/campaigns/{world['campaign'].pk}/acceptance-rule/"
    answer = client_of(lead).put(url, {"overrides": overrides}, format="json")
    assert answer.status_code == 400, answer.content
    messages = answer.json()["error"]["fields"]["acceptance_rule"]
    assert any(field in m for m in messages), messages
    assert Campaign.objects.get(pk=world["campaign"].pk).acceptance_rule == {}


def test_hostile_rule_bodies_are_400_not_500(world):
    lead = lead_of(world["ar"], world["ja"])
    client = client_of(lead)
    url = f"/api/v1/collection/campaigns/{world['campaign'].pk}/acceptance-rule/"
    deep = '{"overrides": ' + "[" * 100_000 + "]" * 100_000 + "}"
    for body in (deep, '{"overrides": {"min_grammar_score": 1e999}}', "\u0000", '{"overrides": "\\u0000"}', "{}"):
        answer = client.generic("PUT", url, body.encode(), content_type="application/json")
        assert answer.status_code == 400, (body[:40], answer.status_code)
    assert Campaign.objects.get(pk=world["campaign"].pk).acceptance_rule == {}
