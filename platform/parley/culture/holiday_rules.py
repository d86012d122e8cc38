"""Holiday dates: the rules linguists write (fixed, Easter-relative, nth weekday, explicit), and
what the `holidays` package knows about a territory. Pure: no database.

The package is the seed (public, bank, religious, ... holidays of ~200 territories and their
subdivisions, names in several languages); linguists correct and extend it with rules of their
own. Lunar and announced holidays (Eid, Diwali, Chuseok, ...) vary by year: the package
computes or estimates some, and a linguist enters the announced dates per year.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import holidays
from dateutil.easter import EASTER_ORTHODOX, EASTER_WESTERN, easter
from django.utils.text import slugify

# The package's categories → ours. Unknown ones are observances (shown, never called public).
CATEGORY_MAP = {
    "public": "public", "bank": "bank", "school": "school", "government": "government", "optional": "optional",
    "optional_women": "optional", "half_day": "optional", "religious": "religious", "catholic": "religious",
    "christian": "religious", "islamic": "religious", "hindu": "religious", "jewish": "religious",
    "orthodox": "religious", "evangelical": "religious", "buddhist": "religious", "workday": "observance",
    "unofficial": "observance", "armed_forces": "observance",
}
RULE_PARAMS = {
    "fixed": {"month", "day"},
    "easter": {"offset", "method"},
    "nth_weekday": {"month", "weekday", "n"},
    "explicit": set(),
    "package": {"package_name"},
}


class RuleError(ValueError):
    pass


def rule_params_problem(rule: str, params) -> str | None:
    """Why `params` do not describe a date for `rule`, or None."""
    if rule not in RULE_PARAMS:
        return f"unknown rule {rule!r}; one of {', '.join(RULE_PARAMS)}"
    if not isinstance(params, dict):
        return "must be an object"
    unknown = sorted(set(params) - RULE_PARAMS[rule])
    if unknown:
        return f"unknown field(s) {', '.join(unknown)} for rule {rule}; allowed: {', '.join(sorted(RULE_PARAMS[rule]))}"

    def whole(name, low, high):
        value = params.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"{name} must be a whole number {low}–{high}"
        return None

    if rule == "fixed":
        problem = whole("month", 1, 12) or whole("day", 1, 31)
        if problem:
            return problem
        if params["day"] > (29 if params["month"] == 2 else calendar.monthrange(2001, params["month"])[1]):
            return f"month {params['month']} has no day {params['day']}"
    if rule == "easter":
        problem = whole("offset", -200, 200)
        if problem:
            return problem
        if params.get("method", "western") not in ("western", "orthodox"):
            return "method must be western or orthodox"
    if rule == "nth_weekday":
        problem = whole("month", 1, 12) or whole("weekday", 0, 6)
        if problem:
            return problem + " (weekday: 0 = Monday)" if "weekday" in problem else problem
        if params.get("n") not in (1, 2, 3, 4, 5, -1):
            return "n must be 1–5, or -1 for the last one"
    return None


def rule_date(rule: str, params: dict, year: int) -> dt.date | None:
    """The date a rule gives in `year` (None: the rule gives none that year, e.g. a 5th Monday)."""
    if rule == "fixed":
        if params["month"] == 2 and params["day"] == 29 and not calendar.isleap(year):
            return None
        return dt.date(year, params["month"], params["day"])
    if rule == "easter":
        method = EASTER_ORTHODOX if params.get("method") == "orthodox" else EASTER_WESTERN
        return easter(year, method) + dt.timedelta(days=params["offset"])
    if rule == "nth_weekday":
        days = [d for d in calendar.Calendar().itermonthdates(year, params["month"])
                if d.month == params["month"] and d.weekday() == params["weekday"]]
        n = params["n"]
        if n == -1:
            return days[-1]
        return days[n - 1] if n <= len(days) else None
    raise RuleError(f"rule {rule!r} has no computed dates")


# --- the holidays package -------------------------------------------------------------------------

@dataclass
class SeedHoliday:
    key: str
    english_name: str
    native_name: str
    category: str
    dates: set[dt.date] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    national: bool = False
    # Per date: the subdivisions the package gives it in, or absent when it gives it nationwide.
    # A school break (Germany's "Christmas Break") has one key and different dates per state.
    date_regions: dict[dt.date, set[str]] = field(default_factory=dict)
    national_dates: set[dt.date] = field(default_factory=set)

    def regions_of(self, day: dt.date) -> list[str]:
        """Where the package gives `day` ([]: nationwide)."""
        return [] if day in self.national_dates else sorted(self.date_regions.get(day, ()))


def package_supports(territory: str) -> bool:
    return bool(territory) and territory in holidays.list_supported_countries()


def _language_for(entity, language: str, territory: str) -> str | None:
    """The package's language code for a locale (de-DE → de, en-US → en_US, hi-IN → hi)."""
    supported = set(entity.supported_languages or ())
    for candidate in (f"{language}_{territory}", language):
        if candidate in supported:
            return candidate
    if entity.default_language and entity.default_language.split("_")[0] == language:
        return entity.default_language
    return None


