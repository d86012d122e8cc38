"""Template checks (ICU syntax, placeholders, plural categories, registers, terms, coverage of
locales, length) and the utterance check for sensitive terms.

A template check gets a ResponseTemplate, saved or not (the admin previews unsaved edits). The
pattern is parsed once per object (`context.once`); a locale's registers and terms are loaded once
per run (`context.shared_once`), so an import of a million utterances asks for each locale's terms
once.
"""
from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext_lazy as _

from parley.checks.registry import Check, CheckContext, Severity, register
from parley.nlu.normalize import normalize_text

from . import messageformat as mf
from .rendering import icu_syntax_problem

# Writing systems where the same message takes far fewer characters (one per syllable or word).
DENSE_LANGUAGES = frozenset({"ja", "zh", "yue", "ko"})
LENGTH_RATIO_BOUNDS = (0.4, 2.5)  # target/source, after correcting for dense scripts


# --- shared, per-run data ---------------------------------------------------------------------

class TermMatcher:
    """A locale's matchable terms, prepared once per run.

    Most texts contain no term, so a cheap pre-filter (one regex over the NFKC case-folded text,
    looking for each term's longest chunk) answers them; only a hit pays for the full
    normalization and the whole-word match. Imports run this on every row.
    """

    def __init__(self, rows: list[tuple[str, str, object]], *, locale):
        self.rows = rows
        self.locale = locale
        self.unspaced = locale is not None and locale.writes_without_spaces  # decided once per locale and run
        chunks = {max(term.split(" "), key=len) for term, _s, _r in rows if term}
        self.prefilter = re.compile("|".join(map(re.escape, sorted(chunks, key=len, reverse=True)))) if chunks \
            else None

    def find(self, text: str) -> list[tuple[object, str]]:
        if self.prefilter is None or not self.prefilter.search(unicodedata.normalize("NFKC", text).casefold()):
            return []
        normalized = normalize_text(text, locale=self.locale)
        return [(row, severity) for term, severity, row in self.rows
                if term_found(term, normalized, unspaced=self.unspaced) >= 0]


def terms_of(locale_tag: str, context: CheckContext) -> TermMatcher:
    """The locale's matchable terms, loaded once per run."""

    def load():
        from .models import SensitiveTerm

        rows = list(SensitiveTerm.objects.filter(locale__tag=locale_tag, kind=SensitiveTerm.Kind.TERM)
                    .select_related("locale"))
        return TermMatcher([(row.normalized, row.severity, row) for row in rows],
                           locale=rows[0].locale if rows else None)  # no terms: nothing to match

    return context.shared_once(("culture.terms", locale_tag), load)


def registers_of(locale_tag: str, context: CheckContext) -> dict:
    """{"codes": [...], "default": code or None} for a locale, loaded once per run."""

    def load():
        from .models import FormalityRegister

        rows = list(FormalityRegister.objects.filter(locale__tag=locale_tag).values_list("code", "is_default"))
        return {"codes": [c for c, _d in rows], "default": next((c for c, d in rows if d), None)}

    return context.shared_once(("culture.registers", locale_tag), load)


def normalize_term(term: str, *, locale) -> str:
    return normalize_text(term, locale=locale)


def term_found(normalized_term: str, normalized_text: str, *, unspaced: bool) -> int:
    """Where the term starts in the normalized text (-1 if absent). Whole words, except in
    locales written without spaces (`unspaced`: `Locale.writes_without_spaces`), where word
    breaks differ with context: there, a substring."""
    if not normalized_term:
        return -1
    if unspaced:
        return normalized_text.replace(" ", "").find(normalized_term.replace(" ", ""))
    # With both padded, the match's leading space sits where the term starts in the unpadded text.
    return f" {normalized_text} ".find(f" {normalized_term} ")


def find_terms(text: str, *, locale_tag: str, context: CheckContext):
    """(term row, severity) for every term of the locale found in `text`."""
    return terms_of(locale_tag, context).find(text)


# --- templates ----------------------------------------------------------------------------------

def _language(locale_tag: str) -> str:
    return locale_tag.split("-")[0].lower()


def parsed(template, context: CheckContext):
    """(Pattern or None, PatternError or None), once per object."""

    def parse():
        try:
            return mf.parse(template.body), None
        except mf.PatternError as exc:
            return None, exc

    return context.once("culture.parse", parse)


