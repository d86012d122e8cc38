"""Test data in one place. Everything goes through the services, as the product does."""
import itertools

from django.contrib.auth import get_user_model

from parley.access.models import Role
from parley.access.services import membership_grant, token_create
from parley.locales.models import Locale
from parley.locales.services import locale_alias_set, locale_create

_counter = itertools.count(1)


def locale(tag: str, **kwargs) -> Locale:
    existing = Locale.objects.filter(tag=tag).first()
    return existing or locale_create(tag=tag, actor="test", **kwargs)


def alias(loc: Locale, tag: str, source: str = "massive"):
    return locale_alias_set(locale=loc, tag=tag, source=source, actor="test")


def user(username: str | None = None, *, superuser: bool = False, password: str = "pw-test-1234", **fields):
    User = get_user_model()
    name = username or f"user{next(_counter)}"
    u = User.objects.create_user(username=name, password=password, is_superuser=superuser, **fields)
    return u


def member(role_slug: str, loc: Locale | None = None, *, username: str | None = None, proficiency: str = ""):
    """A new user holding `role_slug` in `loc` (or in every locale)."""
    u = user(username)
    membership_grant(user=u, role=Role.objects.get(slug=role_slug), locale=loc, proficiency=proficiency, actor="test")
    return u


def token(u, scopes=("locales:read",), locales=(), **kwargs):
    """(ApiToken, plaintext)."""
    return token_create(user=u, name=f"token{next(_counter)}", scopes=list(scopes), locales=list(locales),
                        actor="test", **kwargs)
