"""Locale reads: tag resolution through aliases, and fallback chains."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db.models import Q, QuerySet

from parley.config.generations import GenerationMemo, values_copied

from . import cldr
from .models import Locale, LocaleAlias

# Bumped by every locale service: tags, aliases, parents and statuses are read on every request.
LOCALES_GENERATION = "locales"
_registry_memo = GenerationMemo(LOCALES_GENERATION, size=1)


class UnknownLocale(LookupError):
    pass


class FallbackCycle(ValueError):
    pass


@dataclass(frozen=True)
class _Registry:
    """Every locale's row, the alias keys and the explicit parents, as one process keeps them."""

    fields: tuple[str, ...]
    rows: dict[str, tuple]  # tag → values in `fields` order
    aliases: dict[str, str]  # alias key (lower-case) → tag
    parents: dict[str, str]  # tag → explicit parent's tag

    def locale(self, tag: str) -> Locale | None:
        values = self.rows.get(tag)
        # A fresh instance, with fresh lists (plural categories, overrides), each time: callers
        # may change theirs without touching the copy.
        return None if values is None else Locale.from_db("default", self.fields, values_copied(values))


def _registry_load() -> _Registry:
    fields = tuple(f.attname for f in Locale._meta.concrete_fields)
    rows = {row[fields.index("tag")]: row for row in Locale.objects.values_list(*fields)}
    by_id = {row[fields.index("id")]: tag for tag, row in rows.items()}
    parent_at = fields.index("parent_id")
    return _Registry(fields=fields, rows=rows,
                     aliases=dict(LocaleAlias.objects.values_list("tag_key", "locale__tag")),
                     parents={tag: by_id[row[parent_at]] for tag, row in rows.items() if row[parent_at]})


def _registry() -> _Registry | None:
    """This process's copy; None where it may not be used (inside a transaction, which must see
    its own rows): then the narrow queries below run instead of loading every locale."""
    return _registry_memo.get(None, _registry_load, unkept=lambda: None)


def locale_resolve(tag: str) -> Locale:
    """A registered locale for `tag`: a source alias first (sl-SL → sl-SI), then the canonical tag."""
    raw = (tag or "").strip().replace("_", "-")
    registry = _registry()
    if registry is not None:
        known = registry.aliases.get(raw.lower())
        if known is None:
            try:
                known = cldr.canonical_tag(raw)
            except cldr.InvalidTag:
                known = None
        found = registry.locale(known) if known else None
        if found is not None:
            return found
    # Not in this process's copy: a locale or alias created since (or this transaction's own).
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


def locales_of_language(*, language: str) -> list[Locale]:
    """The registered locales of one language (a bare language subtag, as `cldr.parse_tag` gives
    it), by tag: by their own tag's language or by an alias's. nb-NO is Norwegian Bokmål, but its
    alias no-NO (the pack's "Norwegian macrolanguage code") says it is what `no` means here;
    langcodes keeps `no` and `nb` apart since CLDR's 2021 change, so no rule of its maps one to
    the other."""
    tags = set(Locale.objects.filter(language=language).values_list("tag", flat=True))
    key = language.lower()
    aliases = LocaleAlias.objects.filter(Q(tag_key=key) | Q(tag_key__startswith=f"{key}-"))
    for alias, tag in aliases.values_list("tag", "locale__tag"):
        try:
            if cldr.parse_tag(alias).language == language:
                tags.add(tag)
        except cldr.InvalidTag:
            continue
    return list(Locale.objects.filter(tag__in=tags).order_by("tag"))


def locale_unregistered(tag: str) -> Locale:
    """An unsaved Locale with the CLDR facts `locale_create` would register for `tag`: what a dry
    run checks rows of a locale it would create against, so every question asked of a Locale
    (`writes_without_spaces`, ...) gets the answer registering it would give. Raises
    cldr.InvalidTag for a tag that is not BCP 47."""
    return Locale(**asdict(cldr.locale_facts(cldr.canonical_tag(tag))))


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
    registry = _registry()
    explicit = registry.parents if registry is not None else dict(
        Locale.objects.filter(parent__isnull=False).values_list("tag", "parent__tag"))
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
