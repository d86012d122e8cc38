"""Access writes: memberships and API tokens. Each leaves an event row."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from parley.config.generations import GenerationMemo, generation_bump, values_copied
from parley.events.services import event_record

from .models import ApiToken, Membership, Role
from .scopes import SCOPE_NEEDS, SCOPES
from .scoping import ALL_LOCALES, forget_cached_scopes, locales_for, role_scopes, token_locale_ids

TOKEN_PREFIX = "prl"
# Bumped by every write that changes what a token may do: memberships, revocation, a role's
# permissions, a user's status (admin). Every process then reloads the token's grants.
ACCESS_GENERATION = "access"


def _hash(secret: str) -> str:
    # Tokens carry 256 bits of randomness, so one SHA-256 is enough (no slow KDF needed).
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def membership_grant(*, user, role: Role, locale=None, proficiency: str = "", actor) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, role=role, locale=locale, defaults={"proficiency": proficiency}
    )
    if not created and membership.proficiency != proficiency:
        membership.proficiency = proficiency
        membership.save(update_fields=["proficiency"])
    elif not created:
        return membership
    forget_cached_scopes(user)
    access_changed()
    event_record(actor=actor, verb="membership.granted", target=membership, locale=locale,
                 payload={"user": user.get_username(), "role": role.slug, "proficiency": proficiency})
    return membership


@transaction.atomic
def membership_revoke(*, membership: Membership, actor) -> None:
    user, locale = membership.user, membership.locale
    payload = {"user": user.get_username(), "role": membership.role.slug}
    membership.delete()
    forget_cached_scopes(user)
    access_changed()
    event_record(actor=actor, verb="membership.revoked", target=None, locale=locale, payload=payload)


def _validate_scopes(scopes) -> list[str]:
    if not isinstance(scopes, (list, tuple)) or not scopes:
        raise ValidationError({"scopes": "give at least one scope"})
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValidationError({"scopes": f"unknown scope(s) {unknown}; known: {sorted(SCOPES)}"})
    return sorted(set(scopes))


MINT_PERMISSION = "access.add_apitoken"


class TokenMintRefused(PermissionError):
    """The creator asked for a token granting more than it holds itself; `problems` by field."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__("A token never grants more than its creator holds: "
                         + "; ".join(f"{field}: {reason}" for field, reason in problems.items()))


def token_mint_problems(*, creator, creator_token=None, user, scopes, locales, expires_at) -> dict[str, str]:
    """Why `creator` (through `creator_token`, if it uses one) may not mint this token: {field: reason}.

    The rule: a token never grants more than its creator holds. Its scopes are within the
    creating token's scopes and backed by the creator's roles in the token's locales; its locale
    limit within the creator's; it expires no later than the creating token; and it acts as the
    creator itself, unless the creator is platform-wide (holds the permission to mint in every
    locale, through a token without a locale limit). A token acting as another user carries a
    scope only where the creator holds each of its permissions wherever that user's token would
    use it, whoever the creator is (minting everywhere is not holding everything).
    """
    reach = locales_for(creator, MINT_PERMISSION, creator_token)
    if not reach:
        return {"user": "your roles do not allow creating API tokens"}
    problems: dict[str, str] = {}
    platform_wide = reach is ALL_LOCALES
    if not platform_wide and user.pk != creator.pk:
        problems["user"] = (f"only a platform-wide admin creates tokens for other users; this one must act as "
                            f"{creator.get_username()!r}")
    wanted = frozenset(locale.pk for locale in locales)
    if not platform_wide:
        if not wanted:
            problems["locales"] = "give a locale limit: without one the token would reach every locale of its user"
        elif not wanted <= reach:
            outside = sorted(locale.tag for locale in locales if locale.pk not in reach)
            problems["locales"] = f"{outside} outside the creator's own locales"
    beyond = []
    for scope in sorted(set(scopes)):
        needs = SCOPE_NEEDS.get(scope, ())
        if creator_token is not None and scope not in creator_token.scopes:
            beyond.append(scope)
        elif needs and not any(_reaches(locales_for(creator, perm, creator_token), wanted) for perm in needs):
            beyond.append(scope)
        elif user.pk != creator.pk and not all(
                _covers(locales_for(creator, perm, creator_token), _within(locales_for(user, perm), wanted))
                for perm in needs):
            # Minting everywhere is not holding everything: a token acting as another user (a
            # superuser, say) would use that user's grants wherever the creator lacks them.
            beyond.append(scope)
    if beyond:
        problems["scopes"] = f"{beyond} beyond the creator's own"
    own_expiry = creator_token.expires_at if creator_token is not None else None
    if own_expiry is not None and (expires_at is None or expires_at > own_expiry):
        problems["expires_at"] = f"must be no later than the creating token's expiry ({own_expiry.isoformat()})"
    return problems


def _within(scope, limit: frozenset):
    """A permission held in `scope`, through a token limited to `limit` (empty: no limit)."""
    if not limit:
        return scope
    return limit if scope is ALL_LOCALES else scope & limit


