from celery import shared_task

from parley.runs.execution import run_recorded

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
