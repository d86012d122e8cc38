"""Culture reads: template resolution along the fallback chain, rendering, registers, terms."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from parley.config.generations import GenerationMemo
from parley.locales.models import Locale
from parley.locales.selectors import locale_fallback_chain
from parley.nlu.selectors import SCHEMA_GENERATION

from .models import (FormalityRegister, Holiday, HolidayDate, RegisterOverride, ResponseTemplate, SensitiveTerm,
                     TemplateKey)
from .rendering import PARAMETER_TYPES, RenderError, coerce, format_pattern, time_zone_parse

# Bumped by the culture services that change what a render says (keys, texts, registers,
# overrides). A process keeps each key's approved texts and the default registers meanwhile.
CULTURE_GENERATION = "culture"
_render_memo = GenerationMemo(CULTURE_GENERATION, SCHEMA_GENERATION)


def template_key_list() -> QuerySet[TemplateKey]:
    return TemplateKey.objects.select_related("intent", "intent__scenario", "source_locale")


def template_list() -> QuerySet[ResponseTemplate]:
    return ResponseTemplate.objects.select_related("key", "key__source_locale", "locale")


def approved_templates(*, locale) -> list[dict]:
    """The locale's approved texts as a release snapshots them: key, register, whether it is the
    locale's default register, ICU text and declared parameters."""
    default = register_list().filter(locale=locale, is_default=True).values_list("code", flat=True).first() or ""
    rows = template_list().filter(locale=locale, status=ResponseTemplate.Status.APPROVED).order_by("key__key",
                                                                                                  "register")
    return [{"key": t.key.key, "register": t.register, "default_register": t.register in ("", default),
             "text": t.body, "parameters": t.key.parameters} for t in rows]


def templates_for_export(*, locale_ids=None, statuses=None) -> list[dict]:
    """Every key with its declaration and its texts (of `locale_ids`, in `statuses`; None: all),
    as a template file holds them (culture.template_files). Keys sorted, texts by locale and register."""
    texts = template_list().order_by("key__key", "locale__tag", "register")
    if locale_ids is not None:
        texts = texts.filter(locale_id__in=locale_ids)
    if statuses:
        texts = texts.filter(status__in=statuses)
    by_key: dict[int, list[dict]] = {}
    for t in texts:
        entry = {"locale": t.locale.tag, **({"register": t.register} if t.register else {}), "body": t.body,
                 "status": t.status}
        by_key.setdefault(t.key_id, []).append(entry)
    result = []
    for key in template_key_list().order_by("key"):
        item = {"key": key.key, "source_locale": key.source_locale.tag}
        if key.intent_id:
            item["intent"] = key.intent.name
        if key.description:
            item["description"] = key.description
        item["parameters"] = key.parameters
        item["texts"] = by_key.get(key.pk, [])
        result.append(item)
    return result


def register_list() -> QuerySet[FormalityRegister]:
    return FormalityRegister.objects.select_related("locale")


def register_override_list() -> QuerySet[RegisterOverride]:
    return RegisterOverride.objects.select_related("locale", "scenario", "register")


def sensitive_term_list() -> QuerySet[SensitiveTerm]:
    return SensitiveTerm.objects.select_related("locale")


def holiday_list() -> QuerySet[Holiday]:
    from django.db.models import Prefetch

    return Holiday.objects.select_related("locale").prefetch_related(
        Prefetch("dates", queryset=HolidayDate.objects.order_by("date")))


def holiday_date_list() -> QuerySet[HolidayDate]:
    return HolidayDate.objects.select_related("holiday", "holiday__locale")


class TemplateNotFound(LookupError):
    pass


@dataclass
class Rendered:
    """`locale` (= `text_locale`) is whose text was said; `format_locale` whose CLDR data formatted
    its numbers, dates and plurals: always the requested locale, so a de-AT answer from a de text
    still says "Jänner"."""

    text: str
    locale: str
    register: str
    requested_locale: str
    requested_register: str | None
    template_id: int
    fallback_chain: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def format_locale(self) -> str:
        return self.requested_locale

    def as_dict(self) -> dict:
        return {"text": self.text, "locale": self.locale, "text_locale": self.locale,
                "format_locale": self.format_locale, "register": self.register,
                "requested_locale": self.requested_locale, "requested_register": self.requested_register,
                "template_id": self.template_id, "fallback_chain": self.fallback_chain, "warnings": self.warnings}


