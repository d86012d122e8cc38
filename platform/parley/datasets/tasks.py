"""Dataset tasks: promotion, release builds, webhook deliveries. They take ids and call services;
each is idempotent, so a redelivered message or a retry after a crash converges."""
from celery import shared_task
from django.db import OperationalError

from parley.locales.models import Locale
from parley.runs.execution import run_recorded
from parley.runs.kinds import RunKind, run_kind_register
from parley.runs.models import TaskRun
from parley.runs.services import task_run_enqueue

from .build import BuildInProgress, release_build
from .models import Release
from .services import locales_with_candidates, release_build_attempt_failed, utterances_promote
from .webhooks import webhook_deliveries_due, webhook_delivery_attempt

RETRYING = {"acks_late": True, "autoretry_for": (ConnectionError, OperationalError), "retry_backoff": True,
            "max_retries": 5}


@shared_task(**RETRYING)
def promotion_task(*, task_run_id: int) -> dict:
    """Promote the accepted utterances of the run's locales (every locale with candidates if none)."""

    def body(run, report):
        tags = run.args.get("locales") or [locale.tag for locale in locales_with_candidates()]
        locales = list(Locale.objects.filter(tag__in=tags).order_by("tag"))
        results = []
        for done, locale in enumerate(locales):
            results.append(utterances_promote(locale=locale, actor=run.created_by or "task:datasets.promote",
                                              utterance_ids=run.args.get("utterance_ids"), task_run=run).as_dict())
            report(done + 1, len(locales))
        return {"locales": results, "promoted": sum(sum(r["promoted"].values()) for r in results),
                "refused": sum(r["refused"] for r in results)}

    return run_recorded(task_run_id, body)


def promotion_queue(*, actor, locale_tags=None, utterance_ids=None):
    args = {"locales": sorted(locale_tags) if locale_tags else []}
    if utterance_ids:
        args["utterance_ids"] = sorted(int(pk) for pk in utterance_ids)
    tag = args["locales"][0] if len(args["locales"]) == 1 else ""
    return task_run_enqueue(kind="datasets.promote", args=args, task=promotion_task, actor=actor, locale_tag=tag)


@shared_task(acks_late=True)
def promote_pending_task() -> int:
    """Celery beat: queue one promotion run when a locale has new accepted candidates and no
    promotion run is already waiting or running."""
    pending = TaskRun.objects.filter(kind="datasets.promote", status__in=[TaskRun.Status.QUEUED,
                                                                          TaskRun.Status.RUNNING]).exists()
    locales = [] if pending else locales_with_candidates(new_only=True)
    if locales:
        promotion_queue(actor="task:datasets.beat", locale_tags=[locale.tag for locale in locales])
    return len(locales)


@shared_task(bind=True, acks_late=True, autoretry_for=(ConnectionError, OperationalError, BuildInProgress),
             retry_backoff=True, max_retries=8)
def release_build_task(self, *, task_run_id: int) -> dict:
    """Build and publish; a second attempt while one runs waits its turn (BuildInProgress retries)."""

    def body(run, report):
        release = release_build(release=Release.objects.get(pk=run.args["release_id"]),
                                actor=run.created_by or "task:datasets.release", progress=report)
        return {"release": release.pk, "status": release.status, "rows": release.rows, "error": release.error[:500]}

    return run_recorded(task_run_id, body)


def release_build_queue(*, release: Release, actor):
    """Queue the build (also to build a release again after an attempt failed)."""
    # A release of one locale is that locale's business: its lead can follow the run.
    tag = release.locale_tags[0] if len(release.locale_tags) == 1 else ""
    run = task_run_enqueue(kind="datasets.release_build", args={"release_id": release.pk}, task=release_build_task,
                           actor=actor, locale_tag=tag)
    Release.objects.filter(pk=release.pk).update(task_run=run)
    release.task_run = run
    return run


WEBHOOK_DELIVERY_KIND = "datasets.webhook_deliver"


@shared_task(acks_late=True)
def webhook_deliver_task(*, task_run_id: int | None = None, delivery_id: int | None = None) -> dict:
    """One attempt at a delivery (none if it is not pending and due: a duplicate is harmless).
    `delivery_id` alone is a message queued before deliveries were task runs."""
    if task_run_id is None:
        return {"status": webhook_delivery_attempt(delivery_id=delivery_id).status}

    def body(run, report):
        delivery = webhook_delivery_attempt(delivery_id=run.args["delivery_id"])
        return {"delivery": delivery.pk, "status": delivery.status, "attempts": delivery.attempts,
                "status_code": delivery.last_status_code}

    return run_recorded(task_run_id, body)


def webhook_delivery_queue(*, delivery, actor):
    """Queue the first attempt of a delivery through the outbox: recorded with the publish, sent
    after its commit, and sent by the sweeper if the broker is down then (a publish never fails
    for it; the beat's backoff retries cover a message lost later)."""
    return task_run_enqueue(kind=WEBHOOK_DELIVERY_KIND, args={"delivery_id": delivery.pk}, task=webhook_deliver_task,
                            actor=actor)


@shared_task(acks_late=True)
def webhook_retry_due_task() -> int:
    """Celery beat: attempt every pending delivery whose backoff has passed."""
    due = webhook_deliveries_due()
    for delivery_id in due:
        webhook_delivery_attempt(delivery_id=delivery_id)
    return len(due)


# Running promotion or a build again takes what starting it takes, in every locale it touches
# (no locales named: every locale). A lost build leaves its release building, saying so: it is
# built again by "run again" or POST /releases/{id}/build/, idempotently.
run_kind_register(RunKind(kind="datasets.promote", permission="datasets.promote_utterances",
                          scope="datasets:write", locales=lambda run: run.args.get("locales") or None))
def _release_locales(run) -> list[str] | None:
    release = Release.objects.filter(pk=run.args.get("release_id")).first()
    if release is None or not release.locale_tags:
        return None  # gone, or a release of every locale: who may build everywhere
    return list(release.locale_tags)


run_kind_register(RunKind(kind="datasets.release_build", permission="datasets.add_release",
                          scope="datasets:write", locales=_release_locales,
                          on_lost=lambda run, reason: release_build_attempt_failed(
                              release_id=run.args["release_id"], reason=reason, actor="task:runs.sweep")))
# A delivery's run is the platform's business (hooks and deliveries are platform admins' in the
# admin): running one again takes changing deliveries everywhere.
run_kind_register(RunKind(kind=WEBHOOK_DELIVERY_KIND, permission="datasets.change_webhookdelivery",
                          scope="datasets:write", locales=lambda run: None))
