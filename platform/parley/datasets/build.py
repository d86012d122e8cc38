"""Building and publishing a release: files in a staging folder, then one atomic step.

The folder layout is the contract between build, diff, downloads and readers (docs/architecture.md):
```
<name>/v<version>/1.1/data/<file tag>.jsonl   MASSIVE rows (the distribution's layout)
                  index/<file tag>.tsv        uid, id, partition, intent, md5 of the jsonl line
                  lexicon/<file tag>.json     the locale's lexicon at build time
                  templates/<file tag>.json   the locale's approved response templates at build time
                  diff/<file tag>.json        added, removed, changed, retired rows against the previous
                  manifest.json, diff.json    (diff.json: the counts of every locale)
```
A build writes everything under `.staging/<release id>/`, checks the regression guard against the
previous release's indexes, and publishes by renaming the folder and committing the status in one
transaction that holds the release's row lock. A build that fails or is killed leaves at most a
staging folder, which the next attempt replaces; a published release is never rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from parley.events.services import event_record
from parley.interchange.exports import massive_keyed_lines
from parley.locales.models import Locale
from parley.locales.selectors import locale_export_tag
from parley.nlu.models import Utterance
from parley.culture.selectors import approved_templates
from parley.nlu.selectors import lexicon_rows

from .models import PromotionRule, Release, ReleaseFile, TestFloor, TestRetirement
from .services import release_build_attempt_failed

SCHEMA_VERSION = 1
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


class ReleaseRefused(ValidationError):
    """The regression guard refused the release; the message lists every violation."""


def releases_root() -> Path:
    return Path(settings.PARLEY_RELEASES_DIR)


def release_folder(release: Release) -> Path:
    return releases_root() / release.name / f"v{release.version}"


def staging_folders(release: Release) -> list[Path]:
    """Every staging folder of the release, of any attempt (what a crash may have left)."""
    return sorted((releases_root() / ".staging").glob(f"{release.pk}-*"))


def staging_folder(release: Release) -> Path:
    """This attempt's staging folder: one per attempt, so two attempts never write into one."""
    return releases_root() / ".staging" / f"{release.pk}-{os.getpid()}-{threading.get_ident()}"


def file_tag_of(locale: Locale) -> str:
    """The tag a locale's files are named with: MASSIVE's (sl-SL) where it has one, so MASSIVE's
    own loader finds its files, else the canonical tag."""
    return locale_export_tag(locale=locale, source="massive")


@dataclass
class IndexRow:
    uid: str
    id: str
    partition: str
    intent: str
    digest: str


def read_index(path: Path) -> dict[str, IndexRow]:
    rows = {}
    if not path.exists():
        return rows
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            uid, row_id, partition, intent, digest = line.rstrip("\n").split("\t")
            rows[uid] = IndexRow(uid, row_id, partition, intent, digest)
    return rows


@dataclass
class LocaleBuild:
    locale: Locale
    file_tag: str
    rows: int = 0
    counts: dict = field(default_factory=lambda: defaultdict(Counter))  # partition → intent → n
    sources: Counter = field(default_factory=Counter)
    files: list[dict] = field(default_factory=list)
    diff: dict = field(default_factory=dict)