def _defaults_load(*, tags: list[str] | None, scenario_id: int | None) -> dict[str, str]:
    registers = FormalityRegister.objects.filter(is_default=True)
    overrides = RegisterOverride.objects.filter(scenario_id=scenario_id)
    if tags is not None:
        registers, overrides = registers.filter(locale__tag__in=tags), overrides.filter(locale__tag__in=tags)
    defaults = dict(registers.values_list("locale__tag", "code"))
    if scenario_id is not None:
        defaults.update(overrides.values_list("locale__tag", "register__code"))
    return defaults


def _defaults_by_tag(*, tags: list[str], scenario_id: int | None) -> dict[str, str]:
    """Per locale tag: the register the assistant uses there when none is asked for (the
    scenario's override first, then the locale's default). Locales without registers are absent.
    Between changes a process keeps the whole table per scenario (a few rows per locale)."""
    table = _render_memo.get(("defaults", scenario_id), lambda: _defaults_load(tags=None, scenario_id=scenario_id),
                             unkept=lambda: _defaults_load(tags=tags, scenario_id=scenario_id))
    return {tag: table[tag] for tag in tags if tag in table}


@dataclass(frozen=True)
class _Approved:
    """An approved text as the render needs it (one query fetches all of a key's along a chain)."""

    pk: int
    locale_tag: str
    register: str
    body: str


def _choose(*, key_name: str, chain: list[str], locale_tag: str, register: str | None, scenario_id: int | None,
            approved: dict[tuple[str, str], _Approved]) -> tuple[_Approved, list[str]]:
    """Order: the requested register (or, none asked, the locale's default for the key's scenario)
    along the fallback chain; then each chain locale's own default register; then a text without
    register (locales without registers). A register is never swapped inside a locale before its
    ancestors were asked, so de-AT "Sie" prefers de-DE "Sie" to de-AT "du"."""
    present = [tag for tag in chain if any(t == tag for t, _r in approved)]
    defaults = _defaults_by_tag(tags=[locale_tag, *present], scenario_id=scenario_id) if approved else {}
    wanted = register if register is not None else defaults.get(locale_tag)
    candidates: list[tuple[str, str]] = []
    if wanted is not None:
        candidates += [(tag, wanted) for tag in present]
    candidates += [(tag, defaults[tag]) for tag in present if tag in defaults]
    candidates += [(tag, "") for tag in present]
    for tag, code in candidates:
        text = approved.get((tag, code))
        if text is None:
            continue
        warnings = []
        if tag != locale_tag:
            warnings.append(f"no approved {locale_tag} text for {key_name}; used {tag}")
        if wanted is not None and code != wanted:
            warnings.append(f"no approved text in register {wanted!r}; used {code or 'no register'!r}")
        return text, warnings
    raise TemplateNotFound(f"{key_name} has no approved text in {' → '.join(chain)}")


def template_resolve(*, key: TemplateKey, locale: Locale, register: str | None = None
                     ) -> tuple[ResponseTemplate, list[str], list[str]]:
    """The approved text to say, the locale's fallback chain, and what fell back (see _choose)."""
    chain = locale_fallback_chain(locale=locale)
    approved = {(t.locale.tag, t.register): _Approved(t.pk, t.locale.tag, t.register, t.body)
                for t in ResponseTemplate.objects.filter(key=key, locale__tag__in=chain,
                                                         status=ResponseTemplate.Status.APPROVED).select_related("locale")}
    scenario_id = key.intent.scenario_id if key.intent_id else None
    chosen, warnings = _choose(key_name=key.key, chain=chain, locale_tag=locale.tag, register=register,
                               scenario_id=scenario_id, approved=approved)
    return ResponseTemplate.objects.select_related("locale").get(pk=chosen.pk), chain, warnings