class TemplateCheck(Check):
    applies_to = "template"
    field = "body"


@register
class IcuSyntax(TemplateCheck):
    id = "template.icu_syntax"
    severity = Severity.ERROR
    description = _("The text is valid ICU MessageFormat (balanced braces, known argument types, an 'other' "
                    "branch in every plural and select).")

    def run(self, obj, *, locale, context):
        pattern, error = parsed(obj, context)
        if isinstance(error, mf.NestingTooDeep):
            return []  # template.nesting_depth says so; nothing after that point was read
        if error is not None:
            return [self.finding(error.message, position=error.position, field=self.field, code="syntax")]
        problem = icu_syntax_problem(obj.body, locale)
        if problem:
            return [self.finding(f"ICU refuses the pattern: {problem}", field=self.field, code="icu")]
        return []


@register
class NestingDepth(TemplateCheck):
    id = "template.nesting_depth"
    severity = Severity.ERROR
    # The number is mf.MAX_NESTING (a test keeps them equal); a lazy text cannot be formatted at import.
    description = _("Plural and select arguments nest at most 8 deep (saving refuses deeper texts; "
                    "rendering refuses them too).")

    def run(self, obj, *, locale, context):
        _pattern, error = parsed(obj, context)
        if isinstance(error, mf.NestingTooDeep):
            return [self.finding(error.message, position=error.position, field=self.field, code="too_deep")]
        return []


# --- invisible characters and markup ---------------------------------------------------------------
#
# A response template is plain text said by a voice or shown by a chat client. Invisible
# characters change how it is shown (bidi controls reorder what a reader sees: "Trojan Source",
# CVE-2021-42574) or compare and speak differently from what a reviewer read; markup is said
# literally or, in a client that renders HTML, runs. Severity per character class:
#   error   bidi embeddings and overrides U+202A–202E (isolates replaced them; an override in a
#           text is never needed and can make a reviewer approve what they did not see), any
#           unbalanced isolate or embedding (its direction leaks into what follows, e.g. the
#           placeholder's value or the next sentence), U+FEFF inside a text (a byte-order mark
#           pasted in; deprecated as a no-break), other C0/C1 controls but tab and newline;
#   warning isolates U+2066–2069 and marks U+200E/200F/061C (right in RTL text around numbers,
#           Latin names and placeholders, so a reviewer confirms), U+2060 word joiner, and U+200B
#           zero-width space and ZWNJ/ZWJ (U+200C/200D) outside the contexts where they are spelling:
#   none    ZWNJ/ZWJ next to a letter or mark of a script that uses them (Persian می‌خواهم, Indic
#           conjunct control, Arabic, Syriac, Mongolian, Sinhala, ...), ZWJ inside an emoji
#           sequence (👩‍💻), and U+200B next to a letter of a script written without spaces, where
#           it marks a word break (Thai, Lao, Khmer, Myanmar, Tibetan).
BIDI_OVERRIDES = {"\u202a": "LEFT-TO-RIGHT EMBEDDING", "\u202b": "RIGHT-TO-LEFT EMBEDDING",
                  "\u202c": "POP DIRECTIONAL FORMATTING", "\u202d": "LEFT-TO-RIGHT OVERRIDE",
                  "\u202e": "RIGHT-TO-LEFT OVERRIDE"}
BIDI_ISOLATES = {"\u2066": "LEFT-TO-RIGHT ISOLATE", "\u2067": "RIGHT-TO-LEFT ISOLATE",
                 "\u2068": "FIRST STRONG ISOLATE", "\u2069": "POP DIRECTIONAL ISOLATE"}
BIDI_MARKS = {"\u200e": "LEFT-TO-RIGHT MARK", "\u200f": "RIGHT-TO-LEFT MARK", "\u061c": "ARABIC LETTER MARK"}
ZERO_WIDTH = {"\u200b": "ZERO WIDTH SPACE", "\u2060": "WORD JOINER"}
JOINERS = {"\u200c": "ZERO WIDTH NON-JOINER", "\u200d": "ZERO WIDTH JOINER"}
BOM = "\ufeff"
# Scripts whose spelling uses ZWNJ/ZWJ (Unicode 15, chapter 23.2 and the script chapters).
JOINER_SCRIPTS = frozenset({
    "ARABIC", "SYRIAC", "NKO", "MONGOLIAN", "DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA", "TAMIL",
    "TELUGU", "KANNADA", "MALAYALAM", "SINHALA", "TIBETAN", "KHMER", "MYANMAR", "THAANA", "MANDAIC", "HEBREW",
    "PHAGS-PA", "BALINESE", "JAVANESE", "SUNDANESE",
})
_INVISIBLE_RE = re.compile("[" + "".join([*BIDI_OVERRIDES, *BIDI_ISOLATES, *BIDI_MARKS, *ZERO_WIDTH, *JOINERS,
                                          BOM]) + "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)(\s[^<>]*)?/?>|<!--|&(#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z]+);")
