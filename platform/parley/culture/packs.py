"""Culture packs: one YAML/JSON file per locale under locales/culture/, validated before anything loads.

Kept beside the locale packs, not inside them: `locales` must not import `culture` (the import
direction), and `locales_load` reads only the files at the top of locales/, so the locale packs
and their validation stay exactly as they were. Every problem is reported with file, field and
reason; one bad pack rejects the whole load.

    tag: de-DE
    registers:            # [] for a language without T-V distinction (en)
      - {code: sie, name: Sie (formal), default: true, order: 1, guidance: ..., examples: [...]}
    overrides:            # optional: a scenario whose register differs from the default
      - {scenario: general, register: du, note: ...}
    terms:
      - {term: Idiot, severity: block|warn, reason: ..., replacement: ...}
    topics:
      - {topic: Parteipolitik, reason: ...}
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from parley.locales import cldr
from parley.locales.packs import PackError, PackLoadError, pack_files_parse

TOP_LEVEL_KEYS = {"tag", "registers", "overrides", "terms", "topics"}
REGISTER_KEYS = {"code", "name", "default", "order", "guidance", "examples"}
OVERRIDE_KEYS = {"scenario", "register", "note"}
TERM_KEYS = {"term", "severity", "reason", "replacement"}
TOPIC_KEYS = {"topic", "reason"}
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")


@dataclass
class CulturePack:
    file: str
    tag: str
    registers: list[dict] = field(default_factory=list)
    overrides: list[dict] = field(default_factory=list)
    terms: list[dict] = field(default_factory=list)
    topics: list[dict] = field(default_factory=list)


def _text(value, *, max_length: int, required: bool) -> str | None:
    if value is None or value == "":
        return "required" if required else None
    if not isinstance(value, str):
        return "must be text"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    return None


def _entries(data: dict, name: str, keys: set[str], err) -> list[dict]:
    raw = data.get(name, []) or []
    if not isinstance(raw, list):
        err(name, "must be a list")
        return []
    items = []
    for i, item in enumerate(raw):
        where = f"{name}[{i}]"
        if not isinstance(item, dict):
            err(where, f"must be a mapping with {', '.join(sorted(keys))}")
            continue
        for key in sorted(set(item) - keys):
            err(f"{where}.{key}", f"unknown field; allowed: {sorted(keys)}")
        items.append((where, item))
    return items


def parse_culture_pack(name: str, data: object) -> tuple[CulturePack | None, list[PackError]]:
    errors: list[PackError] = []

    def err(field_name: str, reason: str) -> None:
        errors.append(PackError(name, field_name, reason))

    if not isinstance(data, dict):
        err("(file)", "must be a mapping with at least 'tag'")
        return None, errors
    for key in sorted(set(data) - TOP_LEVEL_KEYS):
        err(str(key), f"unknown field; allowed: {sorted(TOP_LEVEL_KEYS)}")
    tag = data.get("tag")
    if not isinstance(tag, str):
        err("tag", "required, a BCP 47 tag")
        tag = None
    else:
        try:
            canonical = cldr.canonical_tag(tag)
        except cldr.InvalidTag as exc:
            err("tag", str(exc))
        else:
            if canonical != tag:
                err("tag", f"{tag!r} is not canonical; write {canonical!r}")
            if Path(name).stem != tag:
                err("tag", f"file name must be the tag: expected {tag}{Path(name).suffix}")
    pack = CulturePack(file=name, tag=tag or "")
    codes = []
    for where, item in _entries(data, "registers", REGISTER_KEYS, err):
        code = item.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code):
            err(f"{where}.code", "required: a lower-case code like sie or polite")
            continue
        if code in codes:
            err(f"{where}.code", f"{code!r} appears twice")
        codes.append(code)
        for key, limit, required in (("name", 100, True), ("guidance", 5000, False)):
            problem = _text(item.get(key), max_length=limit, required=required)
            if problem:
                err(f"{where}.{key}", problem)
        if not isinstance(item.get("default", False), bool):
            err(f"{where}.default", "must be true or false")
        order = item.get("order", 0)
        if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order < 1000:
            err(f"{where}.order", "must be a whole number 0–999")
        examples = item.get("examples", [])
        if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
            err(f"{where}.examples", "must be a list of strings")
        pack.registers.append(item)
    defaults = [r["code"] for r in pack.registers if r.get("default") is True]
    if len(defaults) > 1:
        err("registers", f"more than one default: {', '.join(defaults)}")
    if pack.registers and not defaults:
        err("registers", "say which register is the assistant's default (default: true)")
    for where, item in _entries(data, "overrides", OVERRIDE_KEYS, err):
        if not isinstance(item.get("scenario"), str) or not item["scenario"]:
            err(f"{where}.scenario", "required: a scenario name")
        if item.get("register") not in codes:
            err(f"{where}.register", f"{item.get('register')!r} is not one of this pack's registers")
        pack.overrides.append(item)
    for where, item in _entries(data, "terms", TERM_KEYS, err):
        problem = _text(item.get("term"), max_length=200, required=True)
        if problem:
            err(f"{where}.term", problem)
        if item.get("severity") not in ("block", "warn"):
            err(f"{where}.severity", "required: block or warn")
        for key in ("reason", "replacement"):
            problem = _text(item.get(key), max_length=300 if key == "reason" else 200, required=False)
            if problem:
                err(f"{where}.{key}", problem)
        pack.terms.append(item)
    for where, item in _entries(data, "topics", TOPIC_KEYS, err):
        for key, required in (("topic", True), ("reason", False)):
            problem = _text(item.get(key), max_length=300 if key == "reason" else 200, required=required)
            if problem:
                err(f"{where}.{key}", problem)
        pack.topics.append(item)
    if errors:
        return None, errors
    return pack, []


def read_culture_packs(directory: Path) -> list[CulturePack]:
    """Read and validate every culture pack in `directory`; PackLoadError lists all problems."""
    packs, errors = pack_files_parse(directory, parse_culture_pack)
    if not packs and not errors:
        errors.append(PackError(str(directory), "(directory)", "no culture packs (*.yaml, *.yml, *.json) found"))
    if errors:
        raise PackLoadError(errors)
    return packs
