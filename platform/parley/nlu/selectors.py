from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from .models import (CoverageTarget, Intent, IntentGuide, LexiconConcept, LexiconEntry, SlotType, SlotTypeGuide,
                     Utterance)


def utterance_list() -> QuerySet[Utterance]:
    return Utterance.objects.select_related("locale", "intent", "intent__scenario")


def intent_list() -> QuerySet[Intent]:
    return Intent.objects.select_related("scenario").prefetch_related("slot_types")


def slot_type_list() -> QuerySet[SlotType]:
    return SlotType.objects.all()


def coverage_cells(*, locale_ids=None, partition: str | None = None, scenario: str | None = None,
                   intent: str | None = None) -> dict[tuple[int, int, str, str], int]:
    """(locale id, intent id, partition, status) → count, retired rows left out.

    One GROUP BY over the utterance table alone, on ids, counting rows (COUNT(*), not COUNT(id),
    whose id is not in the index): PostgreSQL answers it from the (locale, intent, status,
    partition) index alone, without joins; names are mapped afterwards.
    """
    qs = Utterance.objects.exclude(status=Utterance.Status.RETIRED)
    if locale_ids is not None:
        qs = qs.filter(locale_id__in=locale_ids)
    if partition:
        qs = qs.filter(partition=partition)
    if scenario:
        qs = qs.filter(intent_id__in=Intent.objects.filter(scenario__name=scenario).values("pk"))
    if intent:
        qs = qs.filter(intent_id__in=Intent.objects.filter(name=intent).values("pk"))
    return {(r["locale_id"], r["intent_id"], r["partition"], r["status"]): r["count"]
            for r in qs.values("locale_id", "intent_id", "partition", "status").annotate(count=Count("*"))
            .order_by()}


def coverage_counts(*, locale_ids=None, partition: str | None = None, cells: dict | None = None) -> list[dict]:
    """Locale × intent counts by partition and status, sorted by locale tag, intent, partition, status.

    `locale_ids`: None for every locale, else an iterable of ids (the caller's scope). `cells`:
    the result of `coverage_cells` when the caller has it already.
    """
    from parley.locales.models import Locale

    if cells is None:
        cells = coverage_cells(locale_ids=locale_ids, partition=partition)
    tags = dict(Locale.objects.filter(pk__in={k[0] for k in cells}).values_list("pk", "tag"))
    names = dict(Intent.objects.filter(pk__in={k[1] for k in cells}).values_list("pk", "name"))
    rows = [{"locale": tags[l], "intent": names[i], "partition": p, "status": st, "count": n}
            for (l, i, p, st), n in cells.items()]
    rows.sort(key=lambda r: (r["locale"], r["intent"], r["partition"], r["status"]))
    return rows


# --- Coverage against targets -----------------------------------------------------------------

# What counts toward a target: data that may go into a release. Work in progress is shown
# beside it (pending), rejected and retired rows not at all.
# Bumped when intents or scenarios change or go (an intent's scenario picks a template's default
# register): culture's render copies depend on it.
SCHEMA_GENERATION = "nlu_schema"

COUNTED_STATUSES = (Utterance.Status.ACCEPTED, Utterance.Status.PROMOTED)
PENDING_STATUSES = (Utterance.Status.DRAFT, Utterance.Status.SUBMITTED, Utterance.Status.IN_VALIDATION)


@dataclass(frozen=True)
class CoverageCell:
    locale: str
    intent: str
    scenario: str
    partition: str
    counted: int
    pending: int
    target: int | None
    gap: int | None  # target - counted, never below 0; None without a target

    def as_dict(self) -> dict:
        return {"locale": self.locale, "intent": self.intent, "scenario": self.scenario, "partition": self.partition,
                "counted": self.counted, "pending": self.pending, "target": self.target, "gap": self.gap}


def coverage_target_list() -> QuerySet[CoverageTarget]:
    return CoverageTarget.objects.select_related("locale", "intent")


