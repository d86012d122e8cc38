"""Self-learning from rephrases: a failed turn followed, in the same session and within a time
window, by a successful turn with different words is a pair (failed phrasing → what the user
meant). Pairs aggregate across sessions; a pair seen in at least `min_support` distinct sessions
becomes a paraphrase candidate for native review.

- support: distinct sessions in which the failed phrasing (normalized) was followed by a success
  with that intent and those slots;
- confidence: support / distinct sessions in which that phrasing failed at all (whatever came
  after), so a phrasing that users usually abandon, or follow with many different intents,
  scores low.

Sessions are read in one ordered pass over (session, time) (an index serves it); memory holds one
session's turns and the aggregates, never the event table.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .models import FAILURE_SIGNALS, Signal


@dataclass(frozen=True)
class Turn:
    session: str
    occurred_at: datetime
    locale_id: int
    text: str
    normalized: str
    signal: str
    intent: str
    slots: tuple  # ((type, value), …)


@dataclass
class PairStats:
    sessions: set = field(default_factory=set)
    failed_texts: dict = field(default_factory=lambda: defaultdict(int))
    rephrase_example: str = ""
    first_seen: datetime | None = None
    last_seen: datetime | None = None


def _session_pairs(turns: list[Turn], window: timedelta) -> Iterator[tuple[Turn, Turn]]:
    """(failed, success) pairs of one session's turns, in time order: each failed turn pairs with
    the first successful turn after it, if that comes within the window and says something else."""
    for i, turn in enumerate(turns):
        if turn.signal not in FAILURE_SIGNALS:
            continue
        for later in turns[i + 1:]:
            if later.occurred_at - turn.occurred_at > window:
                break
            if later.signal == Signal.SUCCESS:
                if later.normalized != turn.normalized and later.intent:
                    yield turn, later
                break


def _sessions(turns: Iterable[Turn]) -> Iterator[list[Turn]]:
    current: list[Turn] = []
    for turn in turns:
        if current and turn.session != current[0].session:
            yield current
            current = []
        current.append(turn)
    if current:
        yield current


def pairs_aggregate(turns: Iterable[Turn], *, window: timedelta) -> tuple[dict, dict]:
    """Aggregates over turns ordered by (session, time): ({pair key: PairStats}, {failed key: sessions})."""
    pairs: dict[tuple, PairStats] = defaultdict(PairStats)
    failed_sessions: dict[tuple, set] = defaultdict(set)
    for session_turns in _sessions(turns):
        for turn in session_turns:
            if turn.signal in FAILURE_SIGNALS:
                failed_sessions[(turn.locale_id, turn.normalized)].add(turn.session)
        for failed, success in _session_pairs(session_turns, window):
            if failed.locale_id != success.locale_id:
                continue  # a locale switch mid-session is not a rephrase
            key = (failed.locale_id, failed.normalized, success.intent, slots_signature(success.slots))
            stats = pairs[key]
            stats.sessions.add(failed.session)
            stats.failed_texts[failed.text] += 1
            stats.rephrase_example = stats.rephrase_example or success.text
            stats.first_seen = min(filter(None, [stats.first_seen, failed.occurred_at]))
            stats.last_seen = max(filter(None, [stats.last_seen, success.occurred_at]))
    return pairs, failed_sessions


def slots_signature(slots: tuple) -> str:
    return "|".join(f"{t}={v}" for t, v in sorted(slots))[:500]


def annotate_failed(text: str, slots: tuple) -> tuple[str, list[dict]]:
    """The failed phrasing in MASSIVE notation with the successful turn's slot values marked where
    they occur in it (whole words, case-insensitive, first free occurrence); the slots whose value
    does not occur are returned as unmapped, for the reviewer to place or drop."""
    spans: list[tuple[int, int, str]] = []
    unmapped: list[dict] = []
    for slot_type, value in slots:
        pattern = re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)", re.IGNORECASE)
        for match in pattern.finditer(text):
            start, end = match.span()
            if all(end <= s or start >= e for s, e, _ in spans):
                spans.append((start, end, slot_type))
                break
        else:
            unmapped.append({"type": slot_type, "value": value})
    out, position = [], 0
    for start, end, slot_type in sorted(spans):
        out.append(text[position:start])
        out.append(f"[{slot_type} : {text[start:end]}]")
        position = end
    out.append(text[position:])
    return "".join(out), unmapped
