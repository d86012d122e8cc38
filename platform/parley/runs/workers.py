"""Is anybody going to run a queued task? A missing worker is reported, never an eternal "queued".

Asking the workers costs a broadcast round trip, so the answer is cached for a few seconds and
only asked for runs that have waited past a grace period.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

_CACHE: dict[str, tuple[float, "WorkerState"]] = {}
CACHE_SECONDS = 10


@dataclass(frozen=True)
class WorkerState:
    mode: str  # eager | broker
    queue: str
    consumers: int | None  # workers consuming the queue; None when the broker could not be asked
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.mode == "eager" or bool(self.consumers)


def worker_state(*, timeout: float = 1.0, fresh: bool = False) -> WorkerState:
    from parley.config.celery import app  # its conf is the truth at run time (settings seed it)

    queue = app.conf.task_default_queue
    if app.conf.task_always_eager:
        return WorkerState("eager", queue, None)
    cached = _CACHE.get(queue)
    if cached and not fresh and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        replies = app.control.inspect(timeout=timeout).active_queues() or {}
        consumers = sum(1 for queues in replies.values() if any(q.get("name") == queue for q in queues or ()))
        state = WorkerState("broker", queue, consumers)
    except Exception as exc:  # the broker itself is down: say so rather than fail the page
        state = WorkerState("broker", queue, None, str(exc)[:300])
    _CACHE[queue] = (time.monotonic(), state)
    return state


def waiting_reason(*, run) -> str:
    """Why a queued task run (or None) has not started, once it has waited longer than the grace
    period; "" otherwise."""
    if run is None or run.status != "queued":
        return ""
    waited = (timezone.now() - run.queued_at).total_seconds()
    if run.dispatched_at is None and run.dispatch_error:
        return (f"not sent yet: the broker could not be reached ({run.dispatch_error}); it is sent when the "
                f"broker is back (the sweeper retries every {int(settings.PARLEY_TASK_SWEEP_SECONDS)} s)")
    if waited < settings.PARLEY_TASK_PICKUP_GRACE_SECONDS:
        return ""
    state = worker_state()
    if state.mode == "eager":
        return ""
    if state.consumers is None:
        return f"queued {int(waited)} s; the broker cannot be reached: {state.error}"
    if state.consumers == 0:
        return (f"queued {int(waited)} s and no worker consumes queue {state.queue!r}: start one "
                f"(make worker, or the compose 'worker' service)")
    return f"queued {int(waited)} s; {state.consumers} worker(s) on {state.queue!r} are busy with earlier tasks"
