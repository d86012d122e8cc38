"""The admin queue: a cluster's page shows what users said and carries the resolution actions."""
import pytest
from django.test import Client

from parley.feedback import services
from parley.feedback.models import FeedbackCluster, FeedbackSla, ParaphraseCandidate
from parley.nlu.models import Utterance

pytestmark = pytest.mark.django_db


def login(user):
    client = Client()
    client.force_login(user)
    return client


def act(client, cluster, **fields):
    data = {"step": "", "assign_to": "", "intent": "", "annotated": "", "partition": "train", "template_key": "",
            "duplicate_of_cluster": "", "note": "", **fields}
    return client.post(f"/admin/feedback/feedbackcluster/{cluster.pk}/change/", data)


def test_change_page_shows_examples_and_offers_linguists_of_the_locale(team, cluster_of):
    cluster = cluster_of("Weck mich um sieben!")
    page = login(team["lead"]).get(f"/admin/feedback/feedbackcluster/{cluster.pk}/change/").content.decode()
    assert "Weck mich um sieben!" in page and "user_rephrase" in page
    options = page[page.index('name="assign_to"'):page.index("</select>", page.index('name="assign_to"'))]
    assert ">ling<" in options and ">ling2<" in options and ">lead<" in options
    assert ">ling_ja<" not in options and ">anno<" not in options


def test_assign_then_label_from_the_change_page(team, cluster_of):
    cluster = cluster_of()
    lead = login(team["lead"])
    assert act(lead, cluster, step="assign", assign_to=team["ling"].pk).status_code == 302
    assert FeedbackCluster.objects.get(pk=cluster.pk).assignee == team["ling"]
    services.cluster_triage(cluster=cluster, actor=team["ling"])
    services.cluster_review_start(cluster=FeedbackCluster.objects.get(pk=cluster.pk), actor=team["ling"])
    ling = login(team["ling"])
    missing = act(ling, cluster, step="label")
    assert missing.status_code == 200 and "required for this action" in missing.content.decode()
    act(ling, cluster, step="label", intent="alarm_set", annotated="weck mich um [time : sieben]", partition="test")
    cluster = FeedbackCluster.objects.get(pk=cluster.pk)
    assert (cluster.resolution, cluster.fix_utterance.partition, cluster.fix_utterance.source) == \
        ("fixed_data", "test", "feedback")


def test_a_refused_step_is_explained_on_the_page(team, cluster_of):
    cluster = cluster_of()
    client = login(team["lead"])
    response = act(client, cluster, step="link_template", template_key="alarm.set")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "needs a review first" in page
    assert FeedbackCluster.objects.get(pk=cluster.pk).status == "new"


def test_duplicate_and_close_from_the_change_page(team, cluster_of):
    a, b, ja = cluster_of("a"), cluster_of("b"), cluster_of("c", locale="ja-JP")
    client = login(team["ling"])
    page = client.get(act(client, a, step="duplicate", duplicate_of_cluster=ja.pk)["Location"]).content.decode()
    assert f"No cluster #{ja.pk} in your locales" in page
    act(client, a, step="duplicate", duplicate_of_cluster=b.pk)
    act(client, b, step="close_not_a_bug", note="works as intended")
    assert FeedbackCluster.objects.get(pk=a.pk).duplicate_of_id == b.pk
    assert FeedbackCluster.objects.get(pk=b.pk).resolution_note == "works as intended"


def test_paraphrase_review_in_the_admin(team):
    from datetime import datetime, timezone as tz

    now = datetime(2026, 11, 30, tzinfo=tz.utc)
    candidate = ParaphraseCandidate.objects.create(
        locale=team["de"], failed_normalized="wecker bitte", failed_text="wecker bitte", pair_key="x",
        intent_name="alarm_set", slots=[{"type": "time", "value": "sieben"}], annotated="wecker bitte",
        unmapped_slots=[{"type": "time", "value": "sieben"}], rephrase_example="weck mich um sieben", support=3,
        sessions_failed=3, confidence=1.0, first_seen=now, last_seen=now)
    client = login(team["ling"])
    page = client.get(f"/admin/feedback/paraphrasecandidate/{candidate.pk}/change/").content.decode()
    assert "weck mich um sieben" in page and 'name="corrected"' in page
    client.post(f"/admin/feedback/paraphrasecandidate/{candidate.pk}/change/",
                {"decision": "accept", "corrected": "wecker bitte um [time : sieben]", "reason": ""})
    # The corrected annotation says something the failed text did not: still the reviewer's call.
    utterance = Utterance.objects.get()
    assert (utterance.source, utterance.text, utterance.annotated) == (
        "mined", "wecker bitte um sieben", "wecker bitte um [time : sieben]")
    assert ParaphraseCandidate.objects.get().status == "accepted"


@pytest.mark.parametrize("who, allowed", [("lead", True), ("ling", False)])
def test_leads_set_their_locale_sla(team, who, allowed):
    client = login(team[who])
    client.post("/admin/feedback/feedbacksla/add/", {"locale": team["de"].pk, "hours": 12})
    assert FeedbackSla.objects.filter(locale=team["de"], hours=12).exists() == allowed
    client.post("/admin/feedback/feedbacksla/add/", {"locale": team["ja"].pk, "hours": 12})
    assert not FeedbackSla.objects.filter(locale=team["ja"]).exists()
    # The empty locale is the default for every locale: not for a lead of one.
    refused = client.post("/admin/feedback/feedbacksla/add/", {"locale": "", "hours": 1})
    assert not FeedbackSla.objects.filter(locale__isnull=True).exists()
    if allowed:
        assert "platform admins" in refused.content.decode()


def test_platform_admins_set_the_default_sla_and_a_row_keeps_its_locale(team):
    client = login(team["admin"])
    client.post("/admin/feedback/feedbacksla/add/", {"locale": "", "hours": 48})
    default = FeedbackSla.objects.get(locale__isnull=True)
    assert default.hours == 48
    client.post("/admin/feedback/feedbacksla/add/", {"locale": team["de"].pk, "hours": 8})
    row = FeedbackSla.objects.get(locale=team["de"])
    client.post(f"/admin/feedback/feedbacksla/{row.pk}/change/", {"locale": team["ja"].pk, "hours": 6})
    assert FeedbackSla.objects.get(pk=row.pk).hours == 6
    assert set(FeedbackSla.objects.values_list("locale__tag", flat=True)) == {None, "de-DE"}


def test_changelist_shows_the_open_queues_of_the_users_locales(team, cluster_of):
    cluster_of("a"), cluster_of("b", kind="wrong_slot"), cluster_of("c", locale="ja-JP")
    services.cluster_close(cluster=cluster_of("d"), resolution="wont_fix", actor="test")
    page = login(team["ling"]).get("/admin/feedback/feedbackcluster/").content.decode()
    table = page[page.index('id="feedback-queues"'):page.index("</table>", page.index('id="feedback-queues"'))]
    assert "de-DE" in table and "ja-JP" not in table
    assert "wrong intent" in table and "wrong slot" in table
    rows = table.split("<tr>")[2:]
    assert len(rows) == 2 and all(">1</a>" in r for r in rows)  # one new cluster each; the closed one is gone
