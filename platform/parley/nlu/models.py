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

    # No index of its own: three composite indexes lead with locale_id (coverage, duplicates,
    # export), and every index costs every import.
    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="utterances",
                               verbose_name=_("locale"), db_index=False)
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
    # Rows that say the same thing in several locales (one MASSIVE id; a localized utterance and
    # the one it was localized from) share a key, so datasets keeps them in one partition.
    parallel_key = models.CharField(_("parallel key"), max_length=120, blank=True,
                                    help_text=_("Shared by translations of one utterance, e.g. massive:1234"))
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
            models.Index(fields=["parallel_key"], name="utt_parallel_idx", condition=~models.Q(parallel_key="")),
        ]

    def __str__(self) -> str:
        return f"[{self.locale_id}] {self.text[:60]}"


class _Guide(models.Model):
    """Per-locale description and annotator guidance for one schema entry (intent or slot type)."""

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="+", verbose_name=_("locale"))
    description = models.TextField(_("description"), blank=True,
                                   help_text=_("What it means, in this locale's language"))
    guidance = models.TextField(_("annotator guidance"), blank=True,
                                help_text=_("How to annotate it here: borderline cases, local conventions"))
    examples = models.JSONField(_("examples"), default=list, blank=True,
                                help_text=_("Example utterances in MASSIVE notation, one string each"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class IntentGuide(_Guide):
    intent = models.ForeignKey(Intent, on_delete=models.CASCADE, related_name="guides", verbose_name=_("intent"))

    class Meta:
        ordering = ["intent__name", "locale__tag"]
        verbose_name = _("intent guide")
        verbose_name_plural = _("intent guides")
        constraints = [models.UniqueConstraint(fields=["intent", "locale"], name="intent_guide_one_per_locale")]

    def __str__(self) -> str:
        return f"{self.intent} [{self.locale}]"


class SlotTypeGuide(_Guide):
    slot_type = models.ForeignKey(SlotType, on_delete=models.CASCADE, related_name="guides",
                                  verbose_name=_("slot type"))

    class Meta:
        ordering = ["slot_type__name", "locale__tag"]
        verbose_name = _("slot type guide")
        verbose_name_plural = _("slot type guides")
        constraints = [models.UniqueConstraint(fields=["slot_type", "locale"], name="slot_type_guide_one_per_locale")]

    def __str__(self) -> str:
        return f"{self.slot_type} [{self.locale}]"


class LexiconConcept(models.Model):
    """One meaning of a catalogued slot type (currency_name/JPY), shared by every locale's values."""

    locale_path = None  # concepts are global; their entries carry the locale

    slot_type = models.ForeignKey(SlotType, on_delete=models.PROTECT, related_name="concepts",
                                  verbose_name=_("slot type"))
    key = models.SlugField(_("key"), max_length=80, help_text=_("Stable id across locales, e.g. JPY"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["slot_type__name", "key"]
        verbose_name = _("lexicon concept")
        verbose_name_plural = _("lexicon concepts")
        constraints = [models.UniqueConstraint(fields=["slot_type", "key"], name="lexicon_concept_key_per_slot_type")]

    def __str__(self) -> str:
        return f"{self.slot_type}/{self.key}"


class LexiconEntry(models.Model):
    """A value of a concept in one locale, with its synonyms (en-US "japanese yen", synonyms ["yen"])."""

    locale_path = "locale"

    concept = models.ForeignKey(LexiconConcept, on_delete=models.CASCADE, related_name="entries",
                                verbose_name=_("concept"))
    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="lexicon_entries",
                               verbose_name=_("locale"))
    value = models.CharField(_("value"), max_length=200)
    normalized = models.CharField(_("normalized value"), max_length=200, editable=False)
    synonyms = models.JSONField(_("synonyms"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["concept__slot_type__name", "concept__key", "locale__tag", "value"]
        verbose_name = _("lexicon entry")
        verbose_name_plural = _("lexicon entries")
        constraints = [models.UniqueConstraint(fields=["concept", "locale", "normalized"],
                                               name="lexicon_entry_unique_value")]
        indexes = [models.Index(fields=["locale", "normalized"], name="lexicon_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.value} [{self.locale_id}]"


class CoverageTarget(models.Model):
    """How many counted utterances a locale wants per intent and partition.

    A row without intent is the locale's default for every intent; a row with one overrides it.
    """

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="coverage_targets",
                               verbose_name=_("locale"))
    intent = models.ForeignKey(Intent, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="coverage_targets", verbose_name=_("intent"),
                               help_text=_("Empty: the default for every intent of this locale"))
    partition = models.CharField(_("partition"), max_length=12, choices=Utterance.Partition.choices)
    target = models.PositiveIntegerField(_("target"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["locale__tag", "intent__name", "partition"]
        verbose_name = _("coverage target")
        verbose_name_plural = _("coverage targets")
        constraints = [
            # NULL never equals NULL in a unique index, so the per-locale default needs its own.
            models.UniqueConstraint(fields=["locale", "partition"], condition=models.Q(intent__isnull=True),
                                    name="coverage_default_target_unique"),
            models.UniqueConstraint(fields=["locale", "intent", "partition"],
                                    condition=models.Q(intent__isnull=False), name="coverage_intent_target_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.locale_id} {self.intent or '*'} {self.partition}={self.target}"
