"""NLU writes: schema entries and utterances. Imports use the bulk path; edits the single one."""
from __future__ import annotations

import json
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from parley.checks.registry import registry
from parley.checks.services import check_results_replace
from parley.config.generations import generation_bump
from parley.events.services import event_record

from . import annotation as notation
from .checks import edit_errors_as_messages, utterance_edit_evaluate
from .models import (CoverageTarget, Intent, IntentGuide, LexiconConcept, LexiconEntry, Scenario, SlotType,
                     SlotTypeGuide, Utterance)
from .normalize import normalize_text
from .selectors import SCHEMA_GENERATION


def intent_ensure(*, name: str, scenario: str, actor) -> Intent:
    """The intent, created with its scenario if missing (imports with --create-missing)."""
    intent = Intent.objects.filter(name=name).select_related("scenario").first()
    if intent is not None:
        return intent
    scenario_obj, created = Scenario.objects.get_or_create(name=scenario)
    if created:
        event_record(actor=actor, verb="scenario.created", target=scenario_obj)
    intent = Intent.objects.create(name=name, scenario=scenario_obj)
    event_record(actor=actor, verb="intent.created", target=intent, payload={"scenario": scenario})
    return intent


def slot_type_ensure(*, name: str, actor) -> SlotType:
    slot_type, created = SlotType.objects.get_or_create(name=name)
    if created:
        event_record(actor=actor, verb="slot_type.created", target=slot_type)
    return slot_type


def intent_slot_types_allow(*, intent: Intent, slot_types: list[SlotType]) -> None:
    intent.slot_types.add(*slot_types)


def annotation_in_published_form(*, annotated: str, locale) -> str:
    """How Parley writes an annotation of `locale`: as MASSIVE publishes it, so in a script written
    without spaces each slot is set off by a space (its loader needs every "[" to begin a chunk)."""
    return notation.published_form(annotated) if locale.writes_without_spaces else annotated


def slots_as_json(parsed: notation.Annotation) -> list[dict]:
    return [{"type": s.type, "value": s.value, "start": s.start, "end": s.end} for s in parsed.slots]


# Column order of a prepared bulk row; JSON columns travel as already-dumped JSON text.
BULK_FIELDS = ("locale_id", "intent_id", "text", "annotated", "slots", "normalized", "source", "external_id",
               "partition", "status", "provenance", "source_order", "parallel_key")
_JSON_FIELDS = frozenset({"slots", "provenance"})
_bulk_values = operator.itemgetter(*BULK_FIELDS)
_locale_of = operator.itemgetter(BULK_FIELDS.index("locale_id"))
_JSON_POSITIONS = tuple(i for i, name in enumerate(BULK_FIELDS) if name in _JSON_FIELDS)


def parallel_key_for(*, source: str, external_id: str) -> str:
    """MASSIVE gives one id to the translations of a sentence in all its locales."""
    return f"massive:{external_id}" if source == Utterance.Source.MASSIVE and external_id else ""


# json.dumps(..., ensure_ascii=False) builds a new encoder per call; imports dump two values a row.
_json_text = json.JSONEncoder(ensure_ascii=False).encode


def utterance_bulk_row(**fields) -> tuple:
    """One validated row for `utterances_bulk_insert`, in BULK_FIELDS order."""
    fields.setdefault("parallel_key", parallel_key_for(source=fields["source"], external_id=fields["external_id"]))
    values = list(_bulk_values(fields))
    for position in _JSON_POSITIONS:
        values[position] = _json_text(values[position])
    return tuple(values)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    return (value if isinstance(value, str) else str(value)).translate(_COPY_ESCAPES)


def _copy_lines(rows: Iterable[tuple], suffix: str) -> Iterable[str]:
    """COPY text-format lines. Most rows hold no tab, newline, CR, backslash or NULL, which one
    scan of the joined line shows; only the others are escaped field by field."""
    separators = len(BULK_FIELDS) - 1
    for row in rows:
        line = "\t".join(map(str, row))
        if (line.count("\t") != separators or "\n" in line or "\r" in line or "\\" in line
                or None in row):
            line = "\t".join(map(_copy_field, row))
        yield line + suffix


