"""Datasets in the admin: releases and their files, promotion rules, floors, retirements, refusals,
webhooks and their delivery log. Every write goes through the services; every list is scoped."""
import threading

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from parley.access.admin import PlatformAdminOnly
from parley.access.admin_scoping import LocaleScopedAdmin, ReadOnlyAdmin, ServiceRefusalsAsMessages
from parley.access.scoping import ALL_LOCALES, can, locale_tags_for, locales_for, scope_queryset
from parley.locales.models import Locale

from .models import (PromotionRefusal, PromotionRule, Release, ReleaseFile, TestFloor, TestRetirement, Webhook,
                     WebhookDelivery)
from .permissions import release_build_refusal
from .services import floor_delete, floor_set, promotion_rule_set, release_create, retirement_create
from .tasks import promotion_queue, release_build_queue
from .webhooks import webhook_create, webhook_delivery_retry_now, webhook_update


_current = threading.local()  # the request a ReleaseAdmin display method is rendering for


def _message_errors(request, exc: ValidationError):
    for message in exc.messages:
        messages.error(request, message)


class ReleaseFileInline(admin.TabularInline):
    model = ReleaseFile
    fields = ["path", "kind", "locale", "rows", "size", "sha256"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("locale")
        ids = locales_for(request.user, "datasets.view_release")
        return qs if ids is ALL_LOCALES else qs.filter(locale_id__in=ids) | qs.filter(locale__isnull=True)


class ReleaseCreateForm(forms.ModelForm):
    locales = forms.ModelMultipleChoiceField(queryset=Locale.objects.none(), required=False,
                                             help_text=_("Empty: every locale with promoted rows (needs the "
                                                         "permission in every locale)"))

    class Meta:
        model = Release
        fields = ["name", "notes"]


@admin.register(Release)
class ReleaseAdmin(ServiceRefusalsAsMessages, admin.ModelAdmin):
    """Releases are immutable: they are created (and built by a task), never edited or deleted here."""

    list_display = ["name", "version", "status", "visible_rows", "created_at", "published_at"]
    list_filter = ["status", "name"]
    readonly_fields = ["name", "version", "status", "visible_locales", "previous", "notes", "path", "visible_rows",
                       "visible_diff", "visible_error", "task_run", "created_by", "created_at", "published_at"]
    inlines = [ReleaseFileInline]

    # What a user sees of a release is narrowed to their locales, as in the API.
    def _tags(self, request):
        return locale_tags_for(request.user, "datasets.view_release")

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def _narrowed(self, obj):
        # Display callables get no request; get_queryset ran for this request in this thread.
        tags = self._tags(_current.request)
        return tags, (obj.manifest.get("locales", {}) if obj else {})

    @admin.display(description=_("locales"))
    def visible_locales(self, obj):
        tags, locales = self._narrowed(obj)
        names = sorted(locales) or obj.locale_tags
        return ", ".join(t for t in names if tags is None or t in tags) or "—"

    @admin.display(description=_("rows"))
    def visible_rows(self, obj):
        tags, locales = self._narrowed(obj)
        return obj.rows if tags is None else sum(v["rows"] for t, v in locales.items() if t in tags)

    @admin.display(description=_("diff summary"))
    def visible_diff(self, obj):
        tags, _locales = self._narrowed(obj)
        return {t: v for t, v in obj.diff_summary.items() if tags is None or t in tags}

    @admin.display(description=_("why it failed"))
    def visible_error(self, obj):
        tags, _locales = self._narrowed(obj)
        if tags is None or "violations" not in obj.manifest:
            return obj.error if tags is None or obj.status == Release.Status.BUILDING else ""
        return "; ".join(v["message"] for v in obj.manifest["violations"] if v["locale"] in tags)

    def has_module_permission(self, request):
        return can(request.user, "datasets.view_release")

    def has_view_permission(self, request, obj=None):
        return can(request.user, "datasets.view_release")

    def get_queryset(self, request):
        _current.request = request
        qs = super().get_queryset(request)
        tags = self._tags(request)
        published = Q(status=Release.Status.PUBLISHED)
        if tags is not None:
            published &= Q(manifest__locales__has_any_keys=sorted(tags) or ["-"])
        builder = locales_for(request.user, "datasets.add_release")
        if builder is ALL_LOCALES:
            return qs
        return qs.filter(published | Q(created_by=request.user)) if builder else qs.filter(published)

    def has_add_permission(self, request):
        return can(request.user, "datasets.add_release")

    actions = ["build_again"]

    @admin.action(description=_("Build the selected releases again (those still building)"))
    def build_again(self, request, queryset):
        for release in queryset:
            if release.status != Release.Status.BUILDING:
                messages.error(request, _("%(release)s is not building.") % {"release": release})
                continue
            refusal = release_build_refusal(user=request.user, name=release.name, locale_ids=list(
                Locale.objects.filter(tag__in=release.locale_tags).values_list("pk", flat=True)))
            if refusal:
                messages.error(request, refusal)
                continue
            run = release_build_queue(release=release, actor=request.user)
            messages.info(request, _("%(release)s: build queued as task run %(run)s.") % {"release": release,
                                                                                          "run": run.pk})

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        form = ReleaseCreateForm
        form.base_fields["locales"].queryset = scope_queryset(Locale.objects.order_by("tag"), request.user,
                                                              "datasets.add_release")
        return form

    def get_fields(self, request, obj=None):
        return ["name", "locales", "notes"] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        locales = list(form.cleaned_data.get("locales") or [])
        refusal = release_build_refusal(user=request.user, name=obj.name, locale_ids=[locale.pk for locale in locales])
        if refusal:
            raise ValidationError(refusal)
        release = release_create(name=obj.name, notes=obj.notes, locale_tags=[locale.tag for locale in locales],
                                 actor=request.user)
        release_build_queue(release=release, actor=request.user)
        obj.pk = release.pk

    def save_related(self, request, form, formsets, change):
        pass  # the release is written by the service; nothing else to save



@admin.register(PromotionRule)
class PromotionRuleAdmin(ServiceRefusalsAsMessages, LocaleScopedAdmin):
    """Where a source's accepted rows go; a locale's rule wins over the default (no locale)."""

    list_display = ["locale_or_default", "source", "target", "split_train", "split_dev", "split_test", "seed",
                    "updated_at"]
    list_filter = ["source", "target"]
    fields = ["locale", "source", "target", "split_train", "split_dev", "split_test", "seed"]

    @admin.display(description=_("locale"), ordering="locale__tag")
    def locale_or_default(self, obj):
        return obj.locale.tag if obj.locale_id else _("(default for every locale)")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        # The defaults apply to the user's locales too, so whoever reads rules reads them.
        return qs | PromotionRule.objects.filter(locale__isnull=True) if can(request.user, self._perm("view")) else qs

    def get_readonly_fields(self, request, obj=None):
        return ["locale", "source"] if obj else []

    def save_model(self, request, obj, form, change):
        if obj.locale_id is None and locales_for(request.user, self._perm("change")) is not ALL_LOCALES:
            raise ValidationError(_("Only who holds the permission in every locale may change a default rule."))
        rule = promotion_rule_set(locale=obj.locale, source=obj.source, target=obj.target, actor=request.user,
                                  split=(obj.split_train, obj.split_dev, obj.split_test), seed=obj.seed)
        obj.pk = rule.pk

    def has_delete_permission(self, request, obj=None):
        return False  # a locale's rule is changed, never dropped silently; the defaults must exist



@admin.register(TestFloor)
class TestFloorAdmin(ServiceRefusalsAsMessages, LocaleScopedAdmin):
    list_display = ["locale", "intent", "minimum", "updated_at"]
    list_filter = ["locale"]
    fields = ["locale", "intent", "minimum"]

    def get_readonly_fields(self, request, obj=None):
        return ["locale", "intent"] if obj else []

    def save_model(self, request, obj, form, change):
        floor = floor_set(locale=obj.locale, intent=obj.intent, minimum=obj.minimum, actor=request.user)
        obj.pk = floor.pk

    def delete_model(self, request, obj):
        floor_delete(floor=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for floor in queryset.select_related("locale", "intent"):
            floor_delete(floor=floor, actor=request.user)


@admin.register(TestRetirement)
class TestRetirementAdmin(ServiceRefusalsAsMessages, LocaleScopedAdmin):
    """A lead's logged decision; added, never edited or deleted (the log is the point)."""

    list_display = ["locale", "row_uid", "utterance", "reason", "retired_by", "created_at", "applied_in"]
    list_filter = ["locale"]
    fields = ["locale", "row_uid", "reason"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "locale":
            kwargs["queryset"] = scope_queryset(Locale.objects.all(), request.user, self._perm("add"))
            return admin.ModelAdmin.formfield_for_foreignkey(self, db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        retirement = retirement_create(locale=obj.locale, row_uid=obj.row_uid, reason=obj.reason, actor=request.user)
        obj.pk = retirement.pk



@admin.register(PromotionRefusal)
class PromotionRefusalAdmin(ReadOnlyAdmin, LocaleScopedAdmin):
    """Accepted rows the leakage guard kept back. Fix the conflict, then promote again."""

    list_display = ["utterance", "locale", "wanted", "code", "reason", "created_at"]
    list_filter = ["code", "wanted"]
    list_select_related = ["utterance", "locale"]
    readonly_fields = ["locale", "utterance", "wanted", "code", "reason", "conflicting", "task_run", "created_at"]
    actions = ["promote_again"]

    @admin.action(description=_("Promote the selected rows' locales again"))
    def promote_again(self, request, queryset):
        tags = sorted({r.locale.tag for r in queryset.select_related("locale")
                       if can(request.user, "datasets.promote_utterances", locale_id=r.locale_id)})
        if not tags:
            messages.error(request, _("You may not promote in these locales."))
            return
        run = promotion_queue(actor=request.user, locale_tags=tags)
        messages.info(request, _("Promotion queued as task run %(run)s for %(tags)s.") % {"run": run.pk,
                                                                                        "tags": ", ".join(tags)})


class WebhookCreateForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = Webhook
        fields = ["name", "url"]


@admin.register(Webhook)
class WebhookAdmin(ServiceRefusalsAsMessages, PlatformAdminOnly):
    list_display = ["name", "url", "active", "events", "created_at"]
    fields = ["name", "url", "active", "events"]
    readonly_fields = ["events"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            return WebhookCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["name", "url"] if obj is None else ["name", "url", "active", "events"]

    def save_model(self, request, obj, form, change):
        if change:
            webhook_update(webhook=obj, url=obj.url, name=obj.name, active=obj.active, actor=request.user)
            return
        hook, secret = webhook_create(name=obj.name, url=obj.url, actor=request.user)
        obj.pk = hook.pk
        messages.warning(request, _("The signing secret of %(name)s, shown this once: %(secret)s") % {
            "name": hook.name, "secret": secret})


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(PlatformAdminOnly):
    list_display = ["event", "webhook", "release", "status", "attempts", "last_status_code", "next_attempt_at",
                    "delivered_at"]
    list_filter = ["status", "event"]
    readonly_fields = ["webhook", "event", "release", "payload", "status", "attempts", "last_status_code",
                       "last_error", "next_attempt_at", "delivered_at", "created_at"]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Try the selected deliveries again now"))
    def retry_now(self, request, queryset):
        for delivery in queryset:
            try:
                delivery = webhook_delivery_retry_now(delivery=delivery, actor=request.user)
            except ValidationError as exc:
                _message_errors(request, exc)
                continue
            messages.info(request, _("%(delivery)s: %(status)s") % {"delivery": delivery, "status": delivery.status})
