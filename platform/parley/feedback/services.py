"""Feedback writes: ingestion, clustering, the triage lifecycle, resolution actions, SLA escalation.

Every status change goes through `cluster_status_change` (row lock, allowed steps, event row).
Who may make each change is decided here too (`_require`), so the API and the admin ask the
same question; interfaces only translate the refusal.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from parley.checks.registry import CheckContext, registry
from parley.checks.services import check_results_replace_many
from parley.checks.targets import TargetRef
from parley.events.services import event_record
from parley.locales.models import Locale
from parley.nlu.normalize import normalize_text

from .drain import ESCALATION_BONUS, SIGNAL_SEVERITY, events_cluster, priority_of, text_key  # noqa: F401
from .ingest import CleanEvent, LocaleCache, event_clean, max_batch
from .models import FeedbackCluster, FeedbackEvent, FeedbackSla, ParaphraseCandidate

logger = logging.getLogger(__name__)
C = FeedbackCluster.Status
R = FeedbackCluster.Resolution

# --- Ingestion --------------------------------------------------------------------------------

_INSERT_COLUMNS = ("idempotency_key", "key_owner", "body_hash", "locale_id", "text", "predicted_intent",
                   "predicted_slots", "confidence",
                   "signal", "kind", "response_template_key", "session_hash", "occurred_at", "received_at",
                   "masking", "submitted_by_id")
_INSERT_CHUNK = 500  # 16 parameters a row: 8,000 a statement, under SQLite's and PostgreSQL's limits


def key_owner_of(submitted_by) -> str:
    """Whose idempotency keys these are: the submitting user's (all their tokens share them);
    empty for an operator's file import."""
    user_id = getattr(submitted_by, "pk", None)
    return "" if user_id is None else f"user:{user_id}"


BODY_HASH_SALT = "parley.feedback.body_hash"


def body_hash_of(item, *, secret=None) -> str:
    """HMAC-SHA256 of the item as sent (key order and spacing aside), keyed from SECRET_KEY: a replay
    sends the same hash. Keyed because the item is the text and slot values before masking: a plain
    hash of a masked 10-digit phone number is found again by trying every number."""
    canonical = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return salted_hmac(BODY_HASH_SALT, canonical.encode("utf-8", "surrogatepass"), secret=secret,
                       algorithm="sha256").hexdigest()


def body_hash_matches(item, stored: str) -> bool:
    """Is `stored` this item's hash? An empty one (stored before bodies were hashed) matches any body;
    a hash made with a key in SECRET_KEY_FALLBACKS still matches, so rotating the key does not turn
    every replay of an earlier key into a conflict."""
    if not stored:
        return True
    return any(constant_time_compare(body_hash_of(item, secret=secret), stored)
               for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS))


class IdempotencyConflict(Exception):
    """Keys this owner used before (or earlier in the batch) with another body: [(index, key)]."""

    def __init__(self, conflicts: list[tuple[int, str]]):
        self.conflicts = conflicts
        listed = ", ".join(f"item {index} ({key!r})" for index, key in conflicts[:10])
        more = f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
        super().__init__(f"idempotency key used before with a different body: {listed}{more}; "
                         "nothing of this batch was stored (a replay must send the same body)")


def _row(event: CleanEvent, *, received_at: datetime, submitted_by_id, key_owner: str) -> tuple:
    return (event.idempotency_key, key_owner, event.body_hash, event.locale_id, event.text, event.predicted_intent,
            json.dumps(event.predicted_slots, ensure_ascii=False), event.confidence, event.signal, event.kind,
            event.response_template_key, event.session_hash, event.occurred_at, received_at,
            json.dumps(event.masking), submitted_by_id)


_STAGING_TABLE = "feedback_incoming"
_STAGING_COLUMNS = ("idempotency_key varchar(100), key_owner varchar(40), body_hash varchar(64), locale_id bigint, "
                    "text text, predicted_intent varchar(80), "
                    "predicted_slots jsonb, confidence double precision, signal varchar(20), kind varchar(20), "
                    "response_template_key varchar(200), session_hash varchar(128), occurred_at timestamptz, "
                    "received_at timestamptz, masking jsonb, submitted_by_id integer")


