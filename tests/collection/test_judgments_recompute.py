"""Judgments kept with collected utterances for MASSIVE exports, and recomputing decisions after a
rule change (the command goes through the services, logs every status change, and is idempotent)."""
import json

import pytest
from django.core.management import call_command

from parley.collection.models import Decision, Task
from parley.collection.services import (campaign_acceptance_rule_set, task_claim_next, task_submit_judgment,
                                        task_submit_utterance)
from parley.events.models import Event
from parley.interchange.exports import massive_jsonl, massive_rows
from parley.nlu.models import Utterance
from parley.nlu.services import utterance_status_change

pytestmark = pytest.mark.django_db

YES = dict(intent_score=1, slots_score=1, grammar_score=4, spelling_score=2, language_identification="target")


def write(world, who, text):
    task = task_claim_next(annotator=world[who])
    assert task.kind in ("elicit", "localize"), task
    return task_submit_utterance(task=task, annotator=world[who], annotated=text)


def validate(world, who, scores):
    task = task_claim_next(annotator=world[who])
    assert task is not None and task.kind == "validate", task
    return task_submit_judgment(task=task, annotator=world[who], **scores)


def status(u):
    return Utterance.objects.get(pk=u.pk).status


def recompute(*args):
    from io import StringIO

    out = StringIO()
    call_command("collection_decisions_recompute", *args, stdout=out)
    return out.getvalue()


def test_decided_judgments_go_out_in_massives_judgments_field(world):
    u = write(world, "amal", "أيقظني الساعة [time : الخامسة صباحا]")
    validate(world, "badr", YES)
    assert Utterance.objects.get(pk=u.pk).provenance.get("judgments", []) == []  # undecided: none yet
    validate(world, "carim", {**YES, "intent_score": 2, "language_identification": "english|target"})
    assert status(u) == "accepted"
    row = next(r for r in massive_rows(locale=world["ar"], source=None) if r["id"] == f"parley-{u.pk}")
    assert row["worker_id"] == str(world["amal"].pk)
    assert row["judgments"] == [
        {"worker_id": str(world["badr"].pk), "intent_score": 1, "slots_score": 1, "grammar_score": 4,
         "spelling_score": 2, "language_identification": "target"},
        {"worker_id": str(world["carim"].pk), "intent_score": 2, "slots_score": 1, "grammar_score": 4,
         "spelling_score": 2, "language_identification": "target|english"}]
    line = "".join(massive_jsonl(locale=world["ar"], source="collected"))
    assert list(json.loads(line)) == ["id", "locale", "partition", "scenario", "intent", "utt", "annot_utt",
                                      "worker_id", "slot_method", "judgments"]
    assert f'"judgments": [{{"worker_id": "{world["badr"].pk}", "intent_score": 1, "slots_score": 1, ' in line


def test_a_rework_clears_the_judgments_of_the_old_text(world):
    u = write(world, "amal", "أيقظني الساعة [time : الخامسة صباحا]")
    validate(world, "badr", {**YES, "intent_score": 0})
    validate(world, "carim", YES)
    assert status(u) == "draft" and len(Utterance.objects.get(pk=u.pk).provenance["judgments"]) == 2
    rework = task_claim_next(annotator=world["amal"])
    task_submit_utterance(task=rework, annotator=world["amal"], annotated="نبهني الساعة [time : السادسة صباحا]")
    assert Utterance.objects.get(pk=u.pk).provenance["judgments"] == []


def test_recompute_accepts_what_a_wrong_rule_sent_back_once_and_only_once(world):
    campaign = world["campaign"]
    campaign_acceptance_rule_set(campaign=campaign, rule={"intent_scores": [2]}, actor="test")  # the old mistake
    u = write(world, "amal", "أيقظني الساعة [time : الخامسة صباحا]")
    validate(world, "badr", YES)
    validate(world, "carim", YES)
    assert status(u) == "draft"
    rework = Task.objects.get(utterance=u, round=2)
    assert rework.reserved_for == world["amal"] and rework.status == "open"
    campaign_acceptance_rule_set(campaign=campaign, rule={}, actor="test")
    assert "would change" in recompute("--dry-run") and status(u) == "draft"  # a dry run writes nothing
    before = Event.objects.count()
    report = recompute()
    assert f"changed: utterance {u.pk} [ar-SA] campaign {campaign.pk} round 1: rejected -> accepted; " \
           f"status draft -> accepted" in report, report
    assert status(u) == "accepted"
    assert Decision.objects.get(utterance=u).outcome == "accepted"
    assert Task.objects.get(pk=rework.pk).status == "cancelled"
    verbs = list(Event.objects.order_by("id").values_list("verb", flat=True)[before:])
    assert verbs.count("utterance.status_changed") == 2  # draft → submitted → accepted, each logged
    assert "collection.task_cancelled" in verbs and "collection.decision_recomputed" in verbs
    # idempotent: nothing left to change, no new events
    after = Event.objects.count()
    assert recompute().strip() == "0 decision(s) differ from the current rules: 0 changed now, 0 left alone."
    assert Event.objects.count() == after


def test_recompute_sends_back_what_a_stricter_rule_rejects(world):
    u = write(world, "amal", "أيقظني الساعة [time : الخامسة صباحا]")
    validate(world, "badr", YES)
    validate(world, "carim", {**YES, "grammar_score": 3})
    assert status(u) == "accepted"
    campaign_acceptance_rule_set(campaign=world["campaign"], rule={"min_grammar_score": 4}, actor="test")
    report = recompute("--campaign", str(world["campaign"].pk))
    assert "accepted -> rejected; status accepted -> draft" in report, report
    rework = Task.objects.get(utterance=u, round=2)
    assert rework.reserved_for == world["amal"] and any("grammar" in r for r in rework.feedback)
    assert "0 decision(s)" in recompute()


