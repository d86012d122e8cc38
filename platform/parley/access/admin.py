from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from parley.events.models import Event
from parley.runs.kinds import run_again_refusal
from parley.runs.models import TaskRun
from parley.runs.services import task_run_again
from parley.runs.workers import waiting_reason

from .admin_scoping import LocaleScopedAdmin, ReadOnlyAdmin
from .models import ApiToken, Membership, Role
from .scopes import SCOPES
from .scoping import can, locale_tags_for
from .selectors import token_unusable_scopes
from .services import (access_changed, membership_grant, membership_revoke, token_create, token_mint_problems,
                       token_revoke)

User = get_user_model()

# Permissions come from roles; raw groups would be a second, unscoped way to grant them.
admin.site.unregister(Group)
admin.site.unregister(User)


class PlatformAdminOnly(admin.ModelAdmin):
    """Objects without a locale (users, roles, tokens): platform admins only."""

    def _perm(self, action):
        return f"{self.model._meta.app_label}.{action}_{self.model._meta.model_name}"

    def has_view_permission(self, request, obj=None):
        return _everywhere(request, self._perm("view"))

    def has_change_permission(self, request, obj=None):
        return _everywhere(request, self._perm("change"))

    def has_add_permission(self, request):
        return _everywhere(request, self._perm("add"))

    def has_delete_permission(self, request, obj=None):
        return _everywhere(request, self._perm("delete"))

    def has_module_permission(self, request):
        return _everywhere(request, self._perm("view"))


def _everywhere(request, perm):
    return locale_tags_for(request.user, perm) is None and can(request.user, perm)


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    fields = ["role", "locale", "proficiency"]
    extra = 1


