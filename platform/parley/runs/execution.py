"""Run a task body under a TaskRun: start, progress, success or failure, all recorded."""
from collections.abc import Callable

from .models import TaskRun
from .services import task_run_fail, task_run_progress, task_run_start, task_run_succeed


def run_recorded(task_run_id: int, body: Callable[[TaskRun, Callable[[int, int | None], None]], dict]) -> dict:
    """Load the run fresh, call `body(run, report)`, record the outcome; re-raise on failure.

    A run that already succeeded is not run again, so a redelivered message is harmless.
    """
    run = TaskRun.objects.get(pk=task_run_id)
    if run.status == TaskRun.Status.SUCCEEDED:
        return run.result
    run = task_run_start(run=run)

    def report(done: int, total: int | None = None) -> None:
        task_run_progress(run=run, done=done, total=total)

    try:
        result = body(run, report)
    except Exception as exc:
        task_run_fail(run=run, exc=exc)
        raise
    task_run_succeed(run=run, result=result)
    return result
