"""Culture writes: template keys and texts (with their review lifecycle and stored checks),
formality registers and overrides, sensitive terms. Every change writes an event row.
Holidays have their own module (holidays.py)."""
from __future__ import annotations

import hashlib
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import transaction

from parley.checks.registry import CheckContext, checks_evaluate, errors_in, registry
from parley.checks.services import check_results_replace
from parley.config.generations import generation_bump
from parley.events.services import event_record

from .models import FormalityRegister, RegisterOverride, ResponseTemplate, SensitiveTerm, TemplateKey
from .rendering import PARAMETER_TYPES, RenderError, coerce
from .selectors import CULTURE_GENERATION

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_]*(\.[a-z0-9_]+)*$")
PARAM_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def render_texts_changed() -> None:
    """Keys, approved texts, registers or overrides changed: every process's render copy is stale."""
    generation_bump(CULTURE_GENERATION)


# --- Template keys ------------------------------------------------------------------------------

def template_parameters_clean(*, parameters, intent=None) -> list[dict]:
    """Declared parameters as stored, or every problem with its position in the list."""
    if not isinstance(parameters, list):
        raise ValidationError({"parameters": ["must be a list of {name, type, slot_type, sample}"]})
    allowed_slots = set(intent.slot_types.values_list("name", flat=True)) if intent is not None else None
    problems, cleaned, seen = [], [], set()
    for i, spec in enumerate(parameters):
        where = f"parameters[{i}]"
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be an object with a name")
            continue
        unknown = sorted(set(spec) - {"name", "type", "slot_type", "sample", "description"})
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
        name = spec.get("name")
        if not isinstance(name, str) or not PARAM_NAME_RE.match(name):
            problems.append(f"{where}.name: a placeholder name like count or alarm_time")
            continue
        if name in seen:
            problems.append(f"{where}.name: {name!r} is declared twice")
        seen.add(name)
        kind = spec.get("type", "string")
        if kind not in PARAMETER_TYPES:
            problems.append(f"{where}.type: {kind!r} is not one of {', '.join(PARAMETER_TYPES)}")
        elif spec.get("sample") not in (None, ""):
            try:  # a sample every preview would fail on (a date before 1582, "many" for a number)
                coerce(name, spec["sample"], kind)
            except RenderError as exc:
                problems.append(f"{where}.sample: {exc.message}")
        slot = spec.get("slot_type") or ""
        if slot and allowed_slots is not None and slot not in allowed_slots:
            problems.append(f"{where}.slot_type: {slot!r} is not a slot of {intent.name} "
                            f"({', '.join(sorted(allowed_slots)) or 'none'})")
        if slot and intent is None:
            problems.append(f"{where}.slot_type: a slot needs the key's intent")
        item = {"name": name, "type": kind}
        if slot:
            item["slot_type"] = slot
        for extra in ("sample", "description"):
            if spec.get(extra) not in (None, ""):
                item[extra] = spec[extra]
        cleaned.append(item)
    if problems:
        raise ValidationError({"parameters": problems})
    return cleaned


@transaction.atomic
def template_key_create(*, key: str, source_locale, actor, parameters=(), intent=None,
                        description: str = "") -> TemplateKey:
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ValidationError({"key": [f"{key!r} is not a key like alarm_set.confirm (lower case, dots, underscores)"]})
    if TemplateKey.objects.filter(key=key).exists():
        raise ValidationError({"key": [f"template key {key!r} already exists"]})
    obj = TemplateKey.objects.create(key=key, source_locale=source_locale, intent=intent, description=description,
                                     parameters=template_parameters_clean(parameters=list(parameters), intent=intent))
    render_texts_changed()
    event_record(actor=actor, verb="template_key.created", target=obj,
                 payload={"parameters": obj.parameters, "source_locale": source_locale.tag,
                          "intent": intent.name if intent else None})
    return obj


@transaction.atomic
def template_key_update(*, template_key: TemplateKey, actor, parameters=None, description: str | None = None,
                        intent="unchanged", source_locale=None) -> TemplateKey:
    """Change what a key declares; every text of the key is checked again (a renamed parameter
    turns texts that use the old name into errors)."""
    before = {"parameters": template_key.parameters, "description": template_key.description,
              "intent": template_key.intent.name if template_key.intent_id else None,
              "source_locale": template_key.source_locale.tag}
    if intent != "unchanged":
        template_key.intent = intent
    if parameters is not None:
        template_key.parameters = template_parameters_clean(parameters=list(parameters), intent=template_key.intent)
    if description is not None:
        template_key.description = description
    if source_locale is not None:
        template_key.source_locale = source_locale
    after = {"parameters": template_key.parameters, "description": template_key.description,
             "intent": template_key.intent.name if template_key.intent_id else None,
             "source_locale": template_key.source_locale.tag}
    changed = {k: {"from": before[k], "to": after[k]} for k in before if before[k] != after[k]}
    if not changed:
        return template_key
    template_key.save()
    render_texts_changed()
    event_record(actor=actor, verb="template_key.updated", target=template_key, payload=changed)
    for text in template_key.texts.select_related("locale", "key", "key__source_locale"):
        template_checks_run(template=text)
    return template_key


# --- Template texts -----------------------------------------------------------------------------

