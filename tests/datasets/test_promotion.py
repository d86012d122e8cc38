"""Promotion: rules per source and locale, the leakage guard, parallel groups, stratified split."""
from collections import Counter
from decimal import Decimal

import pytest

import factories as f
from parley.datasets.models import PromotionRefusal
from parley.datasets.services import promotion_rule_set, split_units, utterances_promote
from parley.datasets.tasks import promotion_queue
from parley.events.models import Event
from parley.nlu.models import Utterance
from parley.runs.models import TaskRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def de():
    return f.locale("de-DE")


@pytest.fixture
def alarm():
    return f.intent("alarm_set", "alarm", slots=["time"])


def accepted(loc, intent, text, *, source="collected", **fields):
    return f.utterance(loc, intent, text, status="accepted", source=source, **fields)


def state(u):
    u.refresh_from_db()
    return u.status, u.partition


def test_default_rules_send_collected_to_test_mined_to_train_and_keep_labeled_partitions(de, alarm):
    collected = accepted(de, alarm, "weck mich um fünf", source="collected")
    mined = accepted(de, alarm, "wecker auf sechs", source="mined")
    feedback = accepted(de, alarm, "wecker auf acht", source="feedback", partition="test")  # labeled as test
    massive = accepted(de, alarm, "wecker um sieben", source="massive", partition="dev", external_id="7")
    result = utterances_promote(locale=de, actor="test")
    assert (result.candidates, result.refused) == (4, 0)
    assert state(collected) == ("promoted", "test")
    assert state(mined) == ("promoted", "train")
    assert state(feedback) == ("promoted", "test")
    assert state(massive) == ("promoted", "dev")
    assert Event.objects.filter(verb="utterance.promoted", locale_tag="de-DE").count() == 4


def test_a_locale_rule_wins_over_the_default(de, alarm):
    fr = f.locale("fr-FR")
    promotion_rule_set(locale=de, source="collected", target="dev", actor="test")
    in_de = accepted(de, alarm, "weck mich")
    in_fr = accepted(fr, alarm, "réveille moi")
    utterances_promote(locale=de, actor="test")
    utterances_promote(locale=fr, actor="test")
    assert state(in_de) == ("promoted", "dev")
    assert state(in_fr) == ("promoted", "test")


def test_leakage_is_refused_with_a_reason_and_the_row_stays_accepted(de, alarm):
    in_train = f.utterance(de, alarm, "weck mich um fünf", status="promoted", partition="train", source="massive")
    duplicate = accepted(de, alarm, "Weck mich um fünf!", source="collected")  # same normalized text, rule: test
    result = utterances_promote(locale=de, actor="test")
    assert result.refused == 1
    assert state(duplicate) == ("accepted", "unassigned")
    refusal = PromotionRefusal.objects.get(utterance=duplicate)
    assert (refusal.code, refusal.wanted, refusal.conflicting_id) == ("leakage", "test", in_train.pk)
    assert f"utterance {in_train.pk}" in refusal.reason and "train" in refusal.reason
    assert Event.objects.filter(verb="utterance.promotion_refused", target_id=str(duplicate.pk)).exists()


def test_same_text_in_train_and_dev_is_no_leak(de, alarm):
    f.utterance(de, alarm, "weck mich", status="promoted", partition="train", source="massive")
    promotion_rule_set(locale=de, source="collected", target="dev", actor="test")
    twin = accepted(de, alarm, "weck mich")
    assert utterances_promote(locale=de, actor="test").refused == 0
    assert state(twin) == ("promoted", "dev")


def test_two_candidates_with_one_text_cannot_split_across_test_and_train(de, alarm):
    first = accepted(de, alarm, "weck mich", source="collected")  # → test
    second = accepted(de, alarm, "weck mich", source="mined")  # → train: would leak
    result = utterances_promote(locale=de, actor="test")
    assert state(first) == ("promoted", "test")
    assert state(second) == ("accepted", "unassigned")
    assert result.refusals[0]["code"] == "leakage"


def test_parallel_group_stays_in_one_partition_across_locales(de, alarm):
    en = f.locale("en-US")
    f.utterance(en, alarm, "wake me at five", status="promoted", partition="train", source="massive",
                external_id="42", parallel_key="massive:42")
    localized = accepted(de, alarm, "weck mich um fünf", source="manual", parallel_key="massive:42")  # rule: split
    conflicting = accepted(de, alarm, "wecker fünf", source="collected", parallel_key="massive:43")
    f.utterance(en, alarm, "alarm five", status="promoted", partition="train", source="massive",
                external_id="43", parallel_key="massive:43")
    result = utterances_promote(locale=de, actor="test")
    assert state(localized) == ("promoted", "train")  # a split row joins its group
    assert state(conflicting) == ("accepted", "unassigned")  # collected → test, but its group is in train
    refusal = PromotionRefusal.objects.get(utterance=conflicting)
    assert refusal.code == "parallel_group" and "massive:43" in refusal.reason
    assert result.promoted["train"] == 1


def test_stratified_split_is_seeded_and_reproducible():
    shares = {"train": Decimal("0.8"), "dev": Decimal("0.1"), "test": Decimal("0.1")}
    units = [f"u{i}" for i in range(95)]
    first = split_units(units=units, shares=shares, seed=3)
    assert first == split_units(units=list(reversed(units)), shares=shares, seed=3)
    assert Counter(first.values()) == {"train": 76, "dev": 10, "test": 9}
    assert first != split_units(units=units, shares=shares, seed=4)