def utterances_bulk_insert(*, rows: Iterable[tuple]) -> int:
    """Insert validated rows (imports); the caller holds the transaction.

    PostgreSQL gets one COPY (about 10x faster than INSERT … UNNEST, whose array quoting dominated
    the import's profile), its text built here and sent as one block: a writer thread then waits
    for the socket a few times a chunk instead of once every few rows. Other databases get
    batched INSERTs.
    """
    now = timezone.now()
    count = 0
    if connection.vendor == "postgresql":
        columns = ", ".join(BULK_FIELDS + ("created_at", "updated_at"))
        stamp = now.isoformat()
        # Written grouped by locale (stable: file order kept inside each): a chunk of an interleaved
        # file then fills pages with one locale's rows, so a per-locale read (export, release,
        # coverage) visits a fraction of the table's pages instead of nearly all of them.
        rows = sorted(rows, key=_locale_of)
        block = "".join(_copy_lines(rows, f"\t{stamp}\t{stamp}\n")).encode()
        with connection.cursor() as cursor, cursor.copy(
                f"COPY {Utterance._meta.db_table} ({columns}) FROM STDIN") as copy:
            copy.write(block)
        return len(rows)
    batch: list[Utterance] = []
    for row in rows:
        fields = dict(zip(BULK_FIELDS, row))
        for name in _JSON_FIELDS:
            fields[name] = json.loads(fields[name])
        batch.append(Utterance(**fields))
        if len(batch) >= 2000:
            count += len(Utterance.objects.bulk_create(batch))
            batch = []
    count += len(Utterance.objects.bulk_create(batch))
    return count


@transaction.atomic
def utterance_annotation_update(*, utterance: Utterance, annotated: str, actor, intent: Intent | None = None) -> Utterance:
    """A linguist's edit: re-parse, re-derive text, slots and normalized form; log the change."""
    intent = intent or utterance.intent
    annotated = annotation_in_published_form(annotated=annotated, locale=utterance.locale)
    built, findings = utterance_edit_evaluate(utterance=utterance, annotated=annotated, intent=intent)
    errors = edit_errors_as_messages(findings)
    if errors:
        raise ValidationError({"annotated": errors})
    before = {"annotated": utterance.annotated, "intent": utterance.intent.name}
    utterance.annotated = annotated
    utterance.text = built.text
    utterance.slots = slots_as_json(built)
    utterance.normalized = normalize_text(utterance.text, locale=utterance.locale)
    utterance.intent = intent
    utterance.save()
    event_record(actor=actor, verb="utterance.edited", target=utterance, locale=utterance.locale,
                 payload={"from": before, "to": {"annotated": annotated, "intent": intent.name},
                          "warnings": [f.message for f in findings]})
    check_results_replace(target=utterance, locale=utterance.locale, findings=findings,
                          check_ids=[c.id for c in registry.for_kind("utterance")])
    return utterance


# --- One utterance lifecycle, shared by collection, feedback, mining and datasets -----------

S = Utterance.Status
# Where a status may go next. Collection moves draft → submitted → in_validation → accepted |
# rejected (a rejected one goes back to draft for rework); feedback and mining create submitted
# candidates that a native accepts or rejects; only `datasets` moves accepted → promoted.
UTTERANCE_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.RETIRED}),
    S.SUBMITTED: frozenset({S.IN_VALIDATION, S.ACCEPTED, S.REJECTED, S.DRAFT}),
    S.IN_VALIDATION: frozenset({S.ACCEPTED, S.REJECTED, S.SUBMITTED}),
    S.ACCEPTED: frozenset({S.PROMOTED, S.REJECTED, S.RETIRED}),
    S.REJECTED: frozenset({S.DRAFT, S.RETIRED}),
    S.PROMOTED: frozenset({S.RETIRED}),
    S.RETIRED: frozenset(),
}
del S


def utterance_transition_problem(*, current: str, to: str) -> str | None:
    """Why `current` → `to` is not a step of the lifecycle, or None when it is."""
    if to not in Utterance.Status.values:
        return f"unknown status {to!r}"
    if to not in UTTERANCE_TRANSITIONS[current]:
        allowed = ", ".join(sorted(UTTERANCE_TRANSITIONS[current])) or "none"
        return f"an utterance that is {current} cannot become {to} (allowed: {allowed})"
    return None


@transaction.atomic
def utterance_create(*, locale, intent: Intent, annotated: str, source: str, actor,
                     status: str = Utterance.Status.DRAFT, partition: str = Utterance.Partition.UNASSIGNED,
                     external_id: str = "", provenance: dict | None = None, parallel_key: str = "",
                     payload: dict | None = None) -> Utterance:
    """One new utterance from its MASSIVE-notation annotation, checked by the utterance checks.

    Errors refuse it (ValidationError on `annotated`, every message with its position); warnings
    are stored against the row. Text, slots and normalized form are derived from the annotation,
    which is stored in its published form (`annotation_in_published_form`).
    """
    if status not in (Utterance.Status.DRAFT, Utterance.Status.SUBMITTED):
        raise ValidationError({"status": f"a new utterance starts as draft or submitted, not {status!r}"})
    annotated = annotation_in_published_form(annotated=annotated, locale=locale)
    draft = Utterance(locale=locale, intent=intent, text="", annotated=annotated, source=source)
    built, findings = utterance_edit_evaluate(utterance=draft, annotated=annotated, intent=intent)
    errors = edit_errors_as_messages(findings)
    if errors:
        raise ValidationError({"annotated": errors})
    utterance = Utterance.objects.create(
        locale=locale, intent=intent, text=built.text, annotated=annotated, slots=slots_as_json(built),
        normalized=normalize_text(built.text, locale=locale), source=source,
        external_id=external_id, partition=partition, status=status, provenance=provenance or {},
        parallel_key=parallel_key or parallel_key_for(source=source, external_id=external_id))
    event_record(actor=actor, verb="utterance.created", target=utterance, locale=locale,
                 payload={"source": source, "status": status, "intent": intent.name, **(payload or {}),
                          "warnings": [f.message for f in findings]})
    check_results_replace(target=utterance, locale=locale, findings=findings,
                          check_ids=[c.id for c in registry.for_kind("utterance")])
    return utterance