def _values(parameters, declared: dict[str, dict], key_name: str, zone=None) -> dict:
    if not isinstance(parameters, dict):
        raise RenderError("must be an object of parameter name to value")
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise RenderError(f"{', '.join(unknown)} not declared by {key_name} (declared: "
                          f"{', '.join(declared) or 'none'})")
    missing = [name for name in declared if name not in parameters]
    if missing:
        raise RenderError(f"missing {', '.join(missing)}")
    return {name: coerce(name, parameters[name], declared[name].get("type", "string"), zone=zone) for name in declared}


@dataclass(frozen=True)
class _KeyTexts:
    """A key's declaration and its approved texts in every locale, as a render needs them."""

    declaration: list
    scenario_id: int | None
    approved: dict  # (locale tag, register) → _Approved


def _key_texts_load(key_name: str) -> _KeyTexts | None:
    rows = list(ResponseTemplate.objects.filter(key__key=key_name, status=ResponseTemplate.Status.APPROVED)
                .values_list("pk", "locale__tag", "register", "body", "key__parameters", "key__intent__scenario_id"))
    if rows:
        declaration, scenario_id = rows[0][4], rows[0][5]
    else:
        found = TemplateKey.objects.select_related("intent").filter(key=key_name).first()
        if found is None:
            return None
        declaration, scenario_id = found.parameters, (found.intent.scenario_id if found.intent_id else None)
    return _KeyTexts(declaration=declaration, scenario_id=scenario_id,
                     approved={(tag, reg): _Approved(pk, tag, reg, body) for pk, tag, reg, body, _p, _s in rows})


def template_render(*, key: TemplateKey | str, locale: Locale, register: str | None, parameters: dict,
                    time_zone: str | None = None) -> Rendered:
    """The text for a locale (and register), formatted by ICU with the caller's values.

    The render path of the API. Warm, it asks the database nothing: the key's approved texts,
    the default registers and the locale chain are this process's copies while the culture and
    locale counters are unchanged (config/generations.py). A key given by name that does not
    exist raises TemplateKey.DoesNotExist. Date-times are said in the user's wall time: in
    `time_zone` (IANA) when given, else in the offset they carry.
    """
    key_name = key if isinstance(key, str) else key.key
    chain = locale_fallback_chain(locale=locale)
    texts = _render_memo.get(("texts", key_name), lambda: _key_texts_load(key_name))
    if texts is None:
        raise TemplateKey.DoesNotExist(f"no template key {key_name!r}")
    values = _values(parameters, {p["name"]: p for p in texts.declaration}, key_name, time_zone_parse(time_zone))
    approved = {pair: text for pair, text in texts.approved.items() if pair[0] in chain}
    chosen, warnings = _choose(key_name=key_name, chain=chain, locale_tag=locale.tag, register=register,
                               scenario_id=texts.scenario_id, approved=approved)
    # The words may come from an ancestor (de for de-AT); numbers, dates and plural choice follow
    # the requested locale's CLDR data. Every plural has an 'other' branch (template.icu_syntax),
    # which ICU takes for a category the text lacks, so a text of another language in the chain
    # (an explicit parent) still formats.
    text = format_pattern(chosen.body, locale.tag, values)
    return Rendered(text=text, locale=chosen.locale_tag, register=chosen.register, requested_locale=locale.tag,
                    requested_register=register, template_id=chosen.pk, fallback_chain=chain, warnings=warnings)


def sample_values(*, key: TemplateKey) -> dict:
    """The key's sample values, coerced like a render request's (for previews)."""
    values = {}
    for spec in key.parameters:
        kind = spec.get("type", "string")
        sample = spec.get("sample")
        if sample is None:
            sample = {"number": 3, "date": "2026-12-24", "string": spec["name"]}.get(kind, spec["name"])
        values[spec["name"]] = coerce(spec["name"], sample, kind if kind in PARAMETER_TYPES else "string")
    return values


# --- Holidays --------------------------------------------------------------------------------------

