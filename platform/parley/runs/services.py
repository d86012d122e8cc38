"""TaskRun writes. Tasks call these; every status change leaves an event row.

Sending is an outbox: a run is written first, its message is sent after commit, and a run the
broker did not take stays queued with `dispatched_at` empty until the sweeper sends it
(`task_runs_sweep`, a beat task). A run whose worker stops beating is failed by the same sweeper.
"""
import logging
import traceback
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from parley.events.services import event_record

from .kinds import run_kind, tasks_discover
from .models import TaskRun

logger = logging.getLogger(__name__)


class TaskRunAbandoned(Exception):
    """This worker no longer holds the run: the sweeper declared it lost (and maybe someone ran it
    again on another worker). The body stops and records nothing more; the run's row tells the truth."""


def _held(run: TaskRun):
    """The run as this worker's claim left it: running, not declared lost, and still this attempt
    (a run that was run again and claimed elsewhere has a higher one)."""
    return TaskRun.objects.filter(pk=run.pk, status=TaskRun.Status.RUNNING, attempts=run.attempts,
                                  lost_at__isnull=True)


def _broker_errors() -> tuple[type[BaseException], ...]:
    """What a send raises when the broker is unreachable (not what a task raises)."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    return (OperationalError, RedisError, OSError)


def task_run_create(*, kind: str, args: dict, actor=None, locale_tag: str = "", task_name: str = "") -> TaskRun:
    run = TaskRun.objects.create(kind=kind, args=args, created_by=actor if getattr(actor, "pk", None) else None,
                                 locale_tag=locale_tag, task_name=task_name)
    event_record(actor=actor, verb="task_run.queued", target=run, locale=locale_tag, payload={"kind": kind, "args": args})
    return run


def task_run_enqueue(*, kind: str, args: dict, task, actor=None, locale_tag: str = "") -> TaskRun:
    """Create the run and send the task once the surrounding transaction commits. An unreachable
    broker leaves the run in the outbox (queued, not sent) for the sweeper; it never fails the caller."""
    with transaction.atomic():
        run = task_run_create(kind=kind, args=args, actor=actor, locale_tag=locale_tag, task_name=task.name)
        transaction.on_commit(lambda: task_run_dispatch(run_id=run.pk, task=task))
    run.refresh_from_db()
    return run


def task_run_dispatch(*, run_id: int, task=None) -> bool | None:
    """Hand a queued run's message to the broker; record when it was taken, or why not. True if
    sent, False if the broker refused it (it stays in the outbox), None if it was not this
    caller's to send (another sender claimed it first, or it is no longer queued).

    The send is claimed first (`dispatched_at` set where it is empty), so the on-commit hook and a
    sweep never both send it. In eager mode the task runs here and its own failure propagates (it
    is not a sending error).
    """
    from celery import current_app

    claimed_at = timezone.now()
    if not TaskRun.objects.filter(pk=run_id, status=TaskRun.Status.QUEUED, dispatched_at__isnull=True).update(
            dispatched_at=claimed_at):
        return None
    if task is None:
        tasks_discover()  # a process that has not imported the task's module yet
        task = current_app.tasks[TaskRun.objects.values_list("task_name", flat=True).get(pk=run_id)]
    if task.app.conf.task_always_eager:
        task.apply_async(kwargs={"task_run_id": run_id})
        return True
    try:
        task.apply_async(kwargs={"task_run_id": run_id})
    except _broker_errors() as exc:
        reason = f"{type(exc).__name__}: {exc}"[:500]
        TaskRun.objects.filter(pk=run_id, dispatched_at=claimed_at).update(dispatched_at=None, dispatch_error=reason)
        logger.warning("task run %s stays in the outbox: the broker did not take it (%s)", run_id, reason)
        return False
    TaskRun.objects.filter(pk=run_id, dispatched_at=claimed_at).exclude(dispatch_error="").update(dispatch_error="")
    return True


def _stale_before(now):
    return now - timedelta(seconds=settings.PARLEY_TASK_STALE_SECONDS)


def task_run_start(*, run: TaskRun) -> TaskRun | None:
    """Claim the run for this worker; None when it is not ours to run (it succeeded, its worker was
    declared lost, or another worker is running it and still beating)."""
    now = timezone.now()
    # `attempts` as read makes the claim a compare-and-set: two messages for the run claim it once.
    # A failed run stays claimable: Celery's autoretry (promotion, release builds, holidays) sends
    # its retry as a new message after the failure was recorded. Duplicate sends are prevented
    # where they arise instead (task_run_dispatch claims the send).
    claimable = (TaskRun.objects.filter(pk=run.pk, lost_at__isnull=True, attempts=run.attempts)
                 .exclude(status=TaskRun.Status.SUCCEEDED)
                 .filter(~Q(status=TaskRun.Status.RUNNING)
                         | Q(heartbeat_at__lt=_stale_before(now)) | Q(heartbeat_at__isnull=True)))
    claimed = claimable.update(status=TaskRun.Status.RUNNING, started_at=now, heartbeat_at=now,
                               attempts=run.attempts + 1, error="")
    if not claimed:
        return None
    run.refresh_from_db()
    event_record(actor=f"task:{run.kind}", verb="task_run.started", target=run, locale=run.locale_tag,
                 payload={"attempt": run.attempts})
    return run


def task_run_heartbeat(*, run: TaskRun) -> bool:
    """The worker is alive and on it; False once the run is no longer this worker's (declared
    lost, or run again elsewhere)."""
    return bool(_held(run).update(heartbeat_at=timezone.now()))


def task_run_progress(*, run: TaskRun, done: int, total: int | None = None) -> None:
    """Record progress; raises TaskRunAbandoned once the run is no longer this worker's, so a
    body that reports progress stops there."""
    # A plain UPDATE so progress is visible to other connections while the task runs.
    fields = {"done": done}
    if total is not None:
        fields["total"] = total
    if not _held(run).update(**fields):
        raise TaskRunAbandoned(f"task run {run.pk} (attempt {run.attempts}) is no longer this worker's")


def task_run_hold(*, run: TaskRun) -> None:
    """Inside the transaction that commits the body's work: lock the run's row and make sure it is
    still this worker's (TaskRunAbandoned otherwise, which rolls the work back). The sweeper cannot
    declare it lost until that transaction ends."""
    if not _held(run).select_for_update().exists():
        raise TaskRunAbandoned(f"task run {run.pk} (attempt {run.attempts}) is no longer this worker's")


def task_run_succeed(*, run: TaskRun, result: dict) -> TaskRun | None:
    """Record success; None (and nothing written) when the run is no longer this worker's."""
    if not _held(run).update(status=TaskRun.Status.SUCCEEDED, result=result, finished_at=timezone.now()):
        return None
    run.refresh_from_db()
    event_record(actor=f"task:{run.kind}", verb="task_run.succeeded", target=run, locale=run.locale_tag, payload=result)
    return run