T = ResponseTemplate.Status
# The review lifecycle. Texts are edited in draft; a reviewer sends one back (in_review → draft);
# an approved text is reopened for changes (→ draft, leaving the render to the fallback chain
# until it is approved again) or retired; a retired one can be revived as a draft.
TEMPLATE_TRANSITIONS: dict[str, frozenset[str]] = {
    T.DRAFT: frozenset({T.IN_REVIEW, T.RETIRED}),
    T.IN_REVIEW: frozenset({T.APPROVED, T.DRAFT, T.RETIRED}),
    T.APPROVED: frozenset({T.DRAFT, T.RETIRED}),
    T.RETIRED: frozenset({T.DRAFT}),
}
# Steps that take a reviewer's permission (culture.approve_responsetemplate): the API and the admin
# check it; linguists move their drafts to review and back.
REVIEWER_STEPS = frozenset({(T.IN_REVIEW, T.APPROVED), (T.APPROVED, T.RETIRED), (T.IN_REVIEW, T.RETIRED),
                            (T.APPROVED, T.DRAFT), (T.RETIRED, T.DRAFT)})
del T

def template_check_ids() -> list[str]:
    return [c.id for c in registry.for_kind("template")]


def template_evaluate(*, template: ResponseTemplate, context: CheckContext | None = None):
    """The findings of every template check for a text, saved or not (the admin previews edits)."""
    return checks_evaluate(template, applies_to="template", locale=template.locale.tag, context=context)


def template_checks_run(*, template: ResponseTemplate) -> list:
    """Check a saved text, store the findings in place of the last ones, and keep `has_errors`."""
    findings = template_evaluate(template=template)
    check_results_replace(target=template, locale=template.locale, findings=findings,
                          check_ids=template_check_ids())
    has_errors = bool(errors_in(findings))
    if has_errors != template.has_errors:
        template.has_errors = has_errors
        ResponseTemplate.objects.filter(pk=template.pk).update(has_errors=has_errors)
    return findings


def templates_recheck(*, locale) -> int:
    """Check a locale's live texts again (a term or register changed what they are judged by)."""
    texts = ResponseTemplate.objects.filter(locale=locale).exclude(status=ResponseTemplate.Status.RETIRED)
    count = 0
    for text in texts.select_related("key", "key__source_locale", "locale"):
        template_checks_run(template=text)
        count += 1
    return count


def _register_clean(register: str) -> str:
    register = (register or "").strip()
    if register and not re.fullmatch(r"[-a-zA-Z0-9_]{1,30}", register):
        raise ValidationError({"register": [f"{register!r} is not a register code"]})
    return register


def _nesting_refuse(body: str) -> None:
    """A text nested deeper than ICU is let to walk is refused outright, not stored with an
    error: no render of it could ever succeed."""
    from . import messageformat as mf

    try:
        mf.parse(body)
    except mf.NestingTooDeep as exc:
        raise ValidationError({"body": [str(exc)]}) from None
    except mf.PatternError:
        pass  # stored, and reported by template.icu_syntax


@transaction.atomic
def template_save(*, key: TemplateKey, locale, register: str = "", body: str, actor) -> ResponseTemplate:
    """Create the text of (key, locale, register) or change its body. Only drafts are edited: a
    text in review goes back to draft with the edit; an approved or retired text must be reopened
    first, so what the assistant says never changes without a new approval."""
    register = _register_clean(register)
    if not isinstance(body, str) or not body.strip():
        raise ValidationError({"body": ["required"]})
    _nesting_refuse(body)
    template = ResponseTemplate.objects.select_for_update().filter(key=key, locale=locale, register=register).first()
    created = template is None
    if created:
        template = ResponseTemplate(key=key, locale=locale, register=register, body=body)
    else:
        if template.body == body:
            return template
        if template.status in (ResponseTemplate.Status.APPROVED, ResponseTemplate.Status.RETIRED):
            raise ValidationError({"body": [f"this text is {template.status}; reopen it as a draft before editing"]})
        before = {"body": template.body, "status": template.status}
        template.body = body
        template.status = ResponseTemplate.Status.DRAFT
    template.save()
    render_texts_changed()
    if created:
        event_record(actor=actor, verb="response_template.created", target=template, locale=locale,
                     payload={"key": key.key, "register": register, "body": body})
    else:
        event_record(actor=actor, verb="response_template.edited", target=template, locale=locale,
                     payload={"from": before, "to": {"body": body, "status": template.status}})
    template_checks_run(template=template)
    return template


# The steps from a new draft to each status a text may be created in (template files, tests).
STEPS_FROM_DRAFT = {"draft": (), "in_review": ("in_review",), "approved": ("in_review", "approved"),
                    "retired": ("in_review", "approved", "retired")}