def holiday_regions_known(*, locale: Locale) -> list[str]:
    """The regions a locale's holidays can be asked for: its territory's subdivisions in the
    `holidays` package, else the regions linguists gave its holidays and dates."""
    from .holiday_rules import package_subdivisions

    known = package_subdivisions(locale.territory)
    if known:
        return sorted(known)
    found: set[str] = set()
    for regions in Holiday.objects.filter(locale=locale).values_list("regions", flat=True):
        found.update(regions)
    for regions in HolidayDate.objects.filter(holiday__locale=locale).exclude(regions=[]).values_list(
            "regions", flat=True):
        found.update(regions)
    return sorted(found)


def holiday_region_clean(*, locale: Locale, region: str | None) -> str | None:
    """The subdivision code a request's `region` names (BY, by, DE-BY), None for none asked, or a
    ValidationError naming `region` and listing the valid ones."""
    from django.core.exceptions import ValidationError

    from .holiday_rules import package_subdivision_aliases, region_resolve

    if region is None or region == "":
        return None
    known = holiday_regions_known(locale=locale)
    code = region_resolve(region, known, package_subdivision_aliases(locale.territory)) if len(region) <= 40 else None
    if code is None:
        listed = ", ".join(known) if known else "none"
        raise ValidationError({"region": [f"{region[:40]!r} is not a region of {locale.tag} "
                                          f"(valid regions: {listed})"]})
    return code


def holidays_in_year(*, locale: Locale, year: int, region: str | None = None) -> list[dict]:
    """The locale's holidays with their dates in `year`. With a region (a subdivision code,
    checked by holiday_region_clean), only what is observed there: nationwide holidays, the
    region's own, and of a holiday whose dates differ by region (a school break) the region's dates."""
    from .holiday_rules import date_in_region

    region = holiday_region_clean(locale=locale, region=region)
    rows = Holiday.objects.filter(locale=locale).prefetch_related(
        models_prefetch_dates(year)).order_by("key")
    result = []
    for h in rows:
        days = h.year_dates
        if region:
            days = [d for d in days if date_in_region(date_regions=d.regions, holiday_regions=h.regions,
                                                      region=region)]
        if not days:
            continue
        item = {"key": h.key, "english_name": h.english_name, "native_name": h.native_name,
                "aliases": h.aliases, "category": h.category, "regions": h.regions, "rule": h.rule,
                "dates": [d.date.isoformat() for d in days], "greeting": h.greeting, "notes": h.notes,
                "source": h.source}
        if not region:
            item["date_regions"] = {d.date.isoformat(): d.regions for d in days if d.regions}
        result.append(item)
    result.sort(key=lambda r: (r["dates"][0], r["key"]))
    return result


def holidays_in_region(queryset: QuerySet[Holiday], region: str) -> QuerySet[Holiday]:
    """The holidays of `queryset` observed in `region`: nationwide ones, those with the region,
    and those with a date of the region's own. Filtered in Python (JSON list lookups differ
    between SQLite and PostgreSQL; a locale has a few hundred holidays at most)."""
    dated: dict[int, set[str]] = {}
    for holiday_id, regions in HolidayDate.objects.filter(holiday__in=queryset.order_by().values("pk")).exclude(
            regions=[]).values_list("holiday_id", "regions"):
        dated.setdefault(holiday_id, set()).update(regions)
    ids = [pk for pk, regions in queryset.order_by().values_list("pk", "regions")
           if not regions or region in regions or region in dated.get(pk, ())]
    return queryset.filter(pk__in=ids)


def models_prefetch_dates(year: int):
    from django.db.models import Prefetch

    return Prefetch("dates", queryset=HolidayDate.objects.filter(year=year).order_by("date"), to_attr="year_dates")


