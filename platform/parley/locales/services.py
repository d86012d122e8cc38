"""Locale writes. Every status change and every registry change leaves an event row."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from parley.config.generations import generation_bump
from parley.events.services import event_record

from . import cldr
from .models import Locale, LocaleAlias
from .packs import LocalePack, PackError, PackLoadError, read_packs
from .selectors import LOCALES_GENERATION, FallbackCycle, locale_alias_problem, locale_fallback_chain

# The lifecycle: which status may follow which. Retired locales can be revived as planned.
ALLOWED_TRANSITIONS = {
    Locale.Status.PLANNED: {Locale.Status.COLLECTING, Locale.Status.RETIRED},
    Locale.Status.COLLECTING: {Locale.Status.TESTING, Locale.Status.PLANNED, Locale.Status.RETIRED},
    Locale.Status.TESTING: {Locale.Status.LAUNCHED, Locale.Status.COLLECTING, Locale.Status.RETIRED},
    Locale.Status.LAUNCHED: {Locale.Status.TESTING, Locale.Status.RETIRED},
    Locale.Status.RETIRED: {Locale.Status.PLANNED},
}


def locale_registry_changed() -> None:
    """Every process's copy of the registry (locales.selectors) is stale from here on."""
    generation_bump(LOCALES_GENERATION)


def _derived_values(tag: str) -> dict:
    facts = asdict(cldr.locale_facts(tag))
    facts.pop("tag")
    return facts


def _apply_derived(locale: Locale, derived: dict, overrides: dict) -> list[str]:
    """Set CLDR values, then overrides; fields a linguist overrode earlier are left alone."""
    changed = []
    kept = set(locale.overridden_fields or [])
    for name, value in derived.items():
        if name in Locale.DERIVED_FIELDS and name in kept and name not in overrides:
            continue
        if name in overrides:
            value = overrides[name]
        if getattr(locale, name) != value:
            setattr(locale, name, value)
            changed.append(name)
    new_overrides = sorted(kept | set(overrides))
    if new_overrides != sorted(locale.overridden_fields or []):
        locale.overridden_fields = new_overrides
        changed.append("overridden_fields")
    return changed


@transaction.atomic
def locale_create(*, tag: str, actor=None, status: str = Locale.Status.PLANNED, overrides: dict | None = None,
                  pack_source: str = "") -> Locale:
    canonical = cldr.canonical_tag(tag)
    if Locale.objects.filter(tag=canonical).exists():
        raise ValidationError({"tag": f"{canonical} is already registered"})
    locale = Locale(tag=canonical, status=status, pack_source=pack_source)
    _apply_derived(locale, _derived_values(canonical), overrides or {})
    locale.full_clean(exclude=["parent"])
    locale.save()
    locale_registry_changed()
    event_record(actor=actor, verb="locale.created", target=locale, locale=locale,
                 payload={"status": status, "source": pack_source or "manual"})
    return locale


@transaction.atomic
def locale_update(*, locale: Locale, actor, **changes) -> Locale:
    """Edit registry facts (not status, not parent: they have their own services).

    A changed CLDR-derived field becomes an override, so later pack loads keep it.
    """
    forbidden = {"status", "parent", "tag", "id"} & set(changes)
    if forbidden:
        raise ValidationError({name: "changed through its own service" for name in forbidden})
    before = {name: getattr(locale, name) for name in changes}
    for name, value in changes.items():
        setattr(locale, name, value)
    touched = [n for n in changes if before[n] != getattr(locale, n)]
    if not touched:
        return locale
    derived_touched = [n for n in touched if n in Locale.DERIVED_FIELDS]
    locale.overridden_fields = sorted(set(locale.overridden_fields or []) | set(derived_touched))
    locale.full_clean(exclude=["parent"])
    locale.save()
    locale_registry_changed()
    event_record(actor=actor, verb="locale.updated", target=locale, locale=locale,
                 payload={n: {"from": before[n], "to": getattr(locale, n)} for n in touched})
    return locale


@transaction.atomic
def locale_status_change(*, locale: Locale, status: str, actor, reason: str = "") -> Locale:
    locale = Locale.objects.select_for_update().get(pk=locale.pk)
    current = Locale.Status(locale.status)
    target = Locale.Status(status)
    if target == current:
        return locale
    if target not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[current]))
        raise ValidationError({"status": f"cannot go from {current} to {target}; allowed: {allowed}"})
    locale.status = target
    locale.save(update_fields=["status", "updated_at"])
    locale_registry_changed()
    event_record(actor=actor, verb="locale.status_changed", target=locale, locale=locale,
                 payload={"from": current.value, "to": target.value, "reason": reason})
    return locale


@transaction.atomic
def locale_parent_set(*, locale: Locale, parent: Locale | None, actor) -> Locale:
    """Set or clear the explicit parent; refuse anything that makes the fallback chain loop."""
    locale = Locale.objects.select_for_update().get(pk=locale.pk)
    previous = locale.parent.tag if locale.parent_id else None
    if (parent.tag if parent else None) == previous:
        return locale
    if parent is not None and parent.pk == locale.pk:
        raise ValidationError({"parent": "a locale cannot be its own parent"})
    locale.parent = parent
    locale.save(update_fields=["parent", "updated_at"])
    locale_registry_changed()
    try:
        locale_fallback_chain(locale=locale)
    except FallbackCycle as exc:
        raise ValidationError({"parent": str(exc)}) from None
    event_record(actor=actor, verb="locale.parent_set", target=locale, locale=locale,
                 payload={"from": previous, "to": parent.tag if parent else None})
    return locale