def test_split_keeps_its_shares_when_rows_arrive_one_at_a_time(de, alarm):
    promotion_rule_set(source="manual", target="split", actor="test")  # 0.8 / 0.1 / 0.1
    for i in range(20):
        accepted(de, alarm, f"alarm nummer {i}", source="manual")
        utterances_promote(locale=de, actor="test")
    placed = Counter(Utterance.objects.filter(status="promoted").values_list("partition", flat=True))
    assert placed == {"train": 16, "dev": 2, "test": 2}


def test_split_rule_splits_each_intent_and_keeps_duplicates_together(de, alarm):
    weather = f.intent("weather_query", "weather")
    promotion_rule_set(source="manual", target="split", split=("0.5", "0.25", "0.25"), seed=1, actor="test")
    rows = [accepted(de, alarm, f"alarm {i}", source="manual") for i in range(8)]
    rows += [accepted(de, weather, f"wetter {i}", source="manual") for i in range(4)]
    twin = accepted(de, alarm, "Alarm 0", source="manual")
    utterances_promote(locale=de, actor="test")
    by_intent = Counter((u.intent.name, state(u)[1]) for u in rows)
    assert by_intent == {("alarm_set", "train"): 4, ("alarm_set", "dev"): 2, ("alarm_set", "test"): 2,
                         ("weather_query", "train"): 2, ("weather_query", "dev"): 1, ("weather_query", "test"): 1}
    assert state(twin)[1] == state(rows[0])[1]


def test_promotion_is_idempotent(de, alarm):
    accepted(de, alarm, "weck mich")
    accepted(de, alarm, "weck mich", source="mined")  # refused
    first = utterances_promote(locale=de, actor="test")
    again = utterances_promote(locale=de, actor="test")
    assert (first.promoted["test"], first.refused) == (1, 1)
    assert (again.candidates, sum(again.promoted.values()), again.refused) == (1, 0, 1)
    assert PromotionRefusal.objects.count() == 1
    assert Utterance.objects.filter(status="promoted").count() == 1
    # The unchanged refusal is neither replaced nor logged again.
    assert Event.objects.filter(verb="utterance.promotion_refused").count() == 1


def test_beat_queues_promotion_only_for_new_candidates_and_not_twice(de, alarm, django_capture_on_commit_callbacks):
    from parley.datasets.tasks import promote_pending_task

    accepted(de, alarm, "weck mich")
    accepted(de, alarm, "weck mich", source="mined")  # will be refused
    with django_capture_on_commit_callbacks(execute=True):
        assert promote_pending_task() == 1
    assert TaskRun.objects.filter(kind="datasets.promote").count() == 1
    assert promote_pending_task() == 0  # only a refused row is left: nothing new to do
    accepted(de, alarm, "neu")
    TaskRun.objects.update(status=TaskRun.Status.QUEUED)  # as if the last run had not started yet
    assert promote_pending_task() == 0


def test_promotion_task_records_its_run(de, alarm, django_capture_on_commit_callbacks):
    accepted(de, alarm, "weck mich")
    with django_capture_on_commit_callbacks(execute=True):
        run = promotion_queue(actor="test", locale_tags=["de-DE"])
    run.refresh_from_db()
    assert run.status == TaskRun.Status.SUCCEEDED
    assert run.result["promoted"] == 1 and run.result["locales"][0]["locale"] == "de-DE"
    assert (run.done, run.total) == (1, 1)


def test_rule_shares_must_sum_to_one(de):
    from django.core.exceptions import ValidationError
    with pytest.raises(ValidationError):
        promotion_rule_set(source="manual", target="split", split=("0.5", "0.5", "0.5"), actor="test")


def test_a_reviewed_feedback_candidate_flows_into_the_partition_its_linguist_chose(de, alarm):
    from parley.nlu.services import utterance_create, utterance_review

    linguist = f.member("linguist", de)
    as_test = utterance_create(locale=de, intent=alarm, annotated="weck mich um [time : fünf]", source="feedback",
                               status="submitted", partition="test", actor=linguist)
    as_train = utterance_create(locale=de, intent=alarm, annotated="wecker [time : sechs]", source="feedback",
                                status="submitted", partition="train", actor=linguist)
    mined = utterance_create(locale=de, intent=alarm, annotated="alarm [time : sieben]", source="mined",
                             status="submitted", actor=linguist)
    for utterance in (as_test, as_train, mined):
        utterance_review(utterance=utterance, accept=True, actor=linguist)
    utterances_promote(locale=de, actor="test")
    assert (state(as_test), state(as_train), state(mined)) == (("promoted", "test"), ("promoted", "train"),
                                                               ("promoted", "train"))


def test_review_is_for_candidates_not_collected_or_imported_rows(de, alarm):
    from django.core.exceptions import ValidationError

    from parley.nlu.services import utterance_review

    collected = f.utterance(de, alarm, "weck mich", status="submitted", source="collected")
    with pytest.raises(ValidationError):
        utterance_review(utterance=collected, accept=True, actor="test")
    draft = f.utterance(de, alarm, "wecker", status="draft", source="manual")
    with pytest.raises(ValidationError):
        utterance_review(utterance=draft, accept=True, actor="test")
    candidate = f.utterance(de, alarm, "alarm", status="submitted", source="mined")
    with pytest.raises(ValidationError):
        utterance_review(utterance=candidate, accept=False, actor="test", reason=" ")


def test_defaults_apply_even_when_the_default_rows_are_gone(de, alarm):
    from parley.datasets.defaults import default_rules_ensure
    from parley.datasets.models import PromotionRule

    PromotionRule.objects.all().delete()  # e.g. a flushed database
    collected = accepted(de, alarm, "weck mich", source="collected")
    utterances_promote(locale=de, actor="test")
    assert state(collected) == ("promoted", "test")
    assert default_rules_ensure() == 8 and default_rules_ensure() == 0
