from .models import ApiToken, Membership


def user_memberships(*, user):
    return Membership.objects.filter(user=user).select_related("role", "locale").order_by("role__name", "locale__tag")


def user_may_use_admin(*, user) -> bool:
    if not user.is_active:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return Membership.objects.filter(user=user, role__grants_admin_site=True).exists()


def token_list():
    return ApiToken.objects.select_related("user").prefetch_related("locales")