@transaction.atomic
def utterance_status_change(*, utterance: Utterance, to: str, actor, reason: str = "",
                            partition: str | None = None, payload: dict | None = None) -> Utterance:
    """Move one utterance along the lifecycle and log it. The row is locked, so two reviewers
    deciding at once serialize; repeating a change already made is refused like any other."""
    locked = Utterance.objects.select_for_update().get(pk=utterance.pk)
    problem = utterance_transition_problem(current=locked.status, to=to)
    if problem:
        raise ValidationError({"status": problem})
    before = {"status": locked.status, "partition": locked.partition}
    locked.status = to
    fields = ["status", "updated_at"]
    if partition is not None:
        if partition not in Utterance.Partition.values:
            raise ValidationError({"partition": f"unknown partition {partition!r}"})
        locked.partition = partition
        fields.append("partition")
    locked.save(update_fields=fields)
    event_record(actor=actor, verb="utterance.status_changed", target=locked, locale=locked.locale,
                 payload={"from": before, "to": {"status": to, "partition": locked.partition},
                          "reason": reason, **(payload or {})})
    utterance.status, utterance.partition = locked.status, locked.partition
    return locked


@transaction.atomic
def utterance_provenance_merge(*, utterance: Utterance, values: dict) -> bool:
    """Set some of the fields a source keeps in provenance (collection: the judgments a MASSIVE
    export carries); True when anything changed. No event of its own: the caller's status change or
    decision is the logged act, this keeps its record next to the row for exports."""
    locked = Utterance.objects.select_for_update().get(pk=utterance.pk)
    merged = {**(locked.provenance or {}), **values}
    if merged == locked.provenance:
        return False
    locked.provenance = merged
    locked.save(update_fields=["provenance", "updated_at"])
    utterance.provenance = merged
    return True


# Candidates whose review is a linguist's decision here; collected utterances are judged by their
# campaign's validators (collection), imports arrive with their own status.
REVIEWED_HERE = frozenset({Utterance.Source.FEEDBACK, Utterance.Source.MINED, Utterance.Source.MANUAL,
                           Utterance.Source.HOLIDAY})


@transaction.atomic
def utterance_review(*, utterance: Utterance, accept: bool, actor, reason: str = "") -> Utterance:
    """A native linguist's decision on a submitted candidate (feedback, mined, manual,
    holiday-generated): accepted ones become the dataset pipeline's to promote."""
    if utterance.source not in REVIEWED_HERE:
        raise ValidationError({"source": f"{utterance.get_source_display()} utterances are not reviewed here"
                                         + (" (their campaign's validators judge them)"
                                            if utterance.source == Utterance.Source.COLLECTED else "")})
    if utterance.status not in (Utterance.Status.SUBMITTED, Utterance.Status.IN_VALIDATION):
        raise ValidationError({"status": f"only a submitted candidate is reviewed; this one is {utterance.status}"})
    if not accept and not reason.strip():
        raise ValidationError({"reason": "say why it is rejected"})
    return utterance_status_change(utterance=utterance, to=Utterance.Status.ACCEPTED if accept else
                                   Utterance.Status.REJECTED, actor=actor, reason=reason,
                                   payload={"review": "accepted" if accept else "rejected"})


# --- Editing the schema (intents and slot types are global: platform admins) ----------------

def _slot_types_named(names) -> list[SlotType]:
    names = list(dict.fromkeys(names))
    found = {s.name: s for s in SlotType.objects.filter(name__in=names)}
    unknown = [n for n in names if n not in found]
    if unknown:
        raise ValidationError({"slot_types": [f"unknown slot type(s): {', '.join(unknown)}"]})
    return [found[n] for n in names]


def _scenario_named(name: str, actor) -> Scenario:
    scenario, created = Scenario.objects.get_or_create(name=name)
    if created:
        event_record(actor=actor, verb="scenario.created", target=scenario)
    return scenario