def coverage_matrix(*, locale_ids=None, scenario: str | None = None, intent: str | None = None,
                    partition: str | None = None, cells: dict | None = None) -> list[CoverageCell]:
    """Locale × intent × partition: counted and pending utterances, target and gap.

    The counts are one GROUP BY in SQL (`coverage_cells`; pass `cells` to reuse it); targets are
    a few rows per locale. Cells appear where a locale has a target or any utterance, so an
    intent with a target and no data at all shows its full gap.
    """
    targets = CoverageTarget.objects.all()
    intents = Intent.objects.select_related("scenario")
    if locale_ids is not None:
        targets = targets.filter(locale_id__in=locale_ids)
    if scenario:
        intents = intents.filter(scenario__name=scenario)
    if intent:
        intents = intents.filter(name=intent)
    if partition:
        targets = targets.filter(partition=partition)
    if cells is None:
        cells = coverage_cells(locale_ids=locale_ids, partition=partition, scenario=scenario, intent=intent)
    counts: dict[tuple, list[int]] = {}
    for (locale_id, intent_id, part, status), n in cells.items():
        if status in COUNTED_STATUSES or status in PENDING_STATUSES:
            pair = counts.setdefault((locale_id, intent_id, part), [0, 0])
            pair[0 if status in COUNTED_STATUSES else 1] += n
    intents = {i.pk: i for i in intents}
    defaults: dict[tuple, int] = {}
    overrides: dict[tuple, int] = {}
    for locale_id, intent_id, part, value in targets.values_list("locale_id", "intent_id", "partition", "target"):
        if intent_id is None:
            defaults[(locale_id, part)] = value
        else:
            overrides[(locale_id, intent_id, part)] = value
    keys = set(counts)
    for locale_id, part in defaults:
        keys.update((locale_id, intent_id, part) for intent_id in intents)
    keys.update(k for k in overrides if k[1] in intents)
    from parley.locales.models import Locale

    tags = dict(Locale.objects.filter(pk__in={k[0] for k in keys}).values_list("pk", "tag"))
    cells = []
    for locale_id, intent_id, part in keys:
        if intent_id not in intents:
            continue
        counted, pending = counts.get((locale_id, intent_id, part), (0, 0))
        target = overrides.get((locale_id, intent_id, part), defaults.get((locale_id, part)))
        cells.append(CoverageCell(
            locale=tags[locale_id], intent=intents[intent_id].name, scenario=intents[intent_id].scenario.name,
            partition=part, counted=counted, pending=pending, target=target,
            gap=None if target is None else max(target - counted, 0)))
    order = {p: i for i, p in enumerate(Utterance.Partition.values)}
    cells.sort(key=lambda c: (c.locale, c.intent, order.get(c.partition, 99)))
    return cells


# --- Guides with locale fallback --------------------------------------------------------------

@dataclass(frozen=True)
class ResolvedGuide:
    """The guide that applies to a locale: its own, an ancestor's, or the entry's own description."""

    locale: str | None  # whose guide this is; None when it is the intent's/slot type's description
    requested: str
    description: str
    guidance: str
    examples: list
    fallback_chain: list

    def as_dict(self) -> dict:
        return {"locale": self.locale, "requested": self.requested, "description": self.description,
                "guidance": self.guidance, "examples": self.examples, "fallback_chain": self.fallback_chain}


def _guide_resolve(model, owner_field: str, owner, *, locale) -> ResolvedGuide:
    from parley.locales.selectors import FallbackCycle, locale_fallback_chain

    try:
        chain = locale_fallback_chain(locale=locale)
    except FallbackCycle:
        chain = [locale.tag]  # a broken chain still finds the locale's own guide
    found = {g.locale.tag: g for g in model.objects.filter(**{owner_field: owner}, locale__tag__in=chain)
             .select_related("locale")}
    for tag in chain:
        guide = found.get(tag)
        if guide is not None and (guide.description or guide.guidance or guide.examples):
            return ResolvedGuide(tag, locale.tag, guide.description or owner.description, guide.guidance,
                                 guide.examples, chain)
    return ResolvedGuide(None, locale.tag, owner.description, "", [], chain)


def intent_guide_for(*, intent: Intent, locale) -> ResolvedGuide:
    """The intent's guide for `locale`, else the nearest along its fallback chain (de-AT → de → und),
    else the intent's own description."""
    return _guide_resolve(IntentGuide, "intent", intent, locale=locale)


def slot_type_guide_for(*, slot_type: SlotType, locale) -> ResolvedGuide:
    return _guide_resolve(SlotTypeGuide, "slot_type", slot_type, locale=locale)


def intent_guide_list() -> QuerySet[IntentGuide]:
    return IntentGuide.objects.select_related("intent", "locale")


def slot_type_guide_list() -> QuerySet[SlotTypeGuide]:
    return SlotTypeGuide.objects.select_related("slot_type", "locale")


# --- Lexicon ----------------------------------------------------------------------------------

def lexicon_concept_list() -> QuerySet[LexiconConcept]:
    return LexiconConcept.objects.select_related("slot_type")


def lexicon_entry_list() -> QuerySet[LexiconEntry]:
    return LexiconEntry.objects.select_related("concept", "concept__slot_type", "locale")


def lexicon_rows(*, locale_ids=None, slot_type: str | None = None, concept: str | None = None):
    """Entries as export rows (slot_type, concept, locale, value, synonyms), streamed in a stable order."""
    qs = LexiconEntry.objects.all()
    if locale_ids is not None:
        qs = qs.filter(locale_id__in=locale_ids)
    if slot_type:
        qs = qs.filter(concept__slot_type__name=slot_type)
    if concept:
        qs = qs.filter(concept__key=concept)
    rows = qs.order_by("concept__slot_type__name", "concept__key", "locale__tag", "value", "id").values_list(
        "concept__slot_type__name", "concept__key", "locale__tag", "value", "synonyms")
    for slot_type_name, key, tag, value, synonyms in rows.iterator(chunk_size=2000):
        yield {"slot_type": slot_type_name, "concept": key, "locale": tag, "value": value, "synonyms": synonyms}
