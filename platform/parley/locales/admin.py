from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from parley.access.admin_scoping import LocaleScopedAdmin
from parley.access.scoping import can
from parley.config.generations import AdminDeleteBumps

from . import cldr
from .models import Locale, LocaleAlias
from .selectors import LOCALES_GENERATION, FallbackCycle, locale_alias_problem, locale_fallback_chain
from .services import locale_alias_set, locale_create, locale_parent_set, locale_status_change, locale_update


class LocaleAliasInline(admin.TabularInline):
    model = LocaleAlias
    fields = ["tag", "source", "note"]
    readonly_fields = ["tag", "source", "note"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


def _status_action(status):
    def move(modeladmin, request, queryset):
        moved, refused = 0, []
        for locale in queryset:
            if not can(request.user, "locales.change_locale", locale):
                refused.append(_("Not moved: %(tag)s is not in your locales.") % {"tag": locale.tag})
                continue
            try:
                locale_status_change(locale=locale, status=status, actor=request.user, reason="admin action")
                moved += 1
            except ValidationError as exc:
                refused.append(_("Not moved: %(tag)s: %(why)s") % {"tag": locale.tag, "why": "; ".join(exc.messages)})
        if moved:
            modeladmin.message_user(request, _("%(n)d locale(s) moved to %(s)s.") % {"n": moved, "s": status})
        for line in refused:
            modeladmin.message_user(request, line, level=messages.ERROR)

    move.__name__ = f"move_to_{status}"
    move.short_description = _("Move selected locales to “%(status)s”") % {"status": Locale.Status(status).label}
    move.allowed_permissions = ("change",)
    return move


class LocaleAdminForm(forms.ModelForm):
    class Meta:
        model = Locale
        fields = "__all__"

    def clean_tag(self):
        if self.instance.pk is not None:
            return self.instance.tag
        try:
            tag = cldr.canonical_tag(self.cleaned_data["tag"])
        except cldr.InvalidTag as exc:
            raise forms.ValidationError(str(exc)) from None
        if Locale.objects.filter(tag=tag).exists() or LocaleAlias.objects.filter(tag_key=tag.lower()).exists():
            raise forms.ValidationError(_("%(tag)s is already registered (or an alias).") % {"tag": tag})
        return tag

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent is None or self.instance.pk is None:
            return parent
        # The parent's own chain (explicit parents and CLDR rules) must not come back here.
        try:
            chain = locale_fallback_chain(locale=parent)
        except FallbackCycle as exc:
            raise forms.ValidationError(str(exc)) from None
        if self.instance.tag in chain:
            raise forms.ValidationError(_("%(tag)s would make the fallback chain loop: %(chain)s") % {
                "tag": parent.tag, "chain": " → ".join([self.instance.tag, *chain])})
        return parent


class LocaleAddForm(LocaleAdminForm):
    class Meta:
        model = Locale
        fields = ["tag", "parent"]


@admin.register(Locale)
class LocaleAdmin(LocaleScopedAdmin):
    form = LocaleAdminForm
    list_display = ["tag", "english_name", "autonym", "status", "direction", "script", "speaker_population"]
    list_filter = ["status", "direction", "script", "calendar"]
    search_fields = ["tag", "english_name", "autonym", "aliases__tag"]
    list_per_page = 100
    show_full_result_count = False  # no COUNT(*) over 1,000+ rows on every page
    readonly_fields = ["tag", "language", "territory", "variant", "status", "fallback_chain", "overridden_fields",
                       "pack_source", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["tag", "status", "english_name", "autonym", "parent", "fallback_chain"]}),
        (_("CLDR facts (edits become overrides)"), {"fields": [
            "language", "script", "territory", "variant", "direction", "plural_cardinal", "plural_ordinal",
            "first_day_of_week", "calendar", "speaker_population", "overridden_fields",
        ]}),
        (_("Provenance"), {"fields": ["pack_source", "created_at", "updated_at"]}),
    ]
    inlines = [LocaleAliasInline]
    actions = [_status_action(s) for s in Locale.Status.values]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = LocaleAddForm  # names and facts come from CLDR; edit them afterwards
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["tag", "parent"]})]
        return self.fieldsets

    @admin.display(description=_("fallback chain"))
    def fallback_chain(self, obj):
        try:
            return " → ".join(locale_fallback_chain(locale=obj))
        except FallbackCycle as exc:
            return str(exc)

    def save_model(self, request, obj, form, change):
        # Writes go through services so every change leaves an event row.
        if not change:
            created = locale_create(tag=form.cleaned_data["tag"], actor=request.user)
            if form.cleaned_data.get("parent"):
                locale_parent_set(locale=created, parent=form.cleaned_data["parent"], actor=request.user)
            obj.pk = created.pk
            return
        original = Locale.objects.get(pk=obj.pk)
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name != "parent"}
        if changes:
            for name in changes:
                setattr(obj, name, getattr(original, name))
            locale_update(locale=original, actor=request.user, **changes)
        if "parent" in form.changed_data:
            locale_parent_set(locale=original, parent=form.cleaned_data["parent"], actor=request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # locales are retired, never deleted: data and events refer to them


class LocaleAliasForm(forms.ModelForm):
    class Meta:
        model = LocaleAlias
        fields = ["tag", "locale", "source", "note"]

    def clean(self):
        data = super().clean()
        if data.get("tag") and data.get("locale"):
            problem = locale_alias_problem(locale=data["locale"], tag=data["tag"])
            if problem:
                self.add_error("tag", problem)
        return data


@admin.register(LocaleAlias)
class LocaleAliasAdmin(AdminDeleteBumps, LocaleScopedAdmin):
    bumps = (LOCALES_GENERATION,)
    form = LocaleAliasForm
    list_display = ["tag", "locale", "source", "note"]
    list_filter = ["source"]
    search_fields = ["tag", "locale__tag"]
    fields = ["tag", "locale", "source", "note"]

    def save_model(self, request, obj, form, change):
        alias = locale_alias_set(locale=form.cleaned_data["locale"], tag=form.cleaned_data["tag"],
                                 source=form.cleaned_data["source"], note=form.cleaned_data.get("note", ""),
                                 actor=request.user)
        obj.pk = alias.pk
