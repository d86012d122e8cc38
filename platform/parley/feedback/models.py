"""User feedback from the live assistant: events, the clusters linguists triage, per-locale SLAs,
and paraphrase candidates mined from user rephrases.

Events are many (millions) and written in bulk; clusters are few and carry the triage state.
Intents and response templates are kept by name/key (strings): a pipeline may report an intent
the registry does not know, and templates live in another app (`culture`).
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Signal(models.TextChoices):
    """What the live assistant saw. `success` marks a turn that went well: pipelines send the
    turns of a session around a failure so rephrases can be mined; it never reaches triage."""

    NEGATIVE_RATING = "negative_rating", _("explicit negative rating")
    USER_REPHRASE = "user_rephrase", _("user rephrased")
    BARGE_IN = "barge_in", _("barge-in")
    REPORTED_DEFECT = "reported_defect", _("reported defect")
    LOW_CONFIDENCE = "low_confidence", _("low confidence")
    SUCCESS = "success", _("successful turn")


FAILURE_SIGNALS = frozenset(Signal.values) - {Signal.SUCCESS}


class Kind(models.TextChoices):
    """The kind of problem, one queue per locale × kind."""

    WRONG_INTENT = "wrong_intent", _("wrong intent")
    WRONG_SLOT = "wrong_slot", _("wrong slot")
    BAD_RESPONSE = "bad_response", _("inappropriate or culturally wrong response")
    MISSING_CAPABILITY = "missing_capability", _("missing capability")


class FeedbackEvent(models.Model):
    """One feedback signal for one turn, as the pipeline sent it, with personal data masked."""

    locale_path = "locale"

    # Keys are the sender's: unique per owner (the submitting user, whose tokens share them; empty
    # for an operator's file import), so no pipeline learns whether another's key exists. The body
    # hash tells a replay (same body) from a reused key (another body, refused with 409).
    idempotency_key = models.CharField(_("idempotency key"), max_length=100)
    key_owner = models.CharField(_("idempotency key owner"), max_length=40, blank=True, editable=False)
    body_hash = models.CharField(_("body hash"), max_length=64, blank=True, editable=False)
    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="+", verbose_name=_("locale"))
    text = models.TextField(_("utterance text (masked)"))
    predicted_intent = models.CharField(_("predicted intent"), max_length=80, blank=True)
    predicted_slots = models.JSONField(_("predicted slots"), default=list, blank=True,
                                       help_text=_("[{type, value}] as the model predicted them (masked)"))
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    signal = models.CharField(_("signal"), max_length=20, choices=Signal.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    response_template_key = models.CharField(_("response template key"), max_length=200, blank=True)
    session_hash = models.CharField(_("hashed session id"), max_length=128)
    occurred_at = models.DateTimeField(_("occurred"))
    received_at = models.DateTimeField(_("received"))
    # What masking replaced, by type and count (never the replaced text): [{"type": "email", "count": 1}]
    masking = models.JSONField(_("masking applied"), default=list, blank=True)
    cluster = models.ForeignKey("FeedbackCluster", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="events", verbose_name=_("cluster"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("submitted by"))

    class Meta:
        ordering = ["-id"]
        verbose_name = _("feedback event")
        verbose_name_plural = _("feedback events")
        constraints = [
            models.UniqueConstraint(fields=["key_owner", "idempotency_key"], name="fb_event_key_per_owner"),
        ]
        indexes = [
            # Rephrase mining reads every session's turns in order.
            models.Index(fields=["session_hash", "occurred_at"], name="fb_event_session_idx"),
            models.Index(fields=["cluster", "-occurred_at"], name="fb_event_cluster_idx"),
            # The clustering drain: failures not clustered yet, oldest first.
            models.Index(fields=["id"], name="fb_event_unclustered_idx",
                         condition=models.Q(cluster__isnull=True) & ~models.Q(signal="success")),
        ]

    def __str__(self) -> str:
        return f"[{self.locale_id}] {self.signal}: {self.text[:60]}"


class FeedbackCluster(models.Model):
    """One problem, triaged once: events of a locale × kind with the same or a near-same text."""

    class Status(models.TextChoices):
        NEW = "new", _("new")
        TRIAGED = "triaged", _("triaged")
        IN_REVIEW = "in_review", _("in review")
        RESOLVED = "resolved", _("resolved")

    class Resolution(models.TextChoices):
        FIXED_DATA = "fixed_data", _("fixed in the data")
        FIXED_TEMPLATE = "fixed_template", _("fixed in a response template")
        WONT_FIX = "wont_fix", _("won't fix")
        DUPLICATE = "duplicate", _("duplicate")
        NOT_A_BUG = "not_a_bug", _("not a bug")

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="+", verbose_name=_("locale"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    normalized = models.TextField(_("normalized text"), help_text=_("The text that opened the cluster, normalized"))
    # md5 of `normalized`: the unique key (a 1,000-character CJK text is past a btree row's size).
    text_key = models.CharField(max_length=32, editable=False)
    representative_text = models.TextField(_("example text"))
    # MinHash of the normalized text's character shingles (see clustering.py), for near-duplicates.
    minhash = models.JSONField(_("MinHash signature"), default=list, blank=True, editable=False)
    event_count = models.PositiveIntegerField(_("events"), default=0)
    severity = models.FloatField(_("severity"), default=0, help_text=_("The most severe signal seen"))
    priority = models.FloatField(_("priority"), default=0, db_index=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    examples = models.JSONField(_("examples"), default=list, blank=True,
                                help_text=_("Up to five recent examples: text, predicted intent, signal, event id"))
    predicted_intents = models.JSONField(_("predicted intents"), default=dict, blank=True,
                                         help_text=_("How often the model predicted each intent"))
    template_keys = models.JSONField(_("response templates seen"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    resolution = models.CharField(_("resolution"), max_length=16, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(_("resolution note"), blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("assigned to"))
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="duplicates", verbose_name=_("duplicate of"))
    # Which response template a linguist linked for fixing: a culture template's key, kept as a
    # string so this app does not import culture (a later merge may resolve it to the model).
    fix_template_key = models.CharField(_("template to fix"), max_length=200, blank=True)
    fix_utterance = models.ForeignKey("nlu.Utterance", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", verbose_name=_("candidate created"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-priority", "-id"]
        verbose_name = _("feedback cluster")
        verbose_name_plural = _("feedback clusters")
        constraints = [
            models.UniqueConstraint(fields=["locale", "kind", "text_key"], name="fb_cluster_one_per_text"),
        ]
        indexes = [models.Index(fields=["locale", "kind", "status", "-priority"], name="fb_cluster_queue_idx")]
        permissions = [
            ("triage_feedbackcluster", "Can triage feedback clusters (triage, close as duplicate/not a bug/won't fix)"),
            ("assign_feedbackcluster", "Can assign feedback clusters and reopen resolved ones"),
            ("resolve_feedbackcluster", "Can review and resolve feedback clusters"),
        ]

    def __str__(self) -> str:
        return f"[{self.locale_id}] {self.kind}: {self.representative_text[:60]}"


class ClusterBand(models.Model):
    """One LSH band of a cluster's MinHash: clusters sharing a band are near-duplicate candidates."""

    locale_path = None  # internal index; never shown

    cluster = models.ForeignKey(FeedbackCluster, on_delete=models.CASCADE, related_name="bands")
    locale = models.ForeignKey("locales.Locale", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    band = models.PositiveSmallIntegerField()
    band_hash = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["locale", "kind", "band_hash"], name="fb_band_lookup_idx")]