@transaction.atomic
def intent_create(*, name: str, scenario: str, actor, slot_types=(), description: str = "") -> Intent:
    if Intent.objects.filter(name=name).exists():
        raise ValidationError({"name": [f"intent {name!r} already exists"]})
    allowed = _slot_types_named(slot_types)
    intent = Intent.objects.create(name=name, scenario=_scenario_named(scenario, actor), description=description)
    intent.slot_types.set(allowed)
    event_record(actor=actor, verb="intent.created", target=intent,
                 payload={"scenario": scenario, "slot_types": [s.name for s in allowed], "description": description})
    return intent


@transaction.atomic
def intent_update(*, intent: Intent, actor, scenario: str | None = None, slot_types=None,
                  description: str | None = None) -> Intent:
    """Change an intent's scenario, allowed slot types or description. The name is its identity
    in every export and dataset, so it never changes."""
    before = {"scenario": intent.scenario.name, "slot_types": sorted(intent.slot_types.values_list("name", flat=True)),
              "description": intent.description}
    if scenario is not None and scenario != intent.scenario.name:
        intent.scenario = _scenario_named(scenario, actor)
    if description is not None:
        intent.description = description
    intent.save()
    if slot_types is not None:
        wanted = _slot_types_named(slot_types)
        removed = set(before["slot_types"]) - {s.name for s in wanted}
        in_use = {name: n for name in sorted(removed) if (n := Utterance.objects.filter(
            intent=intent, annotated__contains=f"[{name}{notation.SEPARATOR}").count())}
        if in_use:
            # Stored utterances would turn invalid behind the linguists' backs.
            raise ValidationError({"slot_types": [
                f"{name!r} is used by {n} utterance(s) of {intent.name!r}; re-annotate them before "
                "disallowing it" for name, n in in_use.items()]})
        intent.slot_types.set(wanted)
    after = {"scenario": intent.scenario.name, "slot_types": sorted(intent.slot_types.values_list("name", flat=True)),
             "description": intent.description}
    changed = {k: {"from": before[k], "to": after[k]} for k in before if before[k] != after[k]}
    if changed:
        generation_bump(SCHEMA_GENERATION)
        event_record(actor=actor, verb="intent.updated", target=intent, payload=changed)
    return intent


@transaction.atomic
def intent_delete(*, intent: Intent, actor) -> None:
    used = Utterance.objects.filter(intent=intent).count()
    if used:
        raise ValidationError(f"intent {intent.name!r} is used by {used} utterance(s); re-label or retire them "
                              "first (deleting it would orphan them)")
    payload = {"scenario": intent.scenario.name}
    event_record(actor=actor, verb="intent.deleted", target=intent, payload=payload)
    intent.delete()
    generation_bump(SCHEMA_GENERATION)


def slot_type_usage(*, slot_type: SlotType) -> int:
    """Utterances annotated with this slot type (the notation writes exactly `[name : `)."""
    return Utterance.objects.filter(annotated__contains=f"[{slot_type.name}{notation.SEPARATOR}").count()


@transaction.atomic
def slot_type_create(*, name: str, actor, kind: str = SlotType.Kind.OPEN, description: str = "") -> SlotType:
    if SlotType.objects.filter(name=name).exists():
        raise ValidationError({"name": [f"slot type {name!r} already exists"]})
    slot_type = SlotType.objects.create(name=name, kind=kind, description=description)
    event_record(actor=actor, verb="slot_type.created", target=slot_type, payload={"kind": kind})
    return slot_type


@transaction.atomic
def slot_type_update(*, slot_type: SlotType, actor, kind: str | None = None, description: str | None = None) -> SlotType:
    before = {"kind": slot_type.kind, "description": slot_type.description}
    if kind is not None and kind != slot_type.kind:
        if kind == SlotType.Kind.OPEN and slot_type.concepts.exists():
            raise ValidationError({"kind": [f"slot type {slot_type.name!r} has lexicon concepts; delete them before "
                                            "making it open"]})
        slot_type.kind = kind
    if description is not None:
        slot_type.description = description
    slot_type.save()
    after = {"kind": slot_type.kind, "description": slot_type.description}
    changed = {k: {"from": before[k], "to": after[k]} for k in before if before[k] != after[k]}
    if changed:
        event_record(actor=actor, verb="slot_type.updated", target=slot_type, payload=changed)
    return slot_type


@transaction.atomic
def slot_type_delete(*, slot_type: SlotType, actor) -> None:
    used = slot_type_usage(slot_type=slot_type)
    if used:
        raise ValidationError(f"slot type {slot_type.name!r} is used by {used} utterance(s); re-annotate them first")
    if slot_type.concepts.exists():
        raise ValidationError(f"slot type {slot_type.name!r} has {slot_type.concepts.count()} lexicon concept(s); "
                              "delete them first")
    event_record(actor=actor, verb="slot_type.deleted", target=slot_type,
                 payload={"intents": sorted(slot_type.intents.values_list("name", flat=True))})
    slot_type.delete()


