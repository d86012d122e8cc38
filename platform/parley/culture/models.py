"""Cultural context per locale: how the assistant speaks there (formality registers, sensitive
terms), what it says (response templates in ICU MessageFormat) and what it must know (holidays).
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class FormalityRegister(models.Model):
    """A way of addressing the user in one locale (de: du / Sie; ja: plain / polite / honorific).

    A locale without registers (en) has none; its templates use the empty register.
    """

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.CASCADE, related_name="registers",
                               verbose_name=_("locale"))
    code = models.SlugField(_("code"), max_length=30, help_text=_("e.g. du, sie, tu, vous, plain, polite"))
    name = models.CharField(_("name"), max_length=100)
    is_default = models.BooleanField(_("assistant's default"), default=False)
    guidance = models.TextField(_("guidance"), blank=True, help_text=_("When to use it, pronouns and verb forms"))
    examples = models.JSONField(_("examples"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0, help_text=_("From least to most formal"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["locale__tag", "order", "code"]
        verbose_name = _("formality register")
        verbose_name_plural = _("formality registers")
        constraints = [
            models.UniqueConstraint(fields=["locale", "code"], name="register_code_per_locale"),
            models.UniqueConstraint(fields=["locale"], condition=models.Q(is_default=True),
                                    name="one_default_register_per_locale"),
        ]

    def __str__(self) -> str:
        return f"{self.code} [{self.locale_id and self.locale.tag}]"


class RegisterOverride(models.Model):
    """A scenario where the assistant uses another register than the locale's default."""

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.CASCADE, related_name="register_overrides",
                               verbose_name=_("locale"))
    scenario = models.ForeignKey("nlu.Scenario", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("scenario"))
    register = models.ForeignKey(FormalityRegister, on_delete=models.CASCADE, related_name="overrides",
                                 verbose_name=_("register"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["locale__tag", "scenario__name"]
        verbose_name = _("register override")
        verbose_name_plural = _("register overrides")
        constraints = [models.UniqueConstraint(fields=["locale", "scenario"], name="register_override_per_scenario")]

    def __str__(self) -> str:
        return f"{self.scenario} → {self.register.code} [{self.locale.tag}]"


class SensitiveTerm(models.Model):
    """A word the assistant must not say (block) or should think twice about (warn), or a topic
    to handle carefully (never matched in text: guidance for writers)."""

    class Severity(models.TextChoices):
        BLOCK = "block", _("block")
        WARN = "warn", _("warn")

    class Kind(models.TextChoices):
        TERM = "term", _("term")
        TOPIC = "topic", _("topic")

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.CASCADE, related_name="sensitive_terms",
                               verbose_name=_("locale"))
    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices, default=Kind.TERM)
    term = models.CharField(_("term or topic"), max_length=200)
    normalized = models.CharField(_("normalized"), max_length=200, editable=False)
    severity = models.CharField(_("severity"), max_length=5, choices=Severity.choices, default=Severity.WARN)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    replacement = models.CharField(_("suggested replacement"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=40, default="manual", help_text=_("pack or manual"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["locale__tag", "kind", "term"]
        verbose_name = _("sensitive term")
        verbose_name_plural = _("sensitive terms")
        constraints = [models.UniqueConstraint(fields=["locale", "kind", "normalized"], name="sensitive_term_unique")]

    def __str__(self) -> str:
        return f"{self.term} ({self.severity}) [{self.locale_id and self.locale.tag}]"


class TemplateKey(models.Model):
    """What the assistant says in one situation (alarm_set.confirm), shared by every locale.

    `parameters` declares the values a caller passes: [{"name", "type": number|string|date,
    "slot_type": optional slot of the intent, "sample": a value for previews}].
    """

    locale_path = None  # shared by every locale; its per-locale texts carry the locale

    key = models.CharField(_("key"), max_length=120, unique=True, help_text=_("e.g. alarm_set.confirm"))
    intent = models.ForeignKey("nlu.Intent", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("intent"))
    description = models.TextField(_("description"), blank=True)
    parameters = models.JSONField(_("parameters"), default=list, blank=True)
    source_locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("source locale"),
                                      help_text=_("Where the text is first written; other locales are compared to it"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("template key")
        verbose_name_plural = _("template keys")

    def __str__(self) -> str:
        return self.key


class ResponseTemplate(models.Model):
    """One locale's text for a key in one register, in ICU MessageFormat, under review."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        IN_REVIEW = "in_review", _("in review")
        APPROVED = "approved", _("approved")
        RETIRED = "retired", _("retired")

    locale_path = "locale"

    key = models.ForeignKey(TemplateKey, on_delete=models.CASCADE, related_name="texts", verbose_name=_("key"))
    locale = models.ForeignKey("locales.Locale", on_delete=models.PROTECT, related_name="response_templates",
                               verbose_name=_("locale"))
    register = models.CharField(_("register"), max_length=30, blank=True,
                                help_text=_("A register code of the locale; empty for locales without registers"))
    body = models.TextField(_("text"), help_text=_("ICU MessageFormat: {count, plural, one {# alarm} other {# alarms}}"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Whether the stored check results hold an error (kept beside the status so a changelist can
    # filter and an approval can refuse without another query).
    has_errors = models.BooleanField(_("has errors"), default=False, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["key__key", "locale__tag", "register"]
        verbose_name = _("response template")
        verbose_name_plural = _("response templates")
        constraints = [models.UniqueConstraint(fields=["key", "locale", "register"],
                                               name="template_text_per_key_locale_register")]
        indexes = [models.Index(fields=["key", "locale", "status"], name="template_render_idx")]
        # Approving (and retiring or reopening an approved text) is a reviewer's step, granted
        # apart from editing so linguists can write and leads decide.
        permissions = [("approve_responsetemplate", "Can approve, retire or reopen response templates")]

    def __str__(self) -> str:
        register = f"/{self.register}" if self.register else ""
        return f"{self.key_id and self.key.key} [{self.locale_id and self.locale.tag}{register}]"


class Holiday(models.Model):
    """A holiday or observance of one locale, with how to find its dates in any year."""

    class Category(models.TextChoices):
        PUBLIC = "public", _("public")
        RELIGIOUS = "religious", _("religious")
        OPTIONAL = "optional", _("optional")
        BANK = "bank", _("bank")
        SCHOOL = "school", _("school")
        GOVERNMENT = "government", _("government")
        OBSERVANCE = "observance", _("observance")

    class Rule(models.TextChoices):
        PACKAGE = "package", _("from the holidays package")
        FIXED = "fixed", _("fixed date")
        EASTER = "easter", _("days from Western Easter")
        NTH_WEEKDAY = "nth_weekday", _("nth weekday of a month")
        EXPLICIT = "explicit", _("explicit dates per year (lunar, announced)")

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.CASCADE, related_name="holidays",
                               verbose_name=_("locale"))
    key = models.SlugField(_("key"), max_length=120, help_text=_("Stable id within the locale, e.g. christmas-day"))
    english_name = models.CharField(_("English name"), max_length=200)
    native_name = models.CharField(_("native name"), max_length=200, blank=True)
    aliases = models.JSONField(_("aliases"), default=list, blank=True, help_text=_("Other names people use"))
    category = models.CharField(_("category"), max_length=12, choices=Category.choices, default=Category.PUBLIC)
    regions = models.JSONField(_("regions"), default=list, blank=True,
                               help_text=_("ISO 3166-2 subdivision codes (BY, CA); empty: the whole territory"))
    rule = models.CharField(_("date rule"), max_length=12, choices=Rule.choices, default=Rule.PACKAGE)
    rule_params = models.JSONField(_("rule parameters"), default=dict, blank=True,
                                   help_text=_('fixed {"month", "day"}; easter {"offset"}; '
                                               'nth_weekday {"month", "weekday" 0=Mon, "n" (-1 = last)}'))
    greeting = models.CharField(_("greeting"), max_length=300, blank=True,
                                help_text=_("How people greet each other or refer to it"))
    notes = models.TextField(_("appropriateness notes"), blank=True)
    source = models.CharField(_("source"), max_length=20, default="package", help_text=_("package or linguist"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["locale__tag", "key"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["locale", "key"], name="holiday_key_per_locale")]

    def __str__(self) -> str:
        return f"{self.native_name or self.english_name} [{self.locale_id and self.locale.tag}]"


class HolidayDate(models.Model):
    """A holiday's date in one year: materialized from its rule, or entered (explicit rule)."""

    locale_path = "holiday__locale"

    holiday = models.ForeignKey(Holiday, on_delete=models.CASCADE, related_name="dates", verbose_name=_("holiday"))
    date = models.DateField(_("date"))
    year = models.PositiveSmallIntegerField(_("year"), editable=False)
    entered = models.BooleanField(_("entered by hand"), default=False,
                                  help_text=_("Kept when dates are materialized again"))
    # A date's own subdivisions: the package gives some holidays (school breaks) different dates
    # per subdivision under one name. Empty: wherever its holiday is observed.
    regions = models.JSONField(_("regions"), default=list, blank=True,
                               help_text=_("Subdivision codes where this date is observed; empty: the holiday's "
                                           "regions"))

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday date")
        verbose_name_plural = _("holiday dates")
        constraints = [models.UniqueConstraint(fields=["holiday", "date"], name="holiday_date_unique")]
        indexes = [models.Index(fields=["holiday", "year"], name="holiday_year_idx")]

    def __str__(self) -> str:
        return f"{self.holiday} {self.date}"


class HolidayYear(models.Model):
    """A year whose dates were materialized for a locale (the coverage report lists the others)."""

    locale_path = "locale"

    locale = models.ForeignKey("locales.Locale", on_delete=models.CASCADE, related_name="+", verbose_name=_("locale"))
    year = models.PositiveSmallIntegerField(_("year"))
    materialized_at = models.DateTimeField(_("materialized"), auto_now=True)

    class Meta:
        ordering = ["locale__tag", "year"]
        constraints = [models.UniqueConstraint(fields=["locale", "year"], name="holiday_year_per_locale")]

    def __str__(self) -> str:
        return f"{self.locale.tag} {self.year}"
