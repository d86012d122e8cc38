from celery import shared_task

from parley.runs.execution import run_recorded
from parley.runs.kinds import RunKind, run_kind_register

from .services import holidays_materialize

HOLIDAYS_KIND = "holidays_materialize"


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def holidays_materialize_task(*, task_run_id: int) -> dict:
    """Seed and materialize one locale's holidays for some years; idempotent, so retries are safe."""

    def body(run, report):
        from parley.locales.models import Locale

        locale = Locale.objects.get(tag=run.args["locale"])
        years = [int(y) for y in run.args["years"]]
        report(0, len(years))
        result = holidays_materialize(locale=locale, years=years, actor=run.created_by or "task:holidays")
        report(len(years), len(years))
        return result

    return run_recorded(task_run_id, body)


# Seeding a locale's holidays again takes what POST /locales/{tag}/holidays/seed/ takes: adding
# holidays in that locale, and a token's culture:write.
run_kind_register(RunKind(kind=HOLIDAYS_KIND, permission="culture.add_holiday", scope="culture:write",
                          locales=lambda run: [run.args["locale"]]))