# --- Per-locale guides ------------------------------------------------------------------------

def guide_examples_clean(*, examples, locale) -> list[str]:
    """The examples, each a valid MASSIVE annotation with known slot types, or every problem."""
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise ValidationError({"examples": ["must be a list of strings"]})
    known = set(SlotType.objects.values_list("name", flat=True))
    problems = []
    for number, example in enumerate(examples, start=1):
        result = notation.parse(example, slot_types=known, char_split=locale.writes_without_spaces)
        problems += [f"example {number}: {i.message} (position {i.position})" for i in result.errors]
    if problems:
        raise ValidationError({"examples": problems})
    # Shown to annotators as the notation to follow, so in the published form like stored utterances.
    return [annotation_in_published_form(annotated=example, locale=locale) for example in examples]


def _guide_save(model, owner_field: str, owner, *, locale, actor, description, guidance, examples):
    guide = model.objects.filter(**{owner_field: owner}, locale=locale).first()
    created = guide is None
    if created:
        guide = model(**{owner_field: owner}, locale=locale)
    before = {"description": guide.description, "guidance": guide.guidance, "examples": guide.examples}
    if description is not None:
        guide.description = description
    if guidance is not None:
        guide.guidance = guidance
    if examples is not None:
        guide.examples = guide_examples_clean(examples=examples, locale=locale)
    after = {"description": guide.description, "guidance": guide.guidance, "examples": guide.examples}
    if not created and after == before:
        return guide  # a repeated save changes nothing and logs nothing
    guide.save()
    event_record(actor=actor, verb=f"{model._meta.model_name}.{'created' if created else 'updated'}", target=guide,
                 locale=locale, payload={k: after[k] for k in after if created or after[k] != before[k]})
    return guide


@transaction.atomic
def intent_guide_save(*, intent: Intent, locale, actor, description: str | None = None, guidance: str | None = None,
                      examples: list | None = None) -> IntentGuide:
    """Create or change the guide of an intent for one locale (fields left None stay as they are)."""
    return _guide_save(IntentGuide, "intent", intent, locale=locale, actor=actor, description=description,
                       guidance=guidance, examples=examples)


@transaction.atomic
def slot_type_guide_save(*, slot_type: SlotType, locale, actor, description: str | None = None,
                         guidance: str | None = None, examples: list | None = None) -> SlotTypeGuide:
    return _guide_save(SlotTypeGuide, "slot_type", slot_type, locale=locale, actor=actor, description=description,
                       guidance=guidance, examples=examples)


@transaction.atomic
def guide_delete(*, guide: IntentGuide | SlotTypeGuide, actor) -> None:
    event_record(actor=actor, verb=f"{guide._meta.model_name}.deleted", target=guide, locale=guide.locale)
    guide.delete()


# --- Slot value lexicon -----------------------------------------------------------------------

def lexicon_synonyms_clean(*, value: str, synonyms, locale) -> list[str]:
    """Synonyms as stored: stripped, without repeats of each other or of the value (by normalized form)."""
    if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
        raise ValidationError({"synonyms": ["must be a list of strings"]})
    seen = {normalize_text(value, locale=locale)}
    kept = []
    for synonym in (s.strip() for s in synonyms):
        if not synonym:
            continue
        if "\x00" in synonym:
            raise ValidationError({"synonyms": [f"{synonym!r} contains a NUL character"]})
        if "|" in synonym:
            # CSV joins synonyms with "|": a synonym containing it would not survive a round trip.
            raise ValidationError({"synonyms": [f"{synonym!r} contains '|', the CSV separator"]})
        key = normalize_text(synonym, locale=locale)
        if key and key not in seen:
            seen.add(key)
            kept.append(synonym)
    return kept


def lexicon_value_problem(*, value, concept: LexiconConcept | None, locale, exclude_pk=None) -> tuple[str, str]:
    """(normalized value, "") for a usable value, else (whatever was derived, the reason it is not usable).

    With a concept, a value whose normalized form the concept already has in the locale is refused.
    """
    if not isinstance(value, str) or not value.strip():
        return "", "required"
    if len(value.strip()) > 200:
        return "", "must be at most 200 characters"
    if "\x00" in value:
        return "", "contains a NUL character"
    normalized = normalize_text(value.strip(), locale=locale)
    if not normalized:
        return "", "has no letters or digits once normalized"
    if len(normalized) > 200:  # NFKC and word breaks can lengthen it
        return "", "is longer than 200 characters once normalized"
    if concept is not None:
        clash = LexiconEntry.objects.filter(concept=concept, locale=locale, normalized=normalized)
        if exclude_pk is not None:
            clash = clash.exclude(pk=exclude_pk)
        if clash.exists():
            return normalized, f"{concept.key} already has {value.strip()!r} in {locale.tag} (same normalized form)"
    return normalized, ""