def holiday_key(english_name: str) -> str:
    return slugify(english_name)[:120] or "holiday"


def package_subdivisions(territory: str) -> list[str]:
    return list(_package_subdivisions(territory))


@lru_cache(maxsize=256)
def _package_subdivisions(territory: str) -> tuple[str, ...]:
    """The package's data is fixed for the process: asked once per territory (a region filter asks
    on every request)."""
    if not package_supports(territory):
        return ()
    return tuple(holidays.country_holidays(territory).subdivisions)


def date_in_region(*, date_regions: list[str], holiday_regions: list[str], region: str) -> bool:
    """Whether a holiday's date is observed in `region`: a date with regions of its own (a school
    break's dates differ by state) is observed there only; one without follows its holiday
    (no regions: everywhere)."""
    if date_regions:
        return region in date_regions
    return not holiday_regions or region in holiday_regions


def package_subdivision_aliases(territory: str) -> dict[str, str]:
    """The package's other names of subdivisions (Bayern → BY), per territory."""
    return dict(_package_subdivision_aliases(territory))


@lru_cache(maxsize=256)
def _package_subdivision_aliases(territory: str) -> tuple[tuple[str, str], ...]:
    if not package_supports(territory):
        return ()
    return tuple((getattr(holidays.country_holidays(territory), "subdivisions_aliases", None) or {}).items())


def region_resolve(region: str, known: list[str], aliases: dict[str, str] | None = None) -> str | None:
    """The subdivision code `region` names among `known`: the code itself (BY), its ISO 3166-2
    form (DE-BY), a name the package knows it by (Bayern), any of them in another case; None
    when it names none."""
    if region in known:
        return region
    for alias, code in (aliases or {}).items():
        if alias.casefold() == region.strip().casefold() and code in known:
            return code
    wanted = region.strip().upper()
    by_upper = {code.upper(): code for code in known}
    if wanted in by_upper:
        return by_upper[wanted]
    if "-" in wanted:
        return by_upper.get(wanted.split("-", 1)[1])
    return None


def package_holidays(*, territory: str, language: str, years: list[int], subdivisions: bool = True
                     ) -> tuple[dict[str, SeedHoliday], dict]:
    """What the package knows about a territory's holidays in `years`, by key.

    Returns (holidays by key, facts: native language used or None, subdivisions, categories).
    A holiday found only in some subdivisions carries them as regions; one found nationally has none.
    """
    base = holidays.country_holidays(territory)
    native_language = _language_for(base, language, territory)
    english = "en_US" if "en_US" in (base.supported_languages or ()) else base.default_language
    categories = list(base.supported_categories or ("public",))
    found: dict[str, SeedHoliday] = {}

    def collect(subdiv: str | None):
        for category in categories:
            kwargs = {"years": years, "categories": (category,)}
            if subdiv:
                kwargs["subdiv"] = subdiv
            english_names = holidays.country_holidays(territory, language=english, **kwargs)
            native_names = (holidays.country_holidays(territory, language=native_language, **kwargs)
                            if native_language else None)
            for day in sorted(english_names):
                names = english_names.get_list(day)
                natives = native_names.get_list(day) if native_names is not None else []
                for i, name in enumerate(names):
                    key = holiday_key(name)
                    native = natives[i] if i < len(natives) else ""
                    item = found.get(key)
                    if item is None:
                        item = found[key] = SeedHoliday(key=key, english_name=name, native_name=native,
                                                        category=CATEGORY_MAP.get(category, "observance"))
                    item.dates.add(day)
                    if subdiv is None:
                        item.national = True
                        item.national_dates.add(day)
                    else:
                        item.regions.add(subdiv)
                        item.date_regions.setdefault(day, set()).add(subdiv)

    collect(None)
    subs = list(base.subdivisions) if subdivisions else []
    for subdiv in subs:
        collect(subdiv)
    for item in found.values():
        if item.national:
            item.regions = set()
    return found, {"native_language": native_language, "subdivisions": subs, "categories": categories}
