"""Dataset writes: promotion of accepted utterances into train/dev/test, the rules and guards a
lead sets (promotion rules, test floors, retirements), and creating releases to build.

Promotion is the only way an utterance becomes `promoted`. It enforces the leakage guard:
- within a locale one normalized text is never in test and in train/dev at once;
- a parallel group (one `parallel_key`: MASSIVE's id across locales, a localized utterance and
  its source) lives in one partition in every locale.
A candidate that would break either stays accepted and gets a `PromotionRefusal` saying why;
nothing is moved silently.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from parley.events.services import event_record, events_record_many
from parley.locales.models import Locale
from parley.nlu.models import Intent, Utterance

from .models import PromotionRefusal, PromotionRule, Release, TestFloor, TestRetirement

P = Utterance.Partition
TEST_SIDE = frozenset({P.TEST})
TRAIN_SIDE = frozenset({P.TRAIN, P.DEV})
# Every promotion takes this PostgreSQL advisory lock: two locales promoting one new parallel
# group at once could otherwise split it into two partitions. Promotions are short; serializing
# them costs little. (SQLite serializes writers anyway.)
PROMOTION_LOCK_ID = 7_405_001


def _side(partition: str) -> frozenset:
    return TEST_SIDE if partition == P.TEST else TRAIN_SIDE


def promotion_rules_for(*, locale: Locale) -> dict[str, PromotionRule]:
    """source → the rule in force for the locale: its own rule, else the every-locale default
    (else Parley's built-in default, should the default rows be missing)."""
    from .defaults import DEFAULT_TARGETS

    rules: dict[str, PromotionRule] = {source: PromotionRule(locale=None, source=source, target=target)
                                       for source, target in DEFAULT_TARGETS.items()}
    for rule in PromotionRule.objects.filter(locale__isnull=True):
        rules[rule.source] = rule
    for rule in PromotionRule.objects.filter(locale=locale):
        rules[rule.source] = rule
    return rules


@dataclass
class PromotionResult:
    locale: str
    candidates: int = 0
    promoted: dict[str, int] = field(default_factory=lambda: {P.TRAIN: 0, P.DEV: 0, P.TEST: 0})
    refused: int = 0
    refusals: list[dict] = field(default_factory=list)  # the first few, for the task run's result

    def as_dict(self) -> dict:
        return {"locale": self.locale, "candidates": self.candidates, "promoted": self.promoted,
                "refused": self.refused, "refusals": self.refusals[:20]}


def _split_order(seed: int, unit: str) -> str:
    return hashlib.sha256(f"{seed}:{unit}".encode()).hexdigest()


def split_units(*, units: list[str], shares: dict[str, Decimal], seed: int,
                already: dict[str, int] | None = None) -> dict[str, str]:
    """Assign units (a parallel group or a text, so duplicates stay together) to partitions.

    Seeded and reproducible: units are taken in the order of a hash of (seed, unit), each to the
    partition furthest below its share of everything so far, `already` (the intent's rows placed
    by earlier runs) included. So the shares hold per intent however the rows arrive: one at a
    time or a thousand at once (cutting each batch on its own would send every lone row to train).
    """
    counts = {name: (already or {}).get(name, 0) for name in (P.TRAIN, P.DEV, P.TEST)}
    order = [P.TRAIN, P.DEV, P.TEST]
    out = {}
    for unit in sorted(units, key=lambda unit: _split_order(seed, unit)):
        total = sum(counts.values()) + 1
        # Largest deficit first; a tie goes to the partition earlier in train, dev, test.
        name = max(order, key=lambda n: (Decimal(total) * shares.get(n, 0) - counts[n], -order.index(n)))
        out[unit] = name
        counts[name] += 1
    return out


def _split_history(*, locale: Locale, intent_ids) -> dict[int, dict[str, int]]:
    """Per intent, the locale's promoted rows by partition: what earlier splits already placed."""
    history: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (Utterance.objects.filter(locale=locale, status=Utterance.Status.PROMOTED, intent_id__in=list(intent_ids))
            .values_list("intent_id", "partition").annotate(n=Count("id")))
    for intent_id, partition, n in rows:
        history[intent_id][partition] = n
    return history


def _promoted_partitions_by(column: str, values, *, locale_id=None) -> dict[str, dict[str, int]]:
    """value of `column` → {partition: an utterance id} over promoted rows (in one locale if given)."""
    found: dict[str, dict[str, int]] = defaultdict(dict)
    values = list(values)
    for start in range(0, len(values), 5000):
        qs = Utterance.objects.filter(status=Utterance.Status.PROMOTED, **{f"{column}__in": values[start:start + 5000]})
        if locale_id is not None:
            qs = qs.filter(locale_id=locale_id)
        for value, partition, pk in qs.values_list(column, "partition", "id"):
            found[value].setdefault(partition, pk)
    return found


def utterances_promote(*, locale: Locale, actor, utterance_ids=None, task_run=None) -> PromotionResult:
    """Promote the locale's accepted utterances (or those of `utterance_ids`) by the rules in force.

    Idempotent: promoted rows are no longer candidates, and a refused row is refused again with the
    same reason until the conflict is resolved. One transaction: a crash leaves nothing half-moved.
    """
    result = PromotionResult(locale=locale.tag)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PROMOTION_LOCK_ID])
        qs = Utterance.objects.filter(locale=locale, status=Utterance.Status.ACCEPTED)
        if utterance_ids is not None:
            qs = qs.filter(pk__in=list(utterance_ids))
        candidates = list(qs.order_by("id").values("id", "source", "partition", "intent_id", "normalized",
                                                   "parallel_key"))
        result.candidates = len(candidates)
        if not candidates:
            return result
        rules = promotion_rules_for(locale=locale)
        by_text = _promoted_partitions_by("normalized", {c["normalized"] for c in candidates}, locale_id=locale.pk)
        by_group = _promoted_partitions_by("parallel_key", {c["parallel_key"] for c in candidates if c["parallel_key"]})

        wanted: dict[int, str] = {}
        to_split: dict[tuple, list[dict]] = defaultdict(list)
        for c in candidates:
            rule = rules.get(c["source"])
            target = rule.target if rule else PromotionRule.Target.SPLIT
            if target == PromotionRule.Target.KEEP:
                target = c["partition"] if c["partition"] != P.UNASSIGNED else PromotionRule.Target.SPLIT
            if target != PromotionRule.Target.SPLIT:
                wanted[c["id"]] = target
                continue
            # A split row joins where its group or its text already is; only new ones are drawn.
            group_parts = by_group.get(c["parallel_key"]) if c["parallel_key"] else None
            text_parts = by_text.get(c["normalized"])
            if group_parts:
                wanted[c["id"]] = min(group_parts)
            elif text_parts:
                wanted[c["id"]] = P.TEST if P.TEST in text_parts else min(text_parts)
            else:
                to_split[(c["source"], c["intent_id"])].append(c)  # a source has one rule in a locale
        history = _split_history(locale=locale, intent_ids={intent for _source, intent in to_split}) if to_split \
            else {}
        for (source, intent_id), rows in to_split.items():
            rule = rules.get(source)
            shares = {P.TRAIN: rule.split_train, P.DEV: rule.split_dev, P.TEST: rule.split_test} if rule else \
                {P.TRAIN: Decimal("0.8"), P.DEV: Decimal("0.1"), P.TEST: Decimal("0.1")}
            unit_of = {c["id"]: c["parallel_key"] or f"text:{c['normalized']}" for c in rows}
            drawn = split_units(units=sorted(set(unit_of.values())), shares=shares, seed=rule.seed if rule else 0,
                                already=history.get(intent_id))
            wanted.update({pk: drawn[unit] for pk, unit in unit_of.items()})

        promote: dict[str, list[int]] = defaultdict(list)
        refusals: list[PromotionRefusal] = []
        for c in candidates:
            partition = wanted[c["id"]]
            refusal = _guard(c, partition, by_text=by_text, by_group=by_group)
            if refusal:
                code, reason, conflicting = refusal
                refusals.append(PromotionRefusal(locale=locale, utterance_id=c["id"], wanted=partition, code=code,
                                                 reason=reason, conflicting_id=conflicting, task_run=task_run))
                continue
            promote[partition].append(c["id"])
            # Later candidates of this run see this one as placed.
            by_text[c["normalized"]].setdefault(partition, c["id"])
            if c["parallel_key"]:
                by_group[c["parallel_key"]].setdefault(partition, c["id"])

        now = timezone.now()
        promoted_ids = [pk for ids in promote.values() for pk in ids]
        for partition, ids in promote.items():
            for start in range(0, len(ids), 5000):
                Utterance.objects.filter(pk__in=ids[start:start + 5000]).update(
                    status=Utterance.Status.PROMOTED, partition=partition, updated_at=now)
            result.promoted[partition] = len(ids)
        # A refusal that says what it said before is kept as it is (and not logged again): refused
        # rows stay candidates, and each run must not re-log thousands of unchanged refusals.
        before = {r.utterance_id: r for r in PromotionRefusal.objects.filter(
            utterance_id__in=[c["id"] for c in candidates])}
        unchanged = {r.utterance_id for r in refusals if r.utterance_id in before and
                     (before[r.utterance_id].code, before[r.utterance_id].wanted,
                      before[r.utterance_id].conflicting_id) == (r.code, r.wanted, r.conflicting_id)}
        PromotionRefusal.objects.filter(utterance_id__in=[pk for pk in before if pk not in unchanged]).delete()
        new_refusals = [r for r in refusals if r.utterance_id not in unchanged]
        PromotionRefusal.objects.bulk_create(new_refusals, batch_size=2000)
        result.refused = len(refusals)
        result.refusals = [{"utterance": r.utterance_id, "wanted": r.wanted, "code": r.code, "reason": r.reason}
                           for r in refusals[:20]]
        source_of = {c["id"]: c for c in candidates}
        events_record_many(actor=actor, verb="utterance.promoted", target_type="nlu.utterance", rows=(
            (pk, source_of[pk]["normalized"][:80], locale.tag,
             {"from": {"status": "accepted", "partition": source_of[pk]["partition"]},
              "to": {"status": "promoted", "partition": partition}})
            for partition, ids in promote.items() for pk in ids))
        events_record_many(actor=actor, verb="utterance.promotion_refused", target_type="nlu.utterance", rows=(
            (r.utterance_id, source_of[r.utterance_id]["normalized"][:80], locale.tag,
             {"wanted": r.wanted, "code": r.code, "reason": r.reason}) for r in new_refusals))
        event_record(actor=actor, verb="datasets.promotion_ran", target=locale, locale=locale,
                     payload={"candidates": result.candidates, "promoted": result.promoted, "refused": result.refused,
                              "task_run": getattr(task_run, "pk", None), "first_promoted": promoted_ids[:5]})
    return result


