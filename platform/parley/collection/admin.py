"""Collection in the admin: leads create and steer campaigns of their locales; tasks, leases,
judgments and decisions are read-only records, scoped by locale."""
import threading

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from parley.access.admin_scoping import LocaleScopedAdmin, ReadOnlyAdmin
from parley.access.admin_site import SafeJSONFormField
from parley.access.scoping import can, locale_tags_for, scope_queryset
from parley.events.services import event_record

from .models import Campaign, CampaignLocale, Decision, Judgment, Task, TaskLease
from .selectors import campaigns_visible
from .services import (campaign_acceptance_rule_set, campaign_problems, campaign_status_change,
                       campaign_tasks_generate)
from .views_lead import may_change


_viewer = threading.local()  # whose locales the campaign list's `locales` column may name


class CampaignForm(forms.ModelForm):
    task_kinds = forms.MultipleChoiceField(choices=Campaign.Kind.choices, widget=forms.CheckboxSelectMultiple,
                                           initial=[Campaign.Kind.ELICIT], label=_("task kinds"))

    class Meta:
        model = Campaign
        fields = ["name", "description", "intents", "target_per_intent", "task_kinds", "source_locale",
                  "required_validations", "acceptance_rule", "lease_minutes", "deadline"]
        field_classes = {"acceptance_rule": SafeJSONFormField}

    def clean(self):
        data = super().clean()

        def value(name):  # a read-only field (a started campaign's) is not in the form: its stored value
            return data.get(name) if name in self.fields else getattr(self.instance, name)

        problems = campaign_problems(
            task_kinds=value("task_kinds"), required_validations=value("required_validations"),
            source_locale=value("source_locale"), acceptance_rule=value("acceptance_rule"),
            target_per_intent=value("target_per_intent"), lease_minutes=value("lease_minutes"))
        errors: dict[str, list[str]] = {}
        for name, messages in problems.items():
            messages = [messages] if isinstance(messages, str) else messages
            if name in self.fields:
                errors.setdefault(name, []).extend(messages)
            else:
                errors.setdefault(NON_FIELD_ERRORS, []).extend(f"{name}: {m}" for m in messages)
        if errors:
            raise ValidationError(errors)
        return data


