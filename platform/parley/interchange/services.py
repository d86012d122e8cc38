"""The import pipeline: validate every row (progress visible), then write in one transaction.

Validation streams the file and commits progress as it goes; accepted rows are written in one
transaction, so a failed import leaves nothing behind. On PostgreSQL a writer thread COPYs each
validated chunk into that open transaction while the next ones are checked (_WriterThread);
elsewhere, or inside a caller's transaction, chunks spill to a temporary file and are written
after validation (_SpillSink). Memory stays flat either way. Rows are keyed by (source, external id, locale): a row
already present is counted, not written again, which makes re-imports change nothing.
"""
from __future__ import annotations

import gc
import itertools
import json
import pickle
import queue
import re
import tempfile
import threading
from pathlib import Path
from typing import NamedTuple

import langcodes
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from parley.access.scoping import ALL_LOCALES, locales_for, token_locale_ids
from parley.events.services import event_record
from parley.locales.selectors import UnknownLocale, locale_resolve, locale_unregistered, locales_of_language
from parley.locales.services import locale_alias_set, locale_create
from parley.locales import cldr
from parley.checks.registry import CheckContext, checks_evaluate, errors_in, registry
from parley.checks.services import check_results_replace_many
from parley.checks.targets import TargetRef
from parley.nlu import checks as nlu_checks
from parley.nlu.models import Intent, SlotType, Utterance
from parley.nlu.normalize import normalize_text
from parley.nlu.services import (annotation_in_published_form, intent_ensure, intent_slot_types_allow,
                                 slot_type_ensure, slots_as_json, utterance_bulk_row, utterances_bulk_insert)
from parley.runs.services import TaskRunAbandoned, task_run_hold, task_run_progress

from .formats import conll, massive, slurp
from .formats.sources import (ARCHIVE_SUFFIXES, ArchiveLimits, RowError, SourceRefused, archive_check,
                              archive_check_stream, is_archive)
from .models import ImportBatch, ImportReject

CHUNK = 2000
ORDER_STRIDE = 10**10
EXTERNAL_ID_MAX = Utterance._meta.get_field("external_id").max_length  # rows per batch the source order leaves room for
_PROMOTED, _ACCEPTED = Utterance.Status.PROMOTED.value, Utterance.Status.ACCEPTED.value
_PARTITIONS = frozenset(massive.PARTITIONS | {"unassigned"})


def _set_status(batch: ImportBatch, status: str, actor, **fields) -> None:
    previous = batch.status
    batch.status = status
    for name, value in fields.items():
        setattr(batch, name, value)
    batch.save()
    event_record(actor=actor, verb="import.status_changed", target=batch,
                 payload={"from": previous, "to": status, "read": batch.rows_read, "accepted": batch.rows_accepted,
                          "present": batch.rows_present, "rejected": batch.rows_rejected})


UPLOAD_SUFFIXES = {
    ImportBatch.Format.MASSIVE: (".jsonl",) + ARCHIVE_SUFFIXES,
    ImportBatch.Format.SLURP: (".jsonl",) + ARCHIVE_SUFFIXES,
    ImportBatch.Format.CONLL: conll.SUFFIXES + ARCHIVE_SUFFIXES,
}


def _upload_suffix(name: str) -> str:
    lowered = name.lower()
    return next((s for s in ARCHIVE_SUFFIXES if lowered.endswith(s)), Path(lowered).suffix)