def _entry_payload(entry: LexiconEntry) -> dict:
    return {"slot_type": entry.concept.slot_type.name, "concept": entry.concept.key, "value": entry.value,
            "synonyms": entry.synonyms}


@transaction.atomic
def lexicon_concept_create(*, slot_type: SlotType, key: str, actor, note: str = "") -> LexiconConcept:
    if slot_type.kind != SlotType.Kind.CATALOGUED:
        raise ValidationError({"slot_type": [f"{slot_type.name} is an open slot type; only catalogued ones have a "
                                             "lexicon"]})
    longest = LexiconConcept._meta.get_field("key").max_length
    if len(key) > longest:  # e.g. a holiday's key (up to 120) fed as a concept: refused, not a database error
        raise ValidationError({"key": [f"{key[:40]!r}... is longer than {longest} characters"]})
    if LexiconConcept.objects.filter(slot_type=slot_type, key=key).exists():
        raise ValidationError({"key": [f"{slot_type.name} already has a concept {key!r}"]})
    concept = LexiconConcept.objects.create(slot_type=slot_type, key=key, note=note)
    event_record(actor=actor, verb="lexicon_concept.created", target=concept, payload={"note": note})
    return concept


@transaction.atomic
def lexicon_entry_create(*, concept: LexiconConcept, locale, value: str, actor, synonyms=()) -> LexiconEntry:
    normalized, problem = lexicon_value_problem(value=value, concept=concept, locale=locale)
    if problem:
        raise ValidationError({"value": [problem]})
    entry = LexiconEntry.objects.create(
        concept=concept, locale=locale, value=value.strip(), normalized=normalized,
        synonyms=lexicon_synonyms_clean(value=value, synonyms=list(synonyms), locale=locale))
    event_record(actor=actor, verb="lexicon_entry.created", target=entry, locale=locale, payload=_entry_payload(entry))
    return entry


@transaction.atomic
def lexicon_entry_update(*, entry: LexiconEntry, actor, value: str | None = None, synonyms=None) -> LexiconEntry:
    before = _entry_payload(entry)
    if value is not None:
        normalized, problem = lexicon_value_problem(value=value, concept=entry.concept, locale=entry.locale,
                                                    exclude_pk=entry.pk)
        if problem:
            raise ValidationError({"value": [problem]})
        entry.value, entry.normalized = value.strip(), normalized
    if synonyms is not None or value is not None:
        entry.synonyms = lexicon_synonyms_clean(value=entry.value, synonyms=entry.synonyms if synonyms is None
                                                else list(synonyms), locale=entry.locale)
    after = _entry_payload(entry)
    if after != before:
        entry.save()
        event_record(actor=actor, verb="lexicon_entry.updated", target=entry, locale=entry.locale,
                     payload={"from": before, "to": after})
    return entry


@transaction.atomic
def lexicon_entry_delete(*, entry: LexiconEntry, actor) -> None:
    event_record(actor=actor, verb="lexicon_entry.deleted", target=entry, locale=entry.locale,
                 payload=_entry_payload(entry))
    entry.delete()


# --- Coverage targets -------------------------------------------------------------------------

@transaction.atomic
def coverage_target_set(*, locale, partition: str, target: int, actor, intent: Intent | None = None) -> CoverageTarget:
    """The locale's default target for a partition (no intent) or one intent's override; set or changed."""
    if partition not in Utterance.Partition.values:
        raise ValidationError({"partition": [f"{partition!r} is not one of {Utterance.Partition.values}"]})
    if isinstance(target, bool) or not isinstance(target, int) or target < 0:
        raise ValidationError({"target": ["must be a whole number, 0 or more"]})
    row = CoverageTarget.objects.filter(locale=locale, intent=intent, partition=partition).first()
    previous = row.target if row else None
    if row is None:
        row = CoverageTarget(locale=locale, intent=intent, partition=partition)
    if previous == target:
        return row
    row.target = target
    row.save()
    event_record(actor=actor, verb="coverage_target.set", target=row, locale=locale,
                 payload={"intent": intent.name if intent else None, "partition": partition, "from": previous,
                          "to": target})
    return row


@transaction.atomic
def coverage_target_delete(*, row: CoverageTarget, actor) -> None:
    event_record(actor=actor, verb="coverage_target.deleted", target=row, locale=row.locale,
                 payload={"intent": row.intent.name if row.intent_id else None, "partition": row.partition,
                          "from": row.target})
    row.delete()


# --- Lexicon import (validate every row, then write all or nothing) --------------------------

