"""The acceptance rule: does one round of judgments accept an utterance? Pure Python.

A judgment approves the utterance when each of its scores is one the rule accepts (on MASSIVE's
published scales, see scales.py); the utterance is accepted when a strict majority of its judges
approve. With the default rule, a judge answering "Yes" to intent and slots, "Good enough" or
"Perfect" to grammar and checking the target language approves.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .scales import GRAMMAR_SCORE, INTENT_SCORE, SLOTS_SCORE, SPELLING_SCORE, language_includes_target

# Campaign.acceptance_rule overrides any of these keys.
DEFAULT_ACCEPTANCE_RULE = {
    "intent_scores": [1, 2],  # 1 Yes, 2 a reasonable interpretation of the goal
    "slots_scores": [1, 2],  # 1 Yes, 2 there are no words in square brackets
    "min_grammar_score": 3,  # 3 Good enough, 4 Perfect
    "min_spelling_score": 0,  # any
    "require_target_language": True,  # the judge checked "target" (alone or with english/other)
    "max_rework_rounds": 1,  # a rejected utterance goes back to its author this many times, then stays rejected
}
MAX_REWORK_ROUNDS = 10


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reasons: list[str]


def _score_set_problem(value, top: int) -> str | None:
    if not isinstance(value, list) or not value or len(value) > top + 1:
        return f"a non-empty list of scores from 0 to {top}; got {_shown(value)}"
    if any(not _whole(v) or not 0 <= v <= top for v in value) or len(set(value)) != len(value):
        return f"distinct whole numbers from 0 to {top}; got {_shown(value)}"
    return None


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def acceptance_rule_problems(overrides) -> list[str]:
    """What is wrong with a campaign's overrides, one message per key ("key: reason")."""
    if overrides is None:
        return []
    if not isinstance(overrides, Mapping):
        return [f"an object of overrides (keys {', '.join(DEFAULT_ACCEPTANCE_RULE)}); got {_shown(overrides)}"]
    problems = []
    for key in overrides:
        if key not in DEFAULT_ACCEPTANCE_RULE:
            problems.append(f"{_shown(key)}: unknown key; known: {', '.join(DEFAULT_ACCEPTANCE_RULE)}")
    checks = {
        "intent_scores": lambda v: _score_set_problem(v, INTENT_SCORE.values[-1]),
        "slots_scores": lambda v: _score_set_problem(v, SLOTS_SCORE.values[-1]),
        "min_grammar_score": lambda v: None if _whole(v) and 0 <= v <= GRAMMAR_SCORE.values[-1]
        else f"a whole number from 0 to {GRAMMAR_SCORE.values[-1]}; got {_shown(v)}",
        "min_spelling_score": lambda v: None if _whole(v) and 0 <= v <= SPELLING_SCORE.values[-1]
        else f"a whole number from 0 to {SPELLING_SCORE.values[-1]}; got {_shown(v)}",
        "require_target_language": lambda v: None if isinstance(v, bool) else f"true or false; got {_shown(v)}",
        "max_rework_rounds": lambda v: None if _whole(v) and 0 <= v <= MAX_REWORK_ROUNDS
        else f"a whole number from 0 to {MAX_REWORK_ROUNDS}; got {_shown(v)}",
    }
    for key, check in checks.items():
        if key in overrides:
            problem = check(overrides[key])
            if problem:
                problems.append(f"{key}: {problem}")
    return problems


def judgment_failures(judgment, *, rule: dict) -> list[str]:
    """The rule's criteria this judgment does not meet (empty: it approves)."""
    failed = []
    if judgment.intent_score not in rule["intent_scores"]:
        failed.append("intent")
    if judgment.slots_score not in rule["slots_scores"]:
        failed.append("slots")
    if judgment.grammar_score < rule["min_grammar_score"]:
        failed.append("grammar")
    if judgment.spelling_score < rule["min_spelling_score"]:
        failed.append("spelling")
    if rule["require_target_language"] and not language_includes_target(judgment.language_identification):
        failed.append("language")
    return failed


def judgments_decide(judgments: Sequence, *, rule: dict) -> Verdict:
    """Apply `rule` (DEFAULT_ACCEPTANCE_RULE with a campaign's overrides) to one round's judgments.

    Each judgment has MASSIVE's intent_score, slots_score, grammar_score, spelling_score,
    language_identification and, optionally, proposed_annotation and comment (passed on as reasons
    so the author sees what to change).
    """
    n = len(judgments)
    failures = [judgment_failures(j, rule=rule) for j in judgments]
    approvals = sum(1 for failed in failures if not failed)
    accepted = n > 0 and approvals * 2 > n
    if accepted:
        return Verdict(True, [])
    reasons = [f"{approvals} of {n} judges approved; a majority is needed"]
    wanted = {
        "intent": ("intent_score", f"scored outside {', '.join(map(str, rule['intent_scores']))}"),
        "slots": ("slots_score", f"scored outside {', '.join(map(str, rule['slots_scores']))}"),
        "grammar": ("grammar_score", f"scored below {rule['min_grammar_score']}"),
        "spelling": ("spelling_score", f"scored below {rule['min_spelling_score']}"),
        "language": ("language_identification", "did not find the target language"),
    }
    for criterion, (field, what) in wanted.items():
        given = [getattr(j, field) for j, failed in zip(judgments, failures) if criterion in failed]
        if given:
            reasons.append(f"{criterion}: {len(given)} of {n} judges {what} ({', '.join(map(str, given))})")
    for j in judgments:
        if getattr(j, "proposed_annotation", ""):
            reasons.append(f"a judge proposes: {j.proposed_annotation}")
        if getattr(j, "comment", ""):
            reasons.append(f"a judge says: {j.comment}")
    return Verdict(False, reasons)


def judgment_votes_accept(judgment, *, rule: dict) -> bool:
    """Does this judgment alone approve the utterance? (Used to compare a judge with the decision.)"""
    return not judgment_failures(judgment, rule=rule)
