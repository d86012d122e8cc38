from celery import shared_task

from parley.runs.execution import RunRefused, run_recorded
from parley.runs.kinds import RunKind, run_kind_register
from parley.runs.services import task_run_enqueue

from .models import ImportBatch
from .services import import_batch_lost, import_batch_requeue, import_batch_run, import_files_clean

IMPORT_KIND = "interchange.import"


@shared_task(acks_late=True)
def import_batch_task(*, task_run_id: int) -> dict:
    """Run an import batch; a retry after a crash starts the (transactional) write again."""

    def body(run, report):
        batch = ImportBatch.objects.get(pk=run.args["batch_id"])
        batch = import_batch_run(batch=batch, actor=run.created_by or f"task:{run.kind}", progress_run=run)
        if batch.status == ImportBatch.Status.FAILED:
            # import_batch_run returns a failed batch only when it refused to run it (its starter
            # lost access; nothing was read or written); any other failure raises.
            raise RunRefused(batch.error)
        return {"batch": batch.pk, "status": batch.status, "read": batch.rows_read, "accepted": batch.rows_accepted,
                "present": batch.rows_present, "rejected": batch.rows_rejected}

    return run_recorded(task_run_id, body)


@shared_task(acks_late=True)
def import_files_clean_task() -> dict:
    """Celery beat: delete uploaded files past their retention and what killed uploads left."""
    return import_files_clean()


def import_batch_queue(*, batch: ImportBatch, actor):
    """Queue a created batch on a worker (on commit) and link the batch to its task run."""
    run = task_run_enqueue(kind=IMPORT_KIND, args={"batch_id": batch.pk}, task=import_batch_task, actor=actor)
    ImportBatch.objects.filter(pk=batch.pk).update(task_run=run)
    batch.task_run = run
    return run


# A batch has no locale (its rows may span many): running it again takes the import permission
# in every locale, as a platform admin holds it.
run_kind_register(RunKind(
    kind=IMPORT_KIND, permission="interchange.add_importbatch", scope="imports:write", locales=lambda run: None,
    on_lost=lambda run, reason: import_batch_lost(batch_id=run.args["batch_id"], reason=reason),
    on_requeue=lambda run, actor: import_batch_requeue(batch_id=run.args["batch_id"], actor=actor)))
