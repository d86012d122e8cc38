"""Claim-next under real concurrency on PostgreSQL: many annotators at once, no task to two of them.

Threads, each with its own database connection, claim and submit until the pool is empty: first
writing tasks and the validations they create, interleaved. Every claim is recorded as it returns.
"""
import threading
from collections import Counter

import pytest
from django.db import connection, connections

import factories as f
from parley.collection.models import Judgment, Task, TaskLease
from parley.collection.services import task_claim_next, task_submit_judgment, task_submit_utterance

pytestmark = [pytest.mark.postgres]

ANNOTATORS = 12
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"]


def run_all(annotators, work):
    barrier = threading.Barrier(len(annotators))
    errors = []

    def body(i, user):
        try:
            barrier.wait()
            work(i, user)
        except Exception as exc:  # reported below, with the thread's name
            errors.append(f"{user.username}: {exc!r}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(i, u)) for i, u in enumerate(annotators)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors


def test_concurrent_claims_never_hand_a_task_to_two_annotators(transactional_db):
    assert connection.vendor == "postgresql"
    en = f.locale("en-US")
    intents = [f.intent(f"alarm_{name}", "alarm", slots=["time"]) for name in ("set", "query", "remove")]
    campaign = f.campaign([en], intents, target_per_intent=10, required_validations=2)
    annotators = [f.native(en, f"anno{i}") for i in range(ANNOTATORS)]
    claims = []  # (task id, annotator id, kind), appended as claims return
    lock = threading.Lock()

    def first_claims(i, user):
        task = task_claim_next(annotator=user, campaign=campaign)
        with lock:
            claims.append((task.pk, user.pk))

    run_all(annotators, first_claims)
    assert len({t for t, _ in claims}) == ANNOTATORS  # twelve claims at once: twelve different tasks

    def work_everything(i, user):
        # Validations come first in claim order, so writing and judging interleave as in real use.
        n = 0
        while True:
            task = task_claim_next(annotator=user, campaign=campaign)
            if task is None:
                return
            if task.kind == "validate":
                task_submit_judgment(task=task, annotator=user, intent_score=2, slots_score=2, grammar_score=4,
                                     spelling_score=2, language_identification="target")
            else:
                n += 1
                task_submit_utterance(task=task, annotator=user,
                                      annotated=f"wake {WORDS[i]} up at [time : seven] number {n}")

    # A thread stops when nothing is claimable for it at that moment; a validation that opens after
    # every other thread stopped (nobody may judge their own utterance) waits for the next round.
    for _round in range(5):
        run_all(annotators, work_everything)
        if not Task.objects.filter(campaign=campaign).exclude(status="done").exists():
            break

    production = Task.objects.filter(campaign=campaign, kind="elicit")
    validations = Task.objects.filter(campaign=campaign, kind="validate")
    assert production.count() == 30 and validations.count() == 60
    assert set(Task.objects.filter(campaign=campaign).values_list("status", flat=True)) == {"done"}
    # exactly one lease per task, the one that submitted it: nobody was ever handed a task twice
    per_task = Counter(TaskLease.objects.filter(task__campaign=campaign).values_list("task_id", flat=True))
    assert set(per_task.values()) == {1} and len(per_task) == 90
    assert set(TaskLease.objects.filter(task__campaign=campaign).values_list("outcome", flat=True)) == {"submitted"}
    # no one judged their own utterance, nor one utterance twice
    for judgment in Judgment.objects.select_related("utterance"):
        assert judgment.utterance.provenance["worker_id"] != str(judgment.annotator_id)
    pairs = Counter(Judgment.objects.values_list("utterance_id", "annotator_id"))
    assert set(pairs.values()) == {1}
    assert set(production.values_list("utterance__status", flat=True)) == {"accepted"}