def test_a_final_rejection_accepted_after_all_gives_back_its_replacement_task(world):
    campaign = world["campaign"]
    campaign_acceptance_rule_set(campaign=campaign, rule={"intent_scores": [2], "max_rework_rounds": 0},
                                 actor="test")
    u = write(world, "amal", "أيقظني الساعة [time : الخامسة صباحا]")
    validate(world, "badr", YES)
    validate(world, "carim", YES)
    assert status(u) == "rejected"
    first_round = Task.objects.filter(campaign=campaign, locale=world["ar"], round=1, kind="elicit")
    assert first_round.exclude(status="cancelled").count() == 3  # the replacement
    campaign_acceptance_rule_set(campaign=campaign, rule={}, actor="test")
    assert "rejected -> accepted; status rejected -> accepted" in recompute()
    assert status(u) == "accepted"
    assert first_round.exclude(status="cancelled").count() == 2  # back to the target


def test_a_promoted_utterance_is_reported_not_moved(world):
    u = write(world, "amal", "أيقظني الساعة [time : الخامسة صباحا]")
    validate(world, "badr", YES)
    validate(world, "carim", YES)
    utterance_status_change(utterance=Utterance.objects.get(pk=u.pk), to="promoted", actor="test", partition="test")
    campaign_acceptance_rule_set(campaign=world["campaign"], rule={"min_grammar_score": 4, "intent_scores": [2]},
                                 actor="test")
    report = recompute()
    assert "left alone" in report and "promoted" in report and status(u) == "promoted"
    assert report.strip().endswith("1 decision(s) differ from the current rules: 0 changed now, 1 left alone.")
    assert Decision.objects.get(utterance=u).outcome == "accepted"


def test_the_command_refuses_an_unknown_campaign(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no campaign with id 999999"):
        recompute("--campaign", "999999")


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_old_values_to_the_published_ones_by_meaning(world, capsys):
    """Judgments saved on the first scales (intent and slots 0-2 with 2 the best, language
    target|mixed|other) get the published value that means the same, judged by the text the judge
    saw; a campaign override of the old key gets the new key; the migration says how many rows moved."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from parley.collection.models import Campaign, Judgment
    from parley.nlu.services import utterance_annotation_update

    with_slot = write(world, "amal", "أيقظني الساعة [time : الخامسة صباحا]")
    yes, partly = validate(world, "badr", YES), validate(world, "carim", YES)
    without_slot = write(world, "dalia", "أيقظني مبكرا")
    none_no, none_yes = validate(world, "badr", YES), validate(world, "carim", YES)
    assert {yes.utterance_id, partly.utterance_id} == {with_slot.pk}
    assert {none_no.utterance_id, none_yes.utterance_id} == {without_slot.pk}
    # Edited after the judges saw them: the judged text decides "no words in square brackets".
    utterance_annotation_update(utterance=Utterance.objects.get(pk=with_slot.pk), annotated="أيقظني في الصباح",
                                actor="test")
    utterance_annotation_update(utterance=Utterance.objects.get(pk=without_slot.pk),
                                annotated="أيقظني [date : غدا]", actor="test")
    old = {yes.pk: (2, 2, 4, 2, "mixed"), partly.pk: (1, 1, 2, 1, "other"),
           none_no.pk: (0, 2, 3, 2, "target"), none_yes.pk: (2, 0, 0, 0, "target")}
    executor = MigrationExecutor(connection)
    executor.migrate([("collection", "0001_initial")])
    try:
        with connection.cursor() as cursor:
            for pk, (intent, slots, grammar, spelling, language) in old.items():
                cursor.execute("UPDATE collection_judgment SET intent_score = %s, slots_score = %s, grammar_score = %s,"
                               " spelling_score = %s, language_identification = %s WHERE id = %s",
                               [intent, slots, grammar, spelling, language, pk])
        Campaign.objects.filter(pk=world["campaign"].pk).update(
            acceptance_rule={"intent_score": 2, "min_grammar_score": 2})
        capsys.readouterr()
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    out = capsys.readouterr().out
    stored = {j.pk: (j.intent_score, j.slots_score, j.grammar_score, j.spelling_score, j.language_identification)
              for j in Judgment.objects.filter(pk__in=old)}
    assert stored == {
        yes.pk: (1, 1, 4, 2, "target|other"),  # yes -> "Yes"; mixed -> target & other
        partly.pk: (2, 0, 2, 1, "other"),  # in between -> "a reasonable interpretation"; partly right -> "No"
        none_no.pk: (0, 2, 3, 2, "target"),  # no slot in the judged text -> "no words in square brackets"
        none_yes.pk: (1, 2, 0, 0, "target"),
    }
    # The old rule wanted a majority of "yes" (2): the published "Yes" is 1.
    assert Campaign.objects.get(pk=world["campaign"].pk).acceptance_rule == {"intent_scores": [1],
                                                                           "min_grammar_score": 2}
    assert ("collection.0002: 3 judgment(s) moved to MASSIVE's published scales (intent 3, slots 3, language 1); "
            "1 campaign rule(s) given intent_scores") in out