def templates_load(*, keys, file: str, actor) -> dict[str, int]:
    """Load parsed template-file keys (culture.template_files) in one transaction: all, or none.

    Additive like the culture packs: a missing key is created with its declaration; a text that
    exists for (key, locale, register) is left as its linguists made it; a new text is saved as a
    draft and moved to the file's status through the review services, so approval runs the checks
    and refuses errors. Every refusal names its place in the file; any refusal loads nothing.
    """
    from parley.locales.packs import PackError, PackLoadError
    from parley.locales.selectors import UnknownLocale, locale_resolve
    from parley.nlu.models import Intent

    counts = {"keys": 0, "texts": 0, "unchanged": 0, "kept_declarations": 0, "with_errors": 0}
    errors: list[PackError] = []

    def refused(where: str, exc: ValidationError) -> None:
        if hasattr(exc, "message_dict"):
            for name, messages in exc.message_dict.items():
                errors.append(PackError(file, f"{where}.{name}" if name != "__all__" else where, "; ".join(messages)))
        else:
            errors.append(PackError(file, where, "; ".join(exc.messages)))

    def resolved(tag: str, where: str):
        try:
            return locale_resolve(tag)
        except UnknownLocale as exc:
            errors.append(PackError(file, where, str(exc)))
            return None

    with transaction.atomic():
        for spec in keys:
            key = TemplateKey.objects.filter(key=spec.key).first()
            if key is None:
                source = resolved(spec.source_locale, f"{spec.where}.source_locale")
                intent = Intent.objects.filter(name=spec.intent).first() if spec.intent else None
                if spec.intent and intent is None:
                    errors.append(PackError(file, f"{spec.where}.intent", f"{spec.intent!r} is not an intent"))
                if source is None or (spec.intent and intent is None):
                    continue
                try:
                    key = template_key_create(key=spec.key, source_locale=source, intent=intent, actor=actor,
                                              description=spec.description, parameters=spec.parameters)
                except ValidationError as exc:
                    refused(spec.where, exc)
                    continue
                counts["keys"] += 1
            elif spec.parameters and spec.parameters != key.parameters:
                counts["kept_declarations"] += 1  # additive: a stored declaration is the admin's to change
            for text in spec.texts:
                locale = resolved(text.locale, f"{text.where}.locale")
                if locale is None:
                    continue
                if ResponseTemplate.objects.filter(key=key, locale=locale, register=text.register.strip()).exists():
                    counts["unchanged"] += 1
                    continue
                try:
                    saved = template_save(key=key, locale=locale, register=text.register, body=text.body, actor=actor)
                    for step in STEPS_FROM_DRAFT[text.status]:
                        saved = template_status_change(template=saved, to=step, actor=actor,
                                                       reason=f"loaded from {file}")
                except ValidationError as exc:
                    refused(text.where, exc)
                    continue
                counts["texts"] += 1
                counts["with_errors"] += bool(saved.has_errors)
        if errors:
            raise PackLoadError(errors)  # rolls back the whole load
    return counts


def template_transition_problem(*, current: str, to: str) -> str | None:
    if to not in ResponseTemplate.Status.values:
        return f"unknown status {to!r}"
    if to not in TEMPLATE_TRANSITIONS[current]:
        allowed = ", ".join(sorted(TEMPLATE_TRANSITIONS[current])) or "none"
        return f"a template that is {current} cannot become {to} (allowed: {allowed})"
    return None


def template_step_needs_reviewer(*, current: str, to: str) -> bool:
    return (current, to) in REVIEWER_STEPS


@transaction.atomic
def template_status_change(*, template: ResponseTemplate, to: str, actor, reason: str = "") -> ResponseTemplate:
    """Move a text one step of TEMPLATE_TRANSITIONS (row locked) and log it. Approval checks the
    text again first and refuses it while any check reports an error."""
    locked = ResponseTemplate.objects.select_for_update().select_related("key", "key__source_locale", "locale").get(
        pk=template.pk)
    problem = template_transition_problem(current=locked.status, to=to)
    if problem:
        raise ValidationError({"status": [problem]})
    if to == ResponseTemplate.Status.APPROVED:
        errors = errors_in(template_checks_run(template=locked))
        if errors:
            raise ValidationError({"status": [f"cannot approve: {len(errors)} check error(s): "
                                              + "; ".join(f"{e.check_id}: {e.message}" for e in errors)]})
    before = locked.status
    locked.status = to
    locked.save(update_fields=["status", "updated_at"])
    render_texts_changed()
    event_record(actor=actor, verb="response_template.status_changed", target=locked, locale=locked.locale,
                 payload={"from": before, "to": to, "reason": reason, "key": locked.key.key})
    template.status = locked.status
    return locked


@transaction.atomic
def template_delete(*, template: ResponseTemplate, actor) -> None:
    """Only drafts are deleted (an approved text has been said to users: retire it)."""
    if template.status != ResponseTemplate.Status.DRAFT:
        raise ValidationError(f"only drafts can be deleted; this text is {template.status} (retire it instead)")
    event_record(actor=actor, verb="response_template.deleted", target=template, locale=template.locale,
                 payload={"key": template.key.key, "register": template.register, "body": template.body})
    template.delete()
    render_texts_changed()


# --- Formality registers ---------------------------------------------------------------------------

def _register_payload(reg: FormalityRegister) -> dict:
    return {"code": reg.code, "name": reg.name, "is_default": reg.is_default, "guidance": reg.guidance,
            "examples": reg.examples, "order": reg.order}


@transaction.atomic
def register_save(*, locale, code: str, actor, name: str | None = None, is_default: bool | None = None,
                  guidance: str | None = None, examples=None, order: int | None = None,
                  recheck: bool = True) -> FormalityRegister:
    """Create or change the register `code` of a locale. Making one the default clears the old one."""
    if not isinstance(code, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,29}", code):
        raise ValidationError({"code": [f"{code!r} is not a register code (lower case, like sie or polite)"]})
    if examples is not None and (not isinstance(examples, list) or not all(isinstance(e, str) for e in examples)):
        raise ValidationError({"examples": ["must be a list of strings"]})
    reg = FormalityRegister.objects.select_for_update().filter(locale=locale, code=code).first()
    created = reg is None
    if created:
        reg = FormalityRegister(locale=locale, code=code, name=name or code)
    before = {} if created else _register_payload(reg)
    for attr, value in (("name", name), ("is_default", is_default), ("guidance", guidance), ("examples", examples),
                        ("order", order)):
        if value is not None:
            setattr(reg, attr, value)
    after = _register_payload(reg)
    if not created and after == before:
        return reg
    if reg.is_default:
        FormalityRegister.objects.filter(locale=locale, is_default=True).exclude(pk=reg.pk).update(is_default=False)
    reg.save()
    render_texts_changed()
    event_record(actor=actor, verb=f"formality_register.{'created' if created else 'updated'}", target=reg,
                 locale=locale, payload=after if created else {k: {"from": before[k], "to": after[k]}
                                                              for k in after if after[k] != before[k]})
    if recheck:
        templates_recheck(locale=locale)
    return reg