def _covers(held, used) -> bool:
    """Does the creator's `held` scope include every locale where the token would use the permission?"""
    if held is ALL_LOCALES:
        return True
    return used is not ALL_LOCALES and used <= held


def _reaches(scope, wanted: frozenset) -> bool:
    """Does a permission held in `scope` reach into the locales `wanted` (empty: anywhere)?"""
    if scope is ALL_LOCALES:
        return True
    return bool(scope & wanted) if wanted else bool(scope)


@transaction.atomic
def token_create(*, user, name: str, scopes, locales=(), expires_at: datetime | None = None,
                 actor, creator_token=None) -> tuple[ApiToken, str]:
    """Create a token; returns it and the plaintext, which is never stored or shown again.

    When a user (not a script or a test) creates it, `actor` is that user and `creator_token` the
    token it used, if any: the token may not grant more than they hold (`token_mint_problems`).
    """
    if getattr(actor, "pk", None) is not None:
        problems = token_mint_problems(creator=actor, creator_token=creator_token, user=user, scopes=scopes,
                                       locales=locales, expires_at=expires_at)
        if problems:
            raise TokenMintRefused(problems)
    if not name or not name.strip():
        raise ValidationError({"name": "required"})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "must be in the future"})
    if not user.is_active:
        raise ValidationError({"user": "user is inactive"})
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{TOKEN_PREFIX}_{prefix}_{secret}"
    token = ApiToken.objects.create(
        name=name.strip(), user=user, prefix=prefix, secret_hash=_hash(plaintext),
        scopes=_validate_scopes(scopes), expires_at=expires_at,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    token.locales.set(locales)
    event_record(actor=actor, verb="token.created", target=token,
                 payload={"user": user.get_username(), "scopes": token.scopes,
                          "locales": sorted(l.tag for l in token.locales.all()),
                          "expires_at": expires_at.isoformat() if expires_at else None})
    return token, plaintext


@transaction.atomic
def token_revoke(*, token: ApiToken, actor) -> ApiToken:
    if token.revoked_at is not None:
        return token  # revoking twice is harmless
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    access_changed()
    event_record(actor=actor, verb="token.revoked", target=token, payload={"user": token.user.get_username()})
    return token


def access_changed() -> None:
    """Every process's copy of token grants is stale from here on (see config/generations.py)."""
    generation_bump(ACCESS_GENERATION)


@dataclass
class _TokenGrants:
    """What authenticating a token needs, as a process keeps it between requests: the token's
    and its user's rows, the token's locale limit and the user's role scopes."""

    token_fields: tuple
    token_values: tuple
    user_fields: tuple
    user_values: tuple
    locale_ids: frozenset | None
    role_scopes: dict
    last_used_at: datetime | None

    def objects(self) -> ApiToken:
        # New instances per request: a view may change or annotate its own without touching the copy.
        # JSON values (scopes) are lists a caller could change in place: copied.
        user = get_user_model().from_db("default", self.user_fields, values_copied(self.user_values))
        user._parley_role_scopes = dict(self.role_scopes)
        token = ApiToken.from_db("default", self.token_fields, values_copied(self.token_values))
        token.user = user
        token.last_used_at = self.last_used_at
        token._parley_locale_ids = self.locale_ids
        return token


def _token_grants_load(prefix: str) -> _TokenGrants | None:
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None:
        return None
    token_fields = tuple(f.attname for f in ApiToken._meta.concrete_fields)
    user_fields = tuple(f.attname for f in type(token.user)._meta.concrete_fields)
    return _TokenGrants(token_fields=token_fields, token_values=tuple(getattr(token, f) for f in token_fields),
                        user_fields=user_fields, user_values=tuple(getattr(token.user, f) for f in user_fields),
                        locale_ids=token_locale_ids(token), role_scopes=role_scopes(token.user),
                        last_used_at=token.last_used_at)


_token_grants = GenerationMemo(ACCESS_GENERATION)


def token_authenticate(plaintext: str) -> ApiToken:
    """Resolve a presented token or raise PermissionError with the reason to show the caller.

    The token's grants come from this process's copy while the access counter is unchanged (no
    query on the hot path); the secret is checked against the stored hash on every request.
    """
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise PermissionError("malformed API token")
    grants = _token_grants.get(parts[1], lambda: _token_grants_load(parts[1]))
    token = grants.objects() if grants is not None else None
    if token is None or not secrets.compare_digest(token.secret_hash, _hash(plaintext)):
        raise PermissionError("invalid API token")
    if token.revoked_at is not None:
        raise PermissionError("API token revoked")
    if token.is_expired:
        raise PermissionError("API token expired")
    if not token.user.is_active:
        raise PermissionError("the token's user is inactive")
    _token_touch(token, grants)
    return token


def _token_touch(token: ApiToken, grants: _TokenGrants) -> None:
    now = timezone.now()
    resolution = settings.PARLEY_TOKEN_LAST_USED_RESOLUTION_SECONDS
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= resolution:
        # No event: a use is not a change, and writing one per request would flood the log.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = grants.last_used_at = now
