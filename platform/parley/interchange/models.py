"""Import batches and their rejected rows: every row read is accepted, already present, or rejected."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    class Format(models.TextChoices):
        MASSIVE = "massive", "MASSIVE jsonl"
        SLURP = "slurp", "SLURP jsonl"
        CONLL = "conll", "CoNLL/BIO"

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        VALIDATING = "validating", _("validating")
        WRITING = "writing", _("writing")
        COMPLETED = "completed", _("completed")
        REJECTED = "rejected", _("rejected (strict: nothing written)")
        FAILED = "failed", _("failed (nothing written)")

    locale_path = None  # one batch may span locales: visible to platform-wide admins and its starter

    format = models.CharField(_("format"), max_length=20, choices=Format.choices)
    source_name = models.CharField(_("file"), max_length=300)
    path = models.CharField(_("stored path"), max_length=500, editable=False)
    options = models.JSONField(_("options"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_accepted = models.PositiveIntegerField(_("rows accepted"), default=0)
    rows_present = models.PositiveIntegerField(_("rows already present"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    # Accepted rows with warnings from the utterance checks (stored as check results).
    rows_warned = models.PositiveIntegerField(_("rows with warnings"), default=0)
    error = models.TextField(_("error"), blank=True)
    task_run = models.ForeignKey("runs.TaskRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    # Who started it through the API or the admin, checked again by the worker before a row is
    # read: {"user": id, "token": id or null, "token_locales": [locale ids] or null (no limit)}.
    # Empty for an operator's command line, which is trusted.
    started_with = models.JSONField(_("started with"), default=dict, blank=True, editable=False)
    token = models.ForeignKey("access.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("API token used"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return f"{self.format} import #{self.pk} {self.source_name} ({self.status})"


class ImportReject(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rejects")
    file = models.CharField(_("file"), max_length=300, blank=True)
    line = models.PositiveIntegerField(_("line"))
    field = models.CharField(_("field"), max_length=60)
    reason = models.TextField(_("reason"))
    excerpt = models.CharField(_("excerpt"), max_length=300, blank=True)

    class Meta:
        ordering = ["batch", "file", "line", "id"]
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.field}: {self.reason}"
