from collections.abc import Iterable
from typing import Any

from django.db import models

from .models import Event


def _target_fields(target: Any) -> dict[str, str]:
    if target is None:
        return {"target_type": "", "target_id": "", "target_repr": ""}
    if isinstance(target, models.Model):
        return {
            "target_type": target._meta.label_lower,
            "target_id": str(target.pk),
            "target_repr": str(target)[:200],
        }
    return {"target_type": type(target).__name__.lower(), "target_id": "", "target_repr": str(target)[:200]}


def event_record(*, actor, verb: str, target: Any = None, locale: Any = None, payload: dict | None = None) -> Event:
    """Write one event row. `actor` is a user, None, or a label for system actors ("task:…")."""
    user = actor if getattr(actor, "pk", None) and hasattr(actor, "get_username") else None
    if user is not None:
        label = user.get_username()
    elif isinstance(actor, str):
        label = actor
    else:
        label = "system"
    locale_tag = getattr(locale, "tag", locale) or ""
    return Event.objects.create(
        actor=user,
        actor_label=label[:150],
        verb=verb,
        locale_tag=str(locale_tag),
        payload=payload or {},
        **_target_fields(target),
    )


def events_record_many(*, actor, verb: str, target_type: str, rows: Iterable[tuple[Any, str, str, dict]],
                       batch_size: int = 2000) -> int:
    """One event per (target id, target repr, locale tag, payload), all of one verb and target type,
    written in batches: the bulk paths (promotion of thousands of rows) still log every row."""
    user = actor if getattr(actor, "pk", None) and hasattr(actor, "get_username") else None
    label = user.get_username() if user is not None else (actor if isinstance(actor, str) else "system")
    written = 0
    batch: list[Event] = []
    for target_id, target_repr, locale_tag, payload in rows:
        batch.append(Event(actor=user, actor_label=label[:150], verb=verb, locale_tag=locale_tag or "",
                           payload=payload, target_type=target_type, target_id=str(target_id),
                           target_repr=str(target_repr)[:200]))
        if len(batch) >= batch_size:
            written += len(Event.objects.bulk_create(batch))
            batch = []
    written += len(Event.objects.bulk_create(batch))
    return written
