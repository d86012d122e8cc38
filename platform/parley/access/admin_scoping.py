"""The admin side of locale scoping: every changelist, form and object check by the actor's locales."""
from django.contrib import admin

from .scoping import can, scope_queryset


class ReadOnlyAdmin:
    """Records nobody edits in the admin (logs, decisions, refusals): view only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedLocaleListFilter(admin.RelatedFieldListFilter):
    """A `locale` sidebar filter offering only the locales the user may view rows of: the
    related-field filter would list every locale, naming ones the user has no access to."""

    def field_choices(self, field, request, model_admin):
        from parley.locales.models import Locale

        perm = model_admin._perm("view")
        locales = scope_queryset(Locale.objects.order_by("tag"), request.user, perm)
        return [(locale.pk, str(locale)) for locale in locales]


class LocaleScopedAdmin(admin.ModelAdmin):
    """Lists, search, filters and object pages see only objects in the user's locales.

    Foreign keys to locales offer only locales where the user may make the change, and a
    `"locale"` list filter offers only the user's locales.
    """

    def get_list_filter(self, request):
        return [("locale", ScopedLocaleListFilter) if name == "locale" else name
                for name in super().get_list_filter(request)]

    def _perm(self, action: str) -> str:
        opts = self.model._meta
        return f"{opts.app_label}.{action}_{opts.model_name}"

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request.user, self._perm("view"))

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return can(request.user, self._perm("view")) or can(request.user, self._perm("change"))
        return can(request.user, self._perm("view"), obj) or can(request.user, self._perm("change"), obj)

    def has_change_permission(self, request, obj=None):
        return can(request.user, self._perm("change"), obj)

    def has_delete_permission(self, request, obj=None):
        return can(request.user, self._perm("delete"), obj)

    def has_add_permission(self, request):
        return can(request.user, self._perm("add"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from parley.locales.models import Locale

        if db_field.related_model is Locale:
            # A locale's parent may be any locale the user can see; elsewhere the FK decides
            # where the object lives, so only locales where the user may make this change.
            perm = "locales.view_locale" if self.model is Locale else self._perm("change")
            kwargs["queryset"] = scope_queryset(Locale.objects.all(), request.user, perm)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        from parley.locales.models import Locale

        if db_field.related_model is Locale:
            kwargs["queryset"] = scope_queryset(Locale.objects.all(), request.user, self._perm("change"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ServiceRefusalsAsMessages:
    """A service may refuse a change the form accepted (a slot type in use, a default rule changed
    by a lead of one locale); the admin's transaction has rolled it back, so say why instead of
    answering 500."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        from django.contrib import messages
        from django.core.exceptions import ValidationError
        from django.http import HttpResponseRedirect

        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            return HttpResponseRedirect(request.path)
