"""The clustering drain: unclustered failure events → clusters, a chunk per transaction.

Per chunk of events, a fixed number of statements whatever the number of texts: the exact
matches by text key, the LSH band rows of every text not matched exactly, their candidates'
signatures, the new clusters and their bands (bulk), the events' cluster ids and the touched
clusters' figures. Texts are matched in the order their first event arrived, so a text opening
a cluster early in a chunk can take in a near-duplicate later in the same chunk.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from parley.locales.models import Locale
from parley.nlu.normalize import normalize_text

from . import clustering
from .models import ClusterBand, FeedbackCluster, FeedbackEvent, Signal

SIGNAL_SEVERITY = {
    Signal.REPORTED_DEFECT: 3.0,
    Signal.NEGATIVE_RATING: 2.0,
    Signal.USER_REPHRASE: 1.5,
    Signal.BARGE_IN: 1.0,
    Signal.LOW_CONFIDENCE: 0.5,
}
RECENCY_HALF_LIFE_DAYS = 7.0
ESCALATION_BONUS = 100.0  # base priorities stay far below: 3 × log2(1 + 10^9) ≈ 90
EXAMPLES_KEPT = 5
NEAR_CANDIDATES = 8  # per text, the clusters sharing the most bands are compared by signature
_CLUSTER_LOCK = 0x0FEEDBAC  # PostgreSQL advisory lock: one clustering drain at a time
_IN_CHUNK = 500  # values per IN (…) list, under SQLite's parameter limit
_FIELDS = ("id", "locale_id", "kind", "text", "signal", "predicted_intent", "response_template_key", "occurred_at")
_STATS = ["event_count", "first_seen", "last_seen", "severity", "priority", "examples", "predicted_intents",
          "template_keys", "updated_at"]


def text_key(normalized: str) -> str:
    return hashlib.md5(normalized.encode(), usedforsecurity=False).hexdigest()


def priority_of(*, severity: float, count: int, last_seen: datetime, escalated: bool, now: datetime) -> float:
    """Frequency (log of the event count) × severity (the worst signal) × recency (halves every
    week since the last event); escalated clusters sort first."""
    age_days = max((now - last_seen).total_seconds(), 0) / 86400
    base = severity * math.log2(1 + count) * 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
    return round(base + (ESCALATION_BONUS if escalated else 0.0), 6)


def _lock_taken(cursor) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite writers are serialized by the database (transaction_mode IMMEDIATE)
    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_CLUSTER_LOCK])
    return cursor.fetchone()[0]


def _chunks(values: list, size: int = _IN_CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


class _ChunkIndex:
    """The LSH bands visible to one chunk: stored clusters' (looked up once) and new ones'."""

    def __init__(self, signatures: dict[tuple, list[int]]):
        self.holders: dict[tuple, set] = defaultdict(set)  # (locale, kind, band hash) → cluster ids / new keys
        self.signatures: dict = {}
        by_scope: dict[tuple, set[int]] = defaultdict(set)
        for (locale_id, kind, _), signature in signatures.items():
            by_scope[(locale_id, kind)].update(h for _, h in clustering.bands(signature))
        candidate_ids: set[int] = set()
        for (locale_id, kind), hashes in by_scope.items():
            for part in _chunks(sorted(hashes)):
                for cluster_id, band_hash in ClusterBand.objects.filter(
                        locale_id=locale_id, kind=kind, band_hash__in=part).values_list("cluster_id", "band_hash"):
                    self.holders[(locale_id, kind, band_hash)].add(cluster_id)
                    candidate_ids.add(cluster_id)
        for part in _chunks(sorted(candidate_ids)):
            for cluster_id, signature in FeedbackCluster.objects.filter(pk__in=part).values_list("pk", "minhash"):
                self.signatures[cluster_id] = json.loads(signature) if isinstance(signature, str) else signature

    def add(self, *, ref, locale_id: int, kind: str, signature: list[int]) -> None:
        self.signatures[ref] = signature
        for _, band_hash in clustering.bands(signature):
            self.holders[(locale_id, kind, band_hash)].add(ref)

    def nearest(self, *, locale_id: int, kind: str, signature: list[int]):
        shared: Counter = Counter()
        for _, band_hash in clustering.bands(signature):
            shared.update(self.holders.get((locale_id, kind, band_hash), ()))
        best, best_score = None, clustering.SIMILARITY_THRESHOLD
        for ref, _ in sorted(shared.items(), key=lambda kv: (-kv[1], str(kv[0])))[:NEAR_CANDIDATES]:
            score = clustering.similarity(signature, self.signatures[ref])
            if score > best_score or (score == best_score and best is None):
                best, best_score = ref, score
        return best


def events_cluster(*, chunk_size: int = 2000, limit: int | None = None, now: datetime | None = None) -> int:
    """Put unclustered failure events into clusters; returns how many were clustered.

    By exact normalized text first, then by MinHash/LSH near-duplicates of the same locale ×
    kind, else a new cluster. Chunks commit one by one; a crash leaves the rest unclustered for
    the next run, and running twice clusters nothing twice. Concurrent drains on PostgreSQL: one
    holds an advisory lock, the others return at once (the holder reaches their events).
    """
    locales = Locale.objects.in_bulk()
    done = 0
    while limit is None or done < limit:
        with transaction.atomic(), connection.cursor() as cursor:
            if not _lock_taken(cursor):
                return done
            size = chunk_size if limit is None else min(chunk_size, limit - done)
            rows = list(FeedbackEvent.objects.filter(cluster__isnull=True).exclude(signal=Signal.SUCCESS)
                        .order_by("id").values(*_FIELDS)[:size])
            if not rows:
                return done
            _chunk_cluster(rows, locales=locales, now=now or timezone.now(), cursor=cursor)
            done += len(rows)
    return done


def _chunk_cluster(rows: list[dict], *, locales: dict, now: datetime, cursor) -> None:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        normalized = normalize_text(row["text"], locale=locales.get(row["locale_id"]))
        groups[(row["locale_id"], row["kind"], normalized)].append(row)
    text_keys = sorted({text_key(k[2]) for k in groups})
    stored: dict[int, FeedbackCluster] = {}
    target: dict[tuple, object] = {}  # group key → stored cluster id, or the group key opening a new cluster
    for part in _chunks(text_keys):
        for cluster in FeedbackCluster.objects.filter(text_key__in=part).defer("minhash"):
            key = (cluster.locale_id, cluster.kind, cluster.normalized)
            if key in groups:  # the same text in another locale or kind has the same key
                stored[cluster.pk] = cluster
                target[key] = cluster.pk
    unmatched = [k for k in groups if k not in target]
    signatures = {k: clustering.minhash(k[2]) for k in unmatched}
    index = _ChunkIndex(signatures)
    opening: list[tuple] = []
    for key in unmatched:
        locale_id, kind, _ = key
        near = index.nearest(locale_id=locale_id, kind=kind, signature=signatures[key])
        if near is None:
            opening.append(key)
            index.add(ref=key, locale_id=locale_id, kind=kind, signature=signatures[key])
            target[key] = key
        else:
            target[key] = near
    members_of: dict[object, list[dict]] = defaultdict(list)
    for key, members in groups.items():
        members_of[target[key]].extend(members)

    # New clusters: figures first, then one bulk insert each for clusters and their bands.
    fresh = []
    for key in opening:
        locale_id, kind, normalized = key
        first = min(members_of[key], key=lambda m: m["id"])
        cluster = FeedbackCluster(locale_id=locale_id, kind=kind, normalized=normalized, text_key=text_key(normalized),
                                  representative_text=first["text"], minhash=signatures[key],
                                  first_seen=first["occurred_at"], last_seen=first["occurred_at"])
        _absorb(cluster, members_of[key], now=now)
        fresh.append(cluster)
    FeedbackCluster.objects.bulk_create(fresh)
    ClusterBand.objects.bulk_create(
        [ClusterBand(cluster_id=c.pk, locale_id=c.locale_id, kind=c.kind, band=band, band_hash=band_hash)
         for c in fresh for band, band_hash in clustering.bands(c.minhash)], batch_size=2000)
    cluster_of_ref = {key: cluster.pk for key, cluster in zip(opening, fresh)}

    # Stored clusters that took in events: load the ones not loaded yet, update their figures.
    missing = [ref for ref in members_of if not isinstance(ref, tuple) and ref not in stored]
    for part in _chunks(missing):
        stored.update({c.pk: c for c in FeedbackCluster.objects.filter(pk__in=part).defer("minhash")})
    touched = []
    for ref, members in members_of.items():
        if isinstance(ref, tuple):
            continue
        _absorb(stored[ref], members, now=now)
        touched.append(stored[ref])
    _clusters_update_figures(cursor, touched)
    assignments = [(m["id"], cluster_of_ref[ref] if isinstance(ref, tuple) else ref)
                   for ref, members in members_of.items() for m in members]
    _events_assign(cursor, assignments)


def _clusters_update_figures(cursor, clusters: list[FeedbackCluster]) -> None:
    """Write the touched clusters' figures: one UPDATE … FROM (VALUES …) per 500 on PostgreSQL
    (Django's bulk_update builds a CASE per field and row, which cost more than the clustering)."""
    if not clusters:
        return
    if connection.vendor != "postgresql":
        FeedbackCluster.objects.bulk_update(clusters, _STATS, batch_size=500)
        return
    table = FeedbackCluster._meta.db_table
    row = ("(%s::bigint, %s::integer, %s::timestamptz, %s::timestamptz, %s::double precision, "
           "%s::double precision, %s::jsonb, %s::jsonb, %s::jsonb, %s::timestamptz)")
    for part in _chunks(clusters):
        params = []
        for c in part:
            params += [c.pk, c.event_count, c.first_seen, c.last_seen, c.severity, c.priority,
                       json.dumps(c.examples, ensure_ascii=False), json.dumps(c.predicted_intents, ensure_ascii=False),
                       json.dumps(c.template_keys, ensure_ascii=False), c.updated_at]
        cursor.execute(
            f"UPDATE {table} AS c SET event_count = v.event_count, first_seen = v.first_seen, last_seen = v.last_seen, "
            f"severity = v.severity, priority = v.priority, examples = v.examples, "
            f"predicted_intents = v.predicted_intents, template_keys = v.template_keys, updated_at = v.updated_at "
            f"FROM (VALUES {', '.join([row] * len(part))}) AS v(id, event_count, first_seen, last_seen, severity, "
            f"priority, examples, predicted_intents, template_keys, updated_at) WHERE c.id = v.id", params)


def _events_assign(cursor, assignments: list[tuple[int, int]]) -> None:
    """Set each event's cluster: one UPDATE … FROM (VALUES …) on PostgreSQL, one per cluster elsewhere."""
    table = FeedbackEvent._meta.db_table
    if connection.vendor == "postgresql":
        for part in _chunks(assignments, 2000):
            cursor.execute(f"UPDATE {table} AS e SET cluster_id = v.cluster_id FROM (VALUES "
                           + ", ".join(["(%s::bigint, %s::bigint)"] * len(part))
                           + ") AS v(id, cluster_id) WHERE e.id = v.id", [x for pair in part for x in pair])
        return
    by_cluster: dict[int, list[int]] = defaultdict(list)
    for event_id, cluster_id in assignments:
        by_cluster[cluster_id].append(event_id)
    for cluster_id, event_ids in by_cluster.items():
        for part in _chunks(event_ids):
            FeedbackEvent.objects.filter(pk__in=part).update(cluster_id=cluster_id)


def _absorb(cluster: FeedbackCluster, members: list[dict], *, now: datetime) -> None:
    cluster.event_count += len(members)
    cluster.first_seen = min([cluster.first_seen] + [m["occurred_at"] for m in members])
    cluster.last_seen = max([cluster.last_seen] + [m["occurred_at"] for m in members])
    cluster.severity = max([cluster.severity] + [SIGNAL_SEVERITY.get(m["signal"], 0.0) for m in members])
    newest = sorted(members, key=lambda m: m["occurred_at"], reverse=True)[:EXAMPLES_KEPT]
    examples = [{"event": m["id"], "text": m["text"], "signal": m["signal"], "predicted_intent": m["predicted_intent"],
                 "occurred_at": m["occurred_at"].isoformat()} for m in newest]
    cluster.examples = sorted(examples + list(cluster.examples), key=lambda e: e["occurred_at"],
                              reverse=True)[:EXAMPLES_KEPT]
    intents = Counter(cluster.predicted_intents)
    intents.update(m["predicted_intent"] or "(none)" for m in members)
    cluster.predicted_intents = dict(intents.most_common(10))
    templates = Counter(cluster.template_keys)
    templates.update(m["response_template_key"] for m in members if m["response_template_key"])
    cluster.template_keys = dict(templates.most_common(10))
    resolved = cluster.status == FeedbackCluster.Status.RESOLVED
    cluster.priority = priority_of(severity=cluster.severity, count=cluster.event_count, last_seen=cluster.last_seen,
                                   escalated=cluster.escalated_at is not None and not resolved, now=now)
    cluster.updated_at = now
