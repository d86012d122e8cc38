"""Feedback tasks. Clustering and escalation are maintenance drains (no arguments, idempotent,
safe to run concurrently: the drain takes a lock); mining is a recorded task run."""
from celery import shared_task
from django.conf import settings

from parley.runs.execution import run_recorded
from parley.runs.kinds import RunKind, run_kind_register
from parley.runs.services import task_run_enqueue

from . import services

MINING_KIND = "feedback.mine_paraphrases"


@shared_task(acks_late=True)
def feedback_cluster_pending() -> int:
    """Cluster what ingestion stored; sent after each batch commits."""
    return services.events_cluster()


@shared_task(acks_late=True)
def feedback_sla_escalate() -> dict:
    """Celery beat: escalate clusters past their locale's SLA, refresh priorities (recency decays),
    and cluster anything a lost message left behind."""
    clustered = services.events_cluster()
    return {"escalated": services.clusters_escalate(), "refreshed": services.priorities_refresh(),
            "clustered": clustered}


@shared_task(acks_late=True)
def paraphrase_mine_task(*, task_run_id: int) -> dict:
    def body(run, report):
        return services.paraphrases_mine(window_seconds=run.args["window_seconds"],
                                         min_support=run.args["min_support"], actor=f"task:{run.kind}", report=report)

    return run_recorded(task_run_id, body)


def paraphrase_mining_queue(*, actor, window_seconds: int | None = None, min_support: int | None = None):
    args = {"window_seconds": window_seconds or settings.PARLEY_FEEDBACK_REPHRASE_WINDOW_SECONDS,
            "min_support": min_support or settings.PARLEY_FEEDBACK_MIN_SUPPORT}
    return task_run_enqueue(kind=MINING_KIND, args=args, task=paraphrase_mine_task, actor=actor)


@shared_task(acks_late=True)
def paraphrase_mine_scheduled() -> int:
    """Celery beat: a nightly mining run with the configured window and support."""
    return paraphrase_mining_queue(actor="beat:feedback.mine").pk


# Mining reads every locale's sessions: running it again is for who may assign clusters everywhere.
run_kind_register(RunKind(kind=MINING_KIND, permission=services.PERM_ASSIGN, scope="feedback:triage",
                          locales=lambda run: None))