@transaction.atomic
def register_delete(*, register: FormalityRegister, actor) -> None:
    used = ResponseTemplate.objects.filter(locale=register.locale, register=register.code).count()
    if used:
        raise ValidationError(f"register {register.code!r} has {used} template text(s) in {register.locale.tag}; "
                              "retire or move them first")
    event_record(actor=actor, verb="formality_register.deleted", target=register, locale=register.locale,
                 payload=_register_payload(register))
    register.delete()
    render_texts_changed()
    templates_recheck(locale=register.locale)


@transaction.atomic
def register_override_set(*, locale, scenario, register: FormalityRegister, actor, note: str = "") -> RegisterOverride:
    if register.locale_id != locale.pk:
        raise ValidationError({"register": [f"{register.code!r} is not a register of {locale.tag}"]})
    row = RegisterOverride.objects.filter(locale=locale, scenario=scenario).first()
    previous = row.register.code if row else None
    if row is None:
        row = RegisterOverride(locale=locale, scenario=scenario)
    if previous == register.code and row.note == note:
        return row
    row.register, row.note = register, note
    row.save()
    render_texts_changed()
    event_record(actor=actor, verb="register_override.set", target=row, locale=locale,
                 payload={"scenario": scenario.name, "from": previous, "to": register.code, "note": note})
    return row


@transaction.atomic
def register_override_delete(*, row: RegisterOverride, actor) -> None:
    event_record(actor=actor, verb="register_override.deleted", target=row, locale=row.locale,
                 payload={"scenario": row.scenario.name, "register": row.register.code})
    row.delete()
    render_texts_changed()


# --- Sensitive terms -----------------------------------------------------------------------------------

def _term_payload(row: SensitiveTerm) -> dict:
    return {"kind": row.kind, "term": row.term, "severity": row.severity, "reason": row.reason,
            "replacement": row.replacement}


def sensitive_term_problem(*, locale, term, kind: str, exclude_pk=None) -> tuple[str, str]:
    """(normalized, "") for a usable term, else (normalized, the reason it is not)."""
    from .checks import normalize_term

    if not isinstance(term, str) or not term.strip():
        return "", "required"
    if len(term.strip()) > 200:
        return "", "must be at most 200 characters"
    normalized = normalize_term(term.strip(), locale=locale)
    if not normalized:
        return "", "has no letters or digits once normalized"
    clash = SensitiveTerm.objects.filter(locale=locale, kind=kind, normalized=normalized)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        return normalized, f"{locale.tag} already lists {term.strip()!r} (same normalized form)"
    return normalized, ""


@transaction.atomic
def sensitive_term_create(*, locale, term: str, actor, kind: str = SensitiveTerm.Kind.TERM,
                          severity: str = SensitiveTerm.Severity.WARN, reason: str = "", replacement: str = "",
                          source: str = "manual", recheck: bool = True) -> SensitiveTerm:
    if kind not in SensitiveTerm.Kind.values:
        raise ValidationError({"kind": [f"{kind!r} is not one of {SensitiveTerm.Kind.values}"]})
    if severity not in SensitiveTerm.Severity.values:
        raise ValidationError({"severity": [f"{severity!r} is not one of {SensitiveTerm.Severity.values}"]})
    normalized, problem = sensitive_term_problem(locale=locale, term=term, kind=kind)
    if problem:
        raise ValidationError({"term": [problem]})
    row = SensitiveTerm.objects.create(locale=locale, kind=kind, term=term.strip(), normalized=normalized,
                                       severity=severity, reason=reason, replacement=replacement, source=source)
    event_record(actor=actor, verb="sensitive_term.created", target=row, locale=locale, payload=_term_payload(row))
    if recheck and kind == SensitiveTerm.Kind.TERM:
        templates_recheck(locale=locale)
    return row


@transaction.atomic
def sensitive_term_update(*, row: SensitiveTerm, actor, term: str | None = None, severity: str | None = None,
                          reason: str | None = None, replacement: str | None = None) -> SensitiveTerm:
    before = _term_payload(row)
    if term is not None:
        normalized, problem = sensitive_term_problem(locale=row.locale, term=term, kind=row.kind, exclude_pk=row.pk)
        if problem:
            raise ValidationError({"term": [problem]})
        row.term, row.normalized = term.strip(), normalized
    if severity is not None:
        if severity not in SensitiveTerm.Severity.values:
            raise ValidationError({"severity": [f"{severity!r} is not one of {SensitiveTerm.Severity.values}"]})
        row.severity = severity
    if reason is not None:
        row.reason = reason
    if replacement is not None:
        row.replacement = replacement
    after = _term_payload(row)
    if after != before:
        row.save()
        event_record(actor=actor, verb="sensitive_term.updated", target=row, locale=row.locale,
                     payload={"from": before, "to": after})
        templates_recheck(locale=row.locale)
    return row


@transaction.atomic
def sensitive_term_delete(*, row: SensitiveTerm, actor) -> None:
    event_record(actor=actor, verb="sensitive_term.deleted", target=row, locale=row.locale, payload=_term_payload(row))
    row.delete()
    templates_recheck(locale=row.locale)


# --- Culture packs ---------------------------------------------------------------------------------

def culture_packs_load(*, directory, actor=None) -> dict[str, int]:
    """Load every culture pack in `directory` in one transaction: all of them, or none.

    Additive, like schema_load: registers, overrides, terms and topics missing from a locale are
    created (source "pack"); what exists is left as a linguist may have refined it, so loading
    again changes nothing. A locale's default register is set only while it has none.
    """
    from parley.locales.models import Locale
    from parley.locales.packs import PackError, PackLoadError
    from parley.nlu.models import Scenario

    from .checks import normalize_term
    from .packs import read_culture_packs

    packs = read_culture_packs(directory)
    counts = {"registers": 0, "overrides": 0, "terms": 0, "topics": 0, "unchanged": 0}
    errors: list[PackError] = []
    with transaction.atomic():
        for pack in packs:
            locale = Locale.objects.filter(tag=pack.tag).first()
            if locale is None:
                errors.append(PackError(pack.file, "tag", f"{pack.tag} is not a registered locale (run locales_load)"))
                continue
            has_default = FormalityRegister.objects.filter(locale=locale, is_default=True).exists()
            for spec in pack.registers:
                if FormalityRegister.objects.filter(locale=locale, code=spec["code"]).exists():
                    counts["unchanged"] += 1
                    continue
                register_save(locale=locale, code=spec["code"], name=spec["name"], order=spec.get("order", 0),
                              is_default=bool(spec.get("default")) and not has_default,
                              guidance=spec.get("guidance", ""), examples=spec.get("examples", []), actor=actor,
                              recheck=False)
                counts["registers"] += 1
            for i, spec in enumerate(pack.overrides):
                scenario = Scenario.objects.filter(name=spec["scenario"]).first()
                if scenario is None:
                    errors.append(PackError(pack.file, f"overrides[{i}].scenario",
                                            f"{spec['scenario']!r} is not a scenario (run schema_load)"))
                    continue
                if RegisterOverride.objects.filter(locale=locale, scenario=scenario).exists():
                    counts["unchanged"] += 1
                    continue
                register_override_set(locale=locale, scenario=scenario, actor=actor, note=spec.get("note", ""),
                                      register=FormalityRegister.objects.get(locale=locale, code=spec["register"]))
                counts["overrides"] += 1
            for kind, items, text_key in ((SensitiveTerm.Kind.TERM, pack.terms, "term"),
                                          (SensitiveTerm.Kind.TOPIC, pack.topics, "topic")):
                for i, spec in enumerate(items):
                    normalized = normalize_term(spec[text_key].strip(), locale=locale)
                    if SensitiveTerm.objects.filter(locale=locale, kind=kind, normalized=normalized).exists():
                        counts["unchanged"] += 1
                        continue
                    _normalized, problem = sensitive_term_problem(locale=locale, term=spec[text_key], kind=kind)
                    if problem:
                        errors.append(PackError(pack.file, f"{text_key}s[{i}].{text_key}", problem))
                        continue
                    sensitive_term_create(locale=locale, term=spec[text_key], kind=kind, actor=actor,
                                          severity=spec.get("severity", SensitiveTerm.Severity.WARN),
                                          reason=spec.get("reason") or "", replacement=spec.get("replacement") or "",
                                          source="pack", recheck=False)
                    counts["terms" if kind == SensitiveTerm.Kind.TERM else "topics"] += 1
            templates_recheck(locale=locale)
        if errors:
            raise PackLoadError(errors)  # rolls back the whole load
    return counts


# --- Holidays ------------------------------------------------------------------------------------------

HOLIDAY_EDIT_FIELDS = ("english_name", "native_name", "aliases", "category", "regions", "rule", "rule_params",
                       "greeting", "notes")


def _holiday_payload(h) -> dict:
    return {name: getattr(h, name) for name in HOLIDAY_EDIT_FIELDS}


def _regions_problem(locale, regions: list[str]) -> str | None:
    """Why `regions` are not subdivisions of the locale's territory (any code is taken where the
    package knows no subdivisions), or None."""
    from .holiday_rules import package_subdivisions

    known = set(package_subdivisions(locale.territory))
    unknown = [r for r in regions if known and r not in known]
    if unknown:
        return f"{', '.join(unknown)} not subdivisions of {locale.territory} ({', '.join(sorted(known))})"
    return None


REGION_CODE_MAX_LENGTH = 40  # the holidays package's longest subdivision name is 17 ("São Paulo Capital")


def _region_codes_problem(regions: list[str]) -> str | None:
    """Why these are not storable region codes, or None. Where the package knows no subdivisions
    (JP, SG, IS) any code is taken, so the shape is checked here: PostgreSQL's jsonb refuses NUL
    (and any text a lone surrogate), which was a 500."""
    for position, code in enumerate(regions, start=1):
        if len(code.strip()) > REGION_CODE_MAX_LENGTH:
            return f"item {position}: at most {REGION_CODE_MAX_LENGTH} characters"
        if any(unicodedata.category(char) in ("Cc", "Cs") for char in code):
            return f"item {position}: {code[:REGION_CODE_MAX_LENGTH]!r} holds a control character"
    return None


