"""Run a task body under a TaskRun: start, heartbeat, progress, success or failure, all recorded."""
import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connection, connections

from .models import TaskRun
from .services import task_run_fail, task_run_heartbeat, task_run_progress, task_run_start, task_run_succeed

logger = logging.getLogger(__name__)


class _Heartbeat(threading.Thread):
    """Touches the run every PARLEY_TASK_HEARTBEAT_SECONDS from its own connection, so a worker
    that dies (SIGKILL, OOM, lost machine) stops beating and the sweeper can tell within
    PARLEY_TASK_STALE_SECONDS, however long the task's own steps take."""

    def __init__(self, run_id: int):
        super().__init__(name=f"task-run-{run_id}-heartbeat", daemon=True)
        self.run_id = run_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.PARLEY_TASK_HEARTBEAT_SECONDS):
                try:
                    if not task_run_heartbeat(run_id=self.run_id):
                        return
                except Exception:  # a database blip: the next beat tries again
                    logger.warning("task run %s: heartbeat not written", self.run_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connection

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


class RunRefused(Exception):
    """The work declined to run for a reason a retry would not change (e.g. whoever started it lost
    access meanwhile): the run fails with this message as its error, and the task ends there, with
    no retry and no traceback."""


def run_recorded(task_run_id: int, body: Callable[[TaskRun, Callable[[int, int | None], None]], dict]) -> dict:
    """Load the run fresh, call `body(run, report)`, record the outcome; re-raise on failure
    (a `RunRefused` is recorded and not raised: there is nothing to retry).

    A run that already succeeded, that the sweeper declared lost, or that another live worker is
    running is not run again, so a redelivered or duplicate message is harmless.
    """
    from celery import current_app

    run = TaskRun.objects.get(pk=task_run_id)
    if run.status == TaskRun.Status.SUCCEEDED:
        return run.result
    started = task_run_start(run=run)
    if started is None:
        logger.warning("task run %s (%s, %s) is not this message's to run; ignored", run.pk, run.kind, run.status)
        return run.result
    run = started

    def report(done: int, total: int | None = None) -> None:
        task_run_progress(run=run, done=done, total=total)

    # In-process (eager) runs have no sweeper to watch them, and a test's open transaction would
    # hide the run from a second connection.
    heartbeat = None
    if not current_app.conf.task_always_eager and not connection.in_atomic_block:
        heartbeat = _Heartbeat(run.pk)
        heartbeat.start()
    try:
        result = body(run, report)
    except RunRefused as exc:
        if heartbeat:
            heartbeat.stop()
        task_run_fail(run=run, exc=exc, error=str(exc))
        return run.result
    except Exception as exc:
        if heartbeat:
            heartbeat.stop()
        task_run_fail(run=run, exc=exc)
        raise
    if heartbeat:
        heartbeat.stop()
    task_run_succeed(run=run, result=result)
    return result