_ACTIVE_TAGS = frozenset({"script", "style", "iframe", "object", "embed", "svg", "math", "link", "meta", "form",
                          "img", "a", "base"})
_ACTIVE_ATTR_RE = re.compile(r"\bon[a-z]+\s*=|javascript:|data:text/html", re.IGNORECASE)


# Scripts whose writers put U+200B ZERO WIDTH SPACE between words as the invisible word (and
# line-break) boundary the script lacks (the Unicode Standard's Thai section names ZWSP for this),
# as Unicode names spell them. Not `Locale.writes_without_spaces`, on purpose: that is a locale's
# tokenization rule, this is a per-character rule, judged by the letters on either side of the
# ZWSP whatever the template's locale (a de-DE text may quote a Thai name), and the sets differ:
# Han and kana break between any two characters, so a ZWSP there marks nothing and only hides
# something, while Tibetan, Javanese and Balinese, written without word spaces, are not among
# CLDR's scripts (locales/cldr.py) whose tokens MASSIVE's notation counts as characters.
ZWSP_WORD_BREAK_SCRIPTS = frozenset({"THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN", "JAVANESE", "BALINESE"})


def _script(ch: str) -> str:
    """The script word of a letter's or mark's Unicode name (ARABIC, DEVANAGARI), else ""."""
    if not ch or not unicodedata.category(ch).startswith(("L", "M")):
        return ""
    return unicodedata.name(ch, "").split(" ")[0]


def _emoji_like(ch: str) -> bool:
    return bool(ch) and (unicodedata.category(ch) == "So" or ch == "\ufe0f" or 0x1F3FB <= ord(ch) <= 0x1F3FF)


def _joiner_is_spelling(body: str, i: int) -> bool:
    before, after = body[i - 1:i], body[i + 1:i + 2]
    if not before or not after:
        return False
    if body[i] == "\u200d" and _emoji_like(before) and _emoji_like(after):
        return True
    return _script(before) in JOINER_SCRIPTS or _script(after) in JOINER_SCRIPTS


def invisible_characters(body: str, context: CheckContext) -> list[tuple[int, str, str, str]]:
    """(position, code point, name, severity "error"|"warning") of each invisible character, and
    of each unbalanced bidi opener; once per object."""

    def scan():
        found: list[tuple[int, str, str, str]] = []
        open_embeddings: list[int] = []
        open_isolates: list[int] = []
        for m in _INVISIBLE_RE.finditer(body):
            ch, i = m.group(), m.start()
            if ch in BIDI_OVERRIDES:
                found.append((i, ch, BIDI_OVERRIDES[ch], "error"))
                if ch == "\u202c":
                    if open_embeddings:
                        open_embeddings.pop()
                else:
                    open_embeddings.append(i)
            elif ch in BIDI_ISOLATES:
                found.append((i, ch, BIDI_ISOLATES[ch], "warning"))
                if ch == "\u2069":
                    if open_isolates:
                        open_isolates.pop()
                    else:
                        found.append((i, ch, "POP DIRECTIONAL ISOLATE without an isolate to close", "error"))
                else:
                    open_isolates.append(i)
            elif ch in BIDI_MARKS:
                found.append((i, ch, BIDI_MARKS[ch], "warning"))
            elif ch in ZERO_WIDTH:
                if not (ch == "\u200b" and ({_script(body[i - 1:i]), _script(body[i + 1:i + 2])} & ZWSP_WORD_BREAK_SCRIPTS)):
                    found.append((i, ch, ZERO_WIDTH[ch], "warning"))
            elif ch in JOINERS:
                if not _joiner_is_spelling(body, i):
                    found.append((i, ch, JOINERS[ch], "warning"))
            elif ch == BOM:
                found.append((i, ch, "BYTE ORDER MARK", "error"))
            else:
                found.append((i, ch, unicodedata.name(ch, "control character"), "error"))
        for i in open_isolates:
            found.append((i, body[i], f"{BIDI_ISOLATES[body[i]]} never closed by U+2069", "error"))
        for i in open_embeddings:
            found.append((i, body[i], f"{BIDI_OVERRIDES[body[i]]} never closed by U+202C", "error"))
        return sorted(found)

    return context.once("culture.invisible", scan)