def upload_store(upload) -> Path:
    """Keep an uploaded file under a generated name; the client's name is only ever a label."""
    import uuid

    from django.conf import settings

    folder = Path(settings.PARLEY_IMPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{_upload_suffix(upload.name)}"
    # Written under a .part name and renamed when complete: a process killed mid-copy leaves only
    # a .part file, which `import_files_clean` removes; a batch never points at half a file.
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    partial.rename(path)
    return path


_FINISHED = (ImportBatch.Status.COMPLETED, ImportBatch.Status.REJECTED, ImportBatch.Status.FAILED)


def _kept_uploads() -> Path:
    return Path(settings.PARLEY_IMPORT_DIR).resolve()


# Django spools a large request body as NamedTemporaryFile(suffix=".upload" + the client name's
# extension): tmpXXXX.upload.jsonl, tmpXXXX.upload.gz (django/core/files/uploadedfile.py).
_SPOOLED_UPLOAD = re.compile(r"\.upload(\.[^.]+)?\Z")


def import_files_clean(*, now=None) -> dict:
    """Delete what uploads leave behind; safe to run any time, twice, or concurrently.

    - the stored file of a finished batch (completed, rejected, failed) finished more than
      PARLEY_IMPORT_RETENTION_DAYS ago: deleted, the batch keeps its record and says so (path
      emptied, an `import.file_removed` event); a queued or running batch keeps its file;
    - files in the upload folder that no batch names (a copy killed mid-way, a batch refused after
      its upload) and Django's spooled request files, once older than PARLEY_UPLOAD_ORPHAN_HOURS.
    Only files inside the upload folders are touched: a batch made from a path on the command line
    (`nlu_import`) names the operator's own file, which is never deleted.
    """
    import time
    from datetime import timedelta

    now = now or timezone.now()
    kept = _kept_uploads()
    removed_files = 0
    cutoff = now - timedelta(days=settings.PARLEY_IMPORT_RETENTION_DAYS)
    for batch in ImportBatch.objects.filter(status__in=_FINISHED, finished_at__lt=cutoff).exclude(path=""):
        path = Path(batch.path).resolve()
        if path.parent != kept:
            continue
        path.unlink(missing_ok=True)
        if ImportBatch.objects.filter(pk=batch.pk, path=batch.path).update(path=""):
            removed_files += 1
            event_record(actor="task:interchange.clean", verb="import.file_removed", target=batch,
                         payload={"file": batch.source_name, "retention_days": settings.PARLEY_IMPORT_RETENTION_DAYS})
    orphan_before = time.time() - settings.PARLEY_UPLOAD_ORPHAN_HOURS * 3600
    named = {Path(p).name for p in ImportBatch.objects.exclude(path="").values_list("path", flat=True)}
    removed_orphans = 0
    spooled = Path(settings.FILE_UPLOAD_TEMP_DIR)
    for folder, wanted in ((kept, lambda name: name not in named), (spooled, _SPOOLED_UPLOAD.search)):
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            try:
                if entry.is_file() and wanted(entry.name) and entry.stat().st_mtime < orphan_before:
                    entry.unlink()
                    removed_orphans += 1
            except FileNotFoundError:  # another run removed it first
                continue
    return {"batch_files": removed_files, "orphans": removed_orphans}


def upload_problem(*, name: str, size: int, format: str, file=None) -> str | None:
    """Why an uploaded file cannot be imported, or None (the API and the admin ask the same).

    An archive is checked member by member here already (`file`: the uploaded file), so an
    unsafe one is refused at upload instead of becoming a rejected batch later.
    """
    from django.conf import settings

    if size > settings.PARLEY_IMPORT_MAX_BYTES:
        return f"{size} bytes is over the limit of {settings.PARLEY_IMPORT_MAX_BYTES}"
    allowed = UPLOAD_SUFFIXES.get(format)
    if allowed is None:
        return f"unknown format {format!r}"
    if not name.lower().endswith(allowed):
        return f"a {format} upload must be one of: {', '.join(allowed)}"
    if file is not None and is_archive(name):
        try:
            if hasattr(file, "temporary_file_path"):
                archive_check(file.temporary_file_path(), limits=archive_limits())
            else:
                file.seek(0)
                archive_check_stream(file, limits=archive_limits())
                file.seek(0)
        except SourceRefused as exc:
            return str(exc)
    return None


IMPORT_PERMISSION = "interchange.add_importbatch"
# --create-missing makes locales, scenarios, intents and slot types, which every locale shares.
SCHEMA_CREATE_PERMISSIONS = ("locales.add_locale", "nlu.add_scenario", "nlu.add_intent", "nlu.add_slottype")


def import_scope(*, user, token=None):
    """The locale ids (or ALL_LOCALES) whose rows `user`, through `token` if any, may import."""
    return locales_for(user, IMPORT_PERMISSION, token)


def import_may_create_schema(*, user, token=None) -> bool:
    """Creating shared schema needs a platform-wide grant (every locale, no token locale limit)."""
    return all(locales_for(user, perm, token) is ALL_LOCALES
               for perm in (IMPORT_PERMISSION, *SCHEMA_CREATE_PERMISSIONS))


class ImportStarterRefused(Exception):
    """The user or token that started a batch may no longer run it; nothing is read or written."""


def _starter_scope(batch: ImportBatch):
    """Who started the batch, asked again when it runs (a worker may run it much later): the
    locale ids its rows may go to, or ALL_LOCALES (an operator's command line, or a platform-wide
    starter). A user gone or deactivated, a token revoked or expired, no import grant left, or
    --create-missing without a platform-wide grant refuse the whole batch."""
    from django.contrib.auth import get_user_model

    from parley.access.models import ApiToken

    grant = batch.started_with
    if not grant:
        return ALL_LOCALES
    user = get_user_model().objects.filter(pk=grant.get("user"), is_active=True).first()
    if user is None:
        raise ImportStarterRefused("the user who started this import is deleted or inactive; nothing was written")
    token = None
    if grant.get("token") is not None:
        token = ApiToken.objects.filter(pk=grant["token"], user=user).first()
        if token is None or not token.is_active:
            raise ImportStarterRefused("the API token that started this import was revoked, expired or deleted "
                                       "before it ran; nothing was written")
    scope = import_scope(user=user, token=token)
    if grant.get("token_locales") is not None:  # the limit when it started, should it have widened since
        recorded = frozenset(grant["token_locales"])
        scope = recorded if scope is ALL_LOCALES else scope & recorded
    if not scope:
        raise ImportStarterRefused("the user who started this import may no longer import in any locale; "
                                   "nothing was written")
    if batch.options.get("create_missing") and not import_may_create_schema(user=user, token=token):
        raise ImportStarterRefused("create_missing creates shared locales, scenarios, intents and slot types and "
                                   "needs a platform-wide grant; nothing was written")
    return scope


def import_batch_create(*, format: str, path: str, source_name: str = "", actor, create_missing: bool = False,
                        strict: bool = False, locale: str = "", label_map: dict | None = None,
                        token=None) -> ImportBatch:
    """A queued batch. `actor`: the user who starts it (with `token`, if one was used), checked
    again when it runs; a string for an operator's command. `label_map` (CoNLL only, see
    `conll_label_map_problem`) renames the file's intents and slot types as it lists them; the
    batch's options keep it, so the renaming is on record."""
    if format not in ImportBatch.Format.values:
        raise ValidationError({"format": f"unknown format {format!r}; known: {ImportBatch.Format.values}"})
    if label_map is not None:
        if format != ImportBatch.Format.CONLL:
            raise ValidationError({"label_map": "a label map applies to CoNLL imports only"})
        problem = conll_label_map_problem(label_map)
        if problem:
            raise ValidationError({"label_map": problem})
    if not Path(path).exists():
        raise ValidationError({"path": f"{path} does not exist"})
    if Path(path).is_file() and not str(source_name or path).lower().endswith(UPLOAD_SUFFIXES[format]):
        raise ValidationError({"path": f"a {format} import reads {', '.join(UPLOAD_SUFFIXES[format])} files, "
                                       f"not {Path(source_name or path).name!r}"})
    batch = ImportBatch.objects.create(
        format=format, path=str(path), source_name=source_name or Path(path).name,
        options={"create_missing": create_missing, "strict": strict, "locale": locale,
                 **({"label_map": label_map} if label_map is not None else {})},
        created_by=actor if getattr(actor, "pk", None) else None, token=token,
        started_with={} if getattr(actor, "pk", None) is None else {
            "user": actor.pk, "token": token.pk if token is not None else None,
            "token_locales": sorted(token_locale_ids(token) or ()) or None if token is not None else None},
    )
    event_record(actor=actor, verb="import.created", target=batch, payload=batch.options | {"file": batch.source_name})
    return batch


LABEL_MAP_KEYS = ("intents", "slot_types")
LABEL_MAP_MAX_BYTES = 1_000_000


def conll_label_map_problem(label_map) -> str | None:
    """Why a label map cannot be used, or None. A map is {"intents": {name: name}, "slot_types":
    {name: name}} (either part may be missing); a slot type may not hold whitespace or brackets
    (MASSIVE's notation could not write it)."""
    if not isinstance(label_map, dict):
        return "a label map is a JSON object with 'intents' and/or 'slot_types'"
    unknown = sorted(set(label_map) - set(LABEL_MAP_KEYS))
    if unknown:
        return f"unknown key(s) {', '.join(map(repr, unknown))}; a label map has {', '.join(LABEL_MAP_KEYS)}"
    for part in LABEL_MAP_KEYS:
        names = label_map.get(part, {})
        if not isinstance(names, dict):
            return f"{part!r} must be an object of name: name"
        for old, new in names.items():
            if not isinstance(new, str) or not new.strip() or new != new.strip() or "\x00" in new + old:
                return f"{part}[{old!r}]: the new name must be a non-empty string without surrounding spaces or NUL"
            if len(new) > 100:
                return f"{part}[{old!r}]: the new name is longer than 100 characters"
            if part == "slot_types" and (new.split() != [new] or "[" in new or "]" in new):
                return f"{part}[{old!r}]: a slot type cannot hold whitespace or brackets"
    return None


def conll_label_map_read(raw: bytes) -> dict:
    """A label map from JSON bytes (a file given to `nlu_import conll --label-map` or the import API)."""
    if len(raw) > LABEL_MAP_MAX_BYTES:
        raise ValidationError({"label_map": f"a label map is at most {LABEL_MAP_MAX_BYTES} bytes"})
    try:
        label_map = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValidationError({"label_map": f"not UTF-8 at byte {exc.start}"}) from None
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ValidationError({"label_map": f"not valid JSON{where}"}) from None
    problem = conll_label_map_problem(label_map)
    if problem:
        raise ValidationError({"label_map": problem})
    return label_map


class _AllowEverySlot(dict):
    """Allowed slot types per intent when the import itself extends what is allowed."""

    def get(self, key, default=None):
        return None


class _Draft(NamedTuple):
    """What the utterance checks read of a row that is not an Utterance yet (a tuple: built a
    million times an import). `source_text`: the text the file wrote beside its tokens (CoNLL's
    `# text`), which only the import has: the check `utterance.source_text_differs` compares it."""

    annotated: str
    text: str
    intent_id: int
    source_text: str | None = None


class _Schema:
    """Per-import caches of locales, intents and slot types (one query each, not one per row).

    `dry`: what --create-missing would create is stood in for by unsaved objects with negative
    ids, so a file can be checked in full without writing a locale, an intent or a slot type.
    """

    def __init__(self, *, create_missing: bool, actor, source: str, dry: bool = False, scope=ALL_LOCALES):
        self.create_missing, self.actor, self.source, self.dry = create_missing, actor, source, dry
        self.scope = scope  # locale ids the batch's starter may import into (or ALL_LOCALES)
        self._stand_in_ids = itertools.count(-1, -1)
        self.locales: dict[str, object] = {}
        self._file_name_refusals: dict[str, str] = {}  # file name's locale code → why no locale
        self.intents = {i.name: i for i in Intent.objects.select_related("scenario")}
        self.slot_types = {s.name: s for s in SlotType.objects.all()}
        self.slot_type_names = frozenset(self.slot_types)
        self.allowed = {}
        for intent_name, slot_name in Intent.slot_types.through.objects.values_list("intent__name", "slottype__name"):
            self.allowed.setdefault(intent_name, set()).add(slot_name)
        # The utterance checks run from the one registry; what they would load per run is given
        # here. With --create-missing every slot type the file uses becomes known and allowed.
        self.check_context = CheckContext(shared={
            nlu_checks.SLOT_TYPES_KEY: None if create_missing else self.slot_type_names,
            nlu_checks.ALLOWED_SLOT_TYPES_KEY: _AllowEverySlot() if create_missing else {
                i.pk: self.allowed.get(name, set()) for name, i in self.intents.items()},
        })

    def locale(self, tag: str):
        if tag not in self.locales:
            try:
                self.locales[tag] = locale_resolve(tag)
            except UnknownLocale as exc:
                if not self.create_missing:
                    raise ValidationError(f"unknown locale {tag!r} (register it, or import with --create-missing)") from exc
                try:
                    canonical = cldr.canonical_tag(tag)
                except cldr.InvalidTag:
                    raise ValidationError(f"{tag!r} is not a BCP 47 tag") from None
                if self.dry:
                    stand_in = locale_unregistered(canonical)  # with the script it would be registered with
                    stand_in.pk = next(self._stand_in_ids)
                    self.locales[tag] = stand_in
                    nlu_checks.locale_char_split_seed(stand_in, self.check_context)
                    return self.locales[tag]
                loc = locale_create(tag=canonical, actor=self.actor)
                if canonical != tag:
                    locale_alias_set(locale=loc, tag=tag, source=self.source, actor=self.actor)
                self.locales[tag] = loc
            # The checks and this import decide from the same Locale, once per locale and run.
            nlu_checks.locale_char_split_seed(self.locales[tag], self.check_context)
        locale = self.locales[tag]
        if locale.pk not in self.scope:
            raise ValidationError(f"locale {locale.tag!r} is outside the locales this import may write "
                                  f"({', '.join(self._scope_tags())}); row not written")
        return locale

    def file_name_locale(self, file: str):
        """The locale a file's name gives (xSID: `ar.test.conll`, `de-ba.test.conll`), decided
        once per name: a registered tag or alias; else, for a bare language code, the one
        registered locale of that language. A name is never registered from (`de-ba` is
        Bavarian, not German in Bosnia): that takes an explicit --locale."""
        tag = conll.locale_from_file_name(file)
        if tag not in self.locales and tag not in self._file_name_refusals:
            try:
                found = locale_resolve(tag)
            except UnknownLocale:
                found = self._locale_of_bare_language(tag)
            if isinstance(found, str):
                self._file_name_refusals[tag] = found
            else:
                self.locales[tag] = found
                nlu_checks.locale_char_split_seed(found, self.check_context)
        if tag in self._file_name_refusals:
            raise ValidationError(self._file_name_refusals[tag])
        return self.locale(tag)  # known now: the scope is checked as for any locale

    def _locale_of_bare_language(self, tag: str):
        """The one registered locale of a bare language code (ar → ar-SA, no → nb-NO through its
        alias no-NO), or why there is none to take."""
        not_registered = f"locale {tag!r} (from the file name) is not registered"
        try:
            parts = cldr.parse_tag(tag)
        except cldr.InvalidTag:
            parts = None
        if parts is None or parts.script or parts.territory or parts.variant or not tag.isalpha():
            return (f"{not_registered}; pass --locale, or register {tag!r} as an alias of the locale it "
                    f"means (source {self.source})")
        candidates = locales_of_language(language=parts.language)
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            return (f"{not_registered}, and {len(candidates)} registered locales are of its language "
                    f"({', '.join(c.tag for c in candidates)}); pass --locale with the one this file is")
        name = langcodes.Language.get(parts.language).display_name()
        return (f"{not_registered}, and no registered locale is of its language ({name}); pass --locale TAG "
                "--create-missing to register the locale this file is")

    def _scope_tags(self) -> list[str]:
        if not hasattr(self, "_tags"):
            from parley.locales.models import Locale

            self._tags = sorted(Locale.objects.filter(pk__in=self.scope).values_list("tag", flat=True))
        return self._tags

    def intent(self, name: str, scenario: str | None):
        intent = self.intents.get(name)
        if intent is None:
            if not self.create_missing:
                raise ValidationError(f"unknown intent {name!r} (import with --create-missing to add it)")
            if not scenario:
                raise ValidationError(f"unknown intent {name!r} and no scenario to create it under")
            if self.dry:
                from parley.nlu.models import Scenario

                intent = self.intents[name] = Intent(pk=next(self._stand_in_ids), name=name,
                                                     scenario=Scenario(name=scenario))
            else:
                intent = self.intents[name] = intent_ensure(name=name, scenario=scenario, actor=self.actor)
        if scenario and intent.scenario.name != scenario:
            raise ValidationError(f"intent {name!r} belongs to scenario {intent.scenario.name!r}, not {scenario!r}")
        return intent

    def ensure_slot_types(self, names: set[str], intent) -> None:
        if not names or self.dry:  # dry: every slot type is allowed anyway (create_missing)
            return
        missing = {name for name in names if name not in self.slot_types}
        for name in sorted(missing):
            self.slot_types[name] = slot_type_ensure(name=name, actor=self.actor)
        if missing:
            self.slot_type_names = frozenset(self.slot_types)
        new_allowed = names - self.allowed.get(intent.name, set())
        if new_allowed:
            intent_slot_types_allow(intent=intent, slot_types=[self.slot_types[n] for n in new_allowed])
            self.allowed.setdefault(intent.name, set()).update(new_allowed)


def _validate_row(record: dict, schema: _Schema, locale_override: str, *, keep: dict | None = None,
                  source_text: str | None = None) -> tuple[dict | None, str, str]:
    """A prepared row from MASSIVE-named fields, or None with (field, reason).

    `keep` is the record as the source wrote it, stored for exact round trips (default: record);
    `source_text` the text it wrote beside its tokens, for the checks (see _Draft).
    """
    get = record.get
    for name in massive.REQUIRED_FIELDS:
        value = get(name)
        if value is None or value == "":
            return None, name, "required"
        if name != "id" and not isinstance(value, str):
            return None, name, "must be a string"
    external_id = record["id"]
    if not isinstance(external_id, (str, int)) or isinstance(external_id, bool):
        return None, "id", "must be a string or a number"
    external_id = str(external_id)
    if len(external_id) > EXTERNAL_ID_MAX:
        return None, "id", f"longer than {EXTERNAL_ID_MAX} characters"
    for name in ("utt", "annot_utt", "intent", "locale"):
        if "\x00" in record[name]:
            return None, name, "contains a NUL character"
    try:
        locale = schema.locale(locale_override or record["locale"])
    except ValidationError as exc:
        return None, "locale", exc.messages[0]
    partition = get("partition", "unassigned")
    if not isinstance(partition, str) or partition not in _PARTITIONS:
        return None, "partition", f"{partition!r} is not train, dev or test"
    scenario = get("scenario")
    if scenario is not None and not isinstance(scenario, str):
        return None, "scenario", "must be a string"
    try:
        intent = schema.intent(record["intent"], scenario)
    except ValidationError as exc:
        return None, "intent", exc.messages[0]
    intent_id, tag, text = intent.pk, locale.tag, record["utt"]
    draft = _Draft(record["annot_utt"], text, intent_id, source_text)
    context = schema.check_context.for_next_object()
    findings = checks_evaluate(draft, applies_to="utterance", locale=tag, context=context)
    errors = errors_in(findings) if findings else None
    if errors:
        return None, "annot_utt", "; ".join(f"{f.code} at {f.position}: {f.message}" for f in errors)
    result = nlu_checks.parsed(draft, locale=tag, context=context)  # the checks' own parse, cached
    if schema.create_missing and result.annotation.slots:
        schema.ensure_slot_types({s.type for s in result.annotation.slots}, intent)
    annotated = record["annot_utt"]
    if result.annotation.slots:
        # Stored (and so exported) in MASSIVE's published form, by the rule every writer uses: a slot
        # glued to its neighbours gets its notation spaces; a published row is kept as given. The
        # file's own text stays in provenance.
        annotated = annotation_in_published_form(annotated=annotated, locale=locale)
    return {
        "locale_id": locale.pk, "intent_id": intent_id, "text": text, "annotated": annotated,
        "slots": slots_as_json(result.annotation), "normalized": normalize_text(text, locale=locale),
        "external_id": external_id, "partition": partition,
        # Imported with a trusted partition: the row is already in a dataset.
        "status": _PROMOTED if partition != "unassigned" else _ACCEPTED,
        "provenance": {"row": keep if keep is not None else record,
                       "fields": list(keep if keep is not None else record), "file": None},
        "findings": findings,  # warnings only by now; stored against the row once it exists
    }, "", ""


_COMPARED = ("intent_id", "text", "annotated", "partition")


def _existing_rows(source: str, keys: list[tuple[int, str]]) -> dict[tuple[int, str], tuple]:
    """The stored rows of this source among (locale id, external id) keys, with what an import
    compares (intent, text, annotation, partition): one query a chunk."""
    if not keys:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT u.locale_id, u.external_id, {', '.join('u.' + f for f in _COMPARED)} "
                f"FROM {Utterance._meta.db_table} u "
                "JOIN unnest(%s::bigint[], %s::text[]) AS k(locale_id, external_id) "
                "ON u.locale_id = k.locale_id AND u.external_id = k.external_id WHERE u.source = %s",
                [[k[0] for k in keys], [k[1] for k in keys], source])
            return {(r[0], r[1]): tuple(r[2:]) for r in cursor.fetchall()}
    found = {}
    by_locale: dict[int, list[str]] = {}
    for locale_id, external_id in keys:
        by_locale.setdefault(locale_id, []).append(external_id)
    for locale_id, ids in by_locale.items():
        for r in Utterance.objects.filter(source=source, locale_id=locale_id, external_id__in=ids).values_list(
                "locale_id", "external_id", *_COMPARED):
            found[(r[0], r[1])] = tuple(r[2:])
    return found


