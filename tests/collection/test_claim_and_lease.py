"""Claim-next: one task at a time, native locales only, leases that expire back to the pool, skips."""
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

import factories as f
from parley.collection.models import Task, TaskLease
from parley.collection.services import (task_claim_next, task_skip, task_submit_judgment, task_submit_utterance)
from parley.events.models import Event

pytestmark = pytest.mark.django_db

GOOD = dict(intent_score=1, slots_score=1, grammar_score=4, spelling_score=2, language_identification="target")


def test_generation_makes_target_tasks_per_locale_and_intent(world):
    counts = {(t.locale.tag, t.kind) for t in Task.objects.all()}
    assert counts == {("ar-SA", "elicit"), ("ja-JP", "elicit")}
    assert Task.objects.filter(locale=world["ar"]).count() == 2


def test_claim_gives_native_locale_task_and_the_same_one_until_done(world):
    task = task_claim_next(annotator=world["amal"])
    assert task.locale == world["ar"] and task.status == "leased" and task.assignee == world["amal"]
    assert task_claim_next(annotator=world["amal"]) == task  # one at a time
    other = task_claim_next(annotator=world["badr"])
    assert other != task and other.locale == world["ar"]
    assert task_claim_next(annotator=world["carim"]) is None  # ar-SA's two tasks are out
    assert Event.objects.filter(verb="collection.task_claimed").count() == 2


def test_non_natives_and_other_roles_get_nothing(world):
    fluent = f.member("annotator", world["ar"], proficiency="fluent")
    lead = f.member("locale_lead", world["ar"])
    everywhere = f.member("annotator", None, proficiency="native")
    assert task_claim_next(annotator=fluent) is None
    assert task_claim_next(annotator=lead) is None
    assert task_claim_next(annotator=everywhere) is None


def test_lease_expires_back_to_the_pool(world):
    start = timezone.now()
    task = task_claim_next(annotator=world["amal"], now=start)
    task_claim_next(annotator=world["badr"], now=start)
    later = start + timedelta(minutes=15, seconds=1)
    assert task_claim_next(annotator=world["carim"], now=start + timedelta(minutes=14)) is None
    again = task_claim_next(annotator=world["carim"], now=later)
    assert again.pk in {task.pk, task.pk + 1} and again.assignee == world["carim"]
    assert TaskLease.objects.filter(task=again, outcome="expired").count() == 1
    with pytest.raises(ValidationError, match="not leased to you|expired"):
        task_submit_utterance(task=again if again.pk == task.pk else task, annotator=world["amal"],
                              annotated="أيقظني الساعة [time : الخامسة صباحا]", now=later)


def test_submit_after_expiry_is_refused_even_if_nobody_took_it(world):
    start = timezone.now()
    task = task_claim_next(annotator=world["amal"], now=start)
    with pytest.raises(ValidationError, match="expired"):
        task_submit_utterance(task=task, annotator=world["amal"], annotated="أيقظني الساعة [time : الخامسة صباحا]",
                              now=start + timedelta(minutes=16))


def test_skip_needs_a_reason_is_recorded_and_never_comes_back(world):
    task = task_claim_next(annotator=world["amal"])
    with pytest.raises(ValidationError, match="say why"):
        task_skip(task=task, annotator=world["amal"], reason="  ")
    task_skip(task=task, annotator=world["amal"], reason="لا أفهم المطلوب")
    lease = TaskLease.objects.get(task=task)
    assert (lease.outcome, lease.skip_reason) == ("skipped", "لا أفهم المطلوب")
    assert Task.objects.get(pk=task.pk).status == "open"
    nxt = task_claim_next(annotator=world["amal"])
    assert nxt is not None and nxt.pk != task.pk
    task_skip(task=nxt, annotator=world["amal"], reason="again")
    assert task_claim_next(annotator=world["amal"]) is None
    assert task_claim_next(annotator=world["badr"]).pk == task.pk


