"""The triage queues in the admin: clusters per locale × kind, highest priority first, with the
lifecycle as list actions and the resolution actions on each cluster's page; mined paraphrases
for native review; per-locale SLAs. Everything scoped to the user's locales; every change goes
through a service (who may do it is decided there, as for the API)."""
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from parley.access.admin_scoping import LocaleScopedAdmin
from parley.access.scoping import ALL_LOCALES, can, locales_for, scope_queryset
from parley.checks.admin import findings_display

from . import services
from .models import FeedbackCluster, FeedbackEvent, FeedbackSla, ParaphraseCandidate

R = FeedbackCluster.Resolution


def _refusal(exc) -> str:
    return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def _each(modeladmin, request, queryset, what: str, call):
    done, refused = 0, []
    for obj in queryset:
        try:
            call(obj)
            done += 1
        except (ValidationError, PermissionDenied) as exc:
            refused.append(_("Not done for #%(id)s: %(why)s") % {"id": obj.pk, "why": _refusal(exc)})
    if done:
        modeladmin.message_user(request, _("%(what)s: %(n)d done.") % {"what": what, "n": done})
    for line in refused:
        modeladmin.message_user(request, line, level=messages.ERROR)


class ServiceRefusalsAsMessages:
    """A service refusing a change the form accepted: say why on the same page, not a 500."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _refusal(exc))
            return HttpResponseRedirect(request.path)


class EscalatedFilter(admin.SimpleListFilter):
    title = _("escalated")
    parameter_name = "escalated"

    def lookups(self, request, model_admin):
        return [("yes", _("escalated")), ("no", _("within SLA"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(escalated_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(escalated_at__isnull=True)
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = _("assigned")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("to me")), ("nobody", _("to nobody"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "nobody":
            return queryset.filter(assignee__isnull=True)
        return queryset


class ClusterActionForm(forms.ModelForm):
    """One resolution or assignment step from the cluster's page."""

    ACTIONS = [("", "—"), ("assign", _("assign to")), ("label", _("label: create a training/test candidate")),
               ("link_template", _("link a response template to fix")), ("duplicate", _("mark as duplicate of")),
               ("close_wont_fix", _("resolve: won't fix")), ("close_not_a_bug", _("resolve: not a bug"))]

    step = forms.ChoiceField(label=_("action"), choices=ACTIONS, required=False)
    assign_to = forms.ModelChoiceField(label=_("assign to"), queryset=get_user_model().objects.none(), required=False,
                                      help_text=_("Linguists of this cluster's locale"))
    intent = forms.CharField(label=_("correct intent"), required=False, max_length=80)
    annotated = forms.CharField(label=_("correct annotation"), required=False, max_length=2000,
                                widget=forms.TextInput(attrs={"size": 100}),
                                help_text=_("MASSIVE notation, e.g. weck mich um [time : sieben]"))
    partition = forms.ChoiceField(label=_("candidate for"), choices=[("train", _("training")), ("test", _("test"))],
                                  required=False)
    template_key = forms.CharField(label=_("response template key"), required=False, max_length=200)
    duplicate_of_cluster = forms.IntegerField(label=_("duplicate of cluster #"), required=False)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = FeedbackCluster
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            from parley.access.models import Membership

            # Who holds the resolve permission in this locale (or everywhere) through a role.
            linguists = Membership.objects.filter(
                role__group__permissions__codename="resolve_feedbackcluster",
                role__group__permissions__content_type__app_label="feedback").filter(
                locale__isnull=True) | Membership.objects.filter(
                role__group__permissions__codename="resolve_feedbackcluster",
                role__group__permissions__content_type__app_label="feedback", locale_id=self.instance.locale_id)
            self.fields["assign_to"].queryset = get_user_model().objects.filter(
                pk__in=linguists.values("user_id")).order_by("username")

    def clean(self):
        data = super().clean()
        needs = {"label": ["intent", "annotated", "partition"], "link_template": ["template_key"],
                 "duplicate": ["duplicate_of_cluster"]}
        for name in needs.get(data.get("step") or "", []):
            if not data.get(name):
                self.add_error(name, _("required for this action"))
        return data