def events_insert(*, events: list[CleanEvent], submitted_by=None) -> dict[str, int]:
    """Insert events whose key is new; {key: id} of those inserted. The caller holds the transaction.

    Idempotency is the unique constraint on (owner, key): `INSERT … ON CONFLICT DO NOTHING
    RETURNING` inserts new keys and skips present ones in one statement, so two replays racing each other
    cannot both insert (no read-then-write window). PostgreSQL gets the rows by COPY into a
    temporary table first (a 7,000-parameter VALUES list cost ~4x more to parse and bind);
    SQLite (≥ 3.35 speaks ON CONFLICT … RETURNING too) gets multi-row VALUES.
    """
    if not events:
        return {}
    table = FeedbackEvent._meta.db_table
    received_at = timezone.now()
    user_id = getattr(submitted_by, "pk", None)
    owner = key_owner_of(submitted_by)
    columns = ", ".join(_INSERT_COLUMNS)
    conflict = "ON CONFLICT (key_owner, idempotency_key) DO NOTHING RETURNING idempotency_key, id"
    created: dict[str, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING_TABLE} ({_STAGING_COLUMNS})")
            with cursor.copy(f"COPY {_STAGING_TABLE} ({columns}) FROM STDIN") as copy:
                for event in events:
                    copy.write_row(_row(event, received_at=received_at, submitted_by_id=user_id, key_owner=owner))
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {_STAGING_TABLE} {conflict}")
            created.update(dict(cursor.fetchall()))
            cursor.execute(f"DELETE FROM {_STAGING_TABLE}")
            return created
        placeholder = "(" + ", ".join(["%s"] * len(_INSERT_COLUMNS)) + ")"
        for start in range(0, len(events), _INSERT_CHUNK):
            chunk = events[start:start + _INSERT_CHUNK]
            params = [value for e in chunk
                      for value in _row(e, received_at=received_at, submitted_by_id=user_id, key_owner=owner)]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholder] * len(chunk))} {conflict}",
                           params)
            created.update(dict(cursor.fetchall()))
    return created


def _feedback_check_ids() -> list[str]:
    return [c.id for c in registry.for_kind("feedback")]


def events_ingest(*, items: list, may_write, submitted_by=None) -> dict:
    """Validate a batch item by item, store the valid ones, report each item.

    Returns {"results": [{index, idempotency_key, status: created|duplicate|rejected, id, errors}],
    "created", "duplicates", "rejected"}. Valid items are stored even when others are rejected
    (each item stands alone: a retry of the same batch after fixing the rejected items stores
    only those, the rest answer `duplicate` with the id the first answer gave). Keys are the
    submitter's own (`key_owner_of`). A key used before, or earlier in the batch, with another
    body raises IdempotencyConflict and nothing of the batch is stored.
    """
    if not isinstance(items, list):
        raise ValidationError({"events": ["must be a list of events"]})
    if len(items) > max_batch():
        raise ValidationError({"events": [f"at most {max_batch()} events a batch ({len(items)} sent)"]})
    locales = LocaleCache()
    context = CheckContext()
    results: list[dict] = []
    clean: list[CleanEvent] = []
    index_of: dict[str, int] = {}
    clean_by_index: dict[int, CleanEvent] = {}
    conflicts: list[tuple[int, str]] = []
    for index, item in enumerate(items):
        event, errors = event_clean(item, locales=locales, may_write=may_write, context=context)
        if event is None:
            key = item.get("idempotency_key") if isinstance(item, dict) else None
            results.append({"index": index, "idempotency_key": key if isinstance(key, str) else None,
                            "status": "rejected", "errors": errors})
            continue
        event.body_hash = body_hash_of(item)
        results.append({"index": index, "idempotency_key": event.idempotency_key, "status": None})
        if event.idempotency_key in index_of:
            first = index_of[event.idempotency_key]
            if clean_by_index[first].body_hash != event.body_hash:
                conflicts.append((index, event.idempotency_key))
            results[-1]["status"] = "duplicate"
            continue
        index_of[event.idempotency_key] = index
        clean_by_index[index] = event
        clean.append(event)
    if conflicts:
        raise IdempotencyConflict(conflicts)
    with transaction.atomic():
        created = events_insert(events=clean, submitted_by=submitted_by)
        stored = _stored_replays(clean, created, owner=key_owner_of(submitted_by))
        conflicts = [(index_of[e.idempotency_key], e.idempotency_key) for e in clean
                     if e.idempotency_key in stored and stored[e.idempotency_key][1] != e.body_hash
                     and not body_hash_matches(items[index_of[e.idempotency_key]], stored[e.idempotency_key][1])]
        if conflicts:
            raise IdempotencyConflict(sorted(conflicts))  # rolls back what this batch inserted
        warned = [(TargetRef(type="feedback.feedbackevent", id=str(created[e.idempotency_key]),
                             repr=e.text[:200]), e.locale_tag, e.warnings)
                  for e in clean if e.warnings and e.idempotency_key in created]
        if warned:
            check_results_replace_many(entries=warned, check_ids=_feedback_check_ids())
        if created:
            transaction.on_commit(_cluster_soon)
    for result in results:
        key = result["idempotency_key"]
        if result["status"] is None:
            result["status"] = "created" if key in created else "duplicate"
        if result["status"] != "rejected":
            result["id"] = created[key] if key in created else stored.get(key, (None,))[0]
    # No event-log row per event or batch: at thousands of events a second the log would be
    # mostly ingestion; each FeedbackEvent row itself says who sent it and when.
    counts = Counter(r["status"] for r in results)
    return {"results": results, "created": counts["created"], "duplicates": counts["duplicate"],
            "rejected": counts["rejected"]}


