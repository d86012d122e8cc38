"""The one event log: every status change and every privileged write leaves a row here.

The log imports nothing from other Parley apps: the target is a (type, id, repr) triple and
the locale is its tag, so rows outlive what they describe and any app can write them.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("actor"),
    )
    # Kept when the user is deleted, and names system actors (a task, a command).
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True)
    verb = models.CharField(_("verb"), max_length=80, db_index=True)
    target_type = models.CharField(_("target type"), max_length=80, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_repr = models.CharField(_("target"), max_length=200, blank=True)
    locale_tag = models.CharField(_("locale"), max_length=64, blank=True, db_index=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.verb} {self.target_repr}"