@admin.register(FeedbackCluster)
class FeedbackClusterAdmin(ServiceRefusalsAsMessages, LocaleScopedAdmin):
    form = ClusterActionForm
    list_display = ["representative_text", "locale", "kind", "status", "priority", "event_count", "last_seen",
                    "escalated", "assignee"]
    list_filter = ["locale", "kind", "status", EscalatedFilter, MineFilter, "resolution"]
    list_select_related = ["locale", "assignee"]
    search_fields = ["normalized", "representative_text"]
    ordering = ["-priority", "-id"]
    show_full_result_count = False
    readonly_fields = ["locale", "kind", "status", "resolution", "resolution_note", "priority", "severity",
                       "event_count", "first_seen", "last_seen", "escalated_at", "assignee", "representative_text",
                       "normalized", "examples_display", "predicted_intents", "template_keys", "duplicate_of",
                       "fix_template_key", "fix_utterance"]
    fieldsets = [
        (None, {"fields": ["representative_text", "locale", "kind", "status", "resolution", "resolution_note",
                           "assignee", "priority", "event_count", "first_seen", "last_seen", "escalated_at"]}),
        (_("What users said"), {"fields": ["examples_display", "normalized", "predicted_intents", "template_keys"]}),
        (_("Resolution"), {"fields": ["duplicate_of", "fix_template_key", "fix_utterance"]}),
        (_("Act on this cluster"), {"fields": ["step", "assign_to", "intent", "annotated", "partition",
                                               "template_key", "duplicate_of_cluster", "note"]}),
    ]
    actions = ["triage", "start_review", "close_wont_fix", "close_not_a_bug", "reopen"]

    def get_fieldsets(self, request, obj=None):
        if obj is None or not self._may_act(request, obj):
            return self.fieldsets[:3]
        return self.fieldsets

    def changelist_view(self, request, extra_context=None):
        from django.db.models import Count, Q

        from .models import Kind

        open_clusters = self.get_queryset(request).exclude(status=FeedbackCluster.Status.RESOLVED)
        queues = list(open_clusters.values("locale_id", "locale__tag", "kind").annotate(
            open=Count("id"), new=Count("id", filter=Q(status=FeedbackCluster.Status.NEW)),
            escalated=Count("id", filter=Q(escalated_at__isnull=False))).order_by("locale__tag", "kind"))
        for queue in queues:
            queue["kind_label"] = Kind(queue["kind"]).label
        return super().changelist_view(request, {**(extra_context or {}), "queues": queues})

    def _may_act(self, request, obj) -> bool:
        return any(can(request.user, perm, obj) for perm in (services.PERM_TRIAGE, services.PERM_RESOLVE,
                                                               services.PERM_ASSIGN))

    # Nobody edits a cluster's fields; acting on it is a change.
    def has_change_permission(self, request, obj=None):
        if obj is None:
            return any(can(request.user, p) for p in (services.PERM_TRIAGE, services.PERM_RESOLVE))
        return self._may_act(request, obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description=_("escalated"))
    def escalated(self, obj):
        return obj.escalated_at is not None

    @admin.display(description=_("examples"))
    def examples_display(self, obj):
        if not obj.examples:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li>{} <small>({}, predicted {}, {})</small></li>",
            ((e["text"], e["signal"], e["predicted_intent"] or "—", e["occurred_at"]) for e in obj.examples)))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        step = data.get("step")
        cluster = FeedbackCluster.objects.get(pk=obj.pk)
        note = data.get("note") or ""
        if step == "assign":
            services.cluster_assign(cluster=cluster, assignee=data.get("assign_to"), actor=request.user)
        elif step == "label":
            services.cluster_label(cluster=cluster, intent_name=data["intent"], annotated=data["annotated"],
                                   partition=data["partition"], actor=request.user, note=note)
        elif step == "link_template":
            services.cluster_link_template(cluster=cluster, template_key=data["template_key"], actor=request.user,
                                           note=note)
        elif step == "duplicate":
            target = scope_queryset(FeedbackCluster.objects.all(), request.user, services.PERM_VIEW).filter(
                pk=data["duplicate_of_cluster"]).first()
            if target is None:
                raise ValidationError(_("No cluster #%(id)s in your locales.") % {"id": data["duplicate_of_cluster"]})
            services.cluster_mark_duplicate(cluster=cluster, of=target, actor=request.user, note=note)
        elif step in ("close_wont_fix", "close_not_a_bug"):
            services.cluster_close(cluster=cluster, resolution=step.removeprefix("close_"), actor=request.user,
                                   note=note)

    def save_related(self, request, form, formsets, change):
        pass

    @admin.action(description=_("Triage selected clusters (new → triaged)"))
    def triage(self, request, queryset):
        _each(self, request, queryset, _("Triaged"), lambda c: services.cluster_triage(cluster=c, actor=request.user))

    @admin.action(description=_("Start review (take unassigned ones)"))
    def start_review(self, request, queryset):
        _each(self, request, queryset, _("In review"),
              lambda c: services.cluster_review_start(cluster=c, actor=request.user))

    @admin.action(description=_("Resolve: won't fix"))
    def close_wont_fix(self, request, queryset):
        _each(self, request, queryset, _("Resolved"),
              lambda c: services.cluster_close(cluster=c, resolution=R.WONT_FIX, actor=request.user))

    @admin.action(description=_("Resolve: not a bug"))
    def close_not_a_bug(self, request, queryset):
        _each(self, request, queryset, _("Resolved"),
              lambda c: services.cluster_close(cluster=c, resolution=R.NOT_A_BUG, actor=request.user))

    @admin.action(description=_("Reopen (leads)"))
    def reopen(self, request, queryset):
        _each(self, request, queryset, _("Reopened"), lambda c: services.cluster_reopen(cluster=c, actor=request.user))

    def get_actions(self, request):
        # Admin actions normally require the model's change permission; these check per cluster.
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            return {}
        return actions


