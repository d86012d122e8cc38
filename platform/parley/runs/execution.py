"""Run a task body under a TaskRun: start, heartbeat, progress, success or failure, all recorded."""
import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connection, connections

from .models import TaskRun
from .services import (TaskRunAbandoned, task_run_fail, task_run_heartbeat, task_run_progress, task_run_start,
                       task_run_succeed)

logger = logging.getLogger(__name__)


class _Heartbeat(threading.Thread):
    """Touches the run every PARLEY_TASK_HEARTBEAT_SECONDS from its own connection, so a worker
    that dies (SIGKILL, OOM, lost machine) stops beating and the sweeper can tell within
    PARLEY_TASK_STALE_SECONDS, however long the task's own steps take. A beat that finds the run
    no longer this worker's (a stopped or stalled worker the sweeper declared lost, resumed)
    raises `abandoned`, which the body's progress callback checks."""

    def __init__(self, run: TaskRun):
        super().__init__(name=f"task-run-{run.pk}-heartbeat", daemon=True)
        self.task_run = run
        self.stopped = threading.Event()
        self.abandoned = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.PARLEY_TASK_HEARTBEAT_SECONDS):
                try:
                    if not task_run_heartbeat(run=self.task_run):
                        self.abandoned.set()
                        return
                except Exception:  # a database blip: the next beat tries again
                    logger.warning("task run %s: heartbeat not written", self.task_run.pk, exc_info=True)
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

    A run that already succeeded or failed, that the sweeper declared lost, or that another live
    worker is running is not run again, so a redelivered or duplicate message is harmless. A run
    taken from this worker while it ran (declared lost, then maybe run again elsewhere) is
    abandoned: the body stops at its next progress report, and neither its outcome nor its
    failure is recorded over what the run says now.
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

    # In-process (eager) runs have no sweeper to watch them, and a test's open transaction would
    # hide the run from a second connection.
    heartbeat = None
    if not current_app.conf.task_always_eager and not connection.in_atomic_block:
        heartbeat = _Heartbeat(run)
        heartbeat.start()

    def report(done: int, total: int | None = None) -> None:
        if heartbeat is not None and heartbeat.abandoned.is_set():
            raise TaskRunAbandoned(f"task run {run.pk} (attempt {run.attempts}) is no longer this worker's")
        task_run_progress(run=run, done=done, total=total)

    try:
        result = body(run, report)
    except RunRefused as exc:
        if heartbeat:
            heartbeat.stop()
        task_run_fail(run=run, exc=exc, error=str(exc))
        return run.result
    except TaskRunAbandoned:
        if heartbeat:
            heartbeat.stop()
        return _abandoned(run)
    except Exception as exc:
        if heartbeat:
            heartbeat.stop()
        if task_run_fail(run=run, exc=exc) is None:
            return _abandoned(run)
        raise
    if heartbeat:
        heartbeat.stop()
    if task_run_succeed(run=run, result=result) is None:
        return _abandoned(run)
    return result


def _abandoned(run: TaskRun) -> dict:
    now = TaskRun.objects.get(pk=run.pk)
    logger.warning("task run %s (%s, attempt %s) was taken from this worker while it ran (now %s, attempt %s%s); "
                   "abandoned, nothing more recorded", run.pk, run.kind, run.attempts, now.status, now.attempts,
                   ", declared lost" if now.lost_at else "")
    return now.result