@dataclass
class LexiconImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    concepts_created: int = 0
    rejects: list = field(default_factory=list)  # lexicon_io.RowProblem, in row order

    @property
    def ok(self) -> bool:
        return not self.rejects

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "concepts_created": self.concepts_created, "rejected": len(self.rejects),
                "rejects": [r.as_dict() for r in self.rejects]}


class _LexiconRowChecker:
    """Per-import caches, so a file costs a few queries, not a few per row."""

    def __init__(self, *, locale_ids, create_concepts: bool):
        self.locale_ids, self.create_concepts = locale_ids, create_concepts
        self.slot_types = {s.name: s for s in SlotType.objects.all()}
        self.concepts = {(c.slot_type_id, c.key): c for c in LexiconConcept.objects.all()}
        self.locales: dict[str, object] = {}

    def locale(self, tag: str):
        from parley.locales.selectors import UnknownLocale, locale_resolve

        if tag not in self.locales:
            try:
                found = locale_resolve(tag)
            except UnknownLocale:
                found = None
            if found is not None and self.locale_ids is not None and found.pk not in self.locale_ids:
                found = None
            self.locales[tag] = found
        if self.locales[tag] is None:
            # Unknown and out-of-scope read alike for a scoped actor: no probing for locales.
            raise ValidationError(f"{tag!r} is not a registered locale" if self.locale_ids is None
                                  else f"{tag!r} is not one of your locales")
        return self.locales[tag]

    def check(self, row) -> tuple[dict | None, str, str]:
        if not row.slot_type:
            return None, "slot_type", "required"
        slot_type = self.slot_types.get(row.slot_type)
        if slot_type is None:
            return None, "slot_type", f"unknown slot type {row.slot_type!r}"
        if slot_type.kind != SlotType.Kind.CATALOGUED:
            return None, "slot_type", f"{row.slot_type} is an open slot type; only catalogued ones have a lexicon"
        if not row.concept:
            return None, "concept", "required"
        if not _SLUG.fullmatch(row.concept) or len(row.concept) > 80:
            return None, "concept", f"{row.concept!r} must be a slug (letters, digits, - and _; at most 80)"
        concept = self.concepts.get((slot_type.pk, row.concept))
        if concept is None and not self.create_concepts:
            return None, "concept", (f"unknown concept {row.concept!r} of {row.slot_type} (a platform admin adds "
                                     "concepts)")
        if not row.locale:
            return None, "locale", "required"
        try:
            locale = self.locale(row.locale)
        except ValidationError as exc:
            return None, "locale", exc.messages[0]
        normalized, problem = lexicon_value_problem(value=row.value, concept=None, locale=locale)
        if problem:
            return None, "value", problem
        try:
            synonyms = lexicon_synonyms_clean(value=row.value, synonyms=row.synonyms, locale=locale)
        except ValidationError as exc:
            return None, "synonyms", exc.messages[0]
        return {"slot_type": slot_type, "concept": concept, "concept_key": row.concept, "locale": locale,
                "value": row.value.strip(), "normalized": normalized, "synonyms": synonyms}, "", ""


_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def lexicon_import(*, rows: list, actor, locale_ids=None, create_concepts: bool = False) -> LexiconImportResult:
    """Import lexicon rows (from lexicon_io.read): every row is checked first; any rejected row
    means nothing is written and every reject is reported (row, field, reason).

    `locale_ids`: None for every locale, else the ids the actor may write lexicon entries in.
    `create_concepts`: unknown concept keys become new concepts (platform admins, the CLI).
    Rows are keyed by (slot type, concept, locale, normalized value): a row already present is
    unchanged, one whose spelling or synonyms differ updates it, so a re-import changes nothing.
    """
    from . import lexicon_io

    result = LexiconImportResult()
    checker = _LexiconRowChecker(locale_ids=locale_ids, create_concepts=create_concepts)
    seen: dict[tuple, int] = {}
    prepared: list[dict] = []
    for row in rows:
        if isinstance(row, lexicon_io.RowProblem):
            result.rejects.append(row)
            continue
        item, field_name, reason = checker.check(row)
        if item is not None:
            key = (item["slot_type"].pk, item["concept_key"], item["locale"].pk, item["normalized"])
            if key in seen:
                item, field_name, reason = None, "value", (f"repeats row {seen[key]} (same concept, locale and "
                                                           "normalized value)")
            else:
                seen[key] = row.row
        if item is None:
            result.rejects.append(lexicon_io.RowProblem(row.row, field_name, reason))
        else:
            prepared.append(item)
    if result.rejects:
        return result
    with transaction.atomic():
        _lexicon_write(prepared, result, actor=actor)
    return result


