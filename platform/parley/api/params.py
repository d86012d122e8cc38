"""Query parameters every API shares, and the bounds of integer fields."""
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from parley.access.scoping import actor_of
from parley.locales.models import Locale
from parley.locales.selectors import UnknownLocale, locale_resolve

# Bounds for integer fields and parameters: a larger value would overflow its PostgreSQL column
# (a database error, so a 500) instead of being refused as invalid input.
INTEGER_MAX = 2 ** 31 - 1  # integer / PositiveIntegerField columns
ID_MAX = 2 ** 63 - 1  # BigAutoField ids


def locale_param(request, perm: str) -> Locale:
    """The `?locale=` tag or alias, which the caller must hold `perm` in.

    Unknown and out-of-scope locales answer the same 404, so a caller cannot probe which exist.
    """
    tag = request.query_params.get("locale")
    if not tag:
        raise ValidationError({"locale": ["required"]})
    try:
        locale = locale_resolve(tag)
    except UnknownLocale:
        raise NotFound(f"No locale {tag!r}.") from None
    if not actor_of(request).can(perm, locale_id=locale.pk):
        raise NotFound(f"No locale {tag!r}.")
    return locale


def everywhere(actor, perm: str) -> bool:
    """Global objects (intents, slot types, concepts): the permission in every locale, and a token
    not limited to some locales."""
    return actor.locale_tags(perm) is None and actor.can(perm)


def require_everywhere(request, perm: str, what: str) -> None:
    if not everywhere(actor_of(request), perm):
        raise PermissionDenied(f"Only platform admins {what}: it is shared by every locale.")


def locale_for_write(request, tag, perm: str, field: str = "locale") -> Locale:
    """The locale a new object goes in; unknown and out-of-scope read alike (no probing)."""
    actor = actor_of(request)
    if not actor.can(perm):
        raise PermissionDenied("Your roles do not allow this change in any locale.")
    try:
        locale = locale_resolve(tag or "")
    except UnknownLocale:
        locale = None
    if locale is None or not actor.can(perm, locale_id=locale.pk):
        raise ValidationError({field: [f"{tag!r} is not one of your locales"]})
    return locale