class FeedbackSla(models.Model):
    """How long a cluster may stay open in a locale before it is escalated (empty locale: default)."""

    locale_path = "locale"

    locale = models.OneToOneField("locales.Locale", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+", verbose_name=_("locale"), help_text=_("Empty: every locale"))
    hours = models.PositiveIntegerField(_("hours until escalation"),
                                        help_text=_("A cluster still open this long after it was first seen is escalated"))

    class Meta:
        verbose_name = _("feedback SLA")
        verbose_name_plural = _("feedback SLAs")
        constraints = [models.UniqueConstraint(fields=["hours"], condition=models.Q(locale__isnull=True),
                                               name="fb_sla_one_default")]

    def __str__(self) -> str:
        return f"{self.locale.tag if self.locale_id else 'every locale'}: {self.hours} h"


class ParaphraseCandidate(models.Model):
    """A phrasing that failed, labeled with what users who rephrased it meant, for native review."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending review")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="+", verbose_name=_("locale"))
    failed_normalized = models.TextField(_("failed phrasing (normalized)"))
    failed_text = models.TextField(_("failed phrasing"))
    # md5 of (failed_normalized, intent_name, slots_signature): the unique key, short enough to index.
    pair_key = models.CharField(max_length=32, editable=False)
    intent_name = models.CharField(_("intent"), max_length=80)
    slots_signature = models.CharField(_("slots"), max_length=500, blank=True,
                                       help_text=_("type=value pairs of the successful turn, sorted"))
    slots = models.JSONField(_("slots of the successful turn"), default=list, blank=True)
    annotated = models.TextField(_("proposed annotation"))
    unmapped_slots = models.JSONField(_("slots not found in the failed phrasing"), default=list, blank=True)
    rephrase_example = models.TextField(_("example successful rephrase"))
    support = models.PositiveIntegerField(_("support (distinct sessions)"))
    sessions_failed = models.PositiveIntegerField(_("sessions where this phrasing failed"))
    confidence = models.FloatField(_("confidence"), help_text=_("support / sessions where this phrasing failed"))
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    utterance = models.ForeignKey("nlu.Utterance", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("utterance created"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-support", "-id"]
        verbose_name = _("paraphrase candidate")
        verbose_name_plural = _("paraphrase candidates")
        constraints = [models.UniqueConstraint(fields=["locale", "pair_key"], name="fb_paraphrase_one_per_pair")]
        permissions = [("review_paraphrasecandidate", "Can accept or reject mined paraphrase candidates")]

    def __str__(self) -> str:
        return f"[{self.locale_id}] {self.failed_text[:50]} → {self.intent_name}"
