"""TaskRun writes. Tasks call these; every status change leaves an event row."""
import traceback

from django.db import transaction
from django.utils import timezone

from parley.events.services import event_record

from .models import TaskRun


def task_run_create(*, kind: str, args: dict, actor=None, locale_tag: str = "") -> TaskRun:
    run = TaskRun.objects.create(kind=kind, args=args, created_by=actor if getattr(actor, "pk", None) else None,
                                 locale_tag=locale_tag)
    event_record(actor=actor, verb="task_run.queued", target=run, locale=locale_tag, payload={"kind": kind, "args": args})
    return run


def task_run_enqueue(*, kind: str, args: dict, task, actor=None, locale_tag: str = "") -> TaskRun:
    """Create the run and send the task once the surrounding transaction commits."""
    with transaction.atomic():
        run = task_run_create(kind=kind, args=args, actor=actor, locale_tag=locale_tag)
        transaction.on_commit(lambda: task.delay(task_run_id=run.pk))
    return run


def task_run_start(*, run: TaskRun) -> TaskRun:
    TaskRun.objects.filter(pk=run.pk).update(
        status=TaskRun.Status.RUNNING, started_at=timezone.now(), attempts=run.attempts + 1, error="",
    )
    run.refresh_from_db()
    event_record(actor=f"task:{run.kind}", verb="task_run.started", target=run, locale=run.locale_tag,
                 payload={"attempt": run.attempts})
    return run


def task_run_progress(*, run: TaskRun, done: int, total: int | None = None) -> None:
    # A plain UPDATE so progress is visible to other connections while the task runs.
    fields = {"done": done}
    if total is not None:
        fields["total"] = total
    TaskRun.objects.filter(pk=run.pk).update(**fields)


def task_run_succeed(*, run: TaskRun, result: dict) -> TaskRun:
    TaskRun.objects.filter(pk=run.pk).update(status=TaskRun.Status.SUCCEEDED, result=result, finished_at=timezone.now())
    run.refresh_from_db()
    event_record(actor=f"task:{run.kind}", verb="task_run.succeeded", target=run, locale=run.locale_tag, payload=result)
    return run


def task_run_fail(*, run: TaskRun, exc: BaseException) -> TaskRun:
    message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    TaskRun.objects.filter(pk=run.pk).update(status=TaskRun.Status.FAILED, error=message, finished_at=timezone.now())
    run.refresh_from_db()
    event_record(actor=f"task:{run.kind}", verb="task_run.failed", target=run, locale=run.locale_tag,
                 payload={"error": message})
    return run