def _stored_replays(events: list[CleanEvent], created: dict[str, int], *, owner: str) -> dict[str, tuple[int, str]]:
    """{key: (id, body hash)} of this owner's stored events among keys the insert skipped."""
    replayed = [e.idempotency_key for e in events if e.idempotency_key not in created]
    if not replayed:
        return {}
    rows = FeedbackEvent.objects.filter(key_owner=owner, idempotency_key__in=replayed).values_list(
        "idempotency_key", "pk", "body_hash")
    return {key: (pk, body_hash) for key, pk, body_hash in rows}


def _cluster_soon() -> None:
    """Ask a worker to cluster what was just stored. The events are committed already: if the
    broker is unreachable, say so in the log and answer the pipeline anyway; the beat task's drain
    (every 10 minutes) clusters whatever a lost message left."""
    from kombu.exceptions import OperationalError

    from .tasks import feedback_cluster_pending

    try:
        feedback_cluster_pending.delay()
    except (OperationalError, ConnectionError) as exc:
        logger.warning("feedback: could not queue the clustering drain (%s); beat will drain later", exc)


# --- Clustering: see drain.py (events_cluster, priority_of) ------------------------------------


# --- Who may do what --------------------------------------------------------------------------

PERM_VIEW = "feedback.view_feedbackcluster"
PERM_TRIAGE = "feedback.triage_feedbackcluster"
PERM_ASSIGN = "feedback.assign_feedbackcluster"
PERM_RESOLVE = "feedback.resolve_feedbackcluster"


def _can(actor, perm: str, cluster: FeedbackCluster) -> bool:
    """`actor` is a user, or an access.scoping.Actor (a token narrows its user)."""
    from parley.access.scoping import can

    if isinstance(actor, str):
        return True  # system actors (tasks, commands) are trusted callers
    if hasattr(actor, "token"):
        return actor.can(perm, locale_id=cluster.locale_id)
    return can(actor, perm, locale_id=cluster.locale_id)


def _user(actor):
    return getattr(actor, "user", actor)


def _require(actor, perm: str, cluster: FeedbackCluster, what: str) -> None:
    if not _can(actor, perm, cluster):
        raise PermissionDenied(f"You may not {what} in {cluster.locale.tag}.")


def _require_worker(actor, cluster: FeedbackCluster, what: str) -> None:
    """Review and resolution work: the assignee (holding the resolve permission there), or
    someone who may assign (a lead), acting for the team."""
    _require(actor, PERM_RESOLVE, cluster, what)
    user = _user(actor)
    if isinstance(user, str) or _can(actor, PERM_ASSIGN, cluster):
        return
    if cluster.assignee_id != getattr(user, "pk", None):
        raise PermissionDenied(f"Only the assignee or a locale lead may {what}.")


# --- The lifecycle ----------------------------------------------------------------------------

CLUSTER_TRANSITIONS: dict[str, frozenset[str]] = {
    C.NEW: frozenset({C.TRIAGED, C.RESOLVED}),
    C.TRIAGED: frozenset({C.IN_REVIEW, C.RESOLVED}),
    C.IN_REVIEW: frozenset({C.RESOLVED, C.TRIAGED}),
    C.RESOLVED: frozenset({C.TRIAGED}),  # reopened
}
# Resolutions a triager may close with before anyone reviews; the fixes need a review first.
TRIAGE_RESOLUTIONS = frozenset({R.WONT_FIX, R.DUPLICATE, R.NOT_A_BUG})


