"""Culture writes: template keys and texts (with their review lifecycle and stored checks),
formality registers and overrides, sensitive terms. Every change writes an event row.
Holidays have their own module (holidays.py)."""
from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from parley.checks.registry import CheckContext, checks_evaluate, errors_in, registry
from parley.checks.services import check_results_replace
from parley.events.services import event_record

from .models import FormalityRegister, RegisterOverride, ResponseTemplate, SensitiveTerm, TemplateKey
from .rendering import PARAMETER_TYPES

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_]*(\.[a-z0-9_]+)*$")
PARAM_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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


def _register_clean(locale, register: str) -> str:
    register = (register or "").strip()
    if register and not re.fullmatch(r"[-a-zA-Z0-9_]{1,30}", register):
        raise ValidationError({"register": [f"{register!r} is not a register code"]})
    return register


@transaction.atomic
def template_save(*, key: TemplateKey, locale, register: str = "", body: str, actor) -> ResponseTemplate:
    """Create the text of (key, locale, register) or change its body. Only drafts are edited: a
    text in review goes back to draft with the edit; an approved or retired text must be reopened
    first, so what the assistant says never changes without a new approval."""
    register = _register_clean(locale, register)
    if not isinstance(body, str) or not body.strip():
        raise ValidationError({"body": ["required"]})
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
    if created:
        event_record(actor=actor, verb="response_template.created", target=template, locale=locale,
                     payload={"key": key.key, "register": register, "body": body})
    else:
        event_record(actor=actor, verb="response_template.edited", target=template, locale=locale,
                     payload={"from": before, "to": {"body": body, "status": template.status}})
    template_checks_run(template=template)
    return template


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
    event_record(actor=actor, verb="register_override.set", target=row, locale=locale,
                 payload={"scenario": scenario.name, "from": previous, "to": register.code, "note": note})
    return row


@transaction.atomic
def register_override_delete(*, row: RegisterOverride, actor) -> None:
    event_record(actor=actor, verb="register_override.deleted", target=row, locale=row.locale,
                 payload={"scenario": row.scenario.name, "register": row.register.code})
    row.delete()


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
    normalized = normalize_term(term.strip(), language=locale.language)
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
                    normalized = normalize_term(spec[text_key].strip(), language=locale.language)
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
