from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    default = True
    name = "parley.access"
    verbose_name = _("Access")

    def ready(self):
        # Roles are reference data tied to permissions, which Django itself (re)creates after
        # every migrate and every test-database flush; seeding them at the same moment keeps the
        # default roles present wherever permissions are. This is seeding, not a model side effect.
        from .roles import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="parley.access.roles_sync")


class ParleyAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "parley.access.admin_site.ParleyAdminSite"
