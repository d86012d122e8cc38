"""Native-speaker test collection: campaigns, one-at-a-time tasks under leases, and judgments.

A campaign asks for `target_per_intent` accepted utterances per locale × intent. Production
tasks (elicit, localize) make utterances through the nlu lifecycle; each submitted utterance
gets `required_validations` validate tasks, whose judgments decide acceptance.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .acceptance import DEFAULT_ACCEPTANCE_RULE
from .scales import (GRAMMAR_SCORE, INTENT_SCORE, LANGUAGE_CHOICES, LANGUAGE_VALUE_MAX_LENGTH, LANGUAGE_VALUES,
                     SLOTS_SCORE, SPELLING_SCORE, language_code)


class Campaign(models.Model):
    """A lead's request: collect `target_per_intent` utterances per intent in each of its locales."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("paused")
        CLOSED = "closed", _("closed")

    class Kind(models.TextChoices):
        ELICIT = "elicit", _("elicit (write a new utterance)")
        LOCALIZE = "localize", _("localize (adapt a source utterance)")

    # A campaign spans several locales: scoping goes through its CampaignLocale rows (selectors).
    locale_path = None

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    intents = models.ManyToManyField("nlu.Intent", related_name="campaigns", verbose_name=_("intents"))
    target_per_intent = models.PositiveIntegerField(_("target per intent and locale"), default=40)
    task_kinds = models.JSONField(_("task kinds"), default=list,
                                  help_text=_('Production task kinds: ["elicit"], ["localize"] or both'))
    source_locale = models.ForeignKey("locales.Locale", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("source locale"),
                                      help_text=_("Where localize tasks take their source utterances from"))
    required_validations = models.PositiveSmallIntegerField(_("validations per utterance"), default=2)
    acceptance_rule = models.JSONField(_("acceptance rule"), default=dict, blank=True,
                                       help_text=_('Overrides of the default rule, e.g. {"min_grammar_score": 4}. Keys: '
                                                   'intent_scores [1, 2], slots_scores [1, 2], min_grammar_score 3, '
                                                   'min_spelling_score 0, require_target_language true, '
                                                   'max_rework_rounds 1. Empty: the default'))
    lease_minutes = models.PositiveSmallIntegerField(_("lease (minutes)"), default=15)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("collection campaign")
        verbose_name_plural = _("collection campaigns")

    def __str__(self) -> str:
        return self.name

    @property
    def rule(self) -> dict:
        return {**DEFAULT_ACCEPTANCE_RULE, **(self.acceptance_rule or {})}


class CampaignLocale(models.Model):
    """One locale of a campaign, with the instructions its annotators read."""

    locale_path = "locale"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="campaign_locales",
                                 verbose_name=_("campaign"))
    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="+", verbose_name=_("locale"))
    instructions = models.TextField(_("instructions"), blank=True, help_text=_("In the locale's language"))

    class Meta:
        ordering = ["campaign_id", "locale__tag"]
        verbose_name = _("campaign locale")
        verbose_name_plural = _("campaign locales")
        constraints = [models.UniqueConstraint(fields=["campaign", "locale"], name="campaign_locale_once")]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.locale.tag}"


