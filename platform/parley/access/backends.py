from django.contrib.auth.backends import ModelBackend

from .scoping import can, user_permissions


class LocaleScopedRoleBackend(ModelBackend):
    """Password login as usual; permissions from role memberships, checked per locale for objects.

    Django's own user/group permissions are deliberately not consulted: every grant is a role in
    a locale, so the admin and the API answer the same question the same way.
    """

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        return user_permissions(user_obj)

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active:
            return False
        if obj is None:
            return perm in self.get_all_permissions(user_obj)
        return can(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        return any(p.startswith(f"{app_label}.") for p in self.get_all_permissions(user_obj))
