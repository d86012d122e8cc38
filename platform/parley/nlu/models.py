"""The NLU schema (scenarios, intents, slot types, lexicons) and the one Utterance store.

Every piece of language data that can end up in a dataset is an Utterance, whatever its
source; its status follows one lifecycle shared by import, collection, feedback and datasets.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scenario(models.Model):
    name = models.SlugField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")

    def __str__(self) -> str:
        return self.name


class SlotType(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", _("open (free text)")
        CATALOGUED = "catalogued", _("catalogued (lexicon values)")

    name = models.SlugField(_("name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.OPEN)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("slot type")
        verbose_name_plural = _("slot types")

    def __str__(self) -> str:
        return self.name


class Intent(models.Model):
    """MASSIVE naming: `<scenario>_<action>`, e.g. alarm_set."""

    name = models.SlugField(_("name"), max_length=80, unique=True)
    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="intents",
                                 verbose_name=_("scenario"))
    slot_types = models.ManyToManyField(SlotType, blank=True, related_name="intents",
                                        verbose_name=_("allowed slot types"))
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("intent")
        verbose_name_plural = _("intents")

    def __str__(self) -> str:
        return self.name


class Utterance(models.Model):
    class Source(models.TextChoices):
        MASSIVE = "massive", "MASSIVE"
        SLURP = "slurp", "SLURP"
        CONLL = "conll", "CoNLL/BIO"
        COLLECTED = "collected", _("collected")
        FEEDBACK = "feedback", _("feedback")
        MINED = "mined", _("mined")
        MANUAL = "manual", _("manual")
        HOLIDAY = "holiday-generated", _("holiday-generated")

    class Partition(models.TextChoices):
        TRAIN = "train", _("train")
        DEV = "dev", _("dev")
        TEST = "test", _("test")
        UNASSIGNED = "unassigned", _("unassigned")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        IN_VALIDATION = "in_validation", _("in validation")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")
        PROMOTED = "promoted", _("promoted")
        RETIRED = "retired", _("retired")

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="utterances",
                               verbose_name=_("locale"))
    intent = models.ForeignKey(Intent, on_delete=models.PROTECT, related_name="utterances", verbose_name=_("intent"))
    text = models.TextField(_("text"))
    annotated = models.TextField(_("annotated text"), help_text=_("MASSIVE notation: wake me up at [time : five am]"))
    slots = models.JSONField(_("slots"), default=list, blank=True,
                             help_text=_("[{type, value, start, end}] with offsets into the text"))
    normalized = models.TextField(_("normalized text"), editable=False)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    partition = models.CharField(_("partition"), max_length=12, choices=Partition.choices,
                                 default=Partition.UNASSIGNED)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Everything the source said that has no column of its own (worker ids, judgments,
    # slot_method, the original locale tag and field order), so exports reproduce it exactly.
    provenance = models.JSONField(_("provenance"), default=dict, blank=True)
    source_order = models.BigIntegerField(_("order in source"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["locale_id", "source_order", "id"]
        verbose_name = _("utterance")
        verbose_name_plural = _("utterances")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id", "locale"],
                                    condition=~models.Q(external_id=""), name="utterance_unique_source_key"),
        ]
        indexes = [
            models.Index(fields=["locale", "intent", "status", "partition"], name="utt_coverage_idx"),
            models.Index(fields=["locale", "normalized"], name="utt_duplicate_idx"),
            models.Index(fields=["locale", "source", "source_order"], name="utt_export_idx"),
        ]

    def __str__(self) -> str:
        return f"[{self.locale_id}] {self.text[:60]}"