def task_run_fail(*, run: TaskRun, exc: BaseException, error: str | None = None) -> TaskRun | None:
    """Record failure with `error`, or the exception's type and message; None (and nothing
    written) when the run is no longer this worker's: the sweeper's "worker lost" or another
    attempt's outcome stays."""
    message = error if error is not None else "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if not _held(run).update(status=TaskRun.Status.FAILED, error=message, finished_at=timezone.now()):
        return None
    run.refresh_from_db()
    event_record(actor=f"task:{run.kind}", verb="task_run.failed", target=run, locale=run.locale_tag,
                 payload={"error": message})
    return run


def task_run_lost(*, run: TaskRun, now=None) -> bool:
    """Fail a running run whose worker stopped beating, with the reason, and tell its kind (the
    import batch, ...). False if it moved on meanwhile (it beat, finished, or another sweep won)."""
    now = now or timezone.now()
    last = run.heartbeat_at or run.started_at
    reason = (f"worker lost: no heartbeat since {last:%Y-%m-%d %H:%M:%S} UTC (more than "
              f"{settings.PARLEY_TASK_STALE_SECONDS} s); run it again")
    moved = TaskRun.objects.filter(pk=run.pk, status=TaskRun.Status.RUNNING, heartbeat_at=run.heartbeat_at).update(
        status=TaskRun.Status.FAILED, error=reason, finished_at=now, lost_at=now)
    if not moved:
        return False
    run.refresh_from_db()
    event_record(actor="task:runs.sweep", verb="task_run.lost", target=run, locale=run.locale_tag,
                 payload={"error": reason, "last_heartbeat": last.isoformat() if last else None})
    kind = run_kind(run.kind)
    if kind is not None and kind.on_lost is not None:
        try:
            kind.on_lost(run, reason)
        except Exception:  # the run says it is lost already; the owner's record is logged as not updated
            logger.exception("task run %s: its kind %r could not record the lost worker", run.pk, run.kind)
    return True


def task_runs_sweep(*, now=None) -> dict:
    """Fail running runs whose worker is gone and send what the outbox holds. Idempotent."""
    now = now or timezone.now()
    stale = (TaskRun.objects.filter(status=TaskRun.Status.RUNNING)
             .annotate(last_beat=Coalesce("heartbeat_at", "started_at", "created_at"))
             .filter(last_beat__lt=_stale_before(now)))
    lost = sum(task_run_lost(run=run, now=now) for run in stale)
    # A run just queued (written, or run again) is being sent by its own on-commit hook: leave it
    # that long (and the send is claimed, so a race sends it once anyway).
    unsent = (TaskRun.objects.filter(status=TaskRun.Status.QUEUED, dispatched_at__isnull=True)
              .exclude(task_name="")
              .filter(queued_at__lt=now - timedelta(seconds=settings.PARLEY_TASK_DISPATCH_RETRY_SECONDS))
              .order_by("queued_at", "id").values_list("pk", flat=True))
    sent = failed = 0
    for run_id in unsent:
        outcome = task_run_dispatch(run_id=run_id)
        if outcome:
            sent += 1
        elif outcome is False:
            failed += 1
            break  # the broker is down: the next sweep tries again
    return {"lost": lost, "sent": sent, "unsent": failed}


def task_run_again(*, run: TaskRun, actor) -> TaskRun:
    """Queue a failed run again as it was (same row, same arguments) and send it on commit; the
    caller has checked `kinds.run_again_refusal`."""
    with transaction.atomic():
        locked = TaskRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != TaskRun.Status.FAILED:
            raise ValidationError({"status": [f"run {locked.pk} is {locked.status}; only a failed run is run again"]})
        if not locked.task_name:
            raise ValidationError({"kind": [f"run {locked.pk} does not name its task; start the work anew"]})
        previous_error = locked.error
        TaskRun.objects.filter(pk=locked.pk).update(
            status=TaskRun.Status.QUEUED, error="", lost_at=None, dispatched_at=None, dispatch_error="",
            heartbeat_at=None, started_at=None, finished_at=None, done=0, queued_at=timezone.now())
        locked.refresh_from_db()
        event_record(actor=actor, verb="task_run.requeued", target=locked, locale=locked.locale_tag,
                     payload={"previous_error": previous_error[:500]})
        kind = run_kind(locked.kind)
        if kind is not None and kind.on_requeue is not None:
            kind.on_requeue(locked, actor)
        transaction.on_commit(lambda: task_run_dispatch(run_id=locked.pk))
    locked.refresh_from_db()
    return locked