def holiday_fields_clean(*, locale, fields: dict) -> dict:
    """The editable fields, checked together (a rule and its parameters), or every problem."""
    from .holiday_rules import rule_params_problem
    from .models import Holiday

    problems: dict[str, list[str]] = {}
    cleaned = dict(fields)
    for name in ("english_name", "native_name", "greeting"):
        if name in cleaned and (not isinstance(cleaned[name], str) or len(cleaned[name]) > (300 if name == "greeting"
                                                                                           else 200)):
            problems[name] = ["must be text of at most 200 characters (greeting 300)"]
    if "category" in cleaned and cleaned["category"] not in Holiday.Category.values:
        problems["category"] = [f"{cleaned['category']!r} is not one of {', '.join(Holiday.Category.values)}"]
    for name in ("aliases", "regions"):
        if name in cleaned:
            value = cleaned[name]
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                problems[name] = ["must be a list of non-empty strings"]
            elif name == "regions" and (problem := _region_codes_problem(value)):
                problems[name] = [problem]
            else:
                cleaned[name] = list(dict.fromkeys(v.strip() for v in value))
    if "regions" in cleaned and "regions" not in problems and cleaned["regions"]:
        problem = _regions_problem(locale, cleaned["regions"])
        if problem:
            problems["regions"] = [problem]
    if "rule" in cleaned or "rule_params" in cleaned:
        rule = cleaned.get("rule", "fixed")
        problem = rule_params_problem(rule, cleaned.get("rule_params", {}))
        if problem:
            problems["rule_params"] = [problem]
    if problems:
        raise ValidationError(problems)
    return cleaned


@transaction.atomic
def holiday_create(*, locale, key: str, english_name: str, actor, **fields):
    """A linguist's holiday (source "linguist"); dates follow from its rule (holiday_materialize)
    or are entered per year (explicit rule)."""
    from django.utils.text import slugify

    from .models import Holiday

    key = slugify(key or english_name)[:120]
    if not key:
        raise ValidationError({"key": ["required"]})
    if Holiday.objects.filter(locale=locale, key=key).exists():
        raise ValidationError({"key": [f"{locale.tag} already has the holiday {key!r}"]})
    if not isinstance(english_name, str) or not english_name.strip():
        raise ValidationError({"english_name": ["required"]})
    fields.setdefault("rule", Holiday.Rule.EXPLICIT)
    fields.setdefault("rule_params", {})
    cleaned = holiday_fields_clean(locale=locale, fields={"english_name": english_name.strip(), **fields})
    holiday = Holiday.objects.create(locale=locale, key=key, source="linguist", **cleaned)
    _holiday_compute(holiday, _materialized_years(locale))
    event_record(actor=actor, verb="holiday.created", target=holiday, locale=locale, payload=_holiday_payload(holiday))
    return holiday


@transaction.atomic
def holiday_update(*, holiday, actor, **fields):
    """A correction. The holiday becomes the linguists' (source "linguist"): seeding from the
    package never overwrites it again. A changed rule drops the dates it computed."""
    unknown = sorted(set(fields) - set(HOLIDAY_EDIT_FIELDS))
    if unknown:
        raise ValidationError({n: ["not editable"] for n in unknown})
    if "rule" in fields and "rule_params" not in fields:
        fields["rule_params"] = holiday.rule_params if fields["rule"] == holiday.rule else {}
    if "rule_params" in fields and "rule" not in fields:
        fields["rule"] = holiday.rule
    cleaned = holiday_fields_clean(locale=holiday.locale, fields=fields)
    before = _holiday_payload(holiday)
    for name, value in cleaned.items():
        setattr(holiday, name, value)
    after = _holiday_payload(holiday)
    if after == before:
        return holiday
    holiday.source = "linguist"
    holiday.save()
    if (before["rule"], before["rule_params"]) != (after["rule"], after["rule_params"]):
        holiday.dates.filter(entered=False).delete()
        _holiday_compute(holiday, _materialized_years(holiday.locale))
    event_record(actor=actor, verb="holiday.updated", target=holiday, locale=holiday.locale,
                 payload={k: {"from": before[k], "to": after[k]} for k in after if after[k] != before[k]})
    return holiday


@transaction.atomic
def holiday_delete(*, holiday, actor) -> None:
    event_record(actor=actor, verb="holiday.deleted", target=holiday, locale=holiday.locale,
                 payload=_holiday_payload(holiday))
    holiday.delete()


@transaction.atomic
def holiday_date_add(*, holiday, date, actor, regions: list[str] | None = None):
    """An entered date (a lunar or announced holiday's date in one year). Entered dates survive
    every later materialization. `regions`: the subdivisions where this date holds (a school
    break's dates differ by state); none: wherever the holiday is observed."""
    import datetime as dt

    from .models import HolidayDate

    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            raise ValidationError({"date": [f"{date!r} is not an ISO date like 2026-03-20"]}) from None
    if regions is not None:
        regions = holiday_fields_clean(locale=holiday.locale, fields={"regions": regions})["regions"]
    row = HolidayDate.objects.filter(holiday=holiday, date=date).first()
    if row is not None:
        changed = []
        if not row.entered:
            row.entered = True
            changed.append("entered")
        if regions is not None and row.regions != regions:
            before, row.regions = row.regions, regions
            changed.append("regions")
        if changed:
            row.save(update_fields=changed)
        if "regions" in changed:
            event_record(actor=actor, verb="holiday.date_changed", target=holiday, locale=holiday.locale,
                         payload={"date": date.isoformat(), "regions": {"from": before, "to": regions}})
        return row
    row = HolidayDate.objects.create(holiday=holiday, date=date, year=date.year, entered=True, regions=regions or [])
    event_record(actor=actor, verb="holiday.date_added", target=holiday, locale=holiday.locale,
                 payload={"date": date.isoformat(), **({"regions": row.regions} if row.regions else {})})
    return row


@transaction.atomic
def holiday_date_remove(*, row, actor) -> None:
    event_record(actor=actor, verb="holiday.date_removed", target=row.holiday, locale=row.holiday.locale,
                 payload={"date": row.date.isoformat()})
    row.delete()


