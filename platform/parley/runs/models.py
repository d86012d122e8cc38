"""A TaskRun records one Celery task's life so users see progress and failures, not 'pending'."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TaskRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=80, db_index=True)
    args = models.JSONField(_("arguments"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    locale_tag = models.CharField(_("locale"), max_length=64, blank=True, db_index=True)
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # The Celery task that runs it, so a run can be sent again (outbox, "run again") from its row.
    task_name = models.CharField(_("task"), max_length=200, blank=True)
    # When the broker took the message; empty while queued means the run is in the outbox: the
    # broker could not be reached, and the sweeper sends it once it can (dispatch_error says why).
    dispatched_at = models.DateTimeField(_("sent to the broker"), null=True, blank=True)
    dispatch_error = models.TextField(_("last sending error"), blank=True)
    # A running run's worker touches this every PARLEY_TASK_HEARTBEAT_SECONDS; older than
    # PARLEY_TASK_STALE_SECONDS means the worker is gone, and the sweeper fails the run.
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    # Set when the sweeper failed the run for a lost worker: a late redelivery of its message is
    # then ignored (only "run again" starts it anew).
    lost_at = models.DateTimeField(_("worker lost"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When it was last queued: created, or run again (same row). The outbox's grace and a queued
    # run's "waiting" count from here, not from its creation.
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("task run")
        verbose_name_plural = _("task runs")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