def _lexicon_write(prepared: list[dict], result: LexiconImportResult, *, actor) -> None:
    concepts: dict[tuple, LexiconConcept] = {}
    for item in prepared:
        key = (item["slot_type"].pk, item["concept_key"])
        if item["concept"] is None and key not in concepts:
            concepts[key] = lexicon_concept_create(slot_type=item["slot_type"], key=item["concept_key"], actor=actor)
            result.concepts_created += 1
        item["concept"] = item["concept"] or concepts[key]
    existing = {(e.concept_id, e.locale_id, e.normalized): e for e in LexiconEntry.objects.filter(
        concept_id__in={i["concept"].pk for i in prepared}, locale_id__in={i["locale"].pk for i in prepared})}
    to_create, to_update = [], []
    per_locale: dict[object, dict] = {}
    for item in prepared:
        counts = per_locale.setdefault(item["locale"], {"created": 0, "updated": 0, "unchanged": 0})
        entry = existing.get((item["concept"].pk, item["locale"].pk, item["normalized"]))
        if entry is None:
            to_create.append(LexiconEntry(concept=item["concept"], locale=item["locale"], value=item["value"],
                                          normalized=item["normalized"], synonyms=item["synonyms"]))
            counts["created"] += 1
        elif (entry.value, entry.synonyms) != (item["value"], item["synonyms"]):
            entry.value, entry.synonyms, entry.updated_at = item["value"], item["synonyms"], timezone.now()
            to_update.append(entry)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    LexiconEntry.objects.bulk_create(to_create, batch_size=1000)
    LexiconEntry.objects.bulk_update(to_update, ["value", "synonyms", "updated_at"], batch_size=1000)
    for locale, counts in per_locale.items():
        result.created += counts["created"]
        result.updated += counts["updated"]
        result.unchanged += counts["unchanged"]
        if counts["created"] or counts["updated"]:
            # One event per locale and import (not per entry), so each locale's log shows it.
            event_record(actor=actor, verb="lexicon.imported", target=locale, locale=locale, payload=counts)


# --- Loading the shipped schema file ----------------------------------------------------------

@transaction.atomic
def schema_load(*, spec, actor) -> dict:
    """Create what the spec has and the database lacks, in one transaction; never remove or
    overwrite an edit (see schema/massive.yaml). Returns counts; a second run creates nothing."""
    counts = {"scenarios_created": 0, "slot_types_created": 0, "slot_types_changed": 0, "intents_created": 0,
              "intents_changed": 0}
    for name in spec.scenarios:
        scenario, created = Scenario.objects.get_or_create(name=name)
        if created:
            counts["scenarios_created"] += 1
            event_record(actor=actor, verb="scenario.created", target=scenario)
    slot_types = {s.name: s for s in SlotType.objects.all()}
    for item in spec.slot_types:
        slot_type = slot_types.get(item.name)
        if slot_type is None:
            slot_types[item.name] = slot_type_create(name=item.name, kind=item.kind, description=item.description,
                                                     actor=actor)
            counts["slot_types_created"] += 1
            continue
        kind = SlotType.Kind.CATALOGUED if item.kind == SlotType.Kind.CATALOGUED else None
        description = item.description if item.description and not slot_type.description else None
        if (kind and kind != slot_type.kind) or description:
            slot_type_update(slot_type=slot_type, kind=kind, description=description, actor=actor)
            counts["slot_types_changed"] += 1
    intents = {i.name: i for i in Intent.objects.select_related("scenario").prefetch_related("slot_types")}
    for item in spec.intents:
        intent = intents.get(item.name)
        if intent is None:
            intent_create(name=item.name, scenario=item.scenario, slot_types=item.slot_types,
                          description=item.description, actor=actor)
            counts["intents_created"] += 1
            continue
        if intent.scenario.name != item.scenario:
            raise ValidationError(f"intent {item.name} is under scenario {intent.scenario.name} here, "
                                  f"{item.scenario} in the file")
        allowed = {s.name for s in intent.slot_types.all()}
        missing = [s for s in item.slot_types if s not in allowed]
        description = item.description if item.description and not intent.description else None
        if missing or description:
            intent_update(intent=intent, slot_types=sorted(allowed | set(missing)) if missing else None,
                          description=description, actor=actor)
            counts["intents_changed"] += 1
    return counts


@transaction.atomic
def lexicon_concept_update(*, concept: LexiconConcept, note: str, actor) -> LexiconConcept:
    if note != concept.note:
        event_record(actor=actor, verb="lexicon_concept.updated", target=concept,
                     payload={"note": {"from": concept.note, "to": note}})
        concept.note = note
        concept.save()
    return concept


@transaction.atomic
def lexicon_concept_delete(*, concept: LexiconConcept, actor) -> None:
    """Delete a concept and its values in every locale (platform admins: it spans locales)."""
    entries = list(concept.entries.select_related("locale").values_list("locale__tag", "value"))
    event_record(actor=actor, verb="lexicon_concept.deleted", target=concept,
                 payload={"slot_type": concept.slot_type.name, "entries": [list(e) for e in entries]})
    concept.delete()