def _holiday_compute(holiday, years) -> int:
    """Computed dates of a fixed / Easter / nth-weekday holiday in `years` (entered ones stay)."""
    from .holiday_rules import rule_date
    from .models import Holiday, HolidayDate

    if holiday.rule in (Holiday.Rule.PACKAGE, Holiday.Rule.EXPLICIT):
        return 0
    have = set(holiday.dates.values_list("date", flat=True))
    new = [HolidayDate(holiday=holiday, date=day, year=year) for year in years
           if (day := rule_date(holiday.rule, holiday.rule_params, year)) is not None and day not in have]
    HolidayDate.objects.bulk_create(new)
    return len(new)


def _materialized_years(locale) -> list[int]:
    from .models import HolidayYear

    return list(HolidayYear.objects.filter(locale=locale).values_list("year", flat=True))


def _years_clean(years) -> list[int]:
    years = sorted(set(years))
    if not years or any(isinstance(y, bool) or not isinstance(y, int) or not 1900 <= y <= 2100 for y in years):
        raise ValidationError({"years": ["a non-empty list of years 1900–2100"]})
    if len(years) > 30:
        raise ValidationError({"years": ["at most 30 years at once"]})
    return years


@transaction.atomic
def holidays_seed(*, locale, years, actor, subdivisions: bool = True) -> dict:
    """Holidays of the locale's territory from the `holidays` package for `years`, with names in
    the locale's language where the package has them, categories and subdivisions as regions.

    Idempotent and additive: a holiday already present gets the years' missing dates only; one a
    linguist corrected (source "linguist") is left alone. Marks the years materialized.
    """
    from .holiday_rules import package_holidays, package_supports
    from .models import Holiday, HolidayDate, HolidayYear

    years = _years_clean(years)
    supported = package_supports(locale.territory)
    found, facts = (package_holidays(territory=locale.territory, language=locale.language, years=years,
                                     subdivisions=subdivisions) if supported else ({}, {}))
    existing = {h.key: h for h in Holiday.objects.filter(locale=locale)}
    created = dates = 0
    for key, item in found.items():
        holiday = existing.get(key)
        if holiday is None:
            holiday = Holiday.objects.create(
                locale=locale, key=key, english_name=item.english_name[:200], native_name=item.native_name[:200],
                category=item.category, regions=sorted(item.regions), rule=Holiday.Rule.PACKAGE,
                rule_params={"package_name": item.english_name}, source="package")
            created += 1
        elif holiday.rule != Holiday.Rule.PACKAGE:
            continue  # the linguists' rule decides this holiday's dates
        elif holiday.source == "package" and holiday.regions:
            # Observed nationwide in one of these years (or in more subdivisions): each date
            # carries its own regions, so the holiday's are where it is observed at all.
            wider = [] if item.national else sorted(set(holiday.regions) | item.regions)
            if wider != holiday.regions:
                holiday.regions = wider
                holiday.save(update_fields=["regions"])
        # Each date with the subdivisions the package gives it in (a school break's dates differ
        # by state); a date seeded before dates had regions gets them now. Entered ones stay.
        have = {row.date: row for row in holiday.dates.all()}
        new = [HolidayDate(holiday=holiday, date=d, year=d.year, regions=item.regions_of(d))
               for d in sorted(item.dates - set(have))]
        HolidayDate.objects.bulk_create(new)
        stale = [row for d, row in have.items()
                 if d in item.dates and not row.entered and row.regions != item.regions_of(d)]
        for row in stale:
            row.regions = item.regions_of(row.date)
        HolidayDate.objects.bulk_update(stale, ["regions"])
        dates += len(new)
    computed = sum(_holiday_compute(h, years) for h in Holiday.objects.filter(locale=locale).exclude(
        rule__in=(Holiday.Rule.PACKAGE, Holiday.Rule.EXPLICIT)))
    for year in years:
        HolidayYear.objects.update_or_create(locale=locale, year=year)
    result = {"locale": locale.tag, "supported": supported, "created": created, "dates": dates, "computed": computed,
              "years": years, "native_language": facts.get("native_language"),
              "subdivisions": len(facts.get("subdivisions", []))}
    event_record(actor=actor, verb="holidays.seeded", target=None, locale=locale, payload=result)
    return result


@transaction.atomic
def holidays_materialize(*, locale, years, actor) -> dict:
    """Dates of every holiday of the locale in `years`: package holidays from the package,
    fixed / Easter / nth-weekday rules computed, explicit ones as entered (listed when missing)."""
    from .models import Holiday

    years = _years_clean(years)
    seeded = holidays_seed(locale=locale, years=years, actor=actor)
    missing = []
    for holiday in Holiday.objects.filter(locale=locale, rule=Holiday.Rule.EXPLICIT).order_by("key"):
        have = set(holiday.dates.filter(year__in=years).values_list("year", flat=True))
        missing += [f"{holiday.key} {y}" for y in years if y not in have]
    return {**seeded, "explicit_missing": missing}


# --- Holidays into NLU data -----------------------------------------------------------------------------

# Carrier phrases in MASSIVE notation; {holiday} becomes [<slot type> : <name>]. Lower case, as MASSIVE writes.
HOLIDAY_QUESTION_PATTERNS = {
    "en": ["when is {holiday}", "what date is {holiday} [date : this year]"],
    "de": ["wann ist {holiday}", "auf welchen tag fällt {holiday} [date : dieses jahr]"],
    "fr": ["quand est {holiday}", "c'est quand {holiday} [date : cette année]"],
    "es": ["cuándo es {holiday}", "qué día cae {holiday} [date : este año]"],
    "ja": ["{holiday}はいつ", "[date : 今年]の{holiday}は何日"],
    "ko": ["{holiday} 언제야", "[date : 올해] {holiday} 며칠이야"],
    "hi": ["{holiday} कब है", "[date : इस साल] {holiday} किस दिन है"],
    "ar": ["متى {holiday}", "متى {holiday} [date : هذا العام]"],
    "ru": ["когда {holiday}", "какого числа {holiday} [date : в этом году]"],
    "tr": ["{holiday} ne zaman", "[date : bu yıl] {holiday} hangi gün"],
}