class CampaignLocaleInline(admin.TabularInline):
    model = CampaignLocale
    fields = ["locale", "instructions"]
    extra = 1
    min_num = 1

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from parley.locales.models import Locale

        if db_field.name == "locale":
            kwargs["queryset"] = scope_queryset(Locale.objects.all(), request.user, "collection.add_campaign")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request, obj=None):
        return obj is None or obj.status == Campaign.Status.DRAFT

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.status == Campaign.Status.DRAFT

    def has_change_permission(self, request, obj=None):
        return obj is None or may_change(request.user, obj)

    def has_view_permission(self, request, obj=None):
        return True

    def get_queryset(self, request):
        # Another locale's row (its instructions, that it takes part) is not this user's to read.
        return scope_queryset(super().get_queryset(request), request.user, "collection.view_campaign")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    inlines = [CampaignLocaleInline]
    list_display = ["name", "status", "locales", "target_per_intent", "required_validations", "deadline", "dashboard"]
    list_filter = ["status"]
    search_fields = ["name"]
    filter_horizontal = ["intents"]
    actions = ["activate", "pause", "close", "generate_missing_tasks"]

    def get_queryset(self, request):
        return campaigns_visible(user=request.user).prefetch_related("campaign_locales__locale")

    def has_module_permission(self, request):
        return can(request.user, "collection.view_campaign")

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return can(request.user, "collection.view_campaign")
        return campaigns_visible(user=request.user).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return can(request.user, "collection.add_campaign")

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return can(request.user, "collection.change_campaign")
        return may_change(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # campaigns are closed, never deleted: their judgments are the record

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == Campaign.Status.CLOSED:
            return ["task_kinds", "source_locale", "required_validations", "acceptance_rule"]
        if obj is not None and obj.status != Campaign.Status.DRAFT:
            # The rule may change while judges work (the recompute command re-applies it to decisions).
            return ["task_kinds", "source_locale", "required_validations"]
        return []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "source_locale":
            # Localize tasks show the source locale's utterances to annotators: only a locale whose
            # utterances the campaign's author may read.
            from parley.locales.models import Locale

            kwargs["queryset"] = scope_queryset(Locale.objects.all(), request.user, "nlu.view_utterance")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changelist_view(self, request, extra_context=None):
        _viewer.tags = locale_tags_for(request.user, "collection.view_campaign")
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("locales"))
    def locales(self, obj):
        tags = getattr(_viewer, "tags", set())
        return ", ".join(cl.locale.tag for cl in obj.campaign_locales.all() if tags is None or cl.locale.tag in tags)

    @admin.display(description=_("dashboard"))
    def dashboard(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("collect:dashboard", args=[obj.pk]), _("progress"))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            super().save_model(request, obj, form, change)
            return
        # A changed rule goes through its service (validation, the event in each locale); the
        # change permission (lead in every one of the campaign's locales) was checked by the admin.
        rule = obj.acceptance_rule
        if "acceptance_rule" in form.changed_data:
            obj.acceptance_rule = Campaign.objects.values_list("acceptance_rule", flat=True).get(pk=obj.pk)
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if "acceptance_rule" in form.changed_data:
                campaign_acceptance_rule_set(campaign=obj, rule=rule, actor=request.user)

    def save_related(self, request, form, formsets, change):
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            campaign = form.instance
            tags = [cl.locale.tag for cl in campaign.campaign_locales.select_related("locale")]
            event_record(actor=request.user, verb="campaign.changed" if change else "campaign.created", target=campaign,
                         payload={"locales": tags, "fields": form.changed_data})

    def _move(self, request, queryset, to):
        for campaign in queryset:
            if not may_change(request.user, campaign):
                messages.error(request, _("%(name)s: you lead only some of its locales") % {"name": campaign.name})
                continue
            try:
                campaign_status_change(campaign=campaign, to=to, actor=request.user)
            except ValidationError as exc:
                messages.error(request, f"{campaign.name}: {'; '.join(exc.messages)}")
            else:
                messages.success(request, f"{campaign.name}: {to}")

    @admin.action(description=_("Activate (and create its tasks)"))
    def activate(self, request, queryset):
        self._move(request, queryset, Campaign.Status.ACTIVE)

    @admin.action(description=_("Pause"))
    def pause(self, request, queryset):
        self._move(request, queryset, Campaign.Status.PAUSED)

    @admin.action(description=_("Close"))
    def close(self, request, queryset):
        self._move(request, queryset, Campaign.Status.CLOSED)

    @admin.action(description=_("Create the tasks missing to reach the target (after a change of target or intents)"))
    def generate_missing_tasks(self, request, queryset):
        for campaign in queryset.filter(status=Campaign.Status.ACTIVE):
            if may_change(request.user, campaign):
                with transaction.atomic():
                    created = campaign_tasks_generate(campaign=campaign, actor=request.user)
                messages.success(request, f"{campaign.name}: {created} tasks created")


class ReadOnlyScoped(ReadOnlyAdmin, LocaleScopedAdmin):
    pass

@admin.register(Task)
class TaskAdmin(ReadOnlyScoped):
    list_display = ["id", "campaign", "locale", "intent", "kind", "status", "round", "assignee", "lease_expires_at"]
    list_filter = ["kind", "status", ("campaign", admin.RelatedOnlyFieldListFilter)]  # only campaigns the user sees
    list_select_related = ["campaign", "locale", "intent", "assignee"]
    search_fields = ["utterance__text"]
    show_full_result_count = False


@admin.register(TaskLease)
class TaskLeaseAdmin(ReadOnlyScoped):
    list_display = ["task", "annotator", "outcome", "claimed_at", "expires_at", "ended_at", "skip_reason"]
    list_filter = ["outcome"]
    list_select_related = ["task", "annotator"]
    search_fields = ["skip_reason"]


@admin.register(Judgment)
class JudgmentAdmin(ReadOnlyScoped):
    list_display = ["utterance", "locale", "round", "annotator", "intent_score", "slots_score", "grammar_score",
                    "spelling_score", "language_identification", "proposed_annotation"]
    list_filter = ["language_identification", "intent_score", "grammar_score"]
    list_select_related = ["utterance", "locale", "annotator"]
    search_fields = ["utterance__text", "proposed_annotation", "comment"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyScoped):
    list_display = ["utterance", "locale", "intent", "round", "outcome", "reasons", "decided_at"]
    list_filter = ["outcome"]
    list_select_related = ["utterance", "locale", "intent"]
