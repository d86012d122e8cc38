"""The sweeper: a beat task that fails runs whose worker is gone and sends the outbox."""
from celery import shared_task

from .services import task_runs_sweep


@shared_task(acks_late=True)
def task_runs_sweep_task() -> dict:
    return task_runs_sweep()
