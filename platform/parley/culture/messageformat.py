"""The structure of an ICU MessageFormat pattern, with positions. Pure Python, no database.

ICU (icu4py) is the authority on whether a pattern is valid and how it formats; it only says
"U_PATTERN_SYNTAX_ERROR", though. This walker finds the same arguments, plural/select branches
and literal text with character offsets, so each check can point at the place it complains
about. It follows ICU's apostrophe rules (ApostropheMode DOUBLE_OPTIONAL): ``''`` is one
apostrophe; an apostrophe before ``{``, ``}``, ``|`` (and ``#`` inside a plural) starts quoted
literal text up to the next single apostrophe; any other apostrophe is literal.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

PLURAL_TYPES = ("plural", "selectordinal")
SELECT_TYPES = ("select",)
COMPLEX_TYPES = PLURAL_TYPES + SELECT_TYPES
SIMPLE_TYPES = ("number", "date", "time", "spellout", "ordinal", "duration")
# What kind of value each argument type formats (checked against a key's declared parameters).
VALUE_KIND = {"number": "number", "plural": "number", "selectordinal": "number", "spellout": "number",
              "ordinal": "number", "duration": "number", "date": "date", "time": "date", "select": "string"}

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_KEYWORD_RE = re.compile(r"=-?[0-9]+(\.[0-9]+)?|[A-Za-z_][A-Za-z0-9_-]*")


# How deep plural/select arguments may nest inside each other's branches. Real texts use two or
# three (a gender select around a plural around a plural); the bound keeps the walker's recursion
# and ICU's (C++, on the request's stack) small whatever a caller sends.
MAX_NESTING = 8


class PatternError(ValueError):
    def __init__(self, message: str, position: int):
        self.message, self.position = message, position
        super().__init__(f"{message} (position {position})")


class NestingTooDeep(PatternError):
    """More than MAX_NESTING plural/select arguments inside each other."""


@dataclass
class Branch:
    key: str  # a keyword (one, few, other, male) or an explicit value (=0)
    position: int
    parts: list = field(default_factory=list)  # Text | Argument | Pound


@dataclass
class Text:
    value: str
    position: int


@dataclass
class Pound:
    position: int


@dataclass
class Argument:
    name: str
    position: int  # of the opening brace
    type: str = ""  # "" for a plain {name}
    style: str = ""
    offset: int = 0
    branches: list[Branch] = field(default_factory=list)


@dataclass
class Pattern:
    parts: list

    def arguments(self) -> list[Argument]:
        """Every argument, nested ones included, in order of appearance."""
        found: list[Argument] = []

        def walk(parts):
            for part in parts:
                if isinstance(part, Argument):
                    found.append(part)
                    for branch in part.branches:
                        walk(branch.parts)

        walk(self.parts)
        return found

    def texts(self) -> list[Text]:
        """Every piece of literal text (what a reader sees), nested branches included."""
        found: list[Text] = []

        def walk(parts):
            for part in parts:
                if isinstance(part, Text):
                    found.append(part)
                elif isinstance(part, Argument):
                    for branch in part.branches:
                        walk(branch.parts)

        walk(self.parts)
        return found


class _Parser:
    def __init__(self, source: str):
        self.s = source
        self.i = 0

    def error(self, message: str, position: int | None = None):
        raise PatternError(message, self.i if position is None else position)

    def skip_ws(self):
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def message(self, *, in_plural: bool, depth: int) -> list:
        parts: list = []
        buffer: list[str] = []
        start = self.i

        def flush():
            nonlocal buffer, start
            if buffer:
                parts.append(Text("".join(buffer), start))
            buffer = []

        s = self.s
        while self.i < len(s):
            ch = s[self.i]
            if ch == "'":
                nxt = s[self.i + 1] if self.i + 1 < len(s) else ""
                if nxt == "'":
                    if not buffer:
                        start = self.i
                    buffer.append("'")
                    self.i += 2
                elif nxt in "{}|" or (nxt == "#" and in_plural):
                    if not buffer:
                        start = self.i
                    end = s.find("'", self.i + 1)
                    while end != -1 and end + 1 < len(s) and s[end + 1] == "'":
                        end = s.find("'", end + 2)
                    if end == -1:
                        self.error("quoted text is never closed by an apostrophe")
                    buffer.append(s[self.i + 1:end].replace("''", "'"))
                    self.i = end + 1
                else:
                    if not buffer:
                        start = self.i
                    buffer.append("'")
                    self.i += 1
            elif ch == "{":
                flush()
                parts.append(self.argument(depth=depth))
                start = self.i
            elif ch == "}":
                if depth == 0:
                    self.error("'}' without a matching '{'")
                break
            elif ch == "#" and in_plural:
                flush()
                parts.append(Pound(self.i))
                self.i += 1
                start = self.i
            else:
                if not buffer:
                    start = self.i
                buffer.append(ch)
                self.i += 1
        flush()
        return parts

    def argument(self, *, depth: int) -> Argument:
        opened = self.i
        self.i += 1
        self.skip_ws()
        m = _NAME_RE.match(self.s, self.i)
        if not m:
            self.error("an argument needs a name, e.g. {count}")
        arg = Argument(name=m.group(), position=opened)
        self.i = m.end()
        self.skip_ws()
        if self.i >= len(self.s):
            self.error("argument is never closed by '}'", opened)
        if self.s[self.i] == "}":
            self.i += 1
            return arg
        if self.s[self.i] != ",":
            self.error(f"expected ',' or '}}' after the argument name {arg.name!r}")
        self.i += 1
        self.skip_ws()
        m = re.compile(r"[a-z]+").match(self.s, self.i)
        if not m:
            self.error("expected an argument type (number, date, time, plural, select, selectordinal)")
        arg.type = m.group()
        if arg.type not in COMPLEX_TYPES + SIMPLE_TYPES:
            self.error(f"unknown argument type {arg.type!r}")
        self.i = m.end()
        self.skip_ws()
        if arg.type in COMPLEX_TYPES:
            if depth >= MAX_NESTING:
                raise NestingTooDeep(f"plural and select arguments nest more than {MAX_NESTING} deep here", opened)
            if self.i >= len(self.s) or self.s[self.i] != ",":
                self.error(f"a {arg.type} needs its branches, e.g. {{{arg.name}, {arg.type}, other {{…}}}}")
            self.i += 1
            self.branches(arg, depth=depth)
        else:
            if self.i < len(self.s) and self.s[self.i] == ",":
                self.i += 1
                style_start = self.i
                level = 0
                while self.i < len(self.s) and not (self.s[self.i] == "}" and level == 0):
                    level += {"{": 1, "}": -1}.get(self.s[self.i], 0)
                    self.i += 1
                arg.style = self.s[style_start:self.i].strip()
            if self.i >= len(self.s) or self.s[self.i] != "}":
                self.error("argument is never closed by '}'", opened)
            self.i += 1
        return arg

    def branches(self, arg: Argument, *, depth: int) -> None:
        self.skip_ws()
        if arg.type in PLURAL_TYPES and self.s.startswith("offset:", self.i):
            self.i += len("offset:")
            self.skip_ws()
            m = re.compile(r"[0-9]+").match(self.s, self.i)
            if not m:
                self.error("offset: needs a whole number")
            arg.offset = int(m.group())
            self.i = m.end()
        seen: set[str] = set()
        while True:
            self.skip_ws()
            if self.i >= len(self.s):
                self.error(f"the {arg.type} {arg.name!r} is never closed by '}}'", arg.position)
            if self.s[self.i] == "}":
                self.i += 1
                break
            m = _KEYWORD_RE.match(self.s, self.i)
            if not m:
                self.error(f"expected a {arg.type} keyword such as 'other'")
            key, key_at = m.group(), self.i
            if key.startswith("=") and arg.type not in PLURAL_TYPES:
                self.error(f"explicit values like {key} only work in plural", key_at)
            if key in seen:
                self.error(f"the branch {key!r} appears twice", key_at)
            seen.add(key)
            self.i = m.end()
            self.skip_ws()
            if self.i >= len(self.s) or self.s[self.i] != "{":
                self.error(f"expected '{{' to open the {key!r} branch")
            self.i += 1
            branch = Branch(key=key, position=key_at)
            branch.parts = self.message(in_plural=arg.type in PLURAL_TYPES, depth=depth + 1)
            if self.i >= len(self.s):
                self.error(f"the {key!r} branch is never closed by '}}'", key_at)
            self.i += 1
            arg.branches.append(branch)
        if "other" not in seen:
            self.error(f"the {arg.type} {arg.name!r} needs an 'other' branch", arg.position)


def parse(source: str) -> Pattern:
    """The pattern's structure; PatternError with a position if it is malformed."""
    parser = _Parser(source)
    parts = parser.message(in_plural=False, depth=0)
    return Pattern(parts=parts)
