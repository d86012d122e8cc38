"""What CLDR (through Babel and langcodes/language-data) knows about a locale tag.

Pure functions, no Django: the registry stores these facts as defaults a linguist may override.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import babel
import langcodes
from babel.core import get_global
from language_data.population_data import LANGUAGE_SPEAKING_POPULATION

ROOT_TAG = "und"

# CLDR's plural category order (used for display and for checking templates).
PLURAL_ORDER = ("zero", "one", "two", "few", "many", "other")

# Scripts written right to left (Unicode Bidi_Class R/AL scripts in use for languages).
RTL_SCRIPTS = frozenset({
    "Adlm", "Arab", "Aran", "Hebr", "Mand", "Mend", "Nkoo", "Rohg", "Samr", "Syrc", "Thaa", "Yezi",
})

# CLDR supplementalData calendarPreferenceData: territories whose first preference is not
# gregorian. Babel does not ship this table, so its non-gregorian rows are copied here.
DEFAULT_CALENDAR_BY_TERRITORY = {
    "AF": "persian",
    "IR": "persian",
    "SA": "islamic-umalqura",
    "TH": "buddhist",
}

# CLDR common/properties/scriptMetadata.txt, field 7 "LB letters": YES where the major languages of
# the script allow line breaks between letters, i.e. do not separate words with spaces (Han, kana,
# Thai, Lao, Khmer, Myanmar, Yi, ...). Babel does not ship that file, so its YES rows are copied here.
SCRIPTS_WITHOUT_WORD_SPACES = frozenset({
    "Ahom", "Bopo", "Hanb", "Hani", "Hans", "Hant", "Hira", "Jpan", "Kana", "Khmr", "Kits", "Lana", "Laoo",
    "Mymr", "Nshu", "Tale", "Talu", "Tang", "Tavt", "Thai", "Yiii",
})

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class InvalidTag(ValueError):
    """A string that is not a well-formed BCP 47 language tag."""


@dataclass(frozen=True)
class TagParts:
    tag: str
    language: str
    script: str = ""
    territory: str = ""
    variant: str = ""


@dataclass
class LocaleFacts:
    """Defaults for one locale, derived from CLDR. Empty strings/None mean CLDR does not say."""

    tag: str
    language: str
    script: str
    territory: str
    variant: str
    english_name: str
    autonym: str
    direction: str
    plural_cardinal: list[str] = field(default_factory=list)
    plural_ordinal: list[str] = field(default_factory=list)
    first_day_of_week: str = "mon"
    calendar: str = "gregorian"
    speaker_population: int | None = None


def parse_tag(tag: str) -> TagParts:
    """Normalize a tag's case and deprecated codes (iw→he, tl→fil, jw→jv) without guessing subtags."""
    raw = (tag or "").strip().replace("_", "-")
    if not raw or not langcodes.tag_is_valid(raw):
        raise InvalidTag(f"{tag!r} is not a valid BCP 47 language tag")
    lang = langcodes.Language.get(langcodes.standardize_tag(raw))
    if not lang.language or lang.language == ROOT_TAG:
        raise InvalidTag(f"{tag!r} has no language subtag")
    variant = "-".join(lang.variants or [])
    return TagParts(
        tag=lang.to_tag(),
        language=lang.language,
        script=lang.script or "",
        territory=lang.territory or "",
        variant=variant,
    )


def canonical_tag(tag: str) -> str:
    return parse_tag(tag).tag


def _babel_locale(parts: TagParts) -> babel.Locale | None:
    for candidate in (parts.tag, f"{parts.language}-{parts.territory}" if parts.territory else "", parts.language):
        if not candidate:
            continue
        try:
            return babel.Locale.parse(candidate, sep="-")
        except (babel.UnknownLocaleError, ValueError):
            continue
    return None


def _ordered(categories) -> list[str]:
    found = set(categories) | {"other"}  # Babel omits "other", which every locale has.
    return [c for c in PLURAL_ORDER if c in found]


@lru_cache(maxsize=4096)
def _maximized(tag: str) -> langcodes.Language:
    return langcodes.Language.get(tag).maximize()