def _transition_problem(*, current: str, to: str, resolution: str) -> str | None:
    if to not in CLUSTER_TRANSITIONS[current]:
        allowed = ", ".join(sorted(CLUSTER_TRANSITIONS[current]))
        return f"a {current} cluster cannot become {to} (allowed: {allowed})"
    if to == C.RESOLVED:
        if resolution not in R.values:
            return f"resolving needs a resolution, one of {', '.join(R.values)}"
        if current != C.IN_REVIEW and resolution not in TRIAGE_RESOLUTIONS:
            return f"{resolution} needs a review first (move the cluster to in_review)"
    elif resolution:
        return "only resolving takes a resolution"
    return None


@transaction.atomic
def cluster_status_change(*, cluster: FeedbackCluster, to: str, actor, resolution: str = "", note: str = "",
                          payload: dict | None = None, **fields) -> FeedbackCluster:
    """One step of the lifecycle under a row lock, with an event row. `fields` are set with it
    (the resolution actions' results). Callers have checked who may make the step."""
    locked = FeedbackCluster.objects.select_for_update().select_related("locale").get(pk=cluster.pk)
    problem = _transition_problem(current=locked.status, to=to, resolution=resolution)
    if problem:
        raise ValidationError({"status": [problem]})
    before = {"status": locked.status, "resolution": locked.resolution}
    locked.status = to
    locked.resolution = resolution if to == C.RESOLVED else ""
    if to == C.RESOLVED or note:
        locked.resolution_note = note
    for name, value in fields.items():
        setattr(locked, name, value)
    now = timezone.now()
    locked.priority = priority_of(severity=locked.severity, count=locked.event_count, last_seen=locked.last_seen,
                                  escalated=locked.escalated_at is not None and to != C.RESOLVED, now=now)
    locked.save()
    event_record(actor=_user(actor), verb="feedback_cluster.status_changed", target=locked, locale=locked.locale,
                 payload={"from": before, "to": {"status": to, "resolution": locked.resolution}, "note": note,
                          **(payload or {})})
    return locked


def cluster_triage(*, cluster: FeedbackCluster, actor, note: str = "") -> FeedbackCluster:
    """new → triaged: a linguist or lead of the locale has looked and it is a real problem."""
    _require(actor, PERM_TRIAGE, cluster, "triage feedback")
    return cluster_status_change(cluster=cluster, to=C.TRIAGED, actor=actor, note=note)


@transaction.atomic
def cluster_assign(*, cluster: FeedbackCluster, assignee, actor) -> FeedbackCluster:
    """Give a cluster to a linguist of its locale (leads; a linguist may take one for themself)."""
    from parley.access.scoping import can

    user = _user(actor)
    self_service = getattr(assignee, "pk", None) == getattr(user, "pk", -1)
    if not (self_service and _can(actor, PERM_RESOLVE, cluster)):
        _require(actor, PERM_ASSIGN, cluster, "assign feedback")
    if assignee is not None and not can(assignee, PERM_RESOLVE, locale_id=cluster.locale_id):
        raise ValidationError({"assignee": [f"{assignee.get_username()} is not a linguist of {cluster.locale.tag}"]})
    locked = FeedbackCluster.objects.select_for_update().select_related("locale").get(pk=cluster.pk)
    if locked.status == C.RESOLVED:
        raise ValidationError({"status": ["a resolved cluster is not assigned; reopen it first"]})
    before = locked.assignee.get_username() if locked.assignee_id else None
    locked.assignee = assignee
    locked.save(update_fields=["assignee", "updated_at"])
    event_record(actor=user, verb="feedback_cluster.assigned", target=locked, locale=locked.locale,
                 payload={"from": before, "to": assignee.get_username() if assignee else None})
    return locked


def cluster_review_start(*, cluster: FeedbackCluster, actor) -> FeedbackCluster:
    """triaged → in_review, by the assignee (or a lead); an unassigned cluster is taken by whoever starts."""
    _require(actor, PERM_RESOLVE, cluster, "review feedback")
    if cluster.assignee_id is None and not isinstance(_user(actor), str):
        cluster = cluster_assign(cluster=cluster, assignee=_user(actor), actor=actor)
    _require_worker(actor, cluster, "review this cluster")
    return cluster_status_change(cluster=cluster, to=C.IN_REVIEW, actor=actor)


def cluster_send_back(*, cluster: FeedbackCluster, actor, note: str = "") -> FeedbackCluster:
    """in_review → triaged (the reviewer gives it back)."""
    _require_worker(actor, cluster, "send this cluster back")
    return cluster_status_change(cluster=cluster, to=C.TRIAGED, actor=actor, note=note)