def _hashed_write(path: Path, pieces) -> tuple[str, int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as handle:
        for piece in pieces:
            data = piece.encode("utf-8")
            digest.update(data)
            size += len(data)
            handle.write(data)
    return digest.hexdigest(), size


def _locale_files(build: LocaleBuild, staging: Path) -> dict[str, IndexRow]:
    """Write the locale's jsonl, index and lexicon snapshot; return the index as written."""
    index: dict[str, IndexRow] = {}
    jsonl_digest, jsonl_size = hashlib.sha256(), 0
    jsonl_path = staging / "1.1" / "data" / f"{build.file_tag}.jsonl"
    index_path = staging / "index" / f"{build.file_tag}.tsv"
    jsonl_path.parent.mkdir(parents=True, exist_ok=True)
    index_path.parent.mkdir(parents=True, exist_ok=True)
    index_digest, index_size = hashlib.sha256(), 0
    with jsonl_path.open("wb") as jsonl, index_path.open("wb") as index_file:
        for chunk in massive_keyed_lines(locale=build.locale, statuses=[Utterance.Status.PROMOTED]):
            lines, entries = [], []
            for uid, row_id, partition, intent, source, line in chunk:
                lines.append(line)
                digest = hashlib.md5(line.encode("utf-8"), usedforsecurity=False).hexdigest()
                entries.append(f"{uid}\t{row_id}\t{partition}\t{intent}\t{digest}\n")
                index[str(uid)] = IndexRow(str(uid), row_id, partition, intent, digest)
                build.counts[partition][intent] += 1
                build.sources[source] += 1
            data = "".join(lines).encode("utf-8")
            jsonl.write(data)
            jsonl_digest.update(data)
            jsonl_size += len(data)
            data = "".join(entries).encode("utf-8")
            index_file.write(data)
            index_digest.update(data)
            index_size += len(data)
            build.rows += len(lines)
    build.files.append({"path": f"1.1/data/{build.file_tag}.jsonl", "kind": ReleaseFile.Kind.MASSIVE,
                        "sha256": jsonl_digest.hexdigest(), "bytes": jsonl_size, "rows": build.rows})
    build.files.append({"path": f"index/{build.file_tag}.tsv", "kind": ReleaseFile.Kind.INDEX,
                        "sha256": index_digest.hexdigest(), "bytes": index_size, "rows": build.rows})
    lexicon = [{k: row[k] for k in ("slot_type", "concept", "value", "synonyms")}
               for row in lexicon_rows(locale_ids=[build.locale.pk])]
    digest, size = _hashed_write(staging / "lexicon" / f"{build.file_tag}.json",
                                 [json.dumps(lexicon, ensure_ascii=False, indent=1) + "\n"])
    build.files.append({"path": f"lexicon/{build.file_tag}.json", "kind": ReleaseFile.Kind.LEXICON,
                        "sha256": digest, "bytes": size, "rows": len(lexicon)})
    templates = approved_templates(locale=build.locale)
    digest, size = _hashed_write(staging / "templates" / f"{build.file_tag}.json",
                                 [json.dumps(templates, ensure_ascii=False, indent=1) + "\n"])
    build.files.append({"path": f"templates/{build.file_tag}.json", "kind": ReleaseFile.Kind.TEMPLATES,
                        "sha256": digest, "bytes": size, "rows": len(templates)})
    return index


def _diff_and_guard(build: LocaleBuild, index: dict[str, IndexRow], previous_index: dict[str, IndexRow],
                    retired_uids: set[str], floors: dict, violations: list) -> None:
    added = sorted((uid for uid in index if uid not in previous_index), key=int)
    removed = sorted((uid for uid in previous_index if uid not in index), key=int)
    changed = sorted((uid for uid in index if uid in previous_index and index[uid].digest != previous_index[uid].digest),
                     key=int)
    retired = []
    for uid in removed + changed:
        if previous_index[uid].partition != Utterance.Partition.TEST:
            continue
        if uid in retired_uids:
            retired.append(uid)
        else:
            what = "dropped" if uid not in index else "changed"
            violations.append((build.locale.tag, f"{build.locale.tag}: test row {uid} (id {previous_index[uid].id}) "
                                                 f"of the previous release is {what} without a retirement"))

    def ids(uids, rows):
        return [{"uid": int(uid), "id": rows[uid].id} for uid in uids]

    build.diff = {"added": ids(added, index), "removed": ids(removed, previous_index),
                  "changed": ids(changed, index), "retired": ids(retired, previous_index)}
    # Floors: an intent's own floor always applies; the locale default applies to every intent
    # that has test rows in this release or had them in the previous one.
    test_counts = build.counts.get(Utterance.Partition.TEST, Counter())
    previous_test_intents = {row.intent for row in previous_index.values() if row.partition == Utterance.Partition.TEST}
    default = floors.get(None)
    checked = {name: minimum for name, minimum in floors.items() if name is not None}
    if default is not None:
        for intent in set(test_counts) | previous_test_intents:
            checked.setdefault(intent, default)
    for intent, minimum in sorted(checked.items()):
        if test_counts.get(intent, 0) < minimum:
            violations.append((build.locale.tag, f"{build.locale.tag} × {intent}: {test_counts.get(intent, 0)} test "
                                                 f"rows, below the floor of {minimum}"))


def _release_locales(release: Release) -> list[Locale]:
    if release.locale_tags:
        return list(Locale.objects.filter(tag__in=release.locale_tags).order_by("tag"))
    ids = Utterance.objects.filter(status=Utterance.Status.PROMOTED).values_list("locale_id", flat=True).distinct()
    return list(Locale.objects.filter(pk__in=ids).order_by("tag"))


def _previous_published(release: Release) -> Release | None:
    return (Release.objects.filter(name=release.name, status=Release.Status.PUBLISHED, version__lt=release.version)
            .order_by("-version").first())


def _rules_in_force(locales: list[Locale]) -> dict:
    rules = PromotionRule.objects.filter(locale__isnull=True) | PromotionRule.objects.filter(locale__in=locales)
    floors = TestFloor.objects.filter(locale__in=locales).select_related("locale", "intent")
    return {
        "promotion": [{"locale": r.locale.tag if r.locale_id else "*", "source": r.source, "target": r.target,
                       "split": [str(r.split_train), str(r.split_dev), str(r.split_test)], "seed": r.seed}
                      for r in rules.select_related("locale").order_by("locale__tag", "source")],
        "test_floors": [{"locale": f.locale.tag, "intent": f.intent.name if f.intent_id else "*", "minimum": f.minimum}
                        for f in floors],
    }


class BuildInProgress(Exception):
    """Another attempt holds this release's build lock; this one steps aside (the task retries)."""


# Sources whose partitions come from a published dataset: a text in both test and train there is
# the dataset's own split, reported in the manifest rather than refused (MASSIVE has such rows).
IMPORTED_SOURCES = (Utterance.Source.MASSIVE, Utterance.Source.SLURP, Utterance.Source.CONLL)


def _leakage(locales: list[Locale]) -> tuple[list, dict]:
    """The leakage guard checked again on what the release will carry, whatever wrote the rows
    (imports and edits of promoted rows do not pass through promotion): (violations, known) where
    known counts, per locale, overlaps made only of imported rows."""
    promoted = Utterance.objects.filter(status=Utterance.Status.PROMOTED)
    test, other = Q(partition=Utterance.Partition.TEST), Q(partition__in=[Utterance.Partition.TRAIN,
                                                                          Utterance.Partition.DEV])
    untrusted = ~Q(source__in=IMPORTED_SOURCES)
    violations, known = [], {}
    tags = {locale.pk: locale.tag for locale in locales}
    for locale in locales:
        clashes = (promoted.filter(locale=locale).values("normalized")
                   .annotate(test=Count("id", filter=test), other=Count("id", filter=other),
                             untrusted=Count("id", filter=untrusted), first=Min("id"))
                   .filter(test__gt=0, other__gt=0))
        for clash in clashes.iterator():
            if clash["untrusted"]:
                violations.append((locale.tag, f"{locale.tag}: the text {clash['normalized'][:80]!r} is in test and "
                                                f"in train/dev (utterance {clash['first']} and others)"))
            else:
                known[locale.tag] = known.get(locale.tag, 0) + 1
    groups = (promoted.filter(locale__in=locales).exclude(parallel_key="").values("parallel_key")
              .annotate(partitions=Count("partition", distinct=True), untrusted=Count("id", filter=untrusted),
                        first=Min("id"), locale_id=Min("locale_id"))
              .filter(partitions__gt=1, untrusted__gt=0))
    for group in groups.iterator():
        violations.append((tags.get(group["locale_id"]), f"parallel group {group['parallel_key']} spans partitions "
                                                         f"(utterance {group['first']} and others)"))
    return violations, known


def _previous_files_problem(previous: Release) -> str | None:
    """Why the previous release's index files cannot be trusted for the diff and the guard."""
    folder = releases_root() / previous.path
    for entry in ReleaseFile.objects.filter(release=previous, kind=ReleaseFile.Kind.INDEX):
        path = folder / entry.path
        if not path.exists():
            return f"the previous release's file {entry.path} is missing from {releases_root()}"
        digest = hashlib.sha256()
        for piece in _pieces(path):
            digest.update(piece)
        if digest.hexdigest() != entry.sha256:
            return f"the previous release's file {entry.path} does not match its checksum"
    return None


def _pieces(path: Path):
    with path.open("rb") as handle:
        while piece := handle.read(1 << 20):
            yield piece


@contextmanager
def _build_lock(release: Release):
    """One attempt at a time per release (a redelivered message, a manual re-run): a PostgreSQL
    session lock, released when the attempt ends or its connection dies with a killed worker."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [BUILD_LOCK_CLASS, release.pk])
        if not cursor.fetchone()[0]:
            raise BuildInProgress(f"release {release.pk} is being built by another attempt")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [BUILD_LOCK_CLASS, release.pk])


BUILD_LOCK_CLASS = 7_405_002


def release_build(*, release: Release, actor, progress: Callable[[int, int | None], None] | None = None) -> Release:
    """Build `release` into a staging folder of this attempt and publish it, or mark it failed
    with every reason (regression guard, leakage, superseded).

    Safe to run again after a crash or a kill at any point: a published release is returned as it
    is, staging folders left behind are removed, an orphan final folder (renamed, never committed)
    is removed before the rename. An attempt that dies of something else leaves the release
    building with the error noted, to be built again (`release_build_queue`).
    """
    release = Release.objects.get(pk=release.pk)
    if release.status == Release.Status.PUBLISHED:
        return release
    if release.status == Release.Status.FAILED:
        raise ValidationError({"status": f"release {release} failed; create a new version instead"})
    with _build_lock(release):
        try:
            return _build_locked(release, actor, progress)
        except (BuildInProgress, ReleaseRefused):
            raise
        except Exception as exc:
            release_build_attempt_failed(release_id=release.pk, reason=f"{type(exc).__name__}: {exc}", actor=actor)
            raise


def _build_locked(release, actor, progress) -> Release:
    for leftover in staging_folders(release):  # under the build lock: no other attempt is writing
        _remove_tree(leftover)
    staging = staging_folder(release)
    staging.mkdir(parents=True)
    previous = _previous_published(release)
    previous_folder = releases_root() / previous.path if previous else None
    locales = _release_locales(release)
    retirements = defaultdict(set)
    for locale_id, uid in TestRetirement.objects.filter(locale__in=locales, applied_in__isnull=True).values_list(
            "locale_id", "row_uid"):
        retirements[locale_id].add(uid)
    floors = defaultdict(dict)
    for locale_id, intent_name, minimum in TestFloor.objects.filter(locale__in=locales).values_list(
            "locale_id", "intent__name", "minimum"):
        floors[locale_id][intent_name] = minimum
    violations: list[tuple[str | None, str]] = []
    builds: list[LocaleBuild] = []
    try:
        if previous is not None:
            problem = _previous_files_problem(previous)
            if problem:  # without them the guard would pass by seeing nothing: refuse instead
                raise ReleaseRefused([problem])
        violations, known_leakage = _leakage(locales)
        for done, locale in enumerate(locales):
            build = LocaleBuild(locale=locale, file_tag=file_tag_of(locale))
            index = _locale_files(build, staging)
            previous_index = read_index(previous_folder / "index" / f"{build.file_tag}.tsv") if previous_folder \
                else {}
            _diff_and_guard(build, index, previous_index, retirements[locale.pk], floors[locale.pk], violations)
            builds.append(build)
            if progress:
                progress(done + 1, len(locales))
        if previous_folder:
            # A locale of the previous release left out of this one drops its test rows too.
            built_tags = {b.file_tag for b in builds}
            tag_of_file = {f["path"]: f["locale"] for f in previous.manifest.get("files", [])}
            for index_path in sorted((previous_folder / "index").glob("*.tsv")):
                if index_path.stem not in built_tags and any(
                        row.partition == Utterance.Partition.TEST for row in read_index(index_path).values()):
                    violations.append((tag_of_file.get(f"index/{index_path.name}"),
                                       f"{index_path.stem}: the locale's test rows of the previous release are "
                                       f"missing from this one"))
        if violations:
            raise ReleaseRefused([message for _tag, message in violations])
        # One diff file per locale (a first release of 1M rows lists 1M added ids: a reader fetches
        # only their locales'), and diff.json with the counts of every locale.
        header = {"release": f"{release.name} v{release.version}",
                  "previous": f"{previous.name} v{previous.version}" if previous else None}
        for b in builds:
            digest, size = _hashed_write(staging / "diff" / f"{b.file_tag}.json",
                                         [json.dumps({**header, "locale": b.locale.tag, **b.diff},
                                                     ensure_ascii=False) + "\n"])
            b.files.append({"path": f"diff/{b.file_tag}.json", "kind": ReleaseFile.Kind.DIFF, "sha256": digest,
                            "bytes": size, "rows": sum(len(v) for v in b.diff.values())})
        summary = {**header, "locales": {b.locale.tag: {k: len(v) for k, v in b.diff.items()} for b in builds}}
        diff_digest, diff_size = _hashed_write(staging / "diff.json", [json.dumps(summary, ensure_ascii=False) + "\n"])
        files = [dict(f, locale=b.locale.tag) for b in builds for f in b.files]
        files.append({"path": "diff.json", "kind": ReleaseFile.Kind.DIFF, "sha256": diff_digest, "bytes": diff_size,
                      "rows": 0, "locale": None})
        manifest = {
            "schema_version": SCHEMA_VERSION, "release": {"name": release.name, "version": release.version},
            "previous": {"name": previous.name, "version": previous.version} if previous else None,
            "built_at": timezone.now().isoformat(),
            "locales": {b.locale.tag: {"file_tag": b.file_tag, "rows": b.rows,
                                       "counts": {p: dict(sorted(c.items())) for p, c in sorted(b.counts.items())},
                                       "sources": dict(sorted(b.sources.items())),
                                       "imported_test_train_overlaps": known_leakage.get(b.locale.tag, 0)}
                        for b in builds},
            "files": [{k: f[k] for k in ("path", "kind", "locale", "sha256", "bytes", "rows")} for f in files],
            "rules": _rules_in_force(locales),
            "retired": {b.locale.tag: [r["uid"] for r in b.diff["retired"]] for b in builds if b.diff["retired"]},
        }
        _hashed_write(staging / "manifest.json", [json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"])
    except ReleaseRefused as refused:
        _remove_tree(staging)
        found = violations or [(None, message) for message in refused.messages]
        return _release_fail(release, actor, found)
    return _release_publish(release, actor, staging=staging, manifest=manifest, files=files, builds=builds,
                            previous=previous)


def _release_fail(release: Release, actor, violations: list[tuple[str | None, str]]) -> Release:
    """Failed, with every reason; each reason keeps its locale so a reader sees only theirs."""
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(pk=release.pk)
        if locked.status != Release.Status.BUILDING:
            return locked
        locked.status = Release.Status.FAILED
        locked.error = "; ".join(message for _tag, message in violations)[:20000]
        locked.manifest = {"violations": [{"locale": tag, "message": message} for tag, message in violations[:1000]],
                           "violation_count": len(violations)}
        locked.save(update_fields=["status", "error", "manifest"])
        event_record(actor=actor, verb="release.failed", target=locked,
                     payload={"violations": [m for _t, m in violations[:50]], "count": len(violations)})
    return locked


def _release_publish(release: Release, actor, *, staging: Path, manifest: dict, files: list[dict],
                     builds: list[LocaleBuild], previous: Release | None) -> Release:
    from .webhooks import webhook_deliveries_create

    for path in staging.rglob("*"):
        if path.is_file():
            path.chmod(READ_ONLY)
    final = release_folder(release)
    with transaction.atomic():
        # The row lock makes a duplicate delivery of the build wait here, then find it published.
        locked = Release.objects.select_for_update().get(pk=release.pk)
        if locked.status != Release.Status.BUILDING:
            _remove_tree(staging)
            return locked
        newer = Release.objects.filter(name=locked.name, status=Release.Status.PUBLISHED,
                                       version__gt=locked.version).order_by("version").first()
        if newer is not None or _previous_published(locked) != previous:
            _remove_tree(staging)
            reason = (f"superseded: {newer} was published while this version was building" if newer else
                      "another version was published while this one was building; build the next version")
            return _release_fail(locked, actor, [(None, reason)])
        if final.exists():  # renamed by an attempt that died before its commit: never published
            _remove_tree(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        locale_ids = {b.locale.tag: b.locale.pk for b in builds}
        ReleaseFile.objects.bulk_create([
            ReleaseFile(release=locked, locale_id=locale_ids.get(f["locale"]), kind=f["kind"], path=f["path"],
                        sha256=f["sha256"], size=f["bytes"], rows=f["rows"]) for f in files])
        manifest_path = staging / "manifest.json"
        ReleaseFile.objects.create(release=locked, locale=None, kind=ReleaseFile.Kind.MANIFEST, path="manifest.json",
                                   sha256=hashlib.sha256(manifest_path.read_bytes()).hexdigest(),
                                   size=manifest_path.stat().st_size, rows=0)
        for build in builds:
            uids = [str(r["uid"]) for r in build.diff["retired"]]
            if uids:
                TestRetirement.objects.filter(locale=build.locale, row_uid__in=uids, applied_in__isnull=True).update(
                    applied_in=locked)
        locked.status = Release.Status.PUBLISHED
        locked.previous = previous
        locked.path = str(final.relative_to(releases_root()))
        locked.manifest = manifest
        locked.diff_summary = {b.locale.tag: {k: len(v) for k, v in b.diff.items()} for b in builds}
        locked.rows = sum(b.rows for b in builds)
        locked.published_at = timezone.now()
        locked.error = ""  # an earlier attempt's failure (raised, worker lost) is history once published
        locked.save()
        event_record(actor=actor, verb="release.published", target=locked,
                     payload={"rows": locked.rows, "locales": sorted(locale_ids), "diff": locked.diff_summary})
        webhook_deliveries_create(release=locked, actor=actor)
        # Last, so an error above leaves the folder in staging; a crash after this and before the
        # commit leaves an orphan final folder, which the next attempt removes.
        os.replace(staging, final)
    return locked


def _remove_tree(path: Path) -> None:
    # Files are read-only, their folders are not: unlinking needs only the folder's write bit.
    if path.exists():
        shutil.rmtree(path)
