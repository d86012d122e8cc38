"""SLURP jsonl (the English corpus MASSIVE was localized from): one object a line.

Fields used: slurp_id, sentence, sentence_annotation (MASSIVE bracket notation), scenario,
intent. The partition comes from the file name SLURP publishes: train, devel, test.
"""
from __future__ import annotations

from pathlib import Path

from .massive import read_records  # the same jsonl reading rules (UTF-8, BOM, per-line errors, archives)
from .sources import RowError

PARTITION_BY_STEM = {"train": "train", "train_synthetic": "train", "devel": "dev", "dev": "dev", "test": "test"}
REQUIRED = ("slurp_id", "sentence", "sentence_annotation", "intent")

__all__ = ["RowError", "read_records", "as_common_row"]


def as_common_row(record: dict, *, file: str, default_locale: str) -> tuple[dict | None, str, str]:
    """SLURP fields mapped onto MASSIVE's names, or None with (field, reason)."""
    for name in REQUIRED:
        if record.get(name) in (None, ""):
            return None, name, "required"
    for name in ("sentence", "sentence_annotation", "intent"):
        if not isinstance(record[name], str):
            return None, name, "must be a string"
    for name in ("scenario", "action"):
        if record.get(name) is not None and not isinstance(record[name], str):
            return None, name, "must be a string"
    # Some published SLURP rows carry only the action in `intent` ("query"); the intent
    # MASSIVE names is scenario_action.
    intent = intent_of(record)
    scenario = record.get("scenario") or (intent.split("_", 1)[0] if "_" in intent else None)
    return {
        "id": str(record["slurp_id"]), "locale": default_locale, "scenario": scenario, "intent": intent,
        "partition": PARTITION_BY_STEM.get(Path(file).stem, "unassigned"),
        # Both as published: SLURP lower-cases `sentence` but some annotations keep a capital
        # ("[date : Friday]"); the utterance checks accept a case-only difference with a warning.
        "utt": record["sentence"], "annot_utt": record["sentence_annotation"],
    }, "", ""


def intent_of(record: dict) -> str | None:
    """The MASSIVE intent a SLURP record means (scenario_action when `intent` holds only the action)."""
    intent = record.get("intent")
    scenario, action = record.get("scenario"), record.get("action")
    if intent and scenario and action and not intent.startswith(f"{scenario}_"):
        return f"{scenario}_{action}"
    return intent