def cluster_close(*, cluster: FeedbackCluster, resolution: str, actor, note: str = "") -> FeedbackCluster:
    """Resolve as won't fix or not a bug: a triager before review, the reviewer during it."""
    if resolution not in (R.WONT_FIX, R.NOT_A_BUG):
        raise ValidationError({"resolution": [
            f"close with wont_fix or not_a_bug; {resolution!r} has its own action (label, link template, duplicate)"]})
    if cluster.status == C.IN_REVIEW:
        _require_worker(actor, cluster, "resolve this cluster")
    else:
        _require(actor, PERM_TRIAGE, cluster, "close feedback")
    return cluster_status_change(cluster=cluster, to=C.RESOLVED, resolution=resolution, actor=actor, note=note)


def cluster_reopen(*, cluster: FeedbackCluster, actor, note: str = "") -> FeedbackCluster:
    """resolved → triaged, by a lead."""
    _require(actor, PERM_ASSIGN, cluster, "reopen feedback")
    return cluster_status_change(cluster=cluster, to=C.TRIAGED, actor=actor, note=note, duplicate_of=None)


# --- Resolution actions -----------------------------------------------------------------------

LABEL_PARTITIONS = ("train", "test")


def _placeholders_refused(annotated: str) -> None:
    """Training data must not learn the masking placeholders as words or slot values."""
    from .masking import PLACEHOLDERS

    found = [p for p in PLACEHOLDERS.values() if p in annotated]
    if found:
        raise ValidationError({"annotated": [
            f"replace the masked {', '.join(found)} with a realistic made-up value (position "
            f"{annotated.index(found[0])})"]})


@transaction.atomic
def cluster_label(*, cluster: FeedbackCluster, intent_name: str, annotated: str, partition: str, actor,
                  note: str = "") -> FeedbackCluster:
    """Resolve as fixed_data: the correct intent and slots (MASSIVE notation, checked by the
    utterance checks through `utterance_create`) become a submitted training or test candidate."""
    from parley.nlu.models import Intent, Utterance
    from parley.nlu.services import utterance_create

    _require_worker(actor, cluster, "label this cluster")
    if partition not in LABEL_PARTITIONS:
        raise ValidationError({"partition": [f"one of {', '.join(LABEL_PARTITIONS)} (a training or test candidate)"]})
    intent = Intent.objects.filter(name=intent_name).first()
    if intent is None:
        raise ValidationError({"intent": [f"{intent_name!r} is not a registered intent"]})
    if cluster.status != C.IN_REVIEW:
        raise ValidationError({"status": [f"a {cluster.status} cluster is labeled during review (in_review)"]})
    _placeholders_refused(annotated)
    utterance = utterance_create(
        locale=cluster.locale, intent=intent, annotated=annotated, source=Utterance.Source.FEEDBACK,
        status=Utterance.Status.SUBMITTED, partition=partition, actor=_user(actor),
        external_id=f"feedback-cluster-{cluster.pk}",
        provenance={"feedback_cluster": cluster.pk, "example": cluster.representative_text,
                    "predicted_intents": cluster.predicted_intents},
        payload={"feedback_cluster": cluster.pk})
    return cluster_status_change(cluster=cluster, to=C.RESOLVED, resolution=R.FIXED_DATA, actor=actor, note=note,
                                 fix_utterance=utterance,
                                 payload={"utterance": utterance.pk, "intent": intent.name, "partition": partition})


def cluster_link_template(*, cluster: FeedbackCluster, template_key: str, actor, note: str = "") -> FeedbackCluster:
    """Resolve as fixed_template: record which response template is to be fixed, by its key."""
    _require_worker(actor, cluster, "link a template to this cluster")
    key = (template_key or "").strip()
    if not key or len(key) > 200:
        raise ValidationError({"template_key": ["a template key of 1–200 characters"]})
    return cluster_status_change(cluster=cluster, to=C.RESOLVED, resolution=R.FIXED_TEMPLATE, actor=actor,
                                 note=note, fix_template_key=key, payload={"template_key": key})


def cluster_mark_duplicate(*, cluster: FeedbackCluster, of: FeedbackCluster, actor, note: str = "") -> FeedbackCluster:
    """Resolve as a duplicate of another cluster of the same locale (a chain resolves to its root)."""
    if cluster.status == C.IN_REVIEW:
        _require_worker(actor, cluster, "resolve this cluster")
    else:
        _require(actor, PERM_TRIAGE, cluster, "mark feedback as duplicate")
    root, seen = of, {cluster.pk}
    while root.duplicate_of_id is not None and root.pk not in seen:
        seen.add(root.pk)
        root = root.duplicate_of
    if root.pk in seen:
        raise ValidationError({"duplicate_of": ["a cluster cannot be a duplicate of itself"]})
    if root.locale_id != cluster.locale_id:
        raise ValidationError({"duplicate_of": [f"cluster #{of.pk} is in another locale"]})
    return cluster_status_change(cluster=cluster, to=C.RESOLVED, resolution=R.DUPLICATE, actor=actor, note=note,
                                 duplicate_of=root, payload={"duplicate_of": root.pk})


# --- SLA escalation ---------------------------------------------------------------------------

def sla_hours_by_locale() -> tuple[dict[int, int], int]:
    rows = dict(FeedbackSla.objects.values_list("locale_id", "hours"))
    default = rows.pop(None, settings.PARLEY_FEEDBACK_SLA_HOURS)
    return rows, default


@transaction.atomic
def sla_set(*, locale, hours: int, actor) -> FeedbackSla:
    """A locale's SLA (leads of the locale), or the default for every locale (locale None: only
    who holds the permission everywhere, i.e. platform admins)."""
    from parley.access.scoping import ALL_LOCALES, can, locales_for

    if not isinstance(actor, str):
        allowed = (locales_for(_user(actor), "feedback.add_feedbacksla") is ALL_LOCALES if locale is None
                   else can(_user(actor), "feedback.add_feedbacksla", locale_id=locale.pk))
        if not allowed:
            raise PermissionDenied("You may not set this SLA.")
    if not isinstance(hours, int) or hours < 1:
        raise ValidationError({"hours": ["a whole number of hours, at least 1"]})
    sla, _ = FeedbackSla.objects.update_or_create(locale=locale, defaults={"hours": hours})
    event_record(actor=actor, verb="feedback_sla.set", target=sla, locale=locale, payload={"hours": hours})
    return sla


def clusters_escalate(*, now: datetime | None = None) -> int:
    """Escalate open clusters first seen longer ago than their locale's SLA; refresh priorities.

    Idempotent: a cluster is escalated once and stays escalated (a reopened cluster keeps the
    mark, so it sorts first again at once). `now` is a parameter so tests can freeze the clock.
    """
    now = now or timezone.now()
    by_locale, default = sla_hours_by_locale()
    escalated = 0
    open_clusters = FeedbackCluster.objects.exclude(status=C.RESOLVED).filter(escalated_at__isnull=True)
    for locale_id in open_clusters.values_list("locale_id", flat=True).distinct():
        cutoff = now - timedelta(hours=by_locale.get(locale_id, default))
        for cluster_id in open_clusters.filter(locale_id=locale_id, first_seen__lt=cutoff).values_list("pk", flat=True):
            with transaction.atomic():
                cluster = FeedbackCluster.objects.select_for_update().select_related("locale").get(pk=cluster_id)
                if cluster.escalated_at is not None or cluster.status == C.RESOLVED:
                    continue
                cluster.escalated_at = now
                cluster.priority = priority_of(severity=cluster.severity, count=cluster.event_count,
                                               last_seen=cluster.last_seen, escalated=True, now=now)
                cluster.save(update_fields=["escalated_at", "priority", "updated_at"])
                event_record(actor="task:feedback.escalate", verb="feedback_cluster.escalated", target=cluster,
                             locale=cluster.locale,
                             payload={"sla_hours": by_locale.get(locale_id, default), "status": cluster.status,
                                      "first_seen": cluster.first_seen.isoformat()})
                escalated += 1
    return escalated


def priorities_refresh(*, now: datetime | None = None, chunk_size: int = 2000) -> int:
    """Recompute open clusters' priorities (recency decays with time, so stored ones go stale)."""
    now = now or timezone.now()
    refreshed = 0
    last_id = 0
    while True:
        chunk = list(FeedbackCluster.objects.exclude(status=C.RESOLVED).filter(pk__gt=last_id).order_by("pk")
                     .only("pk", "severity", "event_count", "last_seen", "escalated_at")[:chunk_size])
        if not chunk:
            return refreshed
        for c in chunk:
            c.priority = priority_of(severity=c.severity, count=c.event_count, last_seen=c.last_seen,
                                     escalated=c.escalated_at is not None, now=now)
        FeedbackCluster.objects.bulk_update(chunk, ["priority"])
        refreshed += len(chunk)
        last_id = chunk[-1].pk


