"""Who may do what, where: roles are data, scoped to locales; pipelines use hashed API tokens."""
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.Model):
    """A named bundle of permissions (through its auth group) held per locale via Membership."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="parley_role",
                                 verbose_name=_("permission group"))
    grants_admin_site = models.BooleanField(_("may use the admin"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user holds a role in one locale, or in every locale when `locale` is empty."""

    class Proficiency(models.TextChoices):
        NATIVE = "native", _("native")
        FLUENT = "fluent", _("fluent")
        WORKING = "working", _("working")

    locale_path = "locale"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
                             verbose_name=_("user"))
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("role"))
    locale = models.ForeignKey("locales.Locale", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="memberships", verbose_name=_("locale"),
                               help_text=_("Empty: every locale"))
    proficiency = models.CharField(_("proficiency"), max_length=10, choices=Proficiency.choices, blank=True,
                                   help_text=_("For annotators: native speakers are handed tasks first"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("role membership")
        verbose_name_plural = _("role memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "locale"], name="one_membership_per_role_locale"),
            models.UniqueConstraint(fields=["user", "role"], condition=models.Q(locale__isnull=True),
                                    name="one_global_membership_per_role"),
        ]

    def __str__(self) -> str:
        where = self.locale.tag if self.locale_id else _("all locales")
        return f"{self.user} · {self.role} · {where}"


class ApiToken(models.Model):
    """A pipeline credential. Only a SHA-256 of the secret is kept; the token is shown once."""

    locale_path = None  # tokens are managed by platform admins only

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name=_("acts as user"))
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    locales = models.ManyToManyField("locales.Locale", blank=True, related_name="+", verbose_name=_("locale limit"),
                                     help_text=_("Empty: the user's locales"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} (prl_{self.prefix}_…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired
