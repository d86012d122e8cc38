"""Locale reads: tag resolution through aliases, and fallback chains."""
from __future__ import annotations

from django.db.models import QuerySet

from . import cldr
from .models import Locale, LocaleAlias


class UnknownLocale(LookupError):
    pass


class FallbackCycle(ValueError):
    pass


def locale_resolve(tag: str) -> Locale:
    """A registered locale for `tag`: a source alias first (sl-SL → sl-SI), then the canonical tag."""
    raw = (tag or "").strip().replace("_", "-")
    alias = LocaleAlias.objects.select_related("locale").filter(tag_key=raw.lower()).first()
    if alias is not None:
        return alias.locale
    try:
        canonical = cldr.canonical_tag(raw)
    except cldr.InvalidTag as exc:
        raise UnknownLocale(str(exc)) from None
    locale = Locale.objects.filter(tag=canonical).first()
    if locale is None:
        raise UnknownLocale(f"{tag!r} is not a registered locale or alias")
    return locale


def locale_alias_problem(*, locale: Locale, tag: str) -> str | None:
    """Why `tag` cannot become an alias of `locale`, or None."""
    key = tag.strip().replace("_", "-").lower()
    existing = LocaleAlias.objects.filter(tag_key=key).select_related("locale").first()
    if existing and existing.locale_id != locale.pk:
        return f"{tag} is already an alias of {existing.locale.tag}"
    if Locale.objects.filter(tag__iexact=key).exclude(pk=locale.pk).exists():
        return f"{tag} is the canonical tag of another locale"
    return None


def locale_export_tag(*, locale: Locale, source: str) -> str:
    """The tag a source uses for this locale (MASSIVE writes sl-SL), else the canonical tag."""
    alias = locale.aliases.filter(source=source).first()
    return alias.tag if alias else locale.tag


def locale_fallback_chain(*, locale: Locale) -> list[str]:
    """Tags from the locale up to the root 'und': explicit parents first, else CLDR parent rules.

    Ancestors need not be registered (es-419 may be a CLDR step only). Raises FallbackCycle if
    explicit parents loop.
    """
    explicit = dict(Locale.objects.filter(parent__isnull=False).values_list("tag", "parent__tag"))
    chain = [locale.tag]
    current = locale.tag
    while current != cldr.ROOT_TAG:
        current = explicit.get(current) or cldr.cldr_parent(current)
        if current in chain:
            raise FallbackCycle(f"fallback chain of {locale.tag} loops: {' → '.join(chain + [current])}")
        chain.append(current)
    return chain


def locale_list() -> QuerySet[Locale]:
    return Locale.objects.all()
