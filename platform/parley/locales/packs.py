"""Locale packs: one YAML or JSON file per locale under locales/, validated before anything loads.

A pack names the canonical tag, its lifecycle status at creation, source aliases, an optional
explicit parent and overrides of CLDR-derived fields. Every problem is reported with its file,
field and reason; one bad pack rejects the whole load.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import cldr

PACK_SUFFIXES = {".yaml", ".yml", ".json"}
STATUSES = ("planned", "collecting", "testing", "launched", "retired")
TOP_LEVEL_KEYS = {"tag", "status", "aliases", "parent", "overrides"}
ALIAS_KEYS = {"tag", "source", "note"}
SOURCE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def _check_text(value, max_length=200):
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    return None


def _check_categories(value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "must be a list of plural categories"
    unknown = [v for v in value if v not in cldr.PLURAL_ORDER]
    if unknown:
        return f"unknown plural categories {unknown}; allowed: {list(cldr.PLURAL_ORDER)}"
    if "other" not in value:
        return "must include 'other' (every locale has it)"
    return None


def _check_population(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return "must be a whole number of speakers, 0 or more"
    return None


OVERRIDE_CHECKS = {
    "english_name": _check_text,
    "autonym": _check_text,
    "script": lambda v: None if isinstance(v, str) and re.fullmatch(r"[A-Z][a-z]{3}", v) else "must be an ISO 15924 code like Latn",
    "direction": lambda v: None if v in ("ltr", "rtl") else "must be 'ltr' or 'rtl'",
    "plural_cardinal": _check_categories,
    "plural_ordinal": _check_categories,
    "first_day_of_week": lambda v: None if v in cldr.WEEKDAYS else f"must be one of {list(cldr.WEEKDAYS)}",
    "calendar": lambda v: None if isinstance(v, str) and re.fullmatch(r"[a-z][a-z-]{1,39}", v) else "must be a CLDR calendar id like gregorian",
    "speaker_population": _check_population,
}


@dataclass
class PackError:
    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}"


@dataclass
class AliasSpec:
    tag: str
    source: str
    note: str = ""


@dataclass
class LocalePack:
    file: str
    tag: str
    status: str = "planned"
    aliases: list[AliasSpec] = field(default_factory=list)
    parent: str | None = None
    overrides: dict = field(default_factory=dict)


class PackLoadError(Exception):
    def __init__(self, errors: list[PackError]):
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s) in locale packs:\n" + "\n".join(f"  {e}" for e in errors))


def _read(path: Path) -> tuple[object, PackError | None]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, PackError(path.name, "(file)", f"not UTF-8: byte {exc.start}")
    try:
        if path.suffix == ".json":
            return json.loads(text), None
        return yaml.safe_load(text), None
    except json.JSONDecodeError as exc:
        return None, PackError(path.name, "(file)", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        return None, PackError(path.name, "(file)", f"invalid YAML{where}: {getattr(exc, 'problem', exc)}")


def parse_pack(name: str, data: object) -> tuple[LocalePack | None, list[PackError]]:
    errors: list[PackError] = []

    def err(field_name: str, reason: str) -> None:
        errors.append(PackError(name, field_name, reason))

    if not isinstance(data, dict):
        err("(file)", "must be a mapping with at least 'tag'")
        return None, errors
    for key in sorted(set(data) - TOP_LEVEL_KEYS):
        err(str(key), f"unknown field; allowed: {sorted(TOP_LEVEL_KEYS)}")
    raw_tag = data.get("tag")
    tag = None
    if not isinstance(raw_tag, str):
        err("tag", "required, a BCP 47 tag")
    else:
        try:
            tag = cldr.canonical_tag(raw_tag)
        except cldr.InvalidTag as exc:
            err("tag", str(exc))
        else:
            if tag != raw_tag:
                err("tag", f"{raw_tag!r} is not canonical; write {tag!r} and list {raw_tag!r} as an alias")
            stem = Path(name).stem
            if stem != raw_tag:
                err("tag", f"file name must be the tag: expected {raw_tag}{Path(name).suffix}")
    status = data.get("status", "planned")
    if status not in STATUSES:
        err("status", f"{status!r} is not one of {list(STATUSES)}")
    aliases: list[AliasSpec] = []
    raw_aliases = data.get("aliases", []) or []
    if not isinstance(raw_aliases, list):
        err("aliases", "must be a list of {tag, source, note}")
        raw_aliases = []
    for i, item in enumerate(raw_aliases):
        where = f"aliases[{i}]"
        if not isinstance(item, dict):
            err(where, "must be a mapping with tag and source")
            continue
        for key in sorted(set(item) - ALIAS_KEYS):
            err(f"{where}.{key}", f"unknown field; allowed: {sorted(ALIAS_KEYS)}")
        a_tag, source = item.get("tag"), item.get("source")
        if not isinstance(a_tag, str) or not a_tag.strip():
            err(f"{where}.tag", "required")
        elif not re.fullmatch(r"[A-Za-z0-9]{1,8}([-_][A-Za-z0-9]{1,8})*", a_tag):
            err(f"{where}.tag", f"{a_tag!r} is not tag-shaped (letters and digits separated by '-')")
        if not isinstance(source, str) or not SOURCE_RE.match(source):
            err(f"{where}.source", "required: a lower-case name such as massive")
        note = item.get("note", "")
        if note and _check_text(note):
            err(f"{where}.note", _check_text(note))
        if isinstance(a_tag, str) and isinstance(source, str):
            aliases.append(AliasSpec(tag=a_tag.strip(), source=source, note=note or ""))
    seen_sources = [a.source for a in aliases]
    for dup in sorted({s for s in seen_sources if seen_sources.count(s) > 1}):
        err("aliases", f"two aliases for source {dup!r}; a locale has one export tag per source")
    parent = data.get("parent")
    if parent is not None:
        if not isinstance(parent, str):
            err("parent", "must be a tag")
            parent = None
        else:
            try:
                parent = cldr.canonical_tag(parent)
            except cldr.InvalidTag as exc:
                err("parent", str(exc))
                parent = None
            if parent and parent == tag:
                err("parent", "a locale cannot be its own parent")
    overrides = data.get("overrides", {}) or {}
    if not isinstance(overrides, dict):
        err("overrides", "must be a mapping of field to value")
        overrides = {}
    for key, value in overrides.items():
        check = OVERRIDE_CHECKS.get(key)
        if check is None:
            err(f"overrides.{key}", f"not overridable; allowed: {sorted(OVERRIDE_CHECKS)}")
            continue
        problem = check(value)
        if problem:
            err(f"overrides.{key}", problem)
    if errors or tag is None:
        return None, errors
    return LocalePack(file=name, tag=tag, status=status, aliases=aliases, parent=parent, overrides=overrides), []


def pack_files_parse(directory: Path, parse) -> tuple[list, list[PackError]]:
    """Every pack file of `directory` (*.yaml, *.yml, *.json, not its subfolders) read and given to
    `parse(file name, data) -> (pack or None, errors)`: the packs and every problem, file by file.
    Locale packs and culture packs (locales/culture/) share it."""
    directory = Path(directory)
    if not directory.is_dir():
        return [], [PackError(str(directory), "(directory)", "no such directory")]
    errors: list[PackError] = []
    packs: list = []
    for path in sorted(p for p in directory.iterdir() if p.suffix in PACK_SUFFIXES):
        data, read_error = _read(path)
        if read_error:
            errors.append(read_error)
            continue
        pack, pack_errors = parse(path.name, data)
        errors.extend(pack_errors)
        if pack:
            packs.append(pack)
    return packs, errors


def read_packs(directory: Path) -> list[LocalePack]:
    """Read and validate every pack in `directory`; raise PackLoadError listing all problems."""
    packs, errors = pack_files_parse(directory, parse_pack)
    by_tag: dict[str, str] = {}
    alias_owner: dict[str, str] = {}
    for pack in packs:
        if pack.tag in by_tag:
            errors.append(PackError(pack.file, "tag", f"{pack.tag} is also defined in {by_tag[pack.tag]}"))
        by_tag[pack.tag] = pack.file
    for pack in packs:
        for i, alias in enumerate(pack.aliases):
            key = alias.tag.lower().replace("_", "-")
            owner = alias_owner.get(key)
            if owner and owner != pack.tag:
                errors.append(PackError(pack.file, f"aliases[{i}].tag", f"{alias.tag} is already an alias of {owner}"))
            alias_owner[key] = pack.tag
            other = next((t for t in by_tag if t.lower() == key and t != pack.tag), None)
            if other:
                errors.append(PackError(pack.file, f"aliases[{i}].tag", f"{alias.tag} is the canonical tag of another pack"))
    if not packs and not errors:
        errors.append(PackError(str(directory), "(directory)", "no locale packs (*.yaml, *.yml, *.json) found"))
    if errors:
        raise PackLoadError(errors)
    return packs