def locale_alias_set(*, locale: Locale, tag: str, source: str, note: str = "", actor) -> LocaleAlias:
    key = tag.strip().replace("_", "-").lower()
    problem = locale_alias_problem(locale=locale, tag=tag)
    if problem:
        raise ValidationError({"tag": problem})
    existing = LocaleAlias.objects.filter(tag_key=key).first()
    alias = existing or LocaleAlias.objects.filter(locale=locale, source=source).first() or LocaleAlias(locale=locale)
    changed = (alias.pk is None or alias.tag != tag or alias.source != source or alias.note != note)
    if not changed:
        return alias
    alias.tag, alias.tag_key, alias.source, alias.note = tag, key, source, note
    alias.save()
    locale_registry_changed()
    event_record(actor=actor, verb="locale.alias_set", target=locale, locale=locale,
                 payload={"alias": tag, "source": source})
    return alias


def _pack_apply(pack: LocalePack, actor) -> str:
    locale = Locale.objects.filter(tag=pack.tag).first()
    if locale is None:
        locale = locale_create(tag=pack.tag, actor=actor, status=pack.status, overrides=pack.overrides,
                               pack_source=pack.file)
        outcome = "created"
    else:
        # Status is set at creation only: afterwards it moves through locale_status_change.
        changed = _apply_derived(locale, _derived_values(pack.tag), pack.overrides)
        if locale.pack_source != pack.file:
            locale.pack_source = pack.file
            changed.append("pack_source")
        if changed:
            locale.save()
            locale_registry_changed()
            event_record(actor=actor, verb="locale.pack_updated", target=locale, locale=locale,
                         payload={"fields": changed, "file": pack.file})
        outcome = "updated" if changed else "unchanged"
    for alias in pack.aliases:
        before = LocaleAlias.objects.filter(locale=locale, source=alias.source, tag=alias.tag, note=alias.note).exists()
        locale_alias_set(locale=locale, tag=alias.tag, source=alias.source, note=alias.note, actor=actor)
        if not before and outcome == "unchanged":
            outcome = "updated"
    return outcome


def locale_packs_load(*, directory: Path, actor=None) -> dict[str, int]:
    """Load every pack in `directory` in one transaction: all of them, or none.

    Idempotent: loading the same packs again changes nothing and writes no events.
    """
    packs = read_packs(directory)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        for pack in packs:
            try:
                counts[_pack_apply(pack, actor)] += 1
            except ValidationError as exc:
                raise PackLoadError([PackError(pack.file, k, "; ".join(v)) for k, v in exc.message_dict.items()]) from None
        errors = []
        for pack in packs:
            if not pack.parent:
                continue  # no parent in the pack: keep CLDR rules or a parent set in the admin
            locale = Locale.objects.get(tag=pack.tag)
            parent = Locale.objects.filter(tag=pack.parent).first()
            if parent is None:
                errors.append(PackError(pack.file, "parent", f"{pack.parent} is not a registered locale or pack"))
            elif parent.pk != locale.parent_id:
                try:
                    locale_parent_set(locale=locale, parent=parent, actor=actor)
                except ValidationError as exc:
                    errors.append(PackError(pack.file, "parent", "; ".join(exc.message_dict.get("parent", []))))
        if errors:
            raise PackLoadError(errors)  # rolls back the whole load
    return counts


def locales_bootstrap(*, top: int, actor=None, progress=None) -> dict[str, int]:
    """Register the `top` most-spoken languages from CLDR data as planned locales.

    Existing locales are left as they are. One bulk insert keeps 1,000 locales to seconds.
    """
    if top < 1:
        raise ValidationError({"top": "must be at least 1"})
    candidates = cldr.bootstrap_candidates(top)
    existing = set(Locale.objects.filter(tag__in=candidates).values_list("tag", flat=True))
    aliased = set(LocaleAlias.objects.filter(tag_key__in=[c.lower() for c in candidates]).values_list("tag_key", flat=True))
    new = []
    for i, tag in enumerate(candidates, 1):
        if tag in existing or tag.lower() in aliased:
            continue
        locale = Locale(tag=tag, status=Locale.Status.PLANNED, pack_source="bootstrap")
        _apply_derived(locale, _derived_values(tag), {})
        new.append(locale)
        if progress and i % 100 == 0:
            progress(i, len(candidates))
    with transaction.atomic():
        Locale.objects.bulk_create(new, batch_size=500)
        locale_registry_changed()
        event_record(actor=actor, verb="locale.bootstrapped", target=None, locale="",
                     payload={"top": top, "created": len(new), "skipped": len(candidates) - len(new)})
    if progress:
        progress(len(candidates), len(candidates))
    return {"requested": top, "created": len(new), "existing": len(candidates) - len(new)}