READERS = {
    ImportBatch.Format.MASSIVE: massive.read_records,
    ImportBatch.Format.SLURP: slurp.read_records,
    ImportBatch.Format.CONLL: conll.read_records,
}


def archive_limits() -> ArchiveLimits:
    from django.conf import settings

    return ArchiveLimits(max_unpacked_bytes=settings.PARLEY_IMPORT_MAX_UNPACKED_BYTES,
                         max_members=settings.PARLEY_IMPORT_MAX_MEMBERS,
                         max_line_bytes=settings.PARLEY_IMPORT_MAX_LINE_BYTES)


def _prepare_row(format: str, record: dict, *, file: str, schema: _Schema, options: dict
                 ) -> tuple[dict | None, str, str]:
    """A record of any format validated into an Utterance row, or None with (field, reason)."""
    if format == ImportBatch.Format.SLURP:
        common, field, reason = slurp.as_common_row(record, file=file, default_locale=options.get("locale") or "en-US")
        if common is None:
            return None, field, reason
        return _validate_row(common, schema, "", keep=record)
    if format == ImportBatch.Format.CONLL:
        explicit = options.get("locale", "")
        tag = explicit or conll.locale_from_file_name(file)  # the schema's key for the locale
        try:
            locale = schema.locale(explicit) if explicit else schema.file_name_locale(file)
        except ValidationError as exc:
            return None, "locale", exc.messages[0]
        common, field, reason = conll.as_common_row(record, file=file, locale=tag,
                                                    char_split=locale.writes_without_spaces,
                                                    label_map=options.get("label_map"))
        if common is None:
            return None, field, reason
        row, field, reason = _validate_row(common, schema, "", keep=record["comments"],
                                           source_text=record["comments"].get("text"))
        if row is not None:
            # Translations of one English sentence share a parallel group (the datasets leakage
            # guard keeps a group in one partition); the lines as written make the export exact.
            row["parallel_key"] = conll.parallel_key(record, partition=common["partition"], language=locale.tag)
            row["provenance"]["lines"] = record["lines"]
            row["provenance"]["blank_line_after"] = record["blank_line_after"]
            row["provenance"]["as_imported"] = conll.fingerprint(intent=common["intent"],
                                                                 annotated=row["annotated"])
        return row, field, reason
    return _validate_row(record, schema, options.get("locale", ""))


