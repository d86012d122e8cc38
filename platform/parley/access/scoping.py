"""Locale scoping: which locales an actor may act on for a permission.

Every read and write in the API and the admin goes through here. Permissions come only from
role memberships (and superuser status); a token narrows its user's reach by scope and locale.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Model, QuerySet


class _AllLocales:
    """Every locale, including ones registered later."""

    def __repr__(self) -> str:
        return "ALL_LOCALES"

    def __contains__(self, item) -> bool:
        return True


ALL_LOCALES = _AllLocales()
Scope = _AllLocales | frozenset  # locale ids


def role_scopes(user) -> dict[str, Scope]:
    """Permission → the locale ids (or ALL_LOCALES) the user's role memberships give it."""
    cached = getattr(user, "_parley_role_scopes", None)
    if cached is not None:
        return cached
    from .models import Membership

    found: dict[str, set] = defaultdict(set)
    everywhere: set[str] = set()
    rows = Membership.objects.filter(user_id=user.pk, role__group__permissions__isnull=False).values_list(
        "locale_id", "role__group__permissions__content_type__app_label", "role__group__permissions__codename"
    )
    for locale_id, app_label, codename in rows:
        perm = f"{app_label}.{codename}"
        if locale_id is None:
            everywhere.add(perm)
        else:
            found[perm].add(locale_id)
    scopes: dict[str, Scope] = {perm: frozenset(ids) for perm, ids in found.items()}
    scopes.update({perm: ALL_LOCALES for perm in everywhere})
    user._parley_role_scopes = scopes
    return scopes


def forget_cached_scopes(user) -> None:
    """Called by services that change memberships, so the same request sees the change."""
    if hasattr(user, "_parley_role_scopes"):
        del user._parley_role_scopes


def user_permissions(user) -> set[str]:
    if not user.is_active or user.is_anonymous:
        return set()
    if user.is_superuser:
        from django.contrib.auth.models import Permission

        return {f"{ct}.{code}" for ct, code in Permission.objects.values_list("content_type__app_label", "codename")}
    return set(role_scopes(user))


def locales_for(user, perm: str, token=None) -> Scope:
    """The locale ids where `user` (through `token`, if any) holds `perm`."""
    if user is None or not user.is_active or user.is_anonymous:
        return frozenset()
    scope: Scope = ALL_LOCALES if user.is_superuser else role_scopes(user).get(perm, frozenset())
    if token is not None:
        limit = token_locale_ids(token)
        if limit is not None:
            scope = limit if scope is ALL_LOCALES else scope & limit
    return scope


def token_locale_ids(token) -> frozenset | None:
    cached = getattr(token, "_parley_locale_ids", "unset")
    if cached == "unset":
        ids = frozenset(token.locales.values_list("pk", flat=True))
        cached = ids or None
        token._parley_locale_ids = cached
    return cached


def locale_id_of(obj: Model):
    """The locale id an object belongs to, following the model's `locale_path`."""
    path = getattr(type(obj), "locale_path", None)
    if path is None:
        return None
    if path == "":
        return obj.pk
    current = obj
    parts = path.split("__")
    for part in parts[:-1]:
        current = getattr(current, part)
        if current is None:
            return None
    return getattr(current, f"{parts[-1]}_id")


def scope_queryset(qs: QuerySet, user, perm: str, token=None) -> QuerySet:
    """Filter to objects in locales where the actor holds `perm` (none if the model has no locale)."""
    scope = locales_for(user, perm, token)
    if scope is ALL_LOCALES:
        return qs
    path = getattr(qs.model, "locale_path", None)
    if path is None:
        return qs.none()
    field = "pk" if path == "" else f"{path}_id"
    return qs.filter(**{f"{field}__in": scope})


def can(user, perm: str, obj: Model | None = None, *, locale_id=None, token=None) -> bool:
    """Does the actor hold `perm` for this object (or locale id), or anywhere if neither is given?"""
    scope = locales_for(user, perm, token)
    if obj is None and locale_id is None:
        return scope is ALL_LOCALES or bool(scope)
    if obj is not None:
        if getattr(type(obj), "locale_path", None) is None:
            # Objects with no locale (tokens, roles) need the permission everywhere.
            return scope is ALL_LOCALES
        locale_id = locale_id_of(obj)
    if locale_id is None:
        return scope is ALL_LOCALES
    return locale_id in scope


def locale_tags_for(user, perm: str, token=None) -> set[str] | None:
    """Tags instead of ids (the event log and task runs store tags); None means every locale."""
    scope = locales_for(user, perm, token)
    if scope is ALL_LOCALES:
        return None
    from parley.locales.models import Locale

    return set(Locale.objects.filter(pk__in=scope).values_list("tag", flat=True))


@dataclass
class Actor:
    """The user behind a request and the token it came with, if any."""

    user: object
    token: object | None = None

    def can(self, perm: str, obj: Model | None = None, *, locale_id=None) -> bool:
        return can(self.user, perm, obj, locale_id=locale_id, token=self.token)

    def scope(self, qs: QuerySet, perm: str) -> QuerySet:
        return scope_queryset(qs, self.user, perm, self.token)

    def locale_tags(self, perm: str) -> set[str] | None:
        return locale_tags_for(self.user, perm, self.token)


def actor_of(request) -> Actor:
    from .models import ApiToken

    token = request.auth if isinstance(getattr(request, "auth", None), ApiToken) else None
    return Actor(user=request.user, token=token)


