"""A real Celery worker process, on Redis, writing to PostgreSQL."""
import pytest

from parley.locales.models import Locale
from parley.locales.tasks import locales_bootstrap_task
from parley.runs.models import TaskRun
from parley.runs.services import task_run_enqueue
from workers import wait_for_run


@pytest.mark.worker
def test_worker_runs_bootstrap_and_its_effect_is_in_postgres(celery_worker_process):
    _, log_path = celery_worker_process
    run = task_run_enqueue(kind="locales.bootstrap", args={"top": 40}, task=locales_bootstrap_task, actor="test")
    run = wait_for_run(run)
    assert run.status == TaskRun.Status.SUCCEEDED, (run.error, log_path.read_text()[-2000:])
    assert run.result == {"requested": 40, "created": 40, "existing": 0}
    assert (run.done, run.total, run.attempts) == (40, 40, 1)
    assert Locale.objects.filter(status="planned").count() == 40
    assert "locales_bootstrap_task" in log_path.read_text()


@pytest.mark.worker
def test_task_failure_is_recorded_not_left_pending(celery_worker_process):
    run = task_run_enqueue(kind="locales.bootstrap", args={"top": 0}, task=locales_bootstrap_task, actor="test")
    run = wait_for_run(run)
    assert run.status == TaskRun.Status.FAILED
    assert "must be at least 1" in run.error
