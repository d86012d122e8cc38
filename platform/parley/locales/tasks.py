from celery import shared_task

from parley.runs.execution import run_recorded

from .services import locales_bootstrap


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def locales_bootstrap_task(*, task_run_id: int) -> dict:
    """Bootstrap planned locales; idempotent (existing locales are skipped), so retries are safe."""
    return run_recorded(
        task_run_id,
        lambda run, report: locales_bootstrap(top=int(run.args["top"]), actor=run.created_by, progress=report),
    )
