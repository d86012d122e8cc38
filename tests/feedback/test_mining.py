"""Rephrase mining on a crafted session stream: pairing within a window and a session, support
across distinct sessions, confidence, slot mapping, the review queue, the task run."""
from datetime import datetime, timedelta, timezone as tz

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

import factories as f
from parley.feedback import services
from parley.feedback.mining import annotate_failed
from parley.feedback.models import ParaphraseCandidate
from parley.feedback.tasks import paraphrase_mining_queue
from parley.nlu.models import Utterance
from parley.runs.models import TaskRun

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 30, 10, 0, tzinfo=tz.utc)
FAILED = "bring mich um sieben hoch"
REPHRASE = "weck mich um sieben"
SEVEN = [{"type": "time", "value": "sieben"}]


def turn(key, session, seconds, text, signal, intent="", slots=()):
    return f.feedback_item(key, session=f"{session:0>32}", timestamp=(T0 + timedelta(seconds=seconds)).isoformat(),
                           text=text, signal=signal, intent=intent, slots=slots, confidence=None)


def rephrased_session(n, *, gap=10, failed=FAILED, success_intent="alarm_set"):
    """A session where the failed phrasing is followed, `gap` seconds later, by a successful rephrase."""
    return [turn(f"s{n}-1", f"sess{n}", 0, failed, "user_rephrase", "alarm_query"),
            turn(f"s{n}-2", f"sess{n}", gap, REPHRASE, "success", success_intent, SEVEN)]


def mine(min_support=3, window=60):
    return services.paraphrases_mine(window_seconds=window, min_support=min_support)


def test_support_threshold_is_respected(team):
    f.feedback_ingest(*rephrased_session(1), *rephrased_session(2), cluster=False)
    mine(min_support=3)
    assert not ParaphraseCandidate.objects.exists()
    f.feedback_ingest(*rephrased_session(3), cluster=False)
    result = mine(min_support=3)
    candidate = ParaphraseCandidate.objects.get()
    assert (candidate.support, candidate.sessions_failed, candidate.confidence) == (3, 3, 1.0)
    assert (candidate.intent_name, candidate.annotated, candidate.unmapped_slots) == \
        ("alarm_set", "bring mich um [time : sieben] hoch", [])
    assert candidate.rephrase_example == REPHRASE
    assert result["candidates_created"] == 1


def test_no_pair_across_sessions(team):
    # The failure ends one session, the success starts another, a second later: never a pair.
    items = []
    for n in range(5):
        items += [turn(f"f{n}", f"fail{n}", 0, FAILED, "user_rephrase"),
                  turn(f"o{n}", f"ok{n}", 1, REPHRASE, "success", "alarm_set", SEVEN)]
    f.feedback_ingest(*items, cluster=False)
    assert mine(min_support=1)["pairs"] == 0
    assert not ParaphraseCandidate.objects.exists()


def test_outside_the_window_or_the_same_words_is_no_pair(team):
    items = []
    for n in range(3):
        items += rephrased_session(n, gap=61)  # just past a 60 s window
        items += [turn(f"same{n}-1", f"same{n}", 0, FAILED, "barge_in"),
                  turn(f"same{n}-2", f"same{n}", 5, FAILED.upper(), "success", "alarm_set")]  # a repeat, not a rephrase
    f.feedback_ingest(*items, cluster=False)
    assert mine(min_support=1, window=60)["pairs"] == 0
    assert mine(min_support=1, window=62)["pairs"] == 1


def test_confidence_counts_sessions_where_the_phrasing_failed(team):
    items = [*rephrased_session(1), *rephrased_session(2), *rephrased_session(3)]
    items += [turn("abandon", "sess4", 0, FAILED, "negative_rating")]  # failed, nothing followed
    items += rephrased_session(5, success_intent="alarm_query")  # another meaning, support 1
    f.feedback_ingest(*items, cluster=False)
    mine(min_support=1)
    figures = dict(ParaphraseCandidate.objects.values_list("intent_name", "confidence"))
    assert figures == {"alarm_set": 0.6, "alarm_query": 0.2}