def locale_facts(tag: str) -> LocaleFacts:
    parts = parse_tag(tag)
    lang = langcodes.Language.get(parts.tag)
    full = _maximized(parts.tag)
    script = parts.script or (full.script or "")
    territory_for_data = parts.territory or (full.territory or "")
    bl = _babel_locale(parts)
    if bl is not None:
        direction = "rtl" if bl.character_order == "right-to-left" else "ltr"
        plural_cardinal = _ordered(bl.plural_form.tags)
        plural_ordinal = _ordered(bl.ordinal_form.tags)
    else:
        direction = "rtl" if script in RTL_SCRIPTS else "ltr"
        plural_cardinal, plural_ordinal = [], []  # unknown to CLDR: a linguist must fill them in
    if script and bl is not None and (script in RTL_SCRIPTS) != (direction == "rtl"):
        # An explicit script beats the language default (e.g. pa-Arab is RTL, pa is not).
        direction = "rtl" if script in RTL_SCRIPTS else "ltr"
    try:
        week_locale = babel.Locale.parse(f"und-{territory_for_data}" if territory_for_data else "und", sep="-")
        first_day = WEEKDAYS[week_locale.first_week_day]
    except (babel.UnknownLocaleError, ValueError):
        first_day = "mon"
    population = LANGUAGE_SPEAKING_POPULATION.get(parts.tag)
    if population is None and not parts.territory:
        population = LANGUAGE_SPEAKING_POPULATION.get(parts.language)
    if population is None and parts.territory:
        population = LANGUAGE_SPEAKING_POPULATION.get(f"{parts.language}-{parts.territory}")
    english_name = lang.display_name("en")
    autonym = lang.display_name(parts.tag) if lang.has_name_data() else english_name
    return LocaleFacts(
        tag=parts.tag,
        language=parts.language,
        script=script,
        territory=parts.territory,
        variant=parts.variant,
        english_name=english_name,
        autonym=autonym,
        direction=direction,
        plural_cardinal=plural_cardinal,
        plural_ordinal=plural_ordinal,
        first_day_of_week=first_day,
        calendar=DEFAULT_CALENDAR_BY_TERRITORY.get(territory_for_data, "gregorian"),
        speaker_population=population,
    )


def script_writes_without_spaces(script: str) -> bool:
    """Whether text in this ISO 15924 script separates its words with no spaces (CLDR's LB letters)."""
    return script in SCRIPTS_WITHOUT_WORD_SPACES


@lru_cache(maxsize=1024)
def tag_script(tag: str) -> str:
    """The script a tag is written in: its own script subtag, else CLDR's likely script ("" if none).
    The registry stores the same default in `Locale.script`; this is for callers holding only a tag."""
    try:
        parts = parse_tag(tag)
    except InvalidTag:
        return ""
    return parts.script or (_maximized(parts.tag).script or "")


@lru_cache(maxsize=1)
def _parent_exceptions() -> dict[str, str]:
    return {k.replace("_", "-"): v.replace("_", "-") for k, v in get_global("parent_exceptions").items()}


def _default_script(language: str) -> str:
    return _maximized(language).script or ""


def cldr_parent(tag: str) -> str:
    """The CLDR parent locale: explicit parentLocales data, else truncation, ending at 'und'.

    Truncation that would change the script goes to root instead (CLDR's rule), so
    zh-Hant-TW → zh-Hant → und rather than into Simplified zh.
    """
    if tag == ROOT_TAG:
        raise ValueError("the root locale has no parent")
    exceptions = _parent_exceptions()
    if tag in exceptions:
        parent = exceptions[tag]
        return ROOT_TAG if parent == "root" else parent
    subtags = tag.split("-")
    if len(subtags) == 1:
        return ROOT_TAG
    if len(subtags) == 2 and len(subtags[1]) != 4:
        # language-region written in a script other than the language's default (zh-HK is
        # Traditional, pa-PK is Arabic): CLDR's parent is language-script, not the language.
        script = _maximized(tag).script or ""
        if script and script != _default_script(subtags[0]):
            return f"{subtags[0]}-{script}"
    parent = "-".join(subtags[:-1])
    parent_parts = parent.split("-")
    if len(parent_parts) == 1 and len(subtags) == 2 and len(subtags[1]) == 4:
        # Dropping an explicit script (sr-Latn → sr): only if it is the language's default.
        if subtags[1] != _default_script(subtags[0]):
            return ROOT_TAG
    return parent


def bootstrap_candidates(top: int) -> list[str]:
    """The `top` most-spoken locales by CLDR population data: languages first, then
    language–territory locales, each group by speakers (the data has ~700 languages)."""
    population = LANGUAGE_SPEAKING_POPULATION
    languages = sorted((t for t in population if "-" not in t), key=lambda t: (-population[t], t))
    regional = sorted(
        (t for t in population if t.count("-") == 1 and len(t.split("-")[1]) in (2, 3)),
        key=lambda t: (-population[t], t),
    )
    seen: list[str] = []
    known: set[str] = set()
    for raw in languages + regional:
        try:
            tag = canonical_tag(raw)
        except InvalidTag:
            continue
        if tag not in known:
            known.add(tag)
            seen.append(tag)
        if len(seen) >= top:
            break
    return seen