class _Validation:
    """Phase one: read and check every row, commit progress as it goes, spill accepted rows."""

    def __init__(self, batch: ImportBatch, actor, progress_run, *, dry: bool = False, scope=ALL_LOCALES):
        self.batch, self.progress_run = batch, progress_run
        self.sink = None  # where accepted chunks go: _SpillSink, _WriterThread or _Discard
        self.options = batch.options
        self.source = Utterance.Source(batch.format)
        self.schema = _Schema(create_missing=self.options.get("create_missing", False), actor=actor,
                              source=self.source, dry=dry, scope=scope)
        self.seen: dict[tuple[int, str], tuple[str, int]] = {}
        self.rejects: list[ImportReject] = []
        self.pending: list[tuple[dict, str, int]] = []
        # A source with no stored rows yet (the first import) cannot have present rows; repeats
        # inside this batch are caught by `seen`, so the per-chunk key query can be skipped.
        self.source_is_empty = not Utterance.objects.filter(source=self.source).exists()

    def run(self) -> None:
        batch = self.batch
        # Python's full collections scan every object that survived the younger ones; a million-row
        # import keeps enough alive (the keys seen so far) that they took a third of its time.
        # Freezing after each chunk takes what has survived out of those scans; it is undone at
        # the end, and only when nothing else (e.g. a pre-forking server) had frozen objects.
        freeze = gc.isenabled() and gc.get_freeze_count() == 0
        try:
            for item in READERS[batch.format](batch.path, limits=archive_limits(), label=batch.source_name):
                batch.rows_read += 1
                if isinstance(item, RowError):
                    self._reject(item.file, item.line, item.field, item.reason, item.excerpt)
                else:
                    self._take(*item)
                if batch.rows_read % CHUNK == 0:
                    self._flush()
                    if freeze:
                        gc.freeze()
            self._flush()
        finally:
            if freeze:
                gc.unfreeze()

    def _take(self, file: str, line: int, record: dict) -> None:
        row, field, reason = _prepare_row(self.batch.format, record, file=file, schema=self.schema,
                                          options=self.options)
        key = (row["locale_id"], row["external_id"]) if row else None
        if row and key in self.seen:
            first_file, first_line = self.seen[key]
            row, field, reason = None, "id", f"duplicate id {key[1]!r} for this locale (first at {first_file}:{first_line})"
        if row is None:
            self._reject(file, line, field, reason, json.dumps(record, ensure_ascii=False))
            return
        self.seen[key] = (file, line)  # formatted only for a duplicate
        row["position"] = self.batch.rows_read  # across files too: a locale fed by two files keeps their order
        self.pending.append((row, file, line))

    def _order(self, row: dict) -> int:
        # Later batches sort after earlier ones; within a batch, rows keep the order they were read in.
        return self.batch.pk * ORDER_STRIDE + row["position"]

    def _reject(self, file: str, line: int, field: str, reason: str, excerpt: str) -> None:
        self.batch.rows_rejected += 1
        self.rejects.append(ImportReject(batch=self.batch, file=file, line=line, field=field, reason=reason,
                                         excerpt=excerpt[:300]))

    def _flush(self) -> None:
        batch = self.batch
        if self.progress_run is not None:
            # First: a worker the run was taken from (declared lost, maybe run again elsewhere)
            # stops here, before it writes rejects or counts into a batch that is no longer its.
            task_run_progress(run=self.progress_run, done=batch.rows_read)
        present = {} if self.source_is_empty else _existing_rows(
            self.source, [(row["locale_id"], row["external_id"]) for row, _, _ in self.pending])
        chunk, findings = [], []
        for row, file, line in self.pending:
            stored = present.get((row["locale_id"], row["external_id"]))
            if stored is not None:
                differs = [name for name, value in zip(_COMPARED, stored) if row[name] != value]
                if differs:
                    # Same key, other content: never overwritten silently (a release may hold the
                    # stored row), and never counted as "already present" either.
                    self._reject(file, line, "id", f"id {row['external_id']!r} is stored for this locale with "
                                 f"a different {', '.join(n.removesuffix('_id') for n in differs)}; nothing "
                                 "changed (retire the stored row to replace it)", row["annotated"])
                else:
                    batch.rows_present += 1
                continue
            row["provenance"]["file"] = file
            chunk.append(utterance_bulk_row(source=self.source, source_order=self._order(row), **row))
            if row["findings"]:
                findings.append((row["locale_id"], row["external_id"], row["findings"]))
                batch.rows_warned += 1
        if chunk:
            self.sink.put(chunk, findings)
            batch.rows_accepted += len(chunk)
        self.pending.clear()
        ImportReject.objects.bulk_create(self.rejects)
        self.rejects.clear()
        ImportBatch.objects.filter(pk=batch.pk).update(
            rows_read=batch.rows_read, rows_accepted=batch.rows_accepted, rows_present=batch.rows_present,
            rows_rejected=batch.rows_rejected, rows_warned=batch.rows_warned)


def _findings_store(source: str, findings: list[tuple[int, str, list]]) -> None:
    """Store the warnings of rows just written (their ids exist now): one query and one insert."""
    if not findings:
        return
    ids = {(locale_id, external_id): (pk, tag) for pk, locale_id, external_id, tag in Utterance.objects.filter(
        source=source, locale_id__in={f[0] for f in findings}, external_id__in={f[1] for f in findings},
    ).values_list("pk", "locale_id", "external_id", "locale__tag")}
    entries = []
    for locale_id, external_id, found in findings:
        pk, tag = ids[(locale_id, external_id)]
        entries.append((TargetRef("nlu.utterance", str(pk), external_id), tag, found))
    check_results_replace_many(entries=entries, check_ids=[c.id for c in registry.for_kind("utterance")])


def _write_chunks(chunks, source: str, batch: ImportBatch, actor, run=None) -> None:
    """Every accepted row in one transaction, so a failure leaves nothing behind. With the task
    `run`, the transaction commits only while the run is still this worker's."""
    # Only a transaction of our own gets the settings below: a caller's would keep them after us.
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        rebuild = []
        if connection.vendor == "postgresql" and own_transaction:
            # The utterance foreign keys are deferred: checked at COMMIT, one by one, after the
            # last COPY. Checked at the end of each COPY instead, the same checks run while the
            # next chunk is still being validated (and the deferred queue stays small).
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            rebuild = _empty_table_load_begin()
        for chunk, findings in chunks:
            utterances_bulk_insert(rows=chunk)
            _findings_store(source, findings)
        if rebuild:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                for statement in rebuild:
                    cursor.execute(statement)
        if run is not None:
            task_run_hold(run=run)  # else the sweeper's "failed" would be overwritten: roll back
        _set_status(batch, ImportBatch.Status.COMPLETED, actor, finished_at=timezone.now())