class _InvisibleCheck(TemplateCheck):
    wanted = ""

    def run(self, obj, *, locale, context):
        return [self.finding(f"U+{ord(ch):04X} {name} at position {i}", position=i, field=self.field,
                             code=f"U+{ord(ch):04X}")
                for i, ch, name, severity in invisible_characters(obj.body or "", context) if severity == self.wanted]


@register
class ControlCharacter(_InvisibleCheck):
    id = "template.control_character"
    severity = Severity.ERROR
    description = _("No bidi embedding or override (U+202A–202E), unbalanced bidi isolate, byte-order mark "
                    "(U+FEFF) or control character: they reorder or hide what a reviewer read.")
    wanted = "error"


@register
class InvisibleCharacter(_InvisibleCheck):
    id = "template.invisible_character"
    severity = Severity.WARNING
    description = _("Bidi isolates and marks (U+2066–2069, U+200E/200F, U+061C), zero-width space and word "
                    "joiner (U+200B, U+2060), and ZWNJ/ZWJ outside the scripts and emoji sequences that spell "
                    "with them: right in some texts, so a reviewer confirms each.")
    wanted = "warning"


def markup_found(body: str, context: CheckContext) -> list[tuple[int, str, bool]]:
    """(position, the tag or entity, whether it is active content) once per object."""

    def scan():
        found = []
        for m in _TAG_RE.finditer(body):
            name = (m.group(2) or "").lower()
            active = name in _ACTIVE_TAGS or bool(_ACTIVE_ATTR_RE.search(m.group(3) or ""))
            found.append((m.start(), m.group()[:60], active))
        return found

    return context.once("culture.markup", scan)


@register
class Markup(TemplateCheck):
    id = "template.markup"
    severity = Severity.WARNING
    description = _("No HTML or XML tags, comments or character entities: a voice says them and a chat client "
                    "shows them (SSML a voice channel expects is confirmed by a reviewer).")

    def run(self, obj, *, locale, context):
        return [self.finding(f"markup {text!r}; templates are plain text", position=i, field=self.field,
                             code="markup")
                for i, text, active in markup_found(obj.body or "", context) if not active]


@register
class ActiveMarkup(TemplateCheck):
    id = "template.active_markup"
    severity = Severity.ERROR
    description = _("No markup that a client rendering HTML would run or load (script, style, iframe, img, a, "
                    "event handlers, javascript: URLs).")

    def run(self, obj, *, locale, context):
        return [self.finding(f"active markup {text!r}: a client that renders HTML would run or load it",
                             position=i, field=self.field, code="active")
                for i, text, active in markup_found(obj.body or "", context) if active]


def _declared(template) -> dict[str, dict]:
    return {p.get("name"): p for p in (template.key.parameters or []) if isinstance(p, dict)}


@register
class UnknownPlaceholder(TemplateCheck):
    id = "template.unknown_placeholder"
    severity = Severity.ERROR
    description = _("Every placeholder is a parameter the key declares, used as its declared type "
                    "(numbers in plural and number, dates in date and time).")

    def run(self, obj, *, locale, context):
        pattern, _error = parsed(obj, context)
        if pattern is None:
            return []
        declared = _declared(obj)
        found = []
        for arg in pattern.arguments():
            spec = declared.get(arg.name)
            if spec is None:
                known = ", ".join(sorted(declared)) or "none"
                found.append(self.finding(f"unknown placeholder {{{arg.name}}}; the key declares: {known}",
                                          position=arg.position, field=self.field, code="unknown"))
                continue
            wanted = mf.VALUE_KIND.get(arg.type)
            if wanted and wanted != "string" and spec.get("type", "string") != wanted:
                found.append(self.finding(
                    f"{{{arg.name}, {arg.type}}} needs a {wanted} parameter; {arg.name!r} is declared as "
                    f"{spec.get('type', 'string')}", position=arg.position, field=self.field, code="type"))
        return found