def _guard(candidate: dict, partition: str, *, by_text, by_group) -> tuple[str, str, int | None] | None:
    """Why `candidate` may not go to `partition`: (code, reason, conflicting utterance id), or None."""
    if candidate["parallel_key"]:
        elsewhere = {p: pk for p, pk in by_group.get(candidate["parallel_key"], {}).items() if p != partition}
        if elsewhere:
            other_partition, other = min(elsewhere.items())
            return ("parallel_group",
                    f"its parallel group {candidate['parallel_key']} is in {other_partition} (utterance {other}); "
                    f"the rule puts it in {partition}", other)
    clashing = {p: pk for p, pk in by_text.get(candidate["normalized"], {}).items() if _side(p) != _side(partition)}
    if clashing:
        other_partition, other = min(clashing.items())
        return ("leakage",
                f"the same text is already in {other_partition} (utterance {other}); it may not also be in "
                f"{partition}", other)
    return None


def locales_with_candidates(*, new_only: bool = False) -> list[Locale]:
    """Locales with accepted utterances; `new_only`: leaving out rows already refused (the beat
    task's question: a refused row waits for someone to resolve its conflict or ask again)."""
    qs = Utterance.objects.filter(status=Utterance.Status.ACCEPTED)
    if new_only:
        qs = qs.filter(promotion_refusal__isnull=True)
    ids = qs.values_list("locale_id", flat=True).distinct()
    return list(Locale.objects.filter(pk__in=ids).order_by("tag"))