def test_slot_values_not_in_the_failed_text_are_reported(team):
    items = []
    for n in range(3):
        items += [turn(f"u{n}-1", f"u{n}", 0, "wecker bitte", "user_rephrase"),
                  turn(f"u{n}-2", f"u{n}", 8, REPHRASE, "success", "alarm_set", SEVEN)]
    f.feedback_ingest(*items, cluster=False)
    mine()
    candidate = ParaphraseCandidate.objects.get()
    assert (candidate.annotated, candidate.unmapped_slots) == ("wecker bitte", SEVEN)


def test_annotate_failed_marks_whole_words_once():
    assert annotate_failed("Sieben ist siebenmal sieben", (("time", "sieben"),)) == \
        ("[time : Sieben] ist siebenmal sieben", [])
    assert annotate_failed("um acht", (("time", "acht"), ("date", "morgen"))) == \
        ("um [time : acht]", [{"type": "date", "value": "morgen"}])


def test_mining_twice_changes_nothing_and_keeps_decisions(team):
    f.feedback_ingest(*[t for n in range(3) for t in rephrased_session(n)], cluster=False)
    mine()
    candidate = ParaphraseCandidate.objects.get()
    services.paraphrase_reject(candidate=candidate, actor=team["ling"], reason="odd")
    again = mine()
    assert (again["candidates_created"], again["candidates_refreshed"]) == (0, 0)
    assert ParaphraseCandidate.objects.get().status == "rejected"
    f.feedback_ingest(*rephrased_session(9), cluster=False)
    assert mine()["candidates_refreshed"] == 1
    assert ParaphraseCandidate.objects.get().support == 4


def test_accept_creates_a_mined_submitted_utterance(team):
    f.feedback_ingest(*[t for n in range(3) for t in rephrased_session(n)], cluster=False)
    mine()
    candidate = ParaphraseCandidate.objects.get()
    with pytest.raises(PermissionDenied):
        services.paraphrase_accept(candidate=candidate, actor=team["ling_ja"])
    with pytest.raises(PermissionDenied):
        services.paraphrase_accept(candidate=candidate, actor=team["anno"])
    done = services.paraphrase_accept(candidate=candidate, actor=team["ling"])
    utterance = Utterance.objects.get()
    assert (utterance.source, utterance.status, utterance.annotated, utterance.intent.name) == \
        ("mined", "submitted", "bring mich um [time : sieben] hoch", "alarm_set")
    assert (done.status, done.utterance, done.decided_by) == ("accepted", utterance, team["ling"])
    with pytest.raises(ValidationError, match="already accepted"):
        services.paraphrase_accept(candidate=candidate, actor=team["ling"])


def test_accept_with_a_corrected_annotation_is_checked(team):
    f.feedback_ingest(*[t for n in range(3) for t in rephrased_session(n)], cluster=False)
    mine()
    candidate = ParaphraseCandidate.objects.get()
    with pytest.raises(ValidationError):
        services.paraphrase_accept(candidate=candidate, actor=team["ling"], annotated="bring [time sieben")
    assert not Utterance.objects.exists()
    services.paraphrase_accept(candidate=candidate, actor=team["ling"], annotated="bring mich um [time : sieben] hoch")
    assert Utterance.objects.get().source == "mined"


def test_mining_runs_as_a_recorded_task_run(team, django_capture_on_commit_callbacks):
    f.feedback_ingest(*[t for n in range(3) for t in rephrased_session(n)], cluster=False)
    with django_capture_on_commit_callbacks(execute=True):
        run = paraphrase_mining_queue(actor="test", window_seconds=60, min_support=3)
    run.refresh_from_db()
    assert (run.status, run.kind, run.result["candidates_created"]) == (TaskRun.Status.SUCCEEDED,
                                                                          "feedback.mine_paraphrases", 1)
    assert run.result["events_read"] == 6
