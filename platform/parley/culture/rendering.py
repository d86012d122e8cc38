"""Formatting a MessageFormat pattern for a locale with ICU (icu4py), and coercing request values.

Compiled formats are cached per (pattern, locale): compiling costs more than formatting, and a
response service renders the same few hundred texts over and over.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icu4py.messageformat import MessageFormat

from . import messageformat as mf

PARAMETER_TYPES = ("number", "string", "date")
# ICU's Gregorian calendar switches to the Julian one before 1582-10-15 (its default cutover), so
# it would say "October 4, 1582" for Python's (proleptic Gregorian) 1582-10-14. icu4py gives no
# way to move the cutover, so earlier dates are refused rather than said in another calendar.
FIRST_GREGORIAN_DAY = dt.date(1582, 10, 15)
# Beyond this a count or amount is a mistake, and ICU would spell out every digit (1e999999 is a
# million characters).
NUMBER_LIMIT = Decimal(10) ** 18


class RenderError(ValueError):
    """A value that cannot be formatted, or a pattern ICU refuses; `field` names the culprit."""

    def __init__(self, message: str, *, field: str = "parameters"):
        self.message, self.field = message, field
        super().__init__(message)


@lru_cache(maxsize=4096)
def compiled(pattern: str, locale_tag: str) -> MessageFormat:
    """ICU's compiled format; ValueError if ICU refuses the pattern or it nests plural/select
    arguments deeper than mf.MAX_NESTING (ICU walks nesting recursively in C++)."""
    try:
        mf.parse(pattern)
    except mf.NestingTooDeep:
        raise
    except mf.PatternError:
        pass  # ICU is the authority on everything else
    return MessageFormat(pattern, locale_tag)


def icu_syntax_problem(pattern: str, locale_tag: str) -> str | None:
    try:
        compiled(pattern, locale_tag)
    except ValueError as exc:
        return str(exc)
    return None


def time_zone_parse(name: str | None) -> ZoneInfo | None:
    """An IANA zone (Europe/Berlin) or None; RenderError naming the field otherwise."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RenderError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)", field="time_zone") from None


def _wall_time(value: dt.datetime, zone: ZoneInfo | None) -> dt.datetime:
    """What the user's clock shows. icu4py formats a datetime's instant in the process's zone
    (UTC: Django sets TZ), so an aware value is turned into naive wall time first: in `zone`
    when the request names one, else in its own offset ("07:30+01:00" says 07:30)."""
    if value.tzinfo is None:
        return value
    try:
        return (value.astimezone(zone) if zone is not None else value).replace(tzinfo=None)
    except OverflowError:  # 9999-12-31T23:00-05:00 is in year 10000 in UTC
        raise RenderError(f"{value.isoformat()} falls outside the years 1–9999 in that time zone",
                          field="time_zone") from None


def _date_in_range(name: str, value: dt.date) -> dt.date:
    day = value.date() if isinstance(value, dt.datetime) else value
    if day < FIRST_GREGORIAN_DAY:
        raise RenderError(f"{name!r} is before {FIRST_GREGORIAN_DAY}, the first day of the Gregorian calendar; "
                          f"ICU would say an earlier day in the Julian calendar, so it is refused",
                          field=f"parameters.{name}")
    return value


def _number_in_range(name: str, value):
    finite = value.is_finite() if isinstance(value, Decimal) else value == value and abs(value) != float("inf")
    if not finite or abs(Decimal(value) if isinstance(value, float) else value) >= NUMBER_LIMIT:
        raise RenderError(f"{name!r} must be a finite number of magnitude below 10^18", field=f"parameters.{name}")
    return value


def coerce(name: str, value, kind: str, *, zone: ZoneInfo | None = None):
    """A request value as the Python type ICU formats for the declared parameter type."""
    where = f"parameters.{name}"
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise RenderError(f"{name!r} must be a number", field=where)
        if isinstance(value, str):
            try:
                value = Decimal(value.strip())
            except InvalidOperation:
                raise RenderError(f"{name!r} must be a number, got {value!r}", field=where) from None
            if not value.is_finite():
                return _number_in_range(name, value)
            if value == value.to_integral_value() and abs(value) < 2**53:
                value = int(value)
        return _number_in_range(name, value)
    if kind == "date":
        if isinstance(value, dt.datetime):
            return _date_in_range(name, _wall_time(value, zone))
        if isinstance(value, dt.date):
            return _date_in_range(name, value)
        if not isinstance(value, str):
            raise RenderError(f"{name!r} must be an ISO date or date-time (2026-12-24, 2026-12-24T07:30:00)",
                              field=where)
        try:
            parsed = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
        except ValueError:
            raise RenderError(f"{name!r} is not an ISO date or date-time: {value!r}", field=where) from None
        return _date_in_range(name, _wall_time(parsed, zone) if isinstance(parsed, dt.datetime) else parsed)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise RenderError(f"{name!r} must be text", field=where)
    return str(value)


def format_pattern(pattern: str, locale_tag: str, values: dict) -> str:
    """The pattern formatted with `locale_tag`'s CLDR data (month names, digits, plural rules)."""
    try:
        message = compiled(pattern, locale_tag)
    except ValueError as exc:
        raise RenderError(f"ICU refuses the stored pattern: {exc}", field="body") from None
    try:
        return message.format(values)
    except (ValueError, OverflowError, RuntimeError) as exc:
        # coerce() keeps values in ICU's range; a value that still fails is the caller's.
        raise RenderError(f"ICU cannot format these values: {exc}") from None
