"""Clusters per locale × kind by normalized text, plus MinHash near-duplicates."""
import pytest

import factories as f
from parley.feedback import clustering
from parley.feedback.models import FeedbackCluster, FeedbackEvent
from parley.feedback.services import events_cluster, priority_of

pytestmark = pytest.mark.django_db


def test_same_normalized_text_is_one_cluster_with_count_first_last_and_examples(team):
    f.feedback_ingest(
        f.feedback_item("a", text="Weck mich um sieben!", timestamp="2026-12-01T10:00:00Z"),
        f.feedback_item("b", text="weck mich um   sieben", timestamp="2026-12-01T08:00:00Z", signal="reported_defect"),
        f.feedback_item("c", text="weck mich um sieben", timestamp="2026-12-01T12:00:00Z"))
    cluster = FeedbackCluster.objects.get()
    assert cluster.event_count == 3
    assert cluster.first_seen.hour == 8 and cluster.last_seen.hour == 12
    assert [e["text"] for e in cluster.examples] == ["weck mich um sieben", "Weck mich um sieben!",
                                                     "weck mich um   sieben"]
    assert cluster.severity == 3.0  # the reported defect
    assert cluster.predicted_intents == {"alarm_query": 3}


def test_near_duplicates_join_and_different_texts_do_not(team):
    f.feedback_ingest(f.feedback_item("a", text="stell einen wecker für sieben uhr morgens"))
    f.feedback_ingest(f.feedback_item("b", text="stell einen wecker fur sieben uhr morgen"))  # typos
    f.feedback_ingest(f.feedback_item("c", text="wie wird das wetter in berlin"))
    assert FeedbackCluster.objects.count() == 2
    near = FeedbackCluster.objects.get(normalized="stell einen wecker für sieben uhr morgens")
    assert near.event_count == 2
    assert clustering.jaccard("stell einen wecker für sieben uhr morgens",
                              "stell einen wecker fur sieben uhr morgen") >= 0.7


def test_clusters_are_per_locale_and_kind(team):
    f.feedback_ingest(f.feedback_item("de", text="hallo"), f.feedback_item("ja", text="hallo", locale="ja-JP"),
                      f.feedback_item("resp", text="hallo", signal="negative_rating", response_template_key="greet.hi"),
                      f.feedback_item("cap", text="hallo", signal="low_confidence", intent=""),
                      f.feedback_item("slot", text="hallo", kind="wrong_slot"))
    kinds = set(FeedbackCluster.objects.values_list("locale__tag", "kind"))
    assert kinds == {("de-DE", "wrong_intent"), ("ja-JP", "wrong_intent"), ("de-DE", "bad_response"),
                     ("de-DE", "missing_capability"), ("de-DE", "wrong_slot")}
    assert FeedbackCluster.objects.get(kind="bad_response").template_keys == {"greet.hi": 1}


def test_successful_turns_are_not_clustered_and_a_second_drain_does_nothing(team):
    f.feedback_ingest(f.feedback_item("ok", signal="success"), f.feedback_item("bad"))
    assert FeedbackEvent.objects.get(idempotency_key="ok").cluster is None
    assert FeedbackEvent.objects.get(idempotency_key="bad").cluster is not None
    assert events_cluster() == 0
    assert FeedbackCluster.objects.get().event_count == 1


def test_japanese_is_clustered_by_its_word_segmented_form(team):
    f.feedback_ingest(f.feedback_item("a", locale="ja-JP", text="明日の天気"),
                      f.feedback_item("b", locale="ja-JP", text="明日 の 天気"))
    assert FeedbackCluster.objects.get().event_count == 2


def test_priority_grows_with_frequency_and_severity_and_decays_with_age(team):
    from datetime import datetime, timedelta, timezone as tz

    now = datetime(2026, 12, 1, tzinfo=tz.utc)
    base = priority_of(severity=1, count=3, last_seen=now, escalated=False, now=now)
    assert priority_of(severity=1, count=30, last_seen=now, escalated=False, now=now) > base
    assert priority_of(severity=3, count=3, last_seen=now, escalated=False, now=now) > base
    week_old = priority_of(severity=1, count=3, last_seen=now - timedelta(days=7), escalated=False, now=now)
    assert week_old == pytest.approx(base / 2)
    assert priority_of(severity=0.5, count=1, last_seen=now - timedelta(days=70), escalated=True, now=now) > \
        priority_of(severity=3, count=10**6, last_seen=now, escalated=False, now=now)


def test_minhash_is_stable_and_estimates_jaccard():
    a = "set an alarm for seven in the morning"
    b = "set an alarm for seven in the evening"
    assert clustering.minhash(a) == clustering.minhash(a)
    assert abs(clustering.similarity(clustering.minhash(a), clustering.minhash(b)) - clustering.jaccard(a, b)) < 0.2
    assert clustering.similarity(clustering.minhash(a), clustering.minhash("what's the weather")) < 0.3


def test_near_duplicates_in_one_chunk_join_the_cluster_the_first_opened(team):
    f.feedback_ingest(f.feedback_item("a", text="stell einen wecker für sieben uhr morgens"),
                      f.feedback_item("b", text="stell einen wecker fur sieben uhr morgen"),
                      f.feedback_item("c", text="stell einen wecker für sieben uhr morgens"))
    cluster = FeedbackCluster.objects.get()
    assert (cluster.event_count, cluster.representative_text) == (3, "stell einen wecker für sieben uhr morgens")
    assert cluster.bands.count() == clustering.BANDS


def test_the_same_text_in_two_locales_finds_each_locale_its_own_cluster_again(team):
    f.feedback_ingest(f.feedback_item("de1", text="hallo"), f.feedback_item("ja1", text="hallo", locale="ja-JP"))
    f.feedback_ingest(f.feedback_item("de2", text="hallo"), f.feedback_item("ja2", text="hallo", locale="ja-JP"))
    assert sorted(FeedbackCluster.objects.values_list("locale__tag", "event_count")) == [("de-DE", 2), ("ja-JP", 2)]


def test_a_chunked_drain_gives_the_same_clusters(team):
    items = [f.feedback_item(f"k{i}", text=t) for i, t in enumerate(
        ["weck mich um sieben", "weck mich um sieben bitte", "wie wird das wetter", "weck mich um sieben",
         "wie wird das wetter morgen", "spiel musik"] * 3)]
    f.feedback_ingest(*items, cluster=False)
    assert events_cluster(chunk_size=4) == 18
    counts = dict(FeedbackCluster.objects.values_list("normalized", "event_count"))
    assert sum(counts.values()) == 18
    assert counts["spiel musik"] == 3
