"""What a kind of task run needs beyond its row: who may run it again, and whom to tell when its
worker is lost. Each app registers its kinds next to its tasks (`<app>/tasks.py`), the way checks
are registered; `runs` imports no app, so it finds them by loading every app's tasks module once.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

_KINDS: dict[str, "RunKind"] = {}
_discovered = False


@dataclass(frozen=True)
class RunKind:
    kind: str
    # Who may start this work: the permission, held in every locale the run touches.
    permission: str
    # The API token scope the same work needs.
    scope: str
    # The locale tags a run touches; None means every locale. Default: the run's own locale tag.
    locales: Callable[[object], list[str] | None] | None = None
    # Told when the sweeper failed a run because its worker is gone (e.g. the import batch fails).
    on_lost: Callable[[object, str], None] | None = None
    # Called in the transaction that queues a failed run again (e.g. the batch is queued again).
    on_requeue: Callable[[object, object], None] | None = None

    def locales_of(self, run) -> list[str] | None:
        if self.locales is not None:
            return self.locales(run)
        return [run.locale_tag] if run.locale_tag else None


def run_kind_register(kind: RunKind) -> RunKind:
    if kind.kind in _KINDS and _KINDS[kind.kind] != kind:
        raise ValueError(f"task run kind {kind.kind!r} is registered twice")
    _KINDS[kind.kind] = kind
    return kind


def tasks_discover() -> None:
    """Load every app's tasks module once (their kinds and Celery tasks), in any process."""
    global _discovered
    if not _discovered:
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("tasks")
        _discovered = True


def run_kind(kind: str) -> RunKind | None:
    tasks_discover()
    return _KINDS.get(kind)


def run_again_refusal(*, run, actor) -> str | None:
    """Why `actor` (an access.scoping.Actor: `locale_tags(perm)` and `token`) may not run `run`
    again, or None. The rule is the one for starting that work: its permission in every locale the
    run touches, and a token must carry the work's scope."""
    kind = run_kind(run.kind)
    if kind is None:
        return f"a {run.kind!r} run cannot be run again from here"
    token = getattr(actor, "token", None)
    if token is not None and kind.scope not in (token.scopes or []):
        return f"This token lacks the scope {kind.scope!r}."
    allowed = actor.locale_tags(kind.permission)
    if allowed is None:
        return None
    needed = kind.locales_of(run)
    if needed is None:
        return "This run touches every locale; only who may start it in every locale may run it again."
    missing = sorted(set(needed) - allowed)
    if missing:
        return f"You may not start this work in {', '.join(missing)}."
    return None