def _holiday_names(holiday) -> list[str]:
    names = [holiday.native_name or holiday.english_name, *holiday.aliases]
    return [n for n in dict.fromkeys(n.strip() for n in names) if n and not set(n) & set("[]:")]


@transaction.atomic
def holiday_utterances_generate(*, locale, intent, actor, slot_type: str = "event_name", patterns=None,
                                holiday_keys=None) -> dict:
    """Question candidates ("when is {holiday}") for native review: submitted utterances with
    source holiday-generated, made by the one utterance lifecycle (checked, logged), never
    promoted here. All or nothing; an already generated one (same external id) is skipped."""
    from parley.nlu.models import Utterance
    from parley.nlu.services import annotation_in_published_form, utterance_create

    from .models import Holiday

    patterns = list(patterns or HOLIDAY_QUESTION_PATTERNS.get(locale.language, []))
    if not patterns:
        raise ValidationError({"patterns": [f"no built-in patterns for {locale.language!r}; give some, each with "
                                            "{holiday}"]})
    bad = [p for p in patterns if not isinstance(p, str) or p.count("{holiday}") != 1]
    if bad:
        raise ValidationError({"patterns": [f"{p!r} must contain {{holiday}} once" for p in bad]})
    holidays_qs = Holiday.objects.filter(locale=locale).order_by("key")
    if holiday_keys:
        holidays_qs = holidays_qs.filter(key__in=holiday_keys)
    present = set(Utterance.objects.filter(locale=locale, source=Utterance.Source.HOLIDAY).values_list(
        "external_id", flat=True))
    created, skipped, problems = 0, 0, []
    for holiday in holidays_qs:
        for n, name in enumerate(_holiday_names(holiday)):
            for pattern in patterns:
                # The pattern's own hash, so new patterns make new candidates and old ones stay done.
                digest = hashlib.sha1(pattern.encode()).hexdigest()[:8]
                external_id = f"holiday:{holiday.key}:{n}:{digest}"
                if external_id in present:
                    skipped += 1
                    continue
                annotated = annotation_in_published_form(
                    annotated=pattern.replace("{holiday}", f"[{slot_type} : {name.lower()}]"), locale=locale)
                try:
                    utterance_create(locale=locale, intent=intent, annotated=annotated,
                                     source=Utterance.Source.HOLIDAY, status=Utterance.Status.SUBMITTED,
                                     external_id=external_id, actor=actor,
                                     provenance={"holiday": holiday.key, "pattern": pattern})
                    created += 1
                except ValidationError as exc:
                    problems.append(f"{holiday.key} / {pattern!r}: {'; '.join(exc.messages)}")
    if problems:
        raise ValidationError({"holidays": problems})
    return {"created": created, "skipped": skipped, "patterns": patterns}


@transaction.atomic
def holiday_lexicon_feed(*, locale, slot_type_name: str, actor, create_concepts: bool) -> dict:
    """Each holiday's native name (value) and aliases (synonyms) as lexicon values of a catalogued
    slot type; the concept is the holiday's key, shared by every locale. Re-running adds only what
    is missing. Without `create_concepts` (concepts are global: platform admins), holidays whose
    concept does not exist yet are listed, not fed."""
    from parley.nlu.models import LexiconConcept, LexiconEntry, SlotType
    from parley.nlu.services import lexicon_concept_create, lexicon_entry_create, lexicon_entry_update

    from .models import Holiday

    slot_type = SlotType.objects.filter(name=slot_type_name).first()
    if slot_type is None:
        raise ValidationError({"slot_type": [f"no slot type {slot_type_name!r}"]})
    if slot_type.kind != SlotType.Kind.CATALOGUED:
        raise ValidationError({"slot_type": [f"{slot_type_name} is an open slot type; only catalogued ones have a "
                                             "lexicon (make it catalogued first)"]})
    concepts = {c.key: c for c in LexiconConcept.objects.filter(slot_type=slot_type)}
    result = {"created": 0, "updated": 0, "unchanged": 0, "no_concept": []}
    for holiday in Holiday.objects.filter(locale=locale).order_by("key"):
        names = _holiday_names(holiday)
        if not names:
            continue
        concept = concepts.get(holiday.key)
        if concept is None:
            if not create_concepts:
                result["no_concept"].append(holiday.key)
                continue
            concept = concepts[holiday.key] = lexicon_concept_create(slot_type=slot_type, key=holiday.key,
                                                                     note=holiday.english_name, actor=actor)
        entry = LexiconEntry.objects.filter(concept=concept, locale=locale).order_by("pk").first()
        if entry is None:
            lexicon_entry_create(concept=concept, locale=locale, value=names[0], synonyms=names[1:], actor=actor)
            result["created"] += 1
            continue
        before = list(entry.synonyms)
        wanted = [n for n in names if n != entry.value]
        lexicon_entry_update(entry=entry, synonyms=before + [n for n in wanted if n not in before], actor=actor)
        entry.refresh_from_db()
        result["updated" if entry.synonyms != before else "unchanged"] += 1
    return result
