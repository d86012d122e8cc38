"""The one registry of validation rules. Pure Python: no models, no database.

One class per rule. Each app declares its rules in its own ``checks.py`` (imported at start-up by
``ChecksConfig.ready``)::

    @register
    class PluralCategories(Check):
        id = "template.plural_categories"
        severity = Severity.ERROR
        applies_to = "template"
        description = _("Every plural category of the locale has a form.")

        def run(self, obj, *, locale, context):
            return [self.finding("missing 'few'", position=12, field="body")]

Evaluating returns findings and stores nothing; ``parley.checks.services`` stores them.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

# The kinds of object a check can apply to. A closed list: a misspelt kind would otherwise
# register a check that never runs.
APPLIES_TO = ("template", "utterance", "feedback", "lexicon")


class Severity(str, Enum):
    ERROR = "error"  # refuses the write or the approval
    WARNING = "warning"  # stored and shown, never refuses


@dataclass(frozen=True)
class Finding:
    """One problem one check found in one object.

    ``position`` is a 0-based character offset into ``field`` when the check can point at one;
    ``code`` is a finer, stable reason inside the check (e.g. the parser's issue code).
    """

    check_id: str
    severity: Severity
    message: str
    position: int | None = None
    field: str = ""
    code: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class CheckContext:
    """Work shared while checking: ``once`` per object, ``shared_once`` across every object of a run.

    Five annotation checks parse an utterance once (``once``); a run over a million utterances
    loads the slot vocabulary once (``shared_once``). Callers may pre-seed ``shared`` with inputs
    they already hold.
    """

    def __init__(self, *, shared: dict | None = None):
        self.shared: dict = {} if shared is None else shared
        self._memo: dict = {}

    def once(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def stored(self, key: Hashable, default: Any = None) -> Any:
        """What ``once`` computed for ``key`` on this object, or ``default`` (a cheaper first look
        for checks that share one result)."""
        return self._memo.get(key, default)

    def shared_once(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key not in self.shared:
            self.shared[key] = compute()
        return self.shared[key]

    def for_next_object(self) -> CheckContext:
        return CheckContext(shared=self.shared)


class Check:
    """Base class of a rule. Subclasses set the four class attributes and implement ``run``."""

    id: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.ERROR
    applies_to: ClassVar[str] = ""
    description: ClassVar[Any] = ""  # may be a lazy translation

    def run(self, obj: Any, *, locale: str, context: CheckContext) -> list[Finding]:
        raise NotImplementedError

    def finding(self, message: str, *, position: int | None = None, field: str = "", code: str = "") -> Finding:
        return Finding(check_id=self.id, severity=self.severity, message=str(message), position=position,
                       field=field, code=code)


class CheckRegistrationError(ValueError):
    """A check class that would make the registry ambiguous or could never run."""


def _locale_tag(locale: Any) -> str:
    return str(getattr(locale, "tag", locale) or "")


class CheckRegistry:
    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._by_kind: dict[str, list[Check]] = {}  # for_kind() without `only`, per kind; reset by register()

    def register(self, cls: type[Check]) -> type[Check]:
        """Class decorator. Refuses a second class with an id already taken."""
        if not (isinstance(cls, type) and issubclass(cls, Check)):
            raise CheckRegistrationError(f"{cls!r} is not a Check subclass")
        if cls.applies_to not in APPLIES_TO:
            raise CheckRegistrationError(
                f"{cls.__qualname__}.applies_to is {cls.applies_to!r}; expected one of {', '.join(APPLIES_TO)}")
        if not cls.id.startswith(f"{cls.applies_to}.") or len(cls.id) == len(cls.applies_to) + 1:
            raise CheckRegistrationError(
                f"{cls.__qualname__}.id is {cls.id!r}; it must be '{cls.applies_to}.<rule>'")
        if not isinstance(cls.severity, Severity):
            raise CheckRegistrationError(f"{cls.__qualname__}.severity must be a Severity, got {cls.severity!r}")
        existing = self._checks.get(cls.id)
        if existing is not None and _qualified(type(existing)) != _qualified(cls):
            # The same class seen again is a module re-import, not a conflict.
            raise CheckRegistrationError(
                f"check id {cls.id!r} is already registered by {_qualified(type(existing))}")
        self._checks[cls.id] = cls()
        self._by_kind.clear()
        return cls

    def get(self, check_id: str) -> Check:
        return self._checks[check_id]

    def all(self) -> list[Check]:
        return sorted(self._checks.values(), key=lambda c: c.id)

    def _of_kind(self, applies_to: str) -> list[Check]:
        """The cached list for_kind() copies: asked once per object by imports (a million times)."""
        checks = self._by_kind.get(applies_to)
        if checks is None:
            checks = self._by_kind[applies_to] = [c for c in self._checks.values() if c.applies_to == applies_to]
        return checks

    def for_kind(self, applies_to: str, *, only: Iterable[str] | None = None) -> list[Check]:
        """Checks for a kind of object, in registration order (the order their findings come in)."""
        if only is None:
            return list(self._of_kind(applies_to))
        wanted = set(only)
        if wanted is not None:
            unknown = wanted - {c.id for c in self._checks.values() if c.applies_to == applies_to}
            if unknown:
                raise KeyError(f"no {applies_to} check(s) {', '.join(sorted(unknown))}")
        return [c for c in self._checks.values()
                if c.applies_to == applies_to and (wanted is None or c.id in wanted)]

    def evaluate(self, obj: Any, *, applies_to: str, locale: Any, only: Iterable[str] | None = None,
                 context: CheckContext | None = None) -> list[Finding]:
        """Run the checks for ``obj`` and return their findings. Stores nothing."""
        context = context or CheckContext()
        tag = locale if locale.__class__ is str else _locale_tag(locale)
        findings: list[Finding] = []
        for check in self._of_kind(applies_to) if only is None else self.for_kind(applies_to, only=only):
            findings.extend(check.run(obj, locale=tag, context=context))
        return findings

    def evaluate_many(self, items: Iterable[tuple[Any, Any]], *, applies_to: str, only: Iterable[str] | None = None,
                      shared: dict | None = None) -> Iterator[tuple[Any, str, list[Finding]]]:
        """(object, locale tag, findings) for each (object, locale) given, lazily; ``shared`` work is done once."""
        checks = self.for_kind(applies_to, only=only)
        context = CheckContext(shared=shared)
        for obj, locale in items:
            context = context.for_next_object()
            tag = _locale_tag(locale)
            found: list[Finding] = []
            for check in checks:
                found.extend(check.run(obj, locale=tag, context=context))
            yield obj, tag, found


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


registry = CheckRegistry()
register = registry.register


def checks_evaluate(obj: Any, *, applies_to: str, locale: Any, only: Iterable[str] | None = None,
                    context: CheckContext | None = None) -> list[Finding]:
    return registry.evaluate(obj, applies_to=applies_to, locale=locale, only=only, context=context)


def checks_evaluate_many(items: Iterable[tuple[Any, Any]], *, applies_to: str, only: Iterable[str] | None = None,
                         shared: dict | None = None) -> Iterator[tuple[Any, str, list[Finding]]]:
    return registry.evaluate_many(items, applies_to=applies_to, only=only, shared=shared)


def errors_in(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.is_error]
