"""Promotion into train/dev/test pools and immutable, versioned releases.

`datasets` is the only app that moves an utterance from accepted to promoted; it enforces the
leakage guard there. A release is a folder of files (MASSIVE layout, index, lexicon snapshot,
manifest, diff) published atomically; the database says which releases exist.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from parley.nlu.models import Utterance


class PromotionRule(models.Model):
    """Where accepted utterances of one source go when promoted, for one locale or for every locale.

    A locale's own rule wins over the every-locale default (locale empty).
    """

    class Target(models.TextChoices):
        TRAIN = "train", _("train")
        DEV = "dev", _("dev")
        TEST = "test", _("test")
        KEEP = "keep", _("keep the row's partition (split if unassigned)")
        SPLIT = "split", _("stratified split per intent")

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="promotion_rules", verbose_name=_("locale"),
                               help_text=_("Empty: the default for every locale"))
    source = models.CharField(_("source"), max_length=20, choices=Utterance.Source.choices)
    target = models.CharField(_("target"), max_length=8, choices=Target.choices)
    # Used when the target is split (or keep meets an unassigned row): fractions summing to 1.
    split_train = models.DecimalField(_("train share"), max_digits=4, decimal_places=3, default="0.800")
    split_dev = models.DecimalField(_("dev share"), max_digits=4, decimal_places=3, default="0.100")
    split_test = models.DecimalField(_("test share"), max_digits=4, decimal_places=3, default="0.100")
    seed = models.PositiveIntegerField(_("seed"), default=0, help_text=_("Same seed, same rows: same split"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("updated by"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["locale__tag", "source"]
        verbose_name = _("promotion rule")
        verbose_name_plural = _("promotion rules")
        # Promotion moves utterances of a locale; the permission is scoped like any other.
        permissions = [("promote_utterances", _("Can promote accepted utterances of the locale"))]
        constraints = [
            models.UniqueConstraint(fields=["source"], condition=models.Q(locale__isnull=True),
                                    name="promotion_default_rule_unique"),
            models.UniqueConstraint(fields=["locale", "source"], condition=models.Q(locale__isnull=False),
                                    name="promotion_locale_rule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.locale_id or '*'} {self.source} → {self.target}"


class TestFloor(models.Model):
    """The fewest test rows a locale (× intent) may have in a release. No intent: every intent."""

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.CASCADE, related_name="test_floors",
                               verbose_name=_("locale"))
    intent = models.ForeignKey("nlu.Intent", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                               verbose_name=_("intent"), help_text=_("Empty: the floor of every intent"))
    minimum = models.PositiveIntegerField(_("minimum test rows"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["locale__tag", "intent__name"]
        verbose_name = _("test floor")
        verbose_name_plural = _("test floors")
        constraints = [
            models.UniqueConstraint(fields=["locale"], condition=models.Q(intent__isnull=True),
                                    name="test_floor_default_unique"),
            models.UniqueConstraint(fields=["locale", "intent"], condition=models.Q(intent__isnull=False),
                                    name="test_floor_intent_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.locale_id} {self.intent or '*'} ≥ {self.minimum}"


class TestRetirement(models.Model):
    """A lead's explicit, logged decision to drop or change a published test row in the next release."""

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="+", verbose_name=_("locale"))
    utterance = models.ForeignKey(Utterance, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("utterance"))
    row_uid = models.CharField(_("release row id"), max_length=40,
                               help_text=_("The row's id in release indexes (the utterance id)"))
    reason = models.TextField(_("reason"))
    retired_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("retired by"))
    created_at = models.DateTimeField(_("retired"), auto_now_add=True)
    # The release that first carried the removal; later releases no longer need it.
    applied_in = models.ForeignKey("Release", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                   verbose_name=_("applied in"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("test row retirement")
        verbose_name_plural = _("test row retirements")
        constraints = [models.UniqueConstraint(fields=["locale", "row_uid"], condition=models.Q(applied_in__isnull=True),
                                               name="test_retirement_pending_unique")]

    def __str__(self) -> str:
        return f"{self.locale_id} row {self.row_uid}"


class Release(models.Model):
    """One immutable, versioned dataset release. Visible to readers only once published."""

    class Status(models.TextChoices):
        BUILDING = "building", _("building")
        PUBLISHED = "published", _("published")
        FAILED = "failed", _("failed")

    locale_path = None  # spans locales; readers see the files of their locales

    name = models.SlugField(_("name"), max_length=80)
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.BUILDING,
                              db_index=True)
    # The locales asked for (empty: every locale with promoted rows), as tags.
    locale_tags = models.JSONField(_("locales"), default=list, blank=True)
    previous = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("previous release"))
    notes = models.TextField(_("notes"), blank=True)
    # Relative to PARLEY_RELEASES_DIR; set when published.
    path = models.CharField(_("path"), max_length=200, blank=True)
    manifest = models.JSONField(_("manifest"), default=dict, blank=True)
    diff_summary = models.JSONField(_("diff summary"), default=dict, blank=True,
                                    help_text=_("Per locale: counts of added, removed, changed, retired rows"))
    rows = models.PositiveIntegerField(_("rows"), default=0)
    error = models.TextField(_("why it failed"), blank=True)
    task_run = models.ForeignKey("runs.TaskRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("task run"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="release_name_version_unique")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.status})"


class ReleaseFile(models.Model):
    """One file of a published release, with its checksum. Locale empty: release-wide (manifest, diff)."""

    class Kind(models.TextChoices):
        MASSIVE = "massive", _("MASSIVE jsonl")
        INDEX = "index", _("row index")
        LEXICON = "lexicon", _("lexicon snapshot")
        TEMPLATES = "templates", _("approved response templates")
        MANIFEST = "manifest", _("manifest")
        DIFF = "diff", _("diff")

    locale_path = "locale"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="files", verbose_name=_("release"))
    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("locale"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    path = models.CharField(_("path"), max_length=300, help_text=_("Relative to the release folder"))
    sha256 = models.CharField(_("sha256"), max_length=64)
    size = models.PositiveBigIntegerField(_("bytes"))
    rows = models.PositiveIntegerField(_("rows"), default=0)

    class Meta:
        ordering = ["release_id", "path"]
        verbose_name = _("release file")
        verbose_name_plural = _("release files")
        constraints = [models.UniqueConstraint(fields=["release", "path"], name="release_file_path_unique")]

    def __str__(self) -> str:
        return self.path


class Webhook(models.Model):
    """A pipeline's URL told when a release is published; bodies are HMAC-SHA256 signed with its secret."""

    locale_path = None  # release-wide; managed by platform admins

    name = models.CharField(_("name"), max_length=120)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=128, help_text=_("Signs each body; shown once at creation"))
    events = models.JSONField(_("events"), default=list, help_text=_('e.g. ["release.published"]'))
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed (gave up)")

    locale_path = None

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries",
                                verbose_name=_("webhook"))
    event = models.CharField(_("event"), max_length=60)
    release = models.ForeignKey(Release, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                                verbose_name=_("release"))
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["webhook", "event", "release"],
                                               name="webhook_delivery_once_per_release")]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook} ({self.status})"


class PromotionRefusal(models.Model):
    """Why an accepted utterance was not promoted by the last promotion run that saw it.

    The leakage guard refuses rather than moves: the row stays accepted, and this says why, until a
    later run promotes it (which deletes the refusal) or refuses it again (which replaces it).
    """

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.CASCADE, related_name="+", verbose_name=_("locale"))
    utterance = models.OneToOneField(Utterance, on_delete=models.CASCADE, related_name="promotion_refusal",
                                     verbose_name=_("utterance"))
    wanted = models.CharField(_("partition wanted"), max_length=12, choices=Utterance.Partition.choices)
    code = models.CharField(_("code"), max_length=40, help_text=_("leakage | parallel_group"))
    reason = models.TextField(_("reason"))
    conflicting = models.ForeignKey(Utterance, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("conflicting utterance"))
    task_run = models.ForeignKey("runs.TaskRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("task run"))
    created_at = models.DateTimeField(_("refused"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("promotion refusal")
        verbose_name_plural = _("promotion refusals")

    def __str__(self) -> str:
        return f"{self.utterance_id}: {self.code}"