def events_import_lines(*, lines: Iterable[tuple[int, str]], actor, chunk_size: int = 1000) -> dict:
    """The jsonl backfill: idempotent per line. Every rejected line is reported with its number
    and reason; valid lines are stored in chunks (a crash half-way is repaired by running the same
    file again: stored lines answer duplicate)."""
    from .ingest import errors_as_text, json_line

    report = {"read": 0, "created": 0, "duplicates": 0, "rejected": 0, "rejects": []}
    pending: list[tuple[int, object]] = []

    def flush():
        if not pending:
            return
        while True:
            try:
                outcome = events_ingest(items=[item for _, item in pending], may_write=lambda _id: True)
                break
            except IdempotencyConflict as exc:  # those lines are rejects; the chunk is stored without them
                for index in sorted({index for index, _ in exc.conflicts}, reverse=True):
                    number, _ = pending.pop(index)
                    report["rejected"] += 1
                    report["rejects"].append((number, "idempotency_key: used before with a different body"))
        for (number, _), result in zip(pending, outcome["results"]):
            if result["status"] == "rejected":
                report["rejects"].append((number, errors_as_text(result["errors"])))
        report["created"] += outcome["created"]
        report["duplicates"] += outcome["duplicates"]
        report["rejected"] += outcome["rejected"]
        pending.clear()

    for number, line in lines:
        if not line.strip():
            continue
        report["read"] += 1
        try:
            pending.append((number, json_line(line)))
        except ValueError as exc:
            report["rejected"] += 1
            report["rejects"].append((number, str(exc)))
            continue
        if len(pending) >= min(chunk_size, max_batch()):
            flush()
    flush()
    report["rejects"].sort()
    event_record(actor=actor, verb="feedback.imported", payload={k: v for k, v in report.items() if k != "rejects"})
    return report


# --- Rephrase mining --------------------------------------------------------------------------

def paraphrases_mine(*, window_seconds: int, min_support: int, actor="task:feedback.mine", report=None) -> dict:
    """Pair failed turns with the successful rephrase that follows (see mining.py) over every
    stored session, and create or refresh a candidate for each pair with enough support.

    Idempotent: the aggregates are recomputed from the events, candidates are keyed by (locale,
    failed phrasing, intent, slots), so running it again changes nothing unless events came in;
    decided candidates keep their decision and only their figures are refreshed.
    """
    from . import mining

    if window_seconds < 1 or min_support < 1:
        raise ValidationError("window_seconds and min_support must be at least 1")
    locales = Locale.objects.in_bulk()
    total = FeedbackEvent.objects.count()
    read = 0

    normalized_of: dict[tuple[str, int], str] = {}  # feedback repeats itself: normalize each text once

    def normalized(text: str, locale_id: int) -> str:
        key = (text, locale_id)
        value = normalized_of.get(key)
        if value is None:
            if len(normalized_of) > 200_000:
                normalized_of.clear()
            value = normalized_of[key] = normalize_text(text, locale=locales.get(locale_id))
        return value

    def turns():
        nonlocal read
        rows = (FeedbackEvent.objects.order_by("session_hash", "occurred_at", "id")
                .values_list("session_hash", "occurred_at", "locale_id", "text", "signal", "predicted_intent",
                             "predicted_slots").iterator(chunk_size=5000))
        for session, occurred_at, locale_id, text, signal, intent, slots in rows:
            read += 1
            if report is not None and read % 50000 == 0:
                report(read, total)
            yield mining.Turn(session=session, occurred_at=occurred_at, locale_id=locale_id, text=text,
                              normalized=normalized(text, locale_id), signal=signal,
                              intent=intent, slots=tuple((s["type"], s["value"]) for s in slots or ()))

    pairs, failed_sessions = mining.pairs_aggregate(turns(), window=timedelta(seconds=window_seconds))
    created = refreshed = 0
    with transaction.atomic():
        existing = {}
        for candidate in ParaphraseCandidate.objects.all():
            existing[(candidate.locale_id, candidate.failed_normalized, candidate.intent_name,
                      candidate.slots_signature)] = candidate
        changed = []
        for key, stats in pairs.items():
            support = len(stats.sessions)
            if support < min_support:
                continue
            locale_id, failed_normalized, intent, signature = key
            sessions_failed = len(failed_sessions[(locale_id, failed_normalized)])
            confidence = round(support / sessions_failed, 4)
            failed_text = max(stats.failed_texts.items(), key=lambda kv: (kv[1], kv[0]))[0]
            slots = [] if not signature else [dict(zip(("type", "value"), part.split("=", 1)))
                                              for part in signature.split("|")]
            annotated, unmapped = mining.annotate_failed(failed_text, tuple((s["type"], s["value"]) for s in slots))
            candidate = existing.get(key)
            if candidate is None:
                ParaphraseCandidate.objects.create(
                    locale_id=locale_id, failed_normalized=failed_normalized, failed_text=failed_text, intent_name=intent,
                    pair_key=text_key("\x1f".join((failed_normalized, intent, signature))),
                    slots_signature=signature, slots=slots, annotated=annotated, unmapped_slots=unmapped,
                    rephrase_example=stats.rephrase_example, support=support, sessions_failed=sessions_failed,
                    confidence=confidence, first_seen=stats.first_seen, last_seen=stats.last_seen)
                created += 1
                continue
            figures = (support, sessions_failed, confidence, stats.first_seen, stats.last_seen)
            if figures != (candidate.support, candidate.sessions_failed, candidate.confidence, candidate.first_seen,
                           candidate.last_seen):
                (candidate.support, candidate.sessions_failed, candidate.confidence, candidate.first_seen,
                 candidate.last_seen) = figures
                changed.append(candidate)
        ParaphraseCandidate.objects.bulk_update(changed, ["support", "sessions_failed", "confidence", "first_seen",
                                                          "last_seen", "updated_at"])
        refreshed = len(changed)
        result = {"events_read": read, "pairs": len(pairs), "candidates_created": created,
                  "candidates_refreshed": refreshed, "window_seconds": window_seconds, "min_support": min_support}
        if created or refreshed:
            event_record(actor=actor, verb="feedback.paraphrases_mined", payload=result)
    return result