@admin.register(FeedbackEvent)
class FeedbackEventAdmin(LocaleScopedAdmin):
    list_display = ["occurred_at", "locale", "signal", "kind", "text", "predicted_intent", "confidence", "cluster"]
    list_filter = ["signal", "kind", "locale"]
    list_select_related = ["locale"]
    search_fields = ["text", "idempotency_key"]
    show_full_result_count = False
    readonly_fields = ["idempotency_key", "locale", "text", "predicted_intent", "predicted_slots", "confidence",
                       "signal", "kind", "response_template_key", "session_hash", "occurred_at", "received_at",
                       "masking", "cluster", "check_findings"]
    fields = readonly_fields
    raw_id_fields = ["cluster"]

    @admin.display(description=_("check findings"))
    def check_findings(self, obj):
        return findings_display(target=obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ParaphraseReviewForm(forms.ModelForm):
    decision = forms.ChoiceField(label=_("decision"), required=False,
                                 choices=[("", "—"), ("accept", _("accept")), ("reject", _("reject"))])
    corrected = forms.CharField(label=_("corrected annotation"), required=False, max_length=2000,
                                widget=forms.TextInput(attrs={"size": 100}),
                                help_text=_("Leave empty to accept the proposed annotation"))
    reason = forms.CharField(label=_("reason"), required=False)

    class Meta:
        model = ParaphraseCandidate
        fields = []


@admin.register(ParaphraseCandidate)
class ParaphraseCandidateAdmin(ServiceRefusalsAsMessages, LocaleScopedAdmin):
    form = ParaphraseReviewForm
    list_display = ["failed_text", "intent_name", "annotated", "support", "confidence", "locale", "status"]
    list_filter = ["status", "locale"]
    list_select_related = ["locale"]
    search_fields = ["failed_text", "intent_name"]
    ordering = ["-support", "-id"]
    readonly_fields = ["locale", "failed_text", "intent_name", "slots", "annotated", "unmapped_slots",
                       "rephrase_example", "support", "sessions_failed", "confidence", "first_seen", "last_seen",
                       "status", "utterance", "decided_by", "decided_at"]
    actions = ["accept", "reject"]

    def get_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.status == ParaphraseCandidate.Status.PENDING and self.has_change_permission(
                request, obj):
            fields += ["decision", "corrected", "reason"]
        return fields

    def has_change_permission(self, request, obj=None):
        return can(request.user, services.PERM_REVIEW_PARAPHRASE, obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        candidate = ParaphraseCandidate.objects.get(pk=obj.pk)
        if data.get("decision") == "accept":
            services.paraphrase_accept(candidate=candidate, actor=request.user, annotated=data.get("corrected") or None)
        elif data.get("decision") == "reject":
            services.paraphrase_reject(candidate=candidate, actor=request.user, reason=data.get("reason") or "")

    def save_related(self, request, form, formsets, change):
        pass

    @admin.action(description=_("Accept (proposed annotation) → submitted utterance, source mined"))
    def accept(self, request, queryset):
        _each(self, request, queryset, _("Accepted"),
              lambda c: services.paraphrase_accept(candidate=c, actor=request.user))

    @admin.action(description=_("Reject"))
    def reject(self, request, queryset):
        _each(self, request, queryset, _("Rejected"),
              lambda c: services.paraphrase_reject(candidate=c, actor=request.user))


class FeedbackSlaForm(forms.ModelForm):
    class Meta:
        model = FeedbackSla
        fields = ["locale", "hours"]

    def clean_locale(self):
        locale = self.cleaned_data.get("locale")
        if self.instance.pk:
            return self.instance.locale  # a row's locale never moves; add another row instead
        if locale is None and locales_for(self.user, "feedback.add_feedbacksla") is not ALL_LOCALES:
            # The empty locale is the default for every locale: only who may act everywhere sets it.
            raise forms.ValidationError(_("Choose one of your locales (the default for every locale is set by "
                                          "platform admins)."))
        return locale


@admin.register(FeedbackSla)
class FeedbackSlaAdmin(LocaleScopedAdmin):
    form = FeedbackSlaForm
    list_display = ["__str__", "hours"]
    fields = ["locale", "hours"]

    def get_readonly_fields(self, request, obj=None):
        return ["locale"] if obj is not None else []

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request, obj, form, change):
        locale = obj.locale if change else form.cleaned_data.get("locale")
        sla = services.sla_set(locale=locale, hours=form.cleaned_data["hours"], actor=request.user)
        obj.pk = sla.pk
