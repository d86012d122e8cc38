from celery import shared_task

from parley.runs.execution import run_recorded
from parley.runs.kinds import RunKind, run_kind_register

from .services import locales_bootstrap

BOOTSTRAP_KIND = "locales.bootstrap"


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def locales_bootstrap_task(*, task_run_id: int) -> dict:
    """Bootstrap planned locales; idempotent (existing locales are skipped), so retries are safe."""
    return run_recorded(
        task_run_id,
        lambda run, report: locales_bootstrap(top=int(run.args["top"]), actor=run.created_by, progress=report),
    )


# A bootstrap registers locales anywhere (an operator's command starts it): running it again is for
# who may add locales everywhere, and a token's locales:write.
run_kind_register(RunKind(kind=BOOTSTRAP_KIND, permission="locales.add_locale", scope="locales:write",
                          locales=lambda run: None))