# --- Rules, floors, retirements (a lead's decisions, each logged) ------------------------------

@transaction.atomic
def promotion_rule_set(*, source: str, target: str, actor, locale: Locale | None = None,
                       split=(Decimal("0.8"), Decimal("0.1"), Decimal("0.1")), seed: int = 0) -> PromotionRule:
    if source not in Utterance.Source.values:
        raise ValidationError({"source": f"unknown source {source!r}"})
    if target not in PromotionRule.Target.values:
        raise ValidationError({"target": f"unknown target {target!r}"})
    shares = [Decimal(str(s)) for s in split]
    if any(s < 0 for s in shares) or sum(shares) != 1:
        raise ValidationError({"split": f"train, dev and test shares must be ≥ 0 and sum to 1 (got {sum(shares)})"})
    rule, created = PromotionRule.objects.update_or_create(
        locale=locale, source=source,
        defaults={"target": target, "split_train": shares[0], "split_dev": shares[1], "split_test": shares[2],
                  "seed": seed, "updated_by": actor if getattr(actor, "pk", None) else None})
    event_record(actor=actor, verb="datasets.promotion_rule_set", target=rule, locale=locale,
                 payload={"source": source, "target": target, "split": [str(s) for s in shares], "seed": seed,
                          "created": created})
    return rule


