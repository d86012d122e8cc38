"""The campaign API a pipeline or lead reads: progress, agreement and judgments with a scoped token."""
import csv
import io

import pytest
from rest_framework.test import APIClient

import factories as f
from parley.collection.services import task_claim_next, task_submit_judgment, task_submit_utterance

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
    assert detail["acceptance_rule"]["intent_score"] == 2 and detail["task_kinds"] == ["elicit"]
    progress = client.get(base + "progress/").json()
    cell = {(c["locale"], c["intent"]): c for c in progress["cells"]}[("ar-SA", "alarm_set")]
    assert (cell["accepted"], cell["target"], cell["gap"], cell["open"]) == (1, 2, 1, 1)
    assert progress["totals"]["accepted"] == 1 and sum(d["submitted"] for d in progress["throughput"]) == 3
    agreement = client.get(base + "agreement/").json()
    assert agreement["metric"] == {"scores": "interval", "language_identification": "nominal"}
    assert agreement["locales"]["ar-SA"]["units"] == 1
    # one unit (4, 3): Do = 2/2 = 1, De = 2*1*1*1/(2*1) = 1, so alpha = 0; spelling (2, 2) has no variation
    assert agreement["locales"]["ar-SA"]["alpha"]["grammar_score"] == 0.0
    assert agreement["locales"]["ar-SA"]["alpha"]["spelling_score"] is None
    rows = list(csv.DictReader(io.StringIO(client.get(base + "judgments/").content.decode())))
    assert [(r["utterance_id"], r["annotator_id"], r["grammar_score"]) for r in rows] == [
        (str(utterance.pk), str(world["badr"].pk), "4"), (str(utterance.pk), str(world["carim"].pk), "3")]
