from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def _unstorable_text(value) -> str | None:
    """What a JSON value holds that the database cannot store as text (a NUL: PostgreSQL's jsonb
    refuses it; a lone surrogate: not encodable as UTF-8), or None."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return _("a NUL character")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return _("a lone surrogate")
    return None


class SafeJSONFormField(forms.JSONField):
    """Every JSON field of the admin: nesting past Python's recursion limit, a NUL or a lone
    surrogate is a form error naming the field, never a 500 (the API refuses the same at its parser)."""

    def to_python(self, value):
        try:
            converted = super().to_python(value)
        except RecursionError:
            raise ValidationError(_("Enter a valid JSON (nested too deeply)."), code="invalid") from None
        if problem := _unstorable_text(converted):
            raise ValidationError(_("Enter JSON without %(problem)s.") % {"problem": problem}, code="invalid")
        return converted

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)


class RoleAwareAuthenticationForm(AdminAuthenticationForm):
    """Admin login through a role, with an honest message for users whose roles have no admin."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "no_admin_role": _("Your account is valid, but none of your roles uses the admin."),
    }

    def confirm_login_allowed(self, user):
        from .selectors import user_may_use_admin

        if not user.is_active:
            raise forms.ValidationError(self.error_messages["inactive"], code="inactive")
        if not user_may_use_admin(user=user):
            raise forms.ValidationError(self.error_messages["no_admin_role"], code="no_admin_role")


class ParleyAdminSite(admin.AdminSite):
    site_header = _("Parley")
    site_title = _("Parley admin")
    index_title = _("Locales, language data and who works on them")
    login_form = RoleAwareAuthenticationForm

    def register(self, model_or_iterable, admin_class=None, **options):
        # One rule for every model admin's JSON fields, so no admin form can answer a 500 for them.
        super().register(model_or_iterable, admin_class, **options)
        models_ = [model_or_iterable] if isinstance(model_or_iterable, type) else model_or_iterable
        for model in models_:
            model_admin = self._registry[model]
            model_admin.formfield_overrides = {**model_admin.formfield_overrides,
                                               models.JSONField: {"form_class": SafeJSONFormField}}

    def has_permission(self, request):
        # Linguists and leads reach the admin through their roles, not a hand-set is_staff flag.
        from .selectors import user_may_use_admin

        return request.user.is_active and user_may_use_admin(user=request.user)