def test_self_validation_is_never_offered_nor_accepted(world):
    task = task_claim_next(annotator=world["amal"])
    utterance = task_submit_utterance(task=task, annotator=world["amal"],
                                      annotated="أيقظني الساعة [time : الخامسة صباحا]")
    assert utterance.status == "in_validation" and utterance.source == "collected"
    validations = Task.objects.filter(kind="validate", utterance=utterance)
    assert validations.count() == 2
    # amal's next task is the other elicit task, never a validation of her own utterance
    nxt = task_claim_next(annotator=world["amal"])
    assert nxt.kind == "elicit"
    # forcing it: a validate task leased to her by hand is still refused at submission
    v = validations.first()
    Task.objects.filter(pk=v.pk).update(status="leased", assignee=world["amal"],
                                        lease_expires_at=timezone.now() + timedelta(minutes=5))
    TaskLease.objects.create(task=v, annotator=world["amal"], claimed_at=timezone.now(),
                             expires_at=timezone.now() + timedelta(minutes=5))
    with pytest.raises(ValidationError, match="your own"):
        task_submit_judgment(task=v, annotator=world["amal"], **GOOD)


def test_a_judge_gets_one_validation_per_utterance(world):
    task = task_claim_next(annotator=world["amal"])
    utterance = task_submit_utterance(task=task, annotator=world["amal"],
                                      annotated="أيقظني الساعة [time : الخامسة صباحا]")
    first = task_claim_next(annotator=world["badr"])
    assert first.kind == "validate" and first.utterance == utterance  # validations come first
    task_submit_judgment(task=first, annotator=world["badr"], **GOOD)
    nxt = task_claim_next(annotator=world["badr"])
    assert nxt is None or nxt.kind != "validate" or nxt.utterance != utterance


def test_a_writing_task_takes_no_judgment_and_a_validate_task_no_utterance(world):
    task = task_claim_next(annotator=world["amal"])
    with pytest.raises(ValidationError, match="only a validate task"):
        task_submit_judgment(task=task, annotator=world["amal"], **GOOD)
    utterance = task_submit_utterance(task=task, annotator=world["amal"], annotated="أيقظني [time : الخامسة]")
    validation = task_claim_next(annotator=world["badr"])
    assert validation.utterance == utterance
    with pytest.raises(ValidationError, match="submitted with a judgment"):
        task_submit_utterance(task=validation, annotator=world["badr"], annotated="أيقظني [time : السادسة]")


@pytest.mark.parametrize("field, value", [
    ("intent_score", 3), ("grammar_score", 5), ("spelling_score", -1), ("slots_score", True),
    ("intent_score", 10**30), ("grammar_score", "4"), ("spelling_score", None),
    # the published values are target, english, other and their combinations joined by "|"
    ("language_identification", "mixed"), ("language_identification", "4"), ("language_identification", ""),
    ("language_identification", "target|target"), ("language_identification", "target||other"),
    ("language_identification", "target\x00"), ("language_identification", "target|" * 1000),
    ("language_identification", ["target"])])
def test_judgment_scales_are_bounded(world, field, value):
    task = task_claim_next(annotator=world["amal"])
    task_submit_utterance(task=task, annotator=world["amal"], annotated="أيقظني [time : الخامسة]")
    validation = task_claim_next(annotator=world["badr"])
    with pytest.raises(ValidationError) as refused:
        task_submit_judgment(task=validation, annotator=world["badr"], **{**GOOD, field: value})
    assert list(refused.value.message_dict) == [field]


@pytest.mark.parametrize("given, stored", [("target", "target"), ("english|target", "target|english"),
                                           ("other|english|target", "target|english|other"),
                                           ("english", "english")])
def test_language_identification_is_stored_as_published(world, given, stored):
    task = task_claim_next(annotator=world["amal"])
    task_submit_utterance(task=task, annotator=world["amal"], annotated="أيقظني [time : الخامسة]")
    validation = task_claim_next(annotator=world["badr"])
    judgment = task_submit_judgment(task=validation, annotator=world["badr"],
                                    **{**GOOD, "language_identification": given})
    judgment.refresh_from_db()
    assert judgment.language_identification == stored
    assert judgment.get_language_identification_display() == {
        "target": "target", "target|english": "target & english", "target|english|other": "target & english & other",
        "english": "english"}[stored]