def _empty_table_load_begin() -> list[str]:
    """Into an EMPTY utterance table, load as pg_restore does: drop the secondary indexes inside
    the write transaction and rebuild them from their own catalog definitions before it commits.
    One sort per index costs a fraction of maintaining it row by row (most of PostgreSQL's work
    in an import); uniqueness is still checked when its index is rebuilt, and a failure rolls the
    DDL back with the rows. The price: the table is locked (ACCESS EXCLUSIVE) until the import
    commits, so readers of the still-empty table wait. Foreign keys stay: dropping one would
    lock the locale and intent tables too, which the validation itself writes to.

    Returns the statements that rebuild what was dropped ([] when the table holds rows, another
    session holds it, or PARLEY_IMPORT_EMPTY_TABLE_REBUILD is off).
    """
    from django.conf import settings

    if not getattr(settings, "PARLEY_IMPORT_EMPTY_TABLE_REBUILD", True):
        return []
    table = Utterance._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})")
        if cursor.fetchone()[0]:
            return []
        try:
            with transaction.atomic():  # a savepoint: a lock not granted in time is no failure
                cursor.execute("SET LOCAL lock_timeout = '2s'")
                cursor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
        except OperationalError:
            return []
        cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})")  # rows written before the lock
        if cursor.fetchone()[0]:
            return []
        # Indexes that back no constraint (the primary key stays), and the foreign keys.
        cursor.execute("SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                       "WHERE x.indrelid = %s::regclass AND NOT EXISTS "
                       "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname", [table])
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    return [definition for _, definition in indexes]


