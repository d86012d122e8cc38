from celery import shared_task

from parley.runs.execution import run_recorded
from parley.runs.services import task_run_enqueue

from .models import ImportBatch
from .services import import_batch_run


@shared_task(acks_late=True)
def import_batch_task(*, task_run_id: int) -> dict:
    """Run an import batch; a retry after a crash starts the (transactional) write again."""

    def body(run, report):
        batch = ImportBatch.objects.get(pk=run.args["batch_id"])
        batch = import_batch_run(batch=batch, actor=run.created_by or f"task:{run.kind}", progress_run=run)
        return {"batch": batch.pk, "status": batch.status, "read": batch.rows_read, "accepted": batch.rows_accepted,
                "present": batch.rows_present, "rejected": batch.rows_rejected}

    return run_recorded(task_run_id, body)


def import_batch_queue(*, batch: ImportBatch, actor):
    """Queue a created batch on a worker (on commit) and link the batch to its task run."""
    run = task_run_enqueue(kind="interchange.import", args={"batch_id": batch.pk}, task=import_batch_task, actor=actor)
    ImportBatch.objects.filter(pk=batch.pk).update(task_run=run)
    batch.task_run = run
    return run
