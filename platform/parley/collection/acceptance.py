"""The acceptance rule: does one round of judgments accept an utterance? Pure Python."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reasons: list[str]


def judgments_decide(judgments: Sequence, *, rule: dict) -> Verdict:
    """Apply `rule` (see models.DEFAULT_ACCEPTANCE_RULE) to one round's judgments.

    Each judgment has intent_score, grammar_score, language_identification and, optionally,
    proposed_annotation and comment (passed on as reasons so the author sees what to change).
    """
    n = len(judgments)
    reasons: list[str] = []
    wanted_intent = rule["intent_score"]
    with_intent = sum(1 for j in judgments if j.intent_score == wanted_intent)
    if with_intent * 2 <= n:
        reasons.append(f"intent: {with_intent} of {n} judges gave {wanted_intent}, a majority is needed")
    low_grammar = [j.grammar_score for j in judgments if j.grammar_score < rule["min_grammar_score"]]
    if low_grammar:
        reasons.append(f"grammar: scored {', '.join(map(str, low_grammar))} "
                       f"(below {rule['min_grammar_score']} by {len(low_grammar)} of {n} judges)")
    if rule["require_target_language"]:
        target = sum(1 for j in judgments if j.language_identification == "target")
        if target * 2 <= n:
            reasons.append(f"language: {target} of {n} judges confirmed the target language")
    accepted = not reasons
    if not accepted:
        for j in judgments:
            if getattr(j, "proposed_annotation", ""):
                reasons.append(f"a judge proposes: {j.proposed_annotation}")
            if getattr(j, "comment", ""):
                reasons.append(f"a judge says: {j.comment}")
    return Verdict(accepted, reasons)


def judgment_votes_accept(judgment, *, rule: dict) -> bool:
    """Would this judgment alone accept the utterance? (Used to compare a judge with the decision.)"""
    return judgments_decide([judgment], rule=rule).accepted