class _SpillSink:
    """Accepted rows wait in a temporary file, pickled a chunk at a time, until every row has been
    checked; then one transaction writes them. Used where a second connection cannot see what the
    caller's does (inside a transaction, e.g. tests) and off PostgreSQL (SQLite has one writer)."""

    def __init__(self):
        self.spill = tempfile.TemporaryFile()

    def put(self, chunk: list[tuple], findings: list) -> None:
        pickle.dump((chunk, findings), self.spill, protocol=pickle.HIGHEST_PROTOCOL)

    def _chunks(self):
        self.spill.seek(0)
        while True:
            try:
                yield pickle.load(self.spill)  # our own temporary file, written above: trusted
            except EOFError:
                return

    def commit(self, validation: _Validation, actor) -> None:
        _set_status(validation.batch, ImportBatch.Status.WRITING, actor)
        _write_chunks(self._chunks(), validation.source, validation.batch, actor, validation.progress_run)

    def close(self) -> None:
        self.spill.close()


_DONE, _ABORT = object(), object()


class _WriterThread:
    """Phase two overlapped with phase one: a thread with its own database connection COPYs each
    validated chunk into one open transaction while the next chunks are validated, so
    PostgreSQL's work (indexes, foreign keys) runs on another core. The transaction commits only
    after the last row was checked (and never when --strict saw a reject), so a failed or refused
    import still writes nothing; progress keeps committing on the caller's connection."""

    QUEUED_CHUNKS = 4  # bounded: validation waits when the database falls behind

    def __init__(self, source: str, batch: ImportBatch, actor, run=None):
        self.source, self.batch, self.actor, self.run = source, batch, actor, run
        self.chunks: queue.Queue = queue.Queue(maxsize=self.QUEUED_CHUNKS)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=f"import-writer-{batch.pk}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from django.db import connection as own  # this thread's connection, not the caller's

        class Abort(Exception):
            pass

        def chunks():
            while True:
                item = self.chunks.get()
                if item is _DONE:
                    return
                if item is _ABORT:
                    raise Abort
                yield item

        try:
            _write_chunks(chunks(), self.source, self.batch, self.actor, self.run)
        except Abort:
            pass
        except BaseException as exc:  # handed to the caller, which marks the batch failed
            self.error = exc
            while self.chunks.get() not in (_DONE, _ABORT):  # let a waiting put() through
                pass
        finally:
            own.close()

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def put(self, chunk: list[tuple], findings: list) -> None:
        self._raise_error()  # a failed write stops the validation early
        self.chunks.put((chunk, findings))

    def commit(self, validation: _Validation, actor) -> None:
        self._raise_error()
        _set_status(validation.batch, ImportBatch.Status.WRITING, actor)
        self.chunks.put(_DONE)
        self.thread.join()
        self._raise_error()

    def close(self) -> None:
        """Roll back unless committed (a refused, rejected or failed import)."""
        if self.thread.is_alive():
            self.chunks.put(_ABORT)
            self.thread.join()


class _Discard:
    """The sink of a dry pass: rows are checked and counted, nothing is kept."""

    def put(self, chunk: list[tuple], findings: list) -> None:
        pass

    def close(self) -> None:
        pass


def _sink_for(source: str, batch: ImportBatch, actor, run=None):
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return _WriterThread(source, batch, actor, run)
    return _SpillSink()


