"""Template files: response templates as YAML/JSON, to hand to translators and load back.

    keys:
      - key: alarm_set.confirm
        source_locale: en-US
        intent: alarm_set             # optional
        description: ...
        parameters: [{name: count, type: number, sample: 2}]
        texts:
          - {locale: en-US, body: "{count, plural, one {# alarm} other {# alarms}} set.", status: approved}
          - {locale: de-DE, register: sie, body: "...", status: in_review}

Reading checks the shape and reports every problem with its place (`keys[0].texts[1].body`);
what the services check (ICU syntax, placeholders, plural categories, registers) is reported the
same way by `culture.services.templates_load`, which writes nothing unless every entry passes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from parley.locales.packs import PackError

KEY_FIELDS = {"key", "source_locale", "intent", "description", "parameters", "texts"}
TEXT_FIELDS = {"locale", "register", "body", "status"}
LOADABLE_STATUSES = ("draft", "in_review", "approved")  # a file never retires a text


@dataclass
class TextSpec:
    where: str
    locale: str
    register: str
    body: str
    status: str


@dataclass
class KeySpec:
    where: str
    key: str
    source_locale: str
    intent: str | None
    description: str
    parameters: list
    texts: list[TextSpec] = field(default_factory=list)


def _field_problems(name: str, where: str, item: dict, *, known: set, required: tuple) -> list[PackError]:
    problems = [PackError(name, f"{where}.{unknown}", f"unknown field (known: {', '.join(sorted(known))})")
                for unknown in sorted(set(item) - known)]
    problems += [PackError(name, f"{where}.{field_name}", "required text") for field_name in required
                 if not isinstance(item.get(field_name), str) or not item[field_name].strip()]
    return problems


def template_file_parse(text: str, *, name: str) -> tuple[list[KeySpec], list[PackError]]:
    """The keys of a template file, or every problem found in it (file, field, reason)."""
    try:
        data = json.loads(text) if name.lower().endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        return [], [PackError(name, "(file)", f"not valid {'JSON' if name.endswith('.json') else 'YAML'}: {exc}")]
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        return [], [PackError(name, "keys", "the file must be a mapping with a list under 'keys'")]
    errors: list[PackError] = []
    specs: list[KeySpec] = []
    for i, item in enumerate(data["keys"]):
        where = f"keys[{i}]"
        if not isinstance(item, dict):
            errors.append(PackError(name, where, "must be a mapping"))
            continue
        errors += _field_problems(name, where, item, known=KEY_FIELDS, required=("key", "source_locale"))
        if not isinstance(item.get("parameters", []), list):
            errors.append(PackError(name, f"{where}.parameters", "must be a list"))
        if not isinstance(item.get("texts", []), list):
            errors.append(PackError(name, f"{where}.texts", "must be a list"))
            continue
        spec = KeySpec(where=where, key=str(item.get("key", "")).strip(), source_locale=str(item.get("source_locale", "")),
                       intent=item.get("intent") or None, description=str(item.get("description") or ""),
                       parameters=item.get("parameters") or [])
        for j, text in enumerate(item.get("texts") or []):
            at = f"{where}.texts[{j}]"
            if not isinstance(text, dict):
                errors.append(PackError(name, at, "must be a mapping"))
                continue
            errors += _field_problems(name, at, text, known=TEXT_FIELDS, required=("locale", "body"))
            status = text.get("status", "draft")
            if status not in LOADABLE_STATUSES:
                errors.append(PackError(name, f"{at}.status", f"{status!r} is not one of {', '.join(LOADABLE_STATUSES)}"))
            spec.texts.append(TextSpec(where=at, locale=str(text.get("locale", "")), register=str(text.get("register") or ""),
                                       body=str(text.get("body", "")), status=str(status)))
        specs.append(spec)
    return specs, errors


def template_file_read(path) -> tuple[list[KeySpec], list[PackError]]:
    """The keys of the file at `path`, or its problems, named by `path` as given."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [PackError(name, "(file)", f"not UTF-8: byte {exc.start}")]
    except OSError as exc:
        return [], [PackError(name, "(file)", exc.strerror or str(exc))]
    return template_file_parse(text, name=name)


def template_file_dump(keys: list[dict], *, as_json: bool = False) -> str:
    """The file for `keys` (as `culture.selectors.templates_for_export` gives them)."""
    data = {"keys": keys}
    if as_json:
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