@transaction.atomic
def floor_set(*, locale: Locale, minimum: int, actor, intent: Intent | None = None) -> TestFloor:
    if minimum < 0:
        raise ValidationError({"minimum": "must be 0 or more"})
    floor, _ = TestFloor.objects.update_or_create(locale=locale, intent=intent, defaults={"minimum": minimum})
    event_record(actor=actor, verb="datasets.floor_set", target=floor, locale=locale,
                 payload={"intent": intent.name if intent else None, "minimum": minimum})
    return floor


@transaction.atomic
def floor_delete(*, floor: TestFloor, actor) -> None:
    event_record(actor=actor, verb="datasets.test_floor_deleted", target=floor, locale=floor.locale,
                 payload={"intent": floor.intent.name if floor.intent_id else None, "minimum": floor.minimum})
    floor.delete()


@transaction.atomic
def retirement_create(*, locale: Locale, row_uid: str, reason: str, actor) -> TestRetirement:
    """A lead's decision that the next release may drop or change published test row `row_uid`."""
    if not reason.strip():
        raise ValidationError({"reason": "a retirement needs a reason"})
    row_uid = str(row_uid).strip()
    if not row_uid.isdigit():
        raise ValidationError({"row_uid": f"{row_uid!r} is not a release row id (the utterance id)"})
    if TestRetirement.objects.filter(locale=locale, row_uid=row_uid, applied_in__isnull=True).exists():
        raise ValidationError({"row_uid": f"row {row_uid} of {locale.tag} already has a pending retirement"})
    utterance = Utterance.objects.filter(pk=int(row_uid), locale=locale).first()
    retirement = TestRetirement.objects.create(locale=locale, row_uid=row_uid, utterance=utterance, reason=reason,
                                               retired_by=actor if getattr(actor, "pk", None) else None)
    event_record(actor=actor, verb="datasets.test_row_retired", target=retirement, locale=locale,
                 payload={"row_uid": row_uid, "reason": reason})
    return retirement


# --- Releases -----------------------------------------------------------------------------------

def release_create(*, name: str, actor, locale_tags=None, notes: str = "") -> Release:
    """A new release (status building) of `name`, the next version. The build is a separate step
    (`datasets.tasks.release_build_queue`), so the caller decides whether it runs here or on a worker."""
    from django.core.validators import validate_slug

    try:
        validate_slug(name)
    except ValidationError:
        raise ValidationError({"name": f"{name!r} is not a slug (letters, digits, - and _)"}) from None
    tags = []
    for tag in locale_tags or []:
        locale = Locale.objects.filter(tag=tag).first()
        if locale is None:
            raise ValidationError({"locales": f"unknown locale {tag!r}"})
        tags.append(locale.tag)
    for _attempt in range(3):  # two creates of one name at once: the loser takes the next version
        try:
            with transaction.atomic():
                version = (Release.objects.filter(name=name).order_by("-version").values_list("version", flat=True)
                           .first() or 0) + 1
                release = Release.objects.create(name=name, version=version, locale_tags=sorted(set(tags)),
                                                 notes=notes, created_by=actor if getattr(actor, "pk", None) else None)
                event_record(actor=actor, verb="release.created", target=release,
                             payload={"name": name, "version": version, "locales": release.locale_tags})
                return release
        except IntegrityError:
            continue
    raise ValidationError({"name": f"could not take a version of {name!r}; try again"})


def release_build_attempt_failed(*, release_id: int, reason: str, actor) -> Release | None:
    """A build attempt stopped without an outcome (it raised, or its worker was lost): the release
    stays building, the one status from which it is built again (run again, `…/build/`; builds are
    idempotent), and says why until an attempt publishes or fails it. None if it is not building."""
    with transaction.atomic():
        release = Release.objects.select_for_update().filter(pk=release_id, status=Release.Status.BUILDING).first()
        if release is None:
            return None
        release.error = f"the last build attempt failed: {reason}"[:2000]
        release.save(update_fields=["error"])
        event_record(actor=actor, verb="release.build_attempt_failed", target=release,
                     payload={"error": reason[:500]})
    return release