class Task(models.Model):
    """One unit of work handed to one annotator at a time.

    `status` is open or leased (to `assignee` until `lease_expires_at`; an expired lease counts as
    open again, so no sweeper is needed), done or cancelled.
    """

    class Kind(models.TextChoices):
        ELICIT = "elicit", _("elicit")
        LOCALIZE = "localize", _("localize")
        VALIDATE = "validate", _("validate")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        LEASED = "leased", _("leased")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    locale_path = "locale"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("campaign"))
    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="+", verbose_name=_("locale"))
    intent = models.ForeignKey("nlu.Intent", on_delete=models.PROTECT, related_name="+", verbose_name=_("intent"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # localize: the utterance to adapt. validate: none.
    source = models.ForeignKey("nlu.Utterance", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("source utterance"))
    # elicit/localize: the utterance written (set on submit; kept across rework). validate: the one judged.
    utterance = models.ForeignKey("nlu.Utterance", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="collection_tasks", verbose_name=_("utterance"))
    round = models.PositiveSmallIntegerField(_("round"), default=1,
                                             help_text=_("1 for the first submission, +1 for each rework"))
    reserved_for = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("reserved for"),
                                     help_text=_("A rework goes back to the utterance's author only"))
    feedback = models.JSONField(_("reasons from the last round"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("assignee"))
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("completed by"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("collection task")
        verbose_name_plural = _("collection tasks")
        permissions = [("work_task", _("Can claim, submit and skip collection tasks"))]
        indexes = [
            # claim-next: the pool of a campaign's locale, in order
            models.Index(fields=["campaign", "locale", "status", "id"], name="task_pool_idx"),
            models.Index(fields=["utterance", "kind"], name="task_utterance_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} [{self.locale_id}] {self.intent_id}"


class TaskLease(models.Model):
    """Every time a task was handed out, and how that ended: the history claim-next reads to never
    hand an annotator the same task (or a second judgment of one utterance) twice."""

    class Outcome(models.TextChoices):
        ACTIVE = "active", _("active")
        SUBMITTED = "submitted", _("submitted")
        SKIPPED = "skipped", _("skipped")
        EXPIRED = "expired", _("expired")

    locale_path = "task__locale"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="leases", verbose_name=_("task"))
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("annotator"))
    # Copied from the task so "what did this annotator touch for this utterance" is one index probe.
    utterance = models.ForeignKey("nlu.Utterance", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField(_("claimed"))
    expires_at = models.DateTimeField(_("expires"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.ACTIVE)
    skip_reason = models.CharField(_("skip reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-claimed_at", "id"]
        verbose_name = _("task lease")
        verbose_name_plural = _("task leases")
        indexes = [
            models.Index(fields=["annotator", "task"], name="lease_annotator_task_idx"),
            models.Index(fields=["annotator", "utterance"], name="lease_annotator_utt_idx"),
        ]

    def __str__(self) -> str:
        return f"task {self.task_id} → {self.annotator_id} ({self.outcome})"


class Judgment(models.Model):
    """One native's judgment of one utterance on MASSIVE's scales."""

    locale_path = "locale"

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="judgment", verbose_name=_("task"))
    utterance = models.ForeignKey("nlu.Utterance", on_delete=models.CASCADE, related_name="collection_judgments",
                                  verbose_name=_("utterance"))
    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="+", verbose_name=_("locale"))
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("annotator"))
    # MASSIVE's scales, values and wording as published (scales.py).
    intent_score = models.PositiveSmallIntegerField(_("intent score"), choices=INTENT_SCORE.options)
    slots_score = models.PositiveSmallIntegerField(_("slots score"), choices=SLOTS_SCORE.options)
    grammar_score = models.PositiveSmallIntegerField(_("grammar score"), choices=GRAMMAR_SCORE.options)
    spelling_score = models.PositiveSmallIntegerField(_("spelling score"), choices=SPELLING_SCORE.options)
    # The distribution's value: the checked boxes joined by "|" ("target", "target|english", ...).
    language_identification = models.CharField(_("language identification"), max_length=LANGUAGE_VALUE_MAX_LENGTH,
                                               choices=LANGUAGE_CHOICES)
    proposed_annotation = models.TextField(_("proposed correction"), blank=True)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["utterance_id", "round", "id"]
        verbose_name = _("judgment")
        verbose_name_plural = _("judgments")
        constraints = [
            models.UniqueConstraint(fields=["utterance", "round", "annotator"], name="one_judgment_per_judge_round"),
            models.CheckConstraint(condition=models.Q(intent_score__lte=2, slots_score__lte=2, grammar_score__lte=4,
                                                      spelling_score__lte=2), name="judgment_scores_in_range"),
            models.CheckConstraint(condition=models.Q(language_identification__in=LANGUAGE_VALUES),
                                   name="judgment_language_published"),
        ]

    def __str__(self) -> str:
        return f"judgment of {self.utterance_id} by {self.annotator_id}"

    @property
    def language_code(self) -> int | None:
        """The published code (1 target … 7 target & english & other)."""
        return language_code(self.language_identification)


class Decision(models.Model):
    """The outcome of one validation round of one utterance, with the rule's reasons."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    locale_path = "locale"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="decisions",
                                 verbose_name=_("campaign"))
    utterance = models.ForeignKey("nlu.Utterance", on_delete=models.CASCADE, related_name="collection_decisions",
                                  verbose_name=_("utterance"))
    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="+", verbose_name=_("locale"))
    intent = models.ForeignKey("nlu.Intent", on_delete=models.PROTECT, related_name="+", verbose_name=_("intent"))
    round = models.PositiveSmallIntegerField(_("round"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("author"))
    decided_at = models.DateTimeField(_("decided"))

    class Meta:
        ordering = ["-decided_at", "id"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [models.UniqueConstraint(fields=["utterance", "round"], name="one_decision_per_round")]

    def __str__(self) -> str:
        return f"{self.utterance_id} round {self.round}: {self.outcome}"