@register
class UnusedParameter(TemplateCheck):
    id = "template.unused_parameter"
    severity = Severity.WARNING
    description = _("Every declared parameter appears in the text (a missing one is often a forgotten slot).")

    def run(self, obj, *, locale, context):
        pattern, _error = parsed(obj, context)
        if pattern is None:
            return []
        used = {a.name for a in pattern.arguments()}
        return [self.finding(f"parameter {name!r} is declared but not used", field=self.field, code="unused")
                for name in _declared(obj) if name not in used]


@register
class PluralCategories(TemplateCheck):
    id = "template.plural_categories"
    severity = Severity.ERROR
    description = _("Every plural has a branch for each of the locale's CLDR plural categories (ru: one, few, "
                    "many, other; ar: zero, one, two, few, many, other).")

    def run(self, obj, *, locale, context):
        pattern, _error = parsed(obj, context)
        if pattern is None:
            return []
        cardinal = list(obj.locale.plural_cardinal or ["other"])
        ordinal = list(obj.locale.plural_ordinal or ["other"])
        found = []
        for arg in pattern.arguments():
            if arg.type not in mf.PLURAL_TYPES:
                continue
            wanted = cardinal if arg.type == "plural" else ordinal
            keys = {b.key for b in arg.branches}
            missing = [c for c in wanted if c not in keys]
            if missing:
                found.append(self.finding(
                    f"the {arg.type} {{{arg.name}}} lacks {', '.join(repr(c) for c in missing)}; {locale} needs "
                    f"{', '.join(wanted)}", position=arg.position, field=self.field, code="missing"))
        return found


@register
class PluralUnusedCategory(TemplateCheck):
    id = "template.plural_unused_category"
    severity = Severity.WARNING
    description = _("No plural branch is for a category the locale never selects (a 'one' branch in Japanese).")

    def run(self, obj, *, locale, context):
        pattern, _error = parsed(obj, context)
        if pattern is None:
            return []
        found = []
        for arg in pattern.arguments():
            if arg.type not in mf.PLURAL_TYPES:
                continue
            wanted = set((obj.locale.plural_cardinal if arg.type == "plural" else obj.locale.plural_ordinal)
                         or ["other"])
            for branch in arg.branches:
                if not branch.key.startswith("=") and branch.key not in wanted:
                    found.append(self.finding(f"{locale} never selects {branch.key!r} in {{{arg.name}}}",
                                              position=branch.position, field=self.field, code="never_selected"))
        return found


@register
class RegisterKnown(TemplateCheck):
    id = "template.register_known"
    severity = Severity.ERROR
    description = _("The text's register is one of the locale's registers (empty for a locale without any).")

    def run(self, obj, *, locale, context):
        codes = registers_of(locale, context)["codes"]
        if not obj.register and not codes:
            return []
        if obj.register and obj.register in codes:
            return []
        if not obj.register:
            return [self.finding(f"{locale} has registers ({', '.join(codes)}); say which one this text uses",
                                 field="register", code="missing")]
        return [self.finding(f"{obj.register!r} is not a register of {locale} "
                             f"(registers: {', '.join(codes) or 'none'})", field="register", code="unknown")]


@register
class DefaultRegisterExists(TemplateCheck):
    id = "template.default_register"
    severity = Severity.WARNING
    description = _("The key has a text in the locale's default register, which a render without a register uses.")

    def run(self, obj, *, locale, context):
        from .models import ResponseTemplate

        default = registers_of(locale, context)["default"]
        if default is None or obj.register == default:
            return []
        exists = ResponseTemplate.objects.filter(key_id=obj.key_id, locale_id=obj.locale_id, register=default).exclude(
            status=ResponseTemplate.Status.RETIRED).exists()
        if exists:
            return []
        return [self.finding(f"{obj.key.key} has no {locale} text in the default register {default!r}",
                             field="register", code="no_default")]


def _text_of(pattern) -> str:
    return " ".join(t.value for t in pattern.texts())


class _TermCheck(TemplateCheck):
    wanted_severity = ""

    def run(self, obj, *, locale, context):
        pattern, _error = parsed(obj, context)
        if pattern is None:
            return []
        found = []
        for text in pattern.texts():
            for row, severity in find_terms(text.value, locale_tag=locale, context=context):
                if severity != self.wanted_severity:
                    continue
                hint = f"; say {row.replacement!r} instead" if row.replacement else ""
                why = f" ({row.reason})" if row.reason else ""
                found.append(self.finding(f"{row.term!r} is a {severity}ed term in {locale}{why}{hint}",
                                          position=text.position, field=self.field, code=severity))
        return found


