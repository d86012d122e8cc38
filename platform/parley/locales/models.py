"""The locale registry: a locale is data, so Parley can hold 1,000+ of them."""
from django.db import models
from django.utils.translation import gettext_lazy as _

from .cldr import script_writes_without_spaces


class Locale(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        COLLECTING = "collecting", _("collecting")
        TESTING = "testing", _("testing")
        LAUNCHED = "launched", _("launched")
        RETIRED = "retired", _("retired")

    class Direction(models.TextChoices):
        LTR = "ltr", _("left to right")
        RTL = "rtl", _("right to left")

    # The CLDR-derived fields a pack or a linguist may override; an override survives reloads.
    DERIVED_FIELDS = (
        "english_name", "autonym", "script", "direction", "plural_cardinal", "plural_ordinal",
        "first_day_of_week", "calendar", "speaker_population",
    )
    locale_path = ""  # access scoping: this object *is* the locale

    tag = models.CharField(_("tag"), max_length=64, unique=True, help_text=_("Canonical BCP 47 tag"))
    language = models.CharField(_("language"), max_length=8, db_index=True)
    script = models.CharField(_("script"), max_length=4, blank=True, db_index=True)
    territory = models.CharField(_("territory"), max_length=3, blank=True, db_index=True)
    variant = models.CharField(_("variant"), max_length=64, blank=True)
    english_name = models.CharField(_("English name"), max_length=200)
    autonym = models.CharField(_("autonym"), max_length=200, blank=True)
    direction = models.CharField(_("writing direction"), max_length=3, choices=Direction.choices,
                                 default=Direction.LTR, db_index=True)
    plural_cardinal = models.JSONField(_("cardinal plural categories"), default=list, blank=True)
    plural_ordinal = models.JSONField(_("ordinal plural categories"), default=list, blank=True)
    WEEKDAYS = [("mon", _("Monday")), ("tue", _("Tuesday")), ("wed", _("Wednesday")), ("thu", _("Thursday")),
                ("fri", _("Friday")), ("sat", _("Saturday")), ("sun", _("Sunday"))]
    first_day_of_week = models.CharField(_("first day of week"), max_length=3, choices=WEEKDAYS, default="mon")
    calendar = models.CharField(_("default calendar"), max_length=40, default="gregorian")
    speaker_population = models.BigIntegerField(_("speakers"), null=True, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("explicit parent"), help_text=_("Overrides the CLDR parent in the fallback chain"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED,
                              db_index=True)
    overridden_fields = models.JSONField(_("overridden fields"), default=list, blank=True,
                                         help_text=_("Fields set by a pack or a linguist instead of CLDR"))
    pack_source = models.CharField(_("pack file"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["tag"]
        verbose_name = _("locale")
        verbose_name_plural = _("locales")

    def __str__(self) -> str:
        return f"{self.tag} ({self.english_name})"

    @property
    def writes_without_spaces(self) -> bool:
        """Whether this locale's script separates words with no spaces (CLDR's "LB letters": Han,
        kana, Thai, Lao, Khmer, Myanmar, ...), decided from the registry's `script`, which a
        linguist may override. The one answer to the question: annotation parsing (tokens are
        characters, slots set off by notation spaces), the utterance checks, imports, exports and
        the normalizer (ICU word breaks) all ask it of the locale, so a row is stored, checked and
        exported with one tokenization. A set lookup on a stored field: cheap enough per row."""
        return script_writes_without_spaces(self.script)


class LocaleAlias(models.Model):
    """A foreign tag for a locale (MASSIVE's sl-SL for sl-SI), kept for round-trip export."""

    locale_path = "locale"

    tag = models.CharField(_("alias tag"), max_length=64)
    # Lower-cased tag: aliases match case-insensitively on every database.
    tag_key = models.CharField(max_length=64, unique=True, editable=False)
    locale = models.ForeignKey(Locale, on_delete=models.CASCADE, related_name="aliases", verbose_name=_("locale"))
    source = models.CharField(_("source"), max_length=40, help_text=_("Where the tag is used, e.g. massive"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["tag"]
        verbose_name = _("locale alias")
        verbose_name_plural = _("locale aliases")
        constraints = [
            # One export tag per locale and source, so round trips are unambiguous.
            models.UniqueConstraint(fields=["locale", "source"], name="one_alias_per_locale_and_source"),
        ]

    def __str__(self) -> str:
        return f"{self.tag} → {self.locale.tag} ({self.source})"