PERM_REVIEW_PARAPHRASE = "feedback.review_paraphrasecandidate"


def _require_reviewer(actor, candidate) -> None:
    from parley.access.scoping import can

    if isinstance(actor, str):
        return
    allowed = actor.can(PERM_REVIEW_PARAPHRASE, locale_id=candidate.locale_id) if hasattr(actor, "token") \
        else can(actor, PERM_REVIEW_PARAPHRASE, locale_id=candidate.locale_id)
    if not allowed:
        raise PermissionDenied(f"You may not review paraphrases in {candidate.locale.tag}.")


@transaction.atomic
def paraphrase_accept(*, candidate, actor, annotated: str | None = None):
    """A native accepts: the failed phrasing becomes a submitted training candidate (source mined),
    with the proposed annotation or the reviewer's corrected one (checked by the utterance checks)."""
    from parley.nlu.models import Intent, Utterance
    from parley.nlu.services import utterance_create

    _require_reviewer(actor, candidate)
    locked = ParaphraseCandidate.objects.select_for_update().select_related("locale").get(pk=candidate.pk)
    if locked.status != ParaphraseCandidate.Status.PENDING:
        raise ValidationError({"status": [f"this candidate is already {locked.status}"]})
    intent = Intent.objects.filter(name=locked.intent_name).first()
    if intent is None:
        raise ValidationError({"intent": [f"{locked.intent_name!r} is not a registered intent; register it or reject"]})
    _placeholders_refused(annotated or locked.annotated)
    user = _user(actor)
    utterance = utterance_create(
        locale=locked.locale, intent=intent, annotated=annotated or locked.annotated, source=Utterance.Source.MINED,
        status=Utterance.Status.SUBMITTED, actor=user, external_id=f"paraphrase-{locked.pk}",
        provenance={"paraphrase_candidate": locked.pk, "rephrase": locked.rephrase_example,
                    "support": locked.support, "confidence": locked.confidence,
                    "unmapped_slots": locked.unmapped_slots},
        payload={"paraphrase_candidate": locked.pk})
    locked.status = ParaphraseCandidate.Status.ACCEPTED
    locked.utterance = utterance
    locked.decided_by = user if getattr(user, "pk", None) else None
    locked.decided_at = timezone.now()
    locked.save()
    event_record(actor=user, verb="paraphrase_candidate.accepted", target=locked, locale=locked.locale,
                 payload={"utterance": utterance.pk, "edited": bool(annotated and annotated != locked.annotated)})
    return locked


@transaction.atomic
def paraphrase_reject(*, candidate, actor, reason: str = ""):
    _require_reviewer(actor, candidate)
    locked = ParaphraseCandidate.objects.select_for_update().select_related("locale").get(pk=candidate.pk)
    if locked.status != ParaphraseCandidate.Status.PENDING:
        raise ValidationError({"status": [f"this candidate is already {locked.status}"]})
    user = _user(actor)
    locked.status = ParaphraseCandidate.Status.REJECTED
    locked.decided_by = user if getattr(user, "pk", None) else None
    locked.decided_at = timezone.now()
    locked.save()
    event_record(actor=user, verb="paraphrase_candidate.rejected", target=locked, locale=locked.locale,
                 payload={"reason": reason})
    return locked