def _statistics_refresh(batch: ImportBatch) -> None:
    """After a big import, VACUUM (ANALYZE) the utterance table on PostgreSQL.

    Fresh rows are not in the visibility map until a vacuum, so the coverage query (an
    index-only scan) would visit the heap for each of them (3x slower at 1M rows) until
    autovacuum comes round. VACUUM cannot run inside a transaction, so callers inside one skip it.
    """
    from django.conf import settings

    if (connection.vendor != "postgresql" or connection.in_atomic_block
            or batch.rows_accepted < settings.PARLEY_IMPORT_VACUUM_ROWS):
        return
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {Utterance._meta.db_table}")


_UNFINISHED = (ImportBatch.Status.QUEUED, ImportBatch.Status.VALIDATING, ImportBatch.Status.WRITING)


def import_batch_lost(*, batch_id: int, reason: str) -> None:
    """The worker running the batch is gone: say so on the batch (nothing was written, since the
    write commits only at its end). Its task run offers "run again"."""
    batch = ImportBatch.objects.filter(pk=batch_id, status__in=_UNFINISHED).first()
    if batch is None:
        return
    _set_status(batch, ImportBatch.Status.FAILED, "task:runs.sweep", error=reason, finished_at=timezone.now())


def import_file_gone(batch: ImportBatch) -> str | None:
    """Why the batch's file cannot be read again, or None. The cleanup empties the path of a
    finished batch's deleted upload, and Path("") is the working directory: never read it."""
    if not batch.path:
        return (f"the uploaded file {batch.source_name!r} was removed after the retention period "
                f"({settings.PARLEY_IMPORT_RETENTION_DAYS} days after the batch finished); upload it again")
    if not Path(batch.path).exists():
        return f"the file {batch.source_name!r} is no longer there; upload it again"
    return None


def import_batch_requeue(*, batch_id: int, actor) -> None:
    """A failed batch is queued again with its run (the run starts it afresh); refused (a
    ValidationError, which undoes the run's requeue) when its file is gone."""
    batch = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.FAILED).first()
    if batch is None:
        return
    gone = import_file_gone(batch)
    if gone:
        raise ValidationError({"path": [f"import batch {batch.pk} cannot run again: {gone}"]})
    _set_status(batch, ImportBatch.Status.QUEUED, actor, error="", finished_at=None)


def import_batch_run(*, batch: ImportBatch, actor, progress_run=None) -> ImportBatch:
    """Run a queued batch to completion. Safe to call again on a finished batch (no-op)."""
    if batch.status in (ImportBatch.Status.COMPLETED, ImportBatch.Status.REJECTED):
        return batch
    gone = import_file_gone(batch)
    if gone:  # checked again here: a batch queued before its file went, or by another path
        _set_status(batch, ImportBatch.Status.FAILED, actor, error=gone, finished_at=timezone.now())
        return batch
    ImportReject.objects.filter(batch=batch).delete()  # a retried run reports afresh
    try:
        scope = _starter_scope(batch)
    except ImportStarterRefused as exc:
        _set_status(batch, ImportBatch.Status.FAILED, actor, rows_read=0, rows_accepted=0, rows_present=0,
                    rows_rejected=0, rows_warned=0, error=str(exc), finished_at=timezone.now())
        return batch
    _set_status(batch, ImportBatch.Status.VALIDATING, actor, rows_read=0, rows_accepted=0, rows_present=0,
                rows_rejected=0, rows_warned=0, error="")
    if batch.options.get("strict") and batch.options.get("create_missing"):
        # --strict promises nothing is written if any row is rejected, and --create-missing would
        # create locales, intents and slot types while the rows are checked: check the whole file
        # first with stand-ins for them, and create nothing when a row is rejected.
        dry = _Validation(batch, actor, progress_run, dry=True, scope=scope)
        dry.sink = _Discard()
        try:
            dry.run()
            refused = False
        except SourceRefused:
            refused = True  # the pass below refuses the input the same way, before any row
        if batch.rows_rejected and not refused:
            _set_status(batch, ImportBatch.Status.REJECTED, actor, rows_accepted=0, rows_warned=0,
                        finished_at=timezone.now())
            return batch
        ImportReject.objects.filter(batch=batch).delete()
        counts = dict(rows_read=0, rows_accepted=0, rows_present=0, rows_rejected=0, rows_warned=0)
        ImportBatch.objects.filter(pk=batch.pk).update(**counts)
        for name, value in counts.items():
            setattr(batch, name, value)
    # The validation reads the utterance table before the writer may lock it (an empty-table load).
    validation = _Validation(batch, actor, progress_run, scope=scope)
    validation.sink = sink = _sink_for(validation.source, batch, actor, progress_run)
    try:
        try:
            validation.run()
        except SourceRefused as exc:
            # The input as a whole is unreadable or unsafe: one reject names why, nothing is written.
            ImportReject.objects.create(batch=batch, file=batch.source_name, line=0, field="(file)", reason=str(exc))
            _set_status(batch, ImportBatch.Status.REJECTED, actor, rows_rejected=batch.rows_rejected + 1,
                        rows_accepted=0, error=str(exc), finished_at=timezone.now())
            return batch
        if batch.options.get("strict") and batch.rows_rejected:
            _set_status(batch, ImportBatch.Status.REJECTED, actor, rows_accepted=0, rows_warned=0,
                        finished_at=timezone.now())
            return batch
        sink.commit(validation, actor)
        _statistics_refresh(batch)
    except TaskRunAbandoned:
        raise  # the batch is the sweeper's (failed) or another worker's now: leave it as it is
    except Exception as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.FAILED, error=str(exc)[:2000],
                                                      finished_at=timezone.now())
        batch.refresh_from_db()
        event_record(actor=actor, verb="import.status_changed", target=batch,
                     payload={"to": ImportBatch.Status.FAILED, "error": str(exc)[:500]})
        raise
    finally:
        sink.close()
    return batch
