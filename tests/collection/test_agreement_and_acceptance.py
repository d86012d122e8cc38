"""The acceptance rule, the rework loop, and agreement figures against hand-computed values."""
from types import SimpleNamespace as J

import pytest

from parley.collection.acceptance import Verdict, judgments_decide
from parley.collection.agreement import agreement_with_majority, krippendorff_alpha, majority
from parley.collection.models import DEFAULT_ACCEPTANCE_RULE, Decision, Task
from parley.collection.selectors import campaign_agreement, campaign_progress
from parley.collection.services import task_claim_next, task_skip, task_submit_judgment, task_submit_utterance
from parley.nlu.models import Utterance

RULE = DEFAULT_ACCEPTANCE_RULE


def judge(intent=1, slots=1, grammar=4, spelling=2, language="target", **kw):
    return J(intent_score=intent, slots_score=slots, grammar_score=grammar, spelling_score=spelling,
             language_identification=language, proposed_annotation=kw.get("proposed", ""),
             comment=kw.get("comment", ""))


def test_yes_on_every_scale_accepts():
    # intent 1 "Yes", slots 1 "Yes", grammar 4 "Perfect", spelling 2 "All words are spelled correctly",
    # language 1 "target": the answer the old rule (a majority of intent 2) sent back for rework.
    assert judgments_decide([judge(), judge()], rule=RULE) == Verdict(True, [])
    assert judgments_decide([judge(), judge(), judge()], rule=RULE).accepted


def test_the_published_de_de_example_is_accepted():
    # alexa/massive README.md, de-DE id 0: worker 32 said the slots do not match (0), workers 8 and 28 "Yes".
    published = [judge(1, 0, 4, 2, "target"), judge(1, 1, 4, 2, "target"), judge(1, 1, 4, 2, "target")]
    assert judgments_decide(published, rule=RULE).accepted


@pytest.mark.parametrize("judgments", [
    [judge(intent=2), judge(intent=2)],  # "a reasonable interpretation of the goal"
    [judge(slots=2), judge(slots=2)],  # "there are no words in square brackets"
    [judge(grammar=3), judge(grammar=4)],  # "Good enough" and "Perfect"
    [judge(spelling=0), judge(spelling=1)],  # spelling is not part of the default rule
    [judge(language="target|english"), judge(language="target|english|other")],  # the target among others
    [judge(), judge(), judge(intent=0)],  # 2 of 3 approve: a majority
])
def test_default_rule_accepts(judgments):
    assert judgments_decide(judgments, rule=RULE).accepted


@pytest.mark.parametrize("judgments, reason", [
    ([judge(), judge(intent=0)], "intent: 1 of 2 judges scored outside 1, 2 (0)"),  # a tie is no majority
    ([judge(), judge(slots=0)], "slots: 1 of 2 judges scored outside 1, 2 (0)"),
    ([judge(), judge(grammar=2)], "grammar: 1 of 2 judges scored below 3 (2)"),
    ([judge(), judge(language="english")], "language: 1 of 2 judges did not find the target language (english)"),
    ([judge(), judge(language="english|other")], "language: 1 of 2"),
    ([judge(intent=0, proposed="wake me at [time : six]"), judge(intent=0)], "a judge proposes: wake me at"),
    # each judge fails a different criterion: only one of three approves
    ([judge(), judge(intent=0), judge(grammar=1)], "1 of 3 judges approved; a majority is needed"),
    ([], "0 of 0 judges approved"),
])
def test_default_rule_rejects_with_reasons(judgments, reason):
    verdict = judgments_decide(judgments, rule=RULE)
    assert not verdict.accepted and any(r.startswith(reason) for r in verdict.reasons), verdict.reasons


def test_rule_is_configurable():
    lenient = {**RULE, "min_grammar_score": 1, "require_target_language": False}
    assert judgments_decide([judge(grammar=1, language="other"), judge()], rule=lenient).accepted
    assert not judgments_decide([judge(grammar=1, language="other"), judge()], rule=RULE).accepted
    only_yes = {**RULE, "intent_scores": [1], "min_spelling_score": 2}
    assert not judgments_decide([judge(intent=2), judge(intent=2)], rule=only_yes).accepted
    assert not judgments_decide([judge(spelling=1), judge(spelling=1)], rule=only_yes).accepted


def test_alpha_on_a_hand_computed_example():
    # Two judges, three units: (0,0), (1,1), (0,1). Coincidences o00=2, o11=2, o01=o10=1; n0=n1=3, n=6.
    # Nominal: Do = 2/6, De = 2*3*3/(6*5) = 0.6, alpha = 1 - (1/3)/0.6 = 4/9.
    # Interval: delta(0,1) = 1, so the same numbers: 4/9.
    units = [(0, 0), (1, 1), (0, 1)]
    assert krippendorff_alpha(units, metric="nominal") == pytest.approx(4 / 9)
    assert krippendorff_alpha(units, metric="interval") == pytest.approx(4 / 9)
    # Values 0, 2 instead of 0, 1: interval distances scale by 4 in Do and De alike: still 4/9.
    assert krippendorff_alpha([(0, 0), (2, 2), (0, 2)], metric="interval") == pytest.approx(4 / 9)
    assert krippendorff_alpha([(1, 1), (2, 2)], metric="interval") == pytest.approx(1.0)
    assert krippendorff_alpha([(1, 1), (1, 1)]) is None  # no variation: undefined, not 1
    assert krippendorff_alpha([(1,), (2,)]) is None  # nothing pairable


