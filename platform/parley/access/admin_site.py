from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _


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

    def has_permission(self, request):
        # Linguists and leads reach the admin through their roles, not a hand-set is_staff flag.
        from .selectors import user_may_use_admin

        return request.user.is_active and user_may_use_admin(user=request.user)