@register
class BannedTerm(_TermCheck):
    id = "template.banned_term"
    severity = Severity.ERROR
    description = _("The text says none of the locale's blocked terms.")
    wanted_severity = "block"


@register
class WarnedTerm(_TermCheck):
    id = "template.warned_term"
    severity = Severity.WARNING
    description = _("The text says none of the locale's terms to avoid (warn), or a reviewer confirms it.")
    wanted_severity = "warn"


@register
class MissingLocales(TemplateCheck):
    id = "template.missing_locales"
    severity = Severity.WARNING
    description = _("A source-locale text lists the locales that write templates but lack this key; a "
                    "target-locale text says when the source locale has none.")

    def run(self, obj, *, locale, context):
        from .models import ResponseTemplate

        live = ResponseTemplate.objects.exclude(status=ResponseTemplate.Status.RETIRED)
        if obj.locale_id == obj.key.source_locale_id:
            active = context.shared_once("culture.template_locales", lambda: dict(
                live.values_list("locale_id", "locale__tag").distinct()))
            have = set(live.filter(key_id=obj.key_id).values_list("locale_id", flat=True))
            missing = sorted(tag for pk, tag in active.items() if pk not in have and pk != obj.locale_id)
            if missing:
                return [self.finding(f"no text yet in {', '.join(missing)}", code="missing_locales")]
            return []
        if not live.filter(key_id=obj.key_id, locale_id=obj.key.source_locale_id).exists():
            return [self.finding(f"the source locale {obj.key.source_locale.tag} has no text for {obj.key.key}",
                                 code="no_source")]
        return []


@register
class LengthRatio(TemplateCheck):
    id = "template.length_ratio"
    severity = Severity.WARNING
    description = _("The text's length is within 0.4–2.5 times the source text's (corrected for Japanese, "
                    "Chinese and Korean): far outside usually means a missing or extra sentence.")

    def run(self, obj, *, locale, context):
        from .models import ResponseTemplate

        if obj.locale_id == obj.key.source_locale_id:
            return []
        pattern, _error = parsed(obj, context)
        if pattern is None:
            return []
        sources = dict(ResponseTemplate.objects.filter(key_id=obj.key_id, locale_id=obj.key.source_locale_id)
                       .exclude(status=ResponseTemplate.Status.RETIRED).values_list("register", "body"))
        if not sources:
            return []
        source_body = sources.get(obj.register) or next(iter(sources.values()))
        try:
            source_text = _text_of(mf.parse(source_body))
        except mf.PatternError:
            return []
        target_text = _text_of(pattern)
        if not source_text.strip():
            return []
        ratio = len(target_text.strip()) / len(source_text.strip())
        correction = 1.0
        source_language = _language(obj.key.source_locale.tag)
        if _language(locale) in DENSE_LANGUAGES and source_language not in DENSE_LANGUAGES:
            correction = 2.5
        elif source_language in DENSE_LANGUAGES and _language(locale) not in DENSE_LANGUAGES:
            correction = 0.4
        low, high = LENGTH_RATIO_BOUNDS
        corrected = ratio * correction
        if low <= corrected <= high:
            return []
        return [self.finding(f"the text is {ratio:.2f} times as long as the source text "
                             f"({obj.key.source_locale.tag}); expected {low}–{high} after correction",
                             code="too_short" if corrected < low else "too_long")]


# --- utterances ---------------------------------------------------------------------------------

@register
class UtteranceSensitiveTerm(Check):
    id = "utterance.banned_term"
    # A warning, never an error: users do say these words, and feedback and collection must keep
    # what was said; the finding flags the row for a reviewer.
    severity = Severity.WARNING
    applies_to = "utterance"
    description = _("The utterance contains a blocked or warned term of its locale (flagged for review).")

    def run(self, obj, *, locale, context):
        return [self.finding(f"contains {row.term!r}, a {severity}ed term in {locale}"
                             + (f" ({row.reason})" if row.reason else ""), field="text", code=severity)
                for row, severity in find_terms(obj.text or "", locale_tag=locale, context=context)]