def test_alpha_matches_krippendorffs_published_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", 4 observers x 12 units,
    # missing values absent. Published: nominal .743, ordinal .815, interval .849.
    a = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
    b = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
    c = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
    d = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
    units = [[v for v in unit if v is not None] for unit in zip(a, b, c, d)]
    assert round(krippendorff_alpha(units, metric="nominal"), 3) == 0.743
    assert round(krippendorff_alpha(units, metric="ordinal"), 3) == 0.815
    assert round(krippendorff_alpha(units, metric="interval"), 3) == 0.849


def test_agreement_with_the_majority_of_the_other_judges():
    units = {"u1": {"a": 2, "b": 2, "c": 0}, "u2": {"a": 1, "b": 1, "c": 1}, "u3": {"a": 2, "b": 0}}
    rates = agreement_with_majority(units)
    # c: u1 others (2,2) -> 2, disagrees; u2 agrees; u3 not judged: 1 of 2
    assert rates["c"] == {"compared": 2, "agreed": 1, "rate": 0.5}
    # a: u1 others (2,0) no majority -> skipped; u2 agrees; u3 other is 0 -> disagrees
    assert rates["a"] == {"compared": 2, "agreed": 1, "rate": 0.5}
    assert majority([1, 1, 2]) == 1 and majority([1, 2]) is None


GOOD = dict(intent_score=1, slots_score=1, grammar_score=4, spelling_score=2, language_identification="target")
BAD = {**GOOD, "intent_score": 0}


def write(world, who, text):
    task = task_claim_next(annotator=world[who])
    assert task.kind in ("elicit", "localize"), task
    return task_submit_utterance(task=task, annotator=world[who], annotated=text)


def validate(world, who, scores):
    task = task_claim_next(annotator=world[who])
    assert task is not None and task.kind == "validate", task
    return task_submit_judgment(task=task, annotator=world[who], **scores)


@pytest.mark.django_db
def test_two_good_judgments_accept(world):
    u = write(world, "amal", "أيقظني الساعة [time : الخامسة صباحا]")
    validate(world, "badr", GOOD)
    assert Utterance.objects.get(pk=u.pk).status == "in_validation"  # needs two
    validate(world, "carim", GOOD)
    assert Utterance.objects.get(pk=u.pk).status == "accepted"
    assert Decision.objects.get(utterance=u).outcome == "accepted"


@pytest.mark.django_db
def test_rejection_goes_back_to_the_author_with_reasons_then_stays_rejected(world):
    u = write(world, "amal", "أيقظني الساعة [time : الخامسة صباحا]")
    validate(world, "badr", {**BAD, "comment": "ليست جملة منبه"})
    validate(world, "carim", GOOD)
    u.refresh_from_db()
    assert u.status == "draft"
    rework = Task.objects.get(utterance=u, round=2, kind="elicit")
    assert rework.reserved_for == world["amal"] and any("intent" in r for r in rework.feedback)
    other = task_claim_next(annotator=world["dalia"])
    assert other.pk != rework.pk  # reserved for the author
    task_skip(task=other, annotator=world["dalia"], reason="later")
    mine = task_claim_next(annotator=world["amal"])
    assert mine.pk == rework.pk  # before any other work
    task_submit_utterance(task=mine, annotator=world["amal"], annotated="نبهني الساعة [time : السادسة صباحا]")
    u.refresh_from_db()
    assert (u.status, u.text) == ("in_validation", "نبهني الساعة السادسة صباحا")
    # round 2 needs judges who have not seen it: badr and carim are out
    assert task_claim_next(annotator=world["badr"]).utterance_id != u.pk
    validate(world, "emad", BAD)
    validate(world, "dalia", BAD)
    u.refresh_from_db()
    assert u.status == "rejected"  # max_rework_rounds = 1: final
    assert list(Decision.objects.filter(utterance=u).order_by("round").values_list("outcome", flat=True)) == [
        "rejected", "rejected"]
    # a replacement task keeps the target reachable
    first_round = Task.objects.filter(locale=world["ar"], kind="elicit", round=1)
    assert first_round.count() == 3
    progress = {(r["locale"], r["intent"]): r for r in campaign_progress(campaign=world["campaign"],
                                                                         locale_ids=[world["ar"].pk])}
    assert progress[("ar-SA", "alarm_set")]["rejected"] == 2


@pytest.mark.django_db
def test_campaign_agreement_figures(world):
    u1 = write(world, "amal", "أيقظني الساعة [time : الخامسة صباحا]")
    validate(world, "badr", GOOD)
    validate(world, "carim", {**GOOD, "grammar_score": 3})
    u2 = write(world, "dalia", "ضبط منبه الساعة [time : السابعة]")
    validate(world, "badr", GOOD)
    validate(world, "emad", {**GOOD, "intent_score": 2, "grammar_score": 2})
    figures = campaign_agreement(campaign=world["campaign"], locale_ids=[world["ar"].pk])
    alpha = figures["locales"]["ar-SA"]["alpha"]
    # grammar: units (4,3), (4,2). Coincidences o43=o34=1, o42=o24=1; n4=2, n3=1, n2=1, n=4.
    # Do = (1+1+4+4)/4 = 2.5; De = 2*(2*1*1 + 2*1*4 + 1*1*1)/(4*3) = 22/12; alpha = 1 - 2.5*12/22 = -4/11.
    assert alpha["grammar_score"] == pytest.approx(-4 / 11)
    assert alpha["spelling_score"] is None  # everyone gave 2
    by_user = {row["username"]: row for row in figures["annotators"]}
    assert by_user["emad"]["intent_agreement"] == 0.0 and by_user["badr"]["intent_agreement"] == 0.5
    assert by_user["amal"]["authored_accepted"] == 1 and by_user["dalia"]["authored_rejected"] == 1
    assert (Utterance.objects.get(pk=u1.pk).status, Utterance.objects.get(pk=u2.pk).status) == ("accepted", "draft")