@admin.register(User)
class UserAdmin(PlatformAdminOnly, DjangoUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "email", "is_active", "roles", "last_login"]
    list_filter = ["is_active", "memberships__role"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name", "email"]}),
        (_("Status"), {"fields": ["is_active", "is_superuser", "last_login", "date_joined"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return ", ".join(sorted({str(m.role) + (f" ({m.locale.tag})" if m.locale_id else "")
                                 for m in obj.memberships.all()}))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__role", "memberships__locale")

    # Active and superuser flags decide what a user's tokens may do: their cached grants go.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        access_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        access_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        access_changed()

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        # Grants and revocations go through services so each leaves an event row.
        formset.save(commit=False)  # sorts the rows into new/changed/deleted without writing
        for obj in formset.deleted_objects:
            membership_revoke(membership=obj, actor=request.user)
        for obj, _changed in formset.changed_objects:
            original = Membership.objects.get(pk=obj.pk)
            if (original.role_id, original.locale_id) != (obj.role_id, obj.locale_id):
                membership_revoke(membership=original, actor=request.user)
            membership_grant(user=form.instance, role=obj.role, locale=obj.locale, proficiency=obj.proficiency,
                             actor=request.user)
        for obj in formset.new_objects:
            membership_grant(user=form.instance, role=obj.role, locale=obj.locale, proficiency=obj.proficiency,
                             actor=request.user)


@admin.register(Role)
class RoleAdmin(PlatformAdminOnly):
    list_display = ["name", "slug", "grants_admin_site", "member_count"]
    fields = ["name", "slug", "description", "grants_admin_site", "permissions"]
    readonly_fields = ["permissions"]

    @admin.display(description=_("members"))
    def member_count(self, obj):
        return obj.memberships.values("user").distinct().count()

    @admin.display(description=_("permissions"))
    def permissions(self, obj):
        return ", ".join(sorted(f"{p.content_type.app_label}.{p.codename}"
                                for p in obj.group.permissions.select_related("content_type")))


class ApiTokenAddForm(forms.ModelForm):
    creator = None  # the admin's user, set by ApiTokenAdmin.get_form
    scopes = forms.MultipleChoiceField(choices=[(k, f"{k} — {v}") for k, v in SCOPES.items()],
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiToken
        fields = ["name", "user", "scopes", "locales", "expires_at"]

    def clean(self):
        # The service refuses a token granting more than its creator holds; say so on the form.
        data = super().clean()
        if self.creator is not None and data.get("user") and data.get("scopes"):
            problems = token_mint_problems(creator=self.creator, user=data["user"], scopes=data["scopes"],
                                           locales=data.get("locales") or [], expires_at=data.get("expires_at"))
            for field, reason in problems.items():
                self.add_error(field, reason)
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(PlatformAdminOnly):
    list_display = ["name", "prefix", "user", "scope_list", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    actions = ["revoke"]
    filter_horizontal = ["locales"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            form = super().get_form(request, obj, **{**kwargs, "form": ApiTokenAddForm})
            form.creator = request.user
            return form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["name", "user", "prefix", "scopes", "unusable_scopes", "locales", "expires_at", "last_used_at",
                "revoked_at", "created_by", "created_at"]

    @admin.display(description=_("scopes its user cannot use"))
    def unusable_scopes(self, obj):
        return ", ".join(token_unusable_scopes(token=obj)) or "—"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "user", "scopes", "locales", "expires_at"]
        return self.get_readonly_fields(request, obj)

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    def save_model(self, request, obj, form, change):
        if change:
            return  # tokens are immutable; revoke and create a new one
        token, plaintext = token_create(
            user=form.cleaned_data["user"], name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
            locales=form.cleaned_data.get("locales") or [], expires_at=form.cleaned_data.get("expires_at"),
            actor=request.user,
        )
        obj.pk, obj.prefix = token.pk, token.prefix
        self.message_user(request, _("Token created. Copy it now, it will not be shown again: %(t)s") % {"t": plaintext},
                          level=messages.WARNING)

    def save_related(self, request, form, formsets, change):
        pass  # locales were set by token_create

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        for token in queryset:
            token_revoke(token=token, actor=request.user)
        self.message_user(request, _("%(n)d token(s) revoked.") % {"n": queryset.count()})

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the event log keeps referring to tokens


class ReadOnlyLogAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Event log and task runs: read-only, filtered to the user's locales (by tag)."""

    def _view_perm(self):
        return f"{self.model._meta.app_label}.view_{self.model._meta.model_name}"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        tags = locale_tags_for(request.user, self._view_perm())
        return qs if tags is None else qs.filter(locale_tag__in=tags)

    def has_view_permission(self, request, obj=None):
        if not can(request.user, self._view_perm()):
            return False
        if obj is None:
            return True
        tags = locale_tags_for(request.user, self._view_perm())
        return tags is None or obj.locale_tag in tags

    def has_module_permission(self, request):
        return can(request.user, self._view_perm())


@admin.register(Event)
class EventAdmin(ReadOnlyLogAdmin):
    list_display = ["created_at", "actor_label", "verb", "target_repr", "locale_tag"]
    list_filter = ["verb", "target_type"]
    search_fields = ["verb", "target_repr", "actor_label", "locale_tag"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(TaskRun)
class TaskRunAdmin(ReadOnlyLogAdmin):
    list_display = ["id", "kind", "status", "waiting", "locale_tag", "done", "total", "created_at", "finished_at"]

    actions = ["run_again"]

    @admin.display(description=_("waiting"))
    def waiting(self, obj):
        return waiting_reason(run=obj)
    list_filter = ["status", "kind"]
    search_fields = ["kind", "locale_tag"]

    @admin.action(description=_("Run the selected failed runs again"))
    def run_again(self, request, queryset):
        from django.core.exceptions import ValidationError

        from .scoping import Actor

        actor = Actor(user=request.user)
        for run in queryset:
            refusal = run_again_refusal(run=run, actor=actor)
            if refusal:
                self.message_user(request, f"{run}: {refusal}", messages.ERROR)
                continue
            try:
                task_run_again(run=run, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{run}: {'; '.join(exc.messages)}", messages.ERROR)
                continue
            self.message_user(request, _("%(run)s queued again.") % {"run": run}, messages.SUCCESS)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin, LocaleScopedAdmin):
    """Leads see who works on their locales; platform admins grant roles on the user page."""

    list_display = ["user", "role", "locale", "proficiency", "created_at"]
    list_filter = ["role", "proficiency"]
    search_fields = ["user__username", "locale__tag"]