def holiday_coverage(*, locale_ids=None, years: list[int]) -> dict:
    """What is missing: locales with no holiday data, holidays without a native name, years not
    materialized, explicit-rule holidays without a date in a year. `locale_ids` None: all."""
    from django.db.models import Count

    from .models import HolidayYear

    locales = Locale.objects.exclude(status=Locale.Status.RETIRED)
    if locale_ids is not None:
        locales = locales.filter(pk__in=locale_ids)
    counts = dict(Holiday.objects.filter(locale__in=locales).values_list("locale_id").annotate(n=Count("*")))
    materialized: dict[int, set[int]] = {}
    for locale_id, year in HolidayYear.objects.filter(locale__in=locales, year__in=years).values_list(
            "locale_id", "year"):
        materialized.setdefault(locale_id, set()).add(year)
    unnamed: dict[int, list[str]] = {}
    for locale_id, key in Holiday.objects.filter(locale__in=locales, native_name="").values_list(
            "locale_id", "key").order_by("key"):
        unnamed.setdefault(locale_id, []).append(key)
    explicit_dates = set(HolidayDate.objects.filter(
        holiday__locale__in=locales, holiday__rule=Holiday.Rule.EXPLICIT, year__in=years).values_list(
        "holiday_id", "year"))
    explicit_missing: dict[int, list[str]] = {}
    for pk, locale_id, key in Holiday.objects.filter(locale__in=locales, rule=Holiday.Rule.EXPLICIT).values_list(
            "pk", "locale_id", "key").order_by("key"):
        for year in years:
            if (pk, year) not in explicit_dates:
                explicit_missing.setdefault(locale_id, []).append(f"{key} {year}")
    rows, without = [], []
    for locale in locales.order_by("tag").only("pk", "tag", "territory"):
        if not counts.get(locale.pk):
            without.append(locale.tag)
            continue
        rows.append({"locale": locale.tag, "holidays": counts[locale.pk],
                     "without_native_name": unnamed.get(locale.pk, []),
                     "years_not_materialized": [y for y in years if y not in materialized.get(locale.pk, set())],
                     "explicit_dates_missing": explicit_missing.get(locale.pk, [])})
    return {"years": years, "locales_without_holidays": without, "locales": rows}


# --- One locale in one place ----------------------------------------------------------------------

def locale_culture_overview(*, locale: Locale, year: int, sections: set[str], region: str | None = None) -> dict:
    """What a linguist sees first for a locale: registers and overrides, terms and topics, every
    template text with its lint status, and the year's holidays (in `region` when given).
    `sections` are the parts the caller may read (registers, terms, templates, holidays)."""
    from django.db.models import Count

    result: dict = {"locale": locale.tag, "english_name": locale.english_name, "year": year}
    if "holidays" in sections:
        result["region"] = holiday_region_clean(locale=locale, region=region)
        result["regions"] = holiday_regions_known(locale=locale)
    if "registers" in sections:
        result["registers"] = [{"code": r.code, "name": r.name, "is_default": r.is_default, "guidance": r.guidance,
                                "examples": r.examples} for r in FormalityRegister.objects.filter(locale=locale)]
        result["register_overrides"] = [{"scenario": o.scenario.name, "register": o.register.code, "note": o.note}
                                        for o in register_override_list().filter(locale=locale)]
    if "terms" in sections:
        rows = SensitiveTerm.objects.filter(locale=locale).order_by("kind", "severity", "term")
        result["terms"] = [{"term": t.term, "severity": t.severity, "reason": t.reason, "replacement": t.replacement}
                           for t in rows if t.kind == SensitiveTerm.Kind.TERM]
        result["topics"] = [{"topic": t.term, "reason": t.reason} for t in rows if t.kind == SensitiveTerm.Kind.TOPIC]
    if "templates" in sections:
        texts = template_list().filter(locale=locale).order_by("key__key", "register")
        result["templates"] = {
            "by_status": dict(texts.values_list("status").annotate(n=Count("*")).order_by()),
            "with_errors": texts.filter(has_errors=True).count(),
            "texts": [{"id": t.pk, "key": t.key.key, "register": t.register, "status": t.status,
                       "has_errors": t.has_errors, "body": t.body} for t in texts[:500]],
        }
    if "holidays" in sections:
        result["holidays"] = holidays_in_year(locale=locale, year=year, region=result["region"])
    return result
