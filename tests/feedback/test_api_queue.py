"""The queue API: scoped listing in priority order, filters, and the lifecycle through the API."""
import pytest
from rest_framework.test import APIClient

import factories as f
from parley.feedback.models import ParaphraseCandidate
from parley.nlu.models import Utterance

pytestmark = pytest.mark.django_db
BASE = "/api/v1/feedback/clusters"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_queue_lists_own_locales_highest_priority_first(team, cluster_of):
    low = cluster_of("selten", signal="low_confidence")
    high = cluster_of("oft", signal="reported_defect")
    f.feedback_ingest(*[f.feedback_item(f"o{i}", text="oft", signal="reported_defect") for i in range(5)])
    cluster_of("起こして", locale="ja-JP")
    rows = client_for(team["ling"]).get(f"{BASE}/").json()["results"]
    assert [r["id"] for r in rows] == [high.pk, low.pk]
    assert rows[0]["event_count"] == 6 and rows[0]["examples"][0]["text"] == "oft"
    assert {r["locale"] for r in client_for(team["admin"]).get(f"{BASE}/").json()["results"]} == {"de-DE", "ja-JP"}
    assert client_for(team["ling"]).get(f"{BASE}/?locale=ja-JP").json()["results"] == []


def test_filters_by_kind_status_and_assignee(team, cluster_of):
    mine = cluster_of("a")
    cluster_of("b", kind="wrong_slot")
    client = client_for(team["ling"])
    client.post(f"{BASE}/{mine.pk}/assign/", {"assignee": "ling"}, format="json")
    assert [r["id"] for r in client.get(f"{BASE}/?assignee=me").json()["results"]] == [mine.pk]
    assert len(client.get(f"{BASE}/?kind=wrong_slot").json()["results"]) == 1
    assert len(client.get(f"{BASE}/?status=new&open=true").json()["results"]) == 2


def test_the_whole_lifecycle_through_the_api(team, cluster_of):
    cluster = cluster_of()
    ling = client_for(team["ling"])
    assert ling.post(f"{BASE}/{cluster.pk}/triage/", {"note": "real"}, format="json").json()["status"] == "triaged"
    assert ling.post(f"{BASE}/{cluster.pk}/review/", {}, format="json").json()["assignee"] == "ling"
    refused = client_for(team["ling2"]).post(f"{BASE}/{cluster.pk}/label/", {
        "intent": "alarm_set", "annotated": "weck mich um [time : sieben]", "partition": "test"}, format="json")
    assert refused.status_code == 403 and "assignee" in refused.json()["error"]["message"]
    bad = ling.post(f"{BASE}/{cluster.pk}/label/", {"intent": "alarm_set", "annotated": "weck [time", "partition": "test"},
                    format="json")
    assert bad.status_code == 400 and "annotated" in bad.json()["error"]["fields"]
    done = ling.post(f"{BASE}/{cluster.pk}/label/", {
        "intent": "alarm_set", "annotated": "weck mich um [time : sieben]", "partition": "test"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["resolution"] == "fixed_data"
    assert Utterance.objects.get(pk=done.json()["fix_utterance"]).partition == "test"
    assert ling.post(f"{BASE}/{cluster.pk}/reopen/", {}, format="json").status_code == 403
    assert client_for(team["lead"]).post(f"{BASE}/{cluster.pk}/reopen/", {}, format="json").json()["status"] == \
        "triaged"


def test_duplicate_target_must_be_visible(team, cluster_of):
    de, other_de, ja = cluster_of("a"), cluster_of("b"), cluster_of("c", locale="ja-JP")
    ling = client_for(team["ling"])
    assert ling.post(f"{BASE}/{de.pk}/duplicate/", {"of": ja.pk}, format="json").json()["error"]["fields"] == \
        {"of": ["no such cluster in your locales"]}
    assert ling.post(f"{BASE}/{de.pk}/duplicate/", {"of": other_de.pk}, format="json").json()["duplicate_of"] == \
        other_de.pk


def test_link_template_and_close_through_the_api(team, cluster_of):
    a, b = cluster_of("a"), cluster_of("b")
    lead = client_for(team["lead"])
    lead.post(f"{BASE}/{a.pk}/triage/", {}, format="json")
    lead.post(f"{BASE}/{a.pk}/review/", {}, format="json")
    body = lead.post(f"{BASE}/{a.pk}/link-template/", {"template_key": "alarm.set.confirm"}, format="json").json()
    assert (body["resolution"], body["fix_template_key"]) == ("fixed_template", "alarm.set.confirm")
    assert lead.post(f"{BASE}/{b.pk}/close/", {"resolution": "fixed_data"}, format="json").status_code == 400
    assert lead.post(f"{BASE}/{b.pk}/close/", {"resolution": "not_a_bug"}, format="json").json()["status"] == "resolved"


def test_paraphrase_queue_and_mining_trigger(team, django_capture_on_commit_callbacks):
    from datetime import datetime, timedelta, timezone as tz

    t0 = datetime(2026, 11, 30, 10, tzinfo=tz.utc)
    items = []
    for n in range(3):
        session = f"{n:0>32}"
        items += [f.feedback_item(f"f{n}", session=session, text="bring mich um sieben hoch", signal="user_rephrase",
                                  timestamp=t0.isoformat()),
                  f.feedback_item(f"s{n}", session=session, text="weck mich um sieben", signal="success",
                                  intent="alarm_set", slots=[{"type": "time", "value": "sieben"}],
                                  timestamp=(t0 + timedelta(seconds=5)).isoformat())]
    f.feedback_ingest(*items)
    assert client_for(team["lead"]).post("/api/v1/feedback/paraphrases/mine/", {}, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(team["admin"]).post("/api/v1/feedback/paraphrases/mine/", {"min_support": 3},
                                                  format="json")
    assert response.status_code == 202
    rows = client_for(team["ling"]).get("/api/v1/feedback/paraphrases/").json()["results"]
    assert [(r["intent_name"], r["support"], r["annotated"]) for r in rows] == [
        ("alarm_set", 3, "bring mich um [time : sieben] hoch")]
    assert client_for(team["ling_ja"]).get("/api/v1/feedback/paraphrases/").json()["results"] == []
    accepted = client_for(team["ling"]).post(f"/api/v1/feedback/paraphrases/{rows[0]['id']}/accept/", {},
                                             format="json")
    assert accepted.json()["status"] == "accepted"
    assert Utterance.objects.get(pk=accepted.json()["utterance"]).source == "mined"
    assert ParaphraseCandidate.objects.get().decided_by == team["ling"]


def test_assigning_to_an_unknown_user_answers_like_a_user_elsewhere(team, cluster_of):
    """No listing the platform's users by probing names (security review)."""
    cluster = cluster_of("a")
    client = client_for(team["lead"])
    unknown = client.post(f"{BASE}/{cluster.pk}/assign/", {"assignee": "nobody"}, format="json").json()
    elsewhere = client.post(f"{BASE}/{cluster.pk}/assign/", {"assignee": "ling_ja"}, format="json").json()
    assert unknown["error"]["fields"]["assignee"] == ["nobody is not a linguist of de-DE"]
    assert elsewhere["error"]["fields"]["assignee"] == ["ling_ja is not a linguist of de-DE"]
