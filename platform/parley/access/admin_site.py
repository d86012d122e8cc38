from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class ParleyAdminSite(admin.AdminSite):
    site_header = _("Parley")
    site_title = _("Parley admin")
    index_title = _("Locales, language data and who works on them")

    def has_permission(self, request):
        # Linguists and leads reach the admin through their roles, not a hand-set is_staff flag.
        from .selectors import user_may_use_admin

        return request.user.is_active and user_may_use_admin(user=request.user)
