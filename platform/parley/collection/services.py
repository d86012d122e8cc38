"""Collection writes: campaigns, task generation, claim-next under leases, submissions, decisions.

Utterances are made and moved only through the nlu lifecycle (`utterance_create`,
`utterance_status_change`, `utterance_annotation_update`). Every task status change writes an event.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone

from parley.checks.registry import CheckContext, checks_evaluate
from parley.events.services import event_record
from parley.nlu import annotation as notation
from parley.nlu.checks import edit_errors_as_messages
from parley.nlu.models import Utterance
from parley.nlu.services import (utterance_annotation_update, utterance_create, utterance_provenance_merge,
                                 utterance_status_change)

from .acceptance import acceptance_rule_problems, judgments_decide
from .checks import LOCALIZE_SOURCE_KEY
from .models import Campaign, CampaignLocale, Decision, Judgment, Task, TaskLease
from .scales import LANGUAGE_VALUES, SCORE_SCALES, language_canonical
from .selectors import native_locale_ids

PRODUCTION_KINDS = (Task.Kind.ELICIT, Task.Kind.LOCALIZE)
SLOT_METHODS = ("translation", "localization", "unchanged")  # MASSIVE's slot_method values
CAMPAIGN_TRANSITIONS = {
    Campaign.Status.DRAFT: {Campaign.Status.ACTIVE, Campaign.Status.CLOSED},
    Campaign.Status.ACTIVE: {Campaign.Status.PAUSED, Campaign.Status.CLOSED},
    Campaign.Status.PAUSED: {Campaign.Status.ACTIVE, Campaign.Status.CLOSED},
    Campaign.Status.CLOSED: set(),
}
SCORE_RANGES = {scale.name: scale.values[-1] for scale in SCORE_SCALES}  # MASSIVE's: every score from 0


# --- Campaigns ----------------------------------------------------------------------------------

def campaign_problems(*, task_kinds, required_validations, source_locale, acceptance_rule, target_per_intent,
                      lease_minutes) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    kinds = list(task_kinds or [])
    if not kinds or any(k not in Campaign.Kind.values for k in kinds) or len(set(kinds)) != len(kinds):
        problems["task_kinds"] = [f"a non-empty list of {', '.join(Campaign.Kind.values)}; got {task_kinds!r}"]
    elif Campaign.Kind.LOCALIZE in kinds and source_locale is None:
        problems["source_locale"] = ["localize tasks need a source locale"]
    if not required_validations or required_validations < 1:
        problems["required_validations"] = ["at least 1: an utterance is accepted by natives' judgments"]
    if target_per_intent is None or target_per_intent < 1:
        problems["target_per_intent"] = ["at least 1"]
    if lease_minutes is None or not 1 <= lease_minutes <= 24 * 60:
        problems["lease_minutes"] = ["between 1 and 1440"]
    rule_problems = acceptance_rule_problems(acceptance_rule)
    if rule_problems:
        problems["acceptance_rule"] = rule_problems
    return problems


@transaction.atomic
def campaign_create(*, name: str, locales, intents, actor, target_per_intent: int = 40,
                    task_kinds=("elicit",), required_validations: int = 2, source_locale=None,
                    instructions: dict | None = None, deadline=None, acceptance_rule: dict | None = None,
                    lease_minutes: int = 15, description: str = "") -> Campaign:
    """A draft campaign. `instructions` maps a locale tag to its annotators' instructions."""
    problems = campaign_problems(task_kinds=task_kinds, required_validations=required_validations,
                                 source_locale=source_locale, acceptance_rule=acceptance_rule,
                                 target_per_intent=target_per_intent, lease_minutes=lease_minutes)
    locales, intents = list(locales), list(intents)
    if not locales:
        problems["locales"] = ["at least one locale"]
    if not intents:
        problems["intents"] = ["at least one intent"]
    stray = set(instructions or {}) - {loc.tag for loc in locales}
    if stray:
        problems["instructions"] = [f"for locale(s) not in the campaign: {', '.join(sorted(stray))}"]
    if problems:
        raise ValidationError(problems)
    campaign = Campaign.objects.create(
        name=name, description=description, target_per_intent=target_per_intent, task_kinds=list(task_kinds),
        required_validations=required_validations, source_locale=source_locale,
        acceptance_rule=acceptance_rule or {}, lease_minutes=lease_minutes, deadline=deadline,
        created_by=actor if getattr(actor, "pk", None) else None)
    campaign.intents.set(intents)
    for loc in locales:
        CampaignLocale.objects.create(campaign=campaign, locale=loc, instructions=(instructions or {}).get(loc.tag, ""))
    event_record(actor=actor, verb="campaign.created", target=campaign,
                 payload={"locales": [loc.tag for loc in locales], "intents": [i.name for i in intents],
                          "target_per_intent": target_per_intent, "task_kinds": list(task_kinds)})
    return campaign


@transaction.atomic
def campaign_status_change(*, campaign: Campaign, to: str, actor, now=None) -> Campaign:
    """Move a campaign along draft → active ⇄ paused → closed; activating generates its tasks."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if to not in CAMPAIGN_TRANSITIONS[locked.status]:
        allowed = ", ".join(sorted(CAMPAIGN_TRANSITIONS[locked.status])) or "none"
        raise ValidationError({"status": f"a {locked.status} campaign cannot become {to} (allowed: {allowed})"})
    if to == Campaign.Status.ACTIVE and not locked.campaign_locales.exists():
        raise ValidationError({"status": "a campaign needs at least one locale before it starts"})
    if to == Campaign.Status.ACTIVE and not locked.intents.exists():
        raise ValidationError({"status": "a campaign needs at least one intent before it starts"})
    before = locked.status
    locked.status = to
    locked.save(update_fields=["status"])
    created = campaign_tasks_generate(campaign=locked, actor=actor) if to == Campaign.Status.ACTIVE else 0
    for cl in locked.campaign_locales.select_related("locale"):
        event_record(actor=actor, verb="campaign.status_changed", target=locked, locale=cl.locale,
                     payload={"from": before, "to": to, "tasks_created": created})
    campaign.status = to
    return locked


@transaction.atomic
def campaign_acceptance_rule_set(*, campaign: Campaign, rule, actor) -> Campaign:
    """Replace a campaign's overrides of the default acceptance rule (an empty object: the default).

    Decisions already taken stay as they are until `decisions_recompute` re-applies the rule (the
    `collection_decisions_recompute` command). A closed campaign's rule is its record: refused.
    """
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    problems = acceptance_rule_problems(rule)
    if problems:
        raise ValidationError({"acceptance_rule": problems})
    if locked.status == Campaign.Status.CLOSED:
        raise ValidationError({"acceptance_rule": "a closed campaign's rule no longer changes"})
    before = dict(locked.acceptance_rule or {})
    locked.acceptance_rule = dict(rule or {})
    locked.save(update_fields=["acceptance_rule"])
    if before != locked.acceptance_rule:
        for cl in locked.campaign_locales.select_related("locale"):
            event_record(actor=actor, verb="campaign.acceptance_rule_changed", target=locked, locale=cl.locale,
                         payload={"from": before, "to": locked.acceptance_rule})
    campaign.acceptance_rule = locked.acceptance_rule
    return locked


def campaign_tasks_generate(*, campaign: Campaign, actor, locale=None, intent=None) -> int:
    """Create the production tasks missing to reach the target per locale × intent.

    A first-round task counts unless its utterance was finally rejected. Localize tasks take the
    source locale's utterances of the intent (not draft, rejected or retired; each at most once per
    locale); elicit tasks fill the rest when the campaign has that kind.
    """
    kinds = campaign.task_kinds
    cls = campaign.campaign_locales.select_related("locale")
    if locale is not None:
        cls = cls.filter(locale=locale)
    intents = campaign.intents.all() if intent is None else [intent]
    new: list[Task] = []
    for cl in cls:
        for it in intents:
            have = (Task.objects.filter(campaign=campaign, locale=cl.locale, intent=it, round=1,
                                        kind__in=PRODUCTION_KINDS).exclude(status=Task.Status.CANCELLED)
                    .exclude(utterance__status=Utterance.Status.REJECTED).count())
            missing = campaign.target_per_intent - have
            if missing <= 0:
                continue
            if Task.Kind.LOCALIZE in kinds and campaign.source_locale_id:
                used = Task.objects.filter(campaign=campaign, locale=cl.locale, kind=Task.Kind.LOCALIZE).values("source_id")
                sources = (Utterance.objects.filter(locale=campaign.source_locale, intent=it)
                           .exclude(status__in=[Utterance.Status.DRAFT, Utterance.Status.REJECTED,
                                                Utterance.Status.RETIRED]).exclude(pk__in=used)
                           .order_by("id")[:missing])
                for source in sources:
                    new.append(Task(campaign=campaign, locale=cl.locale, intent=it, kind=Task.Kind.LOCALIZE, source=source))
                    missing -= 1
            if Task.Kind.ELICIT in kinds:
                new.extend(Task(campaign=campaign, locale=cl.locale, intent=it, kind=Task.Kind.ELICIT)
                           for _ in range(missing))
    Task.objects.bulk_create(new, batch_size=1000)
    if new:
        event_record(actor=actor, verb="campaign.tasks_generated", target=campaign, payload={"tasks": len(new)})
    return len(new)


# --- Claim-next and leases ------------------------------------------------------------------------

def _available(now) -> Q:
    return Q(status=Task.Status.OPEN) | Q(status=Task.Status.LEASED, lease_expires_at__lte=now)


def claimable_tasks(*, annotator, locale_ids, now, campaign=None):
    """Tasks this annotator may be handed now, best first.

    Never one they held before (submitted, skipped or let expire), never a judgment of an utterance
    they wrote or already judged, a rework only to its author. Validations come first: finishing
    an utterance is worth more than starting one.
    """
    qs = Task.objects.filter(_available(now), locale_id__in=locale_ids, campaign__status=Campaign.Status.ACTIVE)
    qs = qs.filter(Q(campaign__deadline__isnull=True) | Q(campaign__deadline__gt=now))
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    qs = qs.filter(Q(reserved_for__isnull=True) | Q(reserved_for=annotator))
    qs = qs.exclude(Exists(TaskLease.objects.filter(annotator=annotator, task=OuterRef("pk"))))
    qs = qs.exclude(Q(kind=Task.Kind.VALIDATE) & Exists(
        TaskLease.objects.filter(annotator=annotator, utterance=OuterRef("utterance"))))
    first = Case(When(reserved_for__isnull=False, then=Value(0)), When(kind=Task.Kind.VALIDATE, then=Value(1)),
                 default=Value(2), output_field=IntegerField())
    return qs.annotate(claim_order=first).order_by("claim_order", "id")


def current_lease(*, annotator, now, campaign=None) -> Task | None:
    qs = Task.objects.filter(assignee=annotator, status=Task.Status.LEASED, lease_expires_at__gt=now)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return qs.order_by("id").first()


def task_claim_next(*, annotator, campaign=None, now=None) -> Task | None:
    """Hand the annotator their next task under a lease, or None when there is no work for them.

    An annotator holds one task at a time: a lease still running is handed back. On PostgreSQL the
    candidate row is locked with FOR NO KEY UPDATE SKIP LOCKED (of the task row only, so claimers of
    one campaign never wait for each other); the conditional UPDATE repeats the availability test, so
    on a database without row locks a task still goes to one annotator only.
    """
    now = now or timezone.now()
    held = current_lease(annotator=annotator, now=now, campaign=campaign)
    if held is not None:
        return held
    locale_ids = native_locale_ids(user=annotator)
    if not locale_ids:
        return None
    for _attempt in range(5):
        with transaction.atomic():
            candidates = claimable_tasks(annotator=annotator, locale_ids=locale_ids, now=now, campaign=campaign)
            task = (candidates.select_related("campaign", "locale")
                    .select_for_update(skip_locked=True, of=("self",), no_key=True).first())
            if task is None:
                return None
            expires = now + timedelta(minutes=task.campaign.lease_minutes)
            taken = Task.objects.filter(_available(now), pk=task.pk).update(
                status=Task.Status.LEASED, assignee=annotator, lease_expires_at=expires)
            if not taken:
                continue  # someone else's since we read it (no row locks here): try the next one
            # An open task has no running lease; only a lapsed one has a lease to close.
            expired = (list(TaskLease.objects.filter(task=task, outcome=TaskLease.Outcome.ACTIVE))
                       if task.status == Task.Status.LEASED else [])
            for old in expired:
                old.outcome, old.ended_at = TaskLease.Outcome.EXPIRED, old.expires_at
                old.save(update_fields=["outcome", "ended_at"])
            TaskLease.objects.create(task=task, annotator=annotator, utterance_id=task.utterance_id, claimed_at=now,
                                     expires_at=expires)
            task.status, task.assignee, task.lease_expires_at = Task.Status.LEASED, annotator, expires
            event_record(actor=annotator, verb="collection.task_claimed", target=task, locale=task.locale,
                         payload={"kind": task.kind, "expires_at": expires.isoformat(),
                                  "expired_leases": [old.annotator_id for old in expired]})
            return task
    return None


def _lock_held(*, task: Task, annotator, now) -> tuple[Task, TaskLease]:
    """The task locked, if the annotator holds its lease now; else a ValidationError saying why."""
    locked = (Task.objects.select_for_update(of=("self",), no_key=True).select_related("campaign", "locale", "intent")
              .get(pk=task.pk))
    if locked.status != Task.Status.LEASED or locked.assignee_id != annotator.pk:
        raise ValidationError({"task": f"task {task.pk} is not leased to you"})
    if locked.lease_expires_at <= now:
        raise ValidationError({"task": f"your lease on task {task.pk} expired at "
                                       f"{locked.lease_expires_at:%H:%M} UTC; it went back to the pool"})
    lease = TaskLease.objects.get(task=locked, annotator=annotator, outcome=TaskLease.Outcome.ACTIVE)
    return locked, lease


def _finish(*, task: Task, lease: TaskLease, annotator, now, outcome: str, reason: str = "") -> None:
    lease.outcome, lease.ended_at, lease.skip_reason = outcome, now, reason
    lease.utterance_id = task.utterance_id
    lease.save(update_fields=["outcome", "ended_at", "skip_reason", "utterance"])
    if outcome == TaskLease.Outcome.SKIPPED:
        task.status, task.assignee, task.lease_expires_at = Task.Status.OPEN, None, None
    else:
        task.status, task.completed_by, task.completed_at = Task.Status.DONE, annotator, now
        task.assignee, task.lease_expires_at = None, None
    task.save(update_fields=["status", "assignee", "lease_expires_at", "completed_by", "completed_at", "utterance"])
    event_record(actor=annotator, verb=f"collection.task_{outcome}", target=task, locale=task.locale,
                 payload={"kind": task.kind, "reason": reason, "utterance": task.utterance_id})


@transaction.atomic
def task_skip(*, task: Task, annotator, reason: str, now=None) -> Task:
    """Give the task back with a reason; this annotator is never handed it again."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "say why you skip (e.g. the source makes no sense in this locale)"})
    locked, lease = _lock_held(task=task, annotator=annotator, now=now)
    _finish(task=locked, lease=lease, annotator=annotator, now=now, outcome=TaskLease.Outcome.SKIPPED,
            reason=reason[:300])
    return locked


# --- Production: elicit and localize --------------------------------------------------------------

def submission_evaluate(*, task: Task, annotated: str):
    """(parsed annotation or None, findings) for an elicit/localize submission; writes nothing.

    Every registered utterance check runs (nlu's annotation checks, this app's, any other app's),
    with the localize source in the shared context.
    """
    built = notation.parse(annotated, char_split=task.locale.writes_without_spaces).annotation
    if task.utterance_id:
        candidate = Utterance.objects.select_related("locale").get(pk=task.utterance_id)
        candidate.annotated, candidate.intent = annotated, task.intent
    else:
        candidate = Utterance(locale=task.locale, intent=task.intent, annotated=annotated, text="",
                              source=Utterance.Source.COLLECTED)
    if built is not None:
        candidate.text = built.text
    shared = {LOCALIZE_SOURCE_KEY: task.source} if task.source_id else {}
    return built, checks_evaluate(candidate, applies_to="utterance", locale=task.locale.tag,
                                  context=CheckContext(shared=shared))


def _slot_method_clean(slot_method, built) -> list[dict]:
    if not slot_method:
        return []
    types = {s.type for s in built.slots}
    rows = []
    for i, item in enumerate(slot_method):
        slot, method = (item or {}).get("slot"), (item or {}).get("method")
        if slot not in types:
            raise ValidationError({"slot_method": f"row {i + 1}: {slot!r} is not a slot of the annotation"})
        if method not in SLOT_METHODS:
            raise ValidationError({"slot_method": f"row {i + 1}: method {method!r}; one of {', '.join(SLOT_METHODS)}"})
        rows.append({"slot": slot, "method": method})
    return rows


@transaction.atomic
def task_submit_utterance(*, task: Task, annotator, annotated: str, slot_method=None, now=None) -> Utterance:
    """Submit an elicit/localize task: the utterance goes to validation with the campaign's number of
    validate tasks. A rework updates the author's utterance instead of writing a new one."""
    now = now or timezone.now()
    locked, lease = _lock_held(task=task, annotator=annotator, now=now)
    if locked.kind not in PRODUCTION_KINDS:
        raise ValidationError({"task": "a validate task is submitted with a judgment"})
    built, findings = submission_evaluate(task=locked, annotated=annotated)
    errors = edit_errors_as_messages(findings)
    if errors:
        raise ValidationError({"annotated": errors})
    methods = _slot_method_clean(slot_method, built)
    if locked.kind == Task.Kind.LOCALIZE and built.slots and not methods:
        raise ValidationError({"slot_method": "say for each slot whether it was translated, localized or unchanged"})
    context = {"campaign": locked.campaign_id, "task": locked.pk, "round": locked.round}
    if locked.utterance_id:
        utterance = utterance_annotation_update(utterance=locked.utterance, annotated=annotated, actor=annotator,
                                                intent=locked.intent)
        utterance_status_change(utterance=utterance, to=Utterance.Status.SUBMITTED, actor=annotator,
                                reason=f"rework, round {locked.round}", payload={"collection": context})
        # The last round's judgments were of the old text; the new round's will replace them.
        utterance_provenance_merge(utterance=utterance, values={"judgments": []})
    else:
        source = locked.source
        provenance = {"worker_id": str(annotator.pk), "slot_method": methods, "collection": context}
        if source is not None:
            provenance["source_utterance"] = source.pk
        utterance = utterance_create(
            locale=locked.locale, intent=locked.intent, annotated=annotated, source=Utterance.Source.COLLECTED,
            actor=annotator, status=Utterance.Status.SUBMITTED, provenance=provenance,
            parallel_key=(source.parallel_key or f"parley:{source.pk}") if source is not None else "",
            payload={"collection": context})
        locked.utterance = utterance
    utterance_status_change(utterance=utterance, to=Utterance.Status.IN_VALIDATION, actor=annotator,
                            payload={"collection": context})
    _finish(task=locked, lease=lease, annotator=annotator, now=now, outcome=TaskLease.Outcome.SUBMITTED)
    Task.objects.bulk_create([
        Task(campaign=locked.campaign, locale=locked.locale, intent=locked.intent, kind=Task.Kind.VALIDATE,
             utterance=utterance, round=locked.round) for _ in range(locked.campaign.required_validations)])
    return utterance


# --- Validation and the decision ------------------------------------------------------------------

def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _judgment_problems(scores: dict, language) -> dict[str, list[str]]:
    problems = {}
    for name, top in SCORE_RANGES.items():
        value = scores.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
            problems[name] = [f"a whole number from 0 to {top}; got {_shown(value)}"]
    if language_canonical(language) is None:
        problems["language_identification"] = [
            f"one or more of target, english, other joined by '|' (published values: {', '.join(LANGUAGE_VALUES)}); "
            f"got {_shown(language)}"]
    return problems


def judgments_as_massive(judgments) -> list[dict]:
    """Judgments as MASSIVE's `judgments` field writes them: its six keys in its order, the judge's
    user id as worker_id (as the author's is the row's worker_id; both are ids, never names)."""
    return [{"worker_id": str(j.annotator_id), "intent_score": j.intent_score, "slots_score": j.slots_score,
             "grammar_score": j.grammar_score, "spelling_score": j.spelling_score,
             "language_identification": j.language_identification} for j in judgments]


@transaction.atomic
def task_submit_judgment(*, task: Task, annotator, intent_score: int, slots_score: int, grammar_score: int,
                         spelling_score: int, language_identification: str, proposed_annotation: str = "",
                         comment: str = "", now=None) -> Judgment:
    """Record one native's judgment; the last one the campaign needs decides the utterance."""
    now = now or timezone.now()
    scores = {"intent_score": intent_score, "slots_score": slots_score, "grammar_score": grammar_score,
              "spelling_score": spelling_score}
    problems = _judgment_problems(scores, language_identification)
    language_identification = language_canonical(language_identification)
    proposed_annotation = (proposed_annotation or "").strip()
    for name, text in (("proposed_annotation", proposed_annotation), ("comment", comment or "")):
        if not isinstance(text, str) or "\x00" in text:  # PostgreSQL's text cannot hold NUL
            problems[name] = ["text without NUL characters"]
    if "proposed_annotation" not in problems and proposed_annotation and \
            notation.parse(proposed_annotation).annotation is None:
        problems["proposed_annotation"] = ["not valid MASSIVE notation: [slot_type : value]"]
    if problems:
        raise ValidationError(problems)
    # The task row, then the utterance row: judges of one utterance finish one after the other, so
    # exactly one of them sees the last judgment and decides. Always in this order, and as FOR NO KEY
    # UPDATE, which the foreign-key checks other transactions run at commit (Django's constraints
    # are deferred) do not wait for: FOR UPDATE here deadlocked under load (see docs/benchmarks.md).
    locked, lease = _lock_held(task=task, annotator=annotator, now=now)
    if locked.kind != Task.Kind.VALIDATE:
        raise ValidationError({"task": "only a validate task takes a judgment"})
    utterance = Utterance.objects.select_for_update(no_key=True).get(pk=locked.utterance_id)
    if utterance.provenance.get("worker_id") == str(annotator.pk):
        raise ValidationError({"task": "you cannot validate your own utterance"})
    judgment = Judgment.objects.create(
        task=locked, utterance=utterance, locale=locked.locale, round=locked.round, annotator=annotator,
        language_identification=language_identification, proposed_annotation=proposed_annotation,
        comment=(comment or "")[:500], **scores)
    _finish(task=locked, lease=lease, annotator=annotator, now=now, outcome=TaskLease.Outcome.SUBMITTED)
    round_judgments = list(Judgment.objects.filter(utterance=utterance, round=locked.round))
    if len(round_judgments) >= locked.campaign.required_validations and utterance.status == Utterance.Status.IN_VALIDATION:
        utterance_decide(utterance=utterance, campaign=locked.campaign, round=locked.round,
                         judgments=round_judgments, actor=annotator, now=now)
    return judgment


def utterance_decide(*, utterance: Utterance, campaign: Campaign, round: int, judgments, actor, now) -> Decision:
    """Apply the campaign's rule; a rejected utterance goes back to its author with the reasons
    while rework rounds remain, else stays rejected and a new task takes its place. The round's
    judgments are kept with the utterance in MASSIVE's form, for its exports."""
    verdict = judgments_decide(judgments, rule=campaign.rule)
    decision = Decision.objects.create(
        campaign=campaign, utterance=utterance, locale=utterance.locale, intent=utterance.intent, round=round,
        outcome=Decision.Outcome.ACCEPTED if verdict.accepted else Decision.Outcome.REJECTED, reasons=verdict.reasons,
        author_id=_author_pk(utterance), decided_at=now)
    utterance_provenance_merge(utterance=utterance, values={"judgments": judgments_as_massive(judgments)})
    context = {"collection": {"campaign": campaign.pk, "round": round, "judgments": [j.pk for j in judgments]}}
    if verdict.accepted:
        # Accepted collected utterances are the dataset pipeline's test-set candidates.
        utterance_status_change(utterance=utterance, to=Utterance.Status.ACCEPTED, actor=actor,
                                reason=f"accepted by {len(judgments)} native judges", payload=context)
    else:
        _reject(utterance=utterance, campaign=campaign, round=round, reasons=verdict.reasons, actor=actor,
                context=context)
    return decision


def _author_pk(utterance: Utterance) -> int | None:
    author_id = utterance.provenance.get("worker_id")
    return int(author_id) if str(author_id or "").isdigit() else None


def _reject(*, utterance: Utterance, campaign: Campaign, round: int, reasons: list[str], actor, context: dict) -> None:
    """Reject the utterance (it is in validation or accepted): back to its author while rework rounds
    remain, else final, with a replacement task so the target stays reachable."""
    reason = "; ".join(reasons)
    utterance_status_change(utterance=utterance, to=Utterance.Status.REJECTED, actor=actor, reason=reason,
                            payload=context)
    author_pk = _author_pk(utterance)
    production = (Task.objects.filter(utterance=utterance, kind__in=PRODUCTION_KINDS).order_by("-round").first())
    if round <= campaign.rule["max_rework_rounds"] and author_pk is not None and production is not None:
        utterance_status_change(utterance=utterance, to=Utterance.Status.DRAFT, actor=actor,
                                reason=f"back to its author for rework: {reason}", payload=context)
        Task.objects.create(campaign=campaign, locale=utterance.locale, intent=utterance.intent, kind=production.kind,
                            source=production.source, utterance=utterance, round=round + 1,
                            reserved_for_id=author_pk, feedback=reasons)
    elif campaign.status == Campaign.Status.ACTIVE:
        campaign_tasks_generate(campaign=campaign, actor=actor, locale=utterance.locale, intent=utterance.intent)


def _task_cancel(*, task: Task, actor, reason: str) -> None:
    task.status, task.assignee, task.lease_expires_at = Task.Status.CANCELLED, None, None
    task.save(update_fields=["status", "assignee", "lease_expires_at"])
    TaskLease.objects.filter(task=task, outcome=TaskLease.Outcome.ACTIVE).update(
        outcome=TaskLease.Outcome.EXPIRED, ended_at=timezone.now())
    event_record(actor=actor, verb="collection.task_cancelled", target=task, locale=task.locale,
                 payload={"kind": task.kind, "reason": reason, "utterance": task.utterance_id})


def _surplus_tasks_cancel(*, campaign: Campaign, locale, intent, actor, reason: str) -> int:
    """Cancel unstarted first-round production tasks beyond the target (a replacement made for an
    utterance that is accepted after all)."""
    live = (Task.objects.filter(campaign=campaign, locale=locale, intent=intent, round=1, kind__in=PRODUCTION_KINDS)
            .exclude(status=Task.Status.CANCELLED).exclude(utterance__status=Utterance.Status.REJECTED))
    surplus = live.count() - campaign.target_per_intent
    if surplus <= 0:
        return 0
    spare = list(live.filter(status=Task.Status.OPEN, utterance__isnull=True).order_by("-id")[:surplus])
    for task in spare:
        _task_cancel(task=task, actor=actor, reason=reason)
    return len(spare)


@dataclass(frozen=True)
class RecomputedDecision:
    """One decision the recompute looked at and found different under the campaign's rule now."""
    decision: int
    utterance: int
    campaign: int
    locale: str
    round: int
    before: str
    after: str
    status_before: str
    status_after: str
    applied: bool
    note: str = ""


def decisions_recompute(*, actor, campaign: Campaign | None = None, dry_run: bool = False, now=None
                        ) -> list[RecomputedDecision]:
    """Re-apply each campaign's current rule to the last decision of every utterance it judged.

    A changed outcome is carried out through the lifecycle services, with their events: an accepted
    utterance now rejected goes back to its author (or stays rejected) as a fresh rejection would; a
    rejected one now accepted is accepted (its pending rework task, or a replacement task beyond the
    target, cancelled). An utterance that moved on since (promoted, or reworked and in a new round)
    is reported and left alone. Each utterance is one transaction; a second run changes nothing.
    The judgments kept with each utterance for exports are refreshed on the way (dry_run: not).
    """
    now = now or timezone.now()
    rows = Decision.objects.all() if campaign is None else Decision.objects.filter(campaign=campaign)
    latest: dict[int, int] = {}  # utterance → its last round's decision
    for pk, utterance_id in rows.order_by("utterance_id", "round").values_list("pk", "utterance_id"):
        latest[utterance_id] = pk
    changes = []
    for decision_id in latest.values():
        change = _decision_recompute(decision_id=decision_id, actor=actor, dry_run=dry_run, now=now)
        if change is not None:
            changes.append(change)
    return changes


def _decision_recompute(*, decision_id: int, actor, dry_run: bool, now) -> RecomputedDecision | None:
    with transaction.atomic():
        decision = Decision.objects.select_related("campaign", "locale").get(pk=decision_id)
        # Lock as a rework submission does: its task, then the utterance.
        pending = list(Task.objects.select_for_update(of=("self",), no_key=True)
                       .filter(utterance_id=decision.utterance_id, kind__in=PRODUCTION_KINDS, round=decision.round + 1,
                               status__in=[Task.Status.OPEN, Task.Status.LEASED]))
        utterance = Utterance.objects.select_for_update(no_key=True).select_related("locale", "intent").get(
            pk=decision.utterance_id)
        decision = Decision.objects.select_for_update().select_related("campaign", "locale").get(pk=decision_id)
        if Decision.objects.filter(utterance=utterance, round__gt=decision.round).exists():
            return None  # a later round was decided meanwhile
        campaign = decision.campaign
        judgments = list(Judgment.objects.filter(utterance=utterance, round=decision.round))
        verdict = judgments_decide(judgments, rule=campaign.rule)
        after = Decision.Outcome.ACCEPTED if verdict.accepted else Decision.Outcome.REJECTED
        S = Utterance.Status
        current = utterance.status
        reworked = current in (S.SUBMITTED, S.IN_VALIDATION)  # the author already sent a new version
        if not dry_run:
            utterance_provenance_merge(utterance=utterance,
                                       values={"judgments": [] if reworked else judgments_as_massive(judgments)})
        if after == decision.outcome:
            if verdict.reasons != decision.reasons and not dry_run:
                decision.reasons = verdict.reasons  # same outcome; the reasons as the rule words them now
                decision.save(update_fields=["reasons"])
            return None
        row = dict(decision=decision.pk, utterance=utterance.pk, campaign=campaign.pk, locale=decision.locale.tag,
                   round=decision.round, before=decision.outcome, after=after, status_before=current)
        movable = (current == S.ACCEPTED) if after == Decision.Outcome.REJECTED else \
            (current == S.REJECTED or (current == S.DRAFT and bool(pending)))
        if not movable:
            note = ("promoted: a published dataset row is retired by datasets, not here" if current == S.PROMOTED
                    else "reworked since: the new round's judges decide" if reworked
                    else f"left as it is ({current})")
            return RecomputedDecision(**row, status_after=current, applied=False, note=note)
        if dry_run:
            return RecomputedDecision(**row, status_after=S.ACCEPTED if after == Decision.Outcome.ACCEPTED else
                                      "rejected or draft", applied=False, note="dry run")
        context = {"collection": {"campaign": campaign.pk, "round": decision.round,
                                  "judgments": [j.pk for j in judgments], "recomputed": True}}
        why = "recomputed under the campaign's acceptance rule"
        if after == Decision.Outcome.REJECTED:
            _reject(utterance=utterance, campaign=campaign, round=decision.round, reasons=verdict.reasons, actor=actor,
                    context=context)
        else:
            for task in pending:
                _task_cancel(task=task, actor=actor, reason=f"{why}: accepted")
            if current == S.REJECTED:
                utterance_status_change(utterance=utterance, to=S.DRAFT, actor=actor, reason=why, payload=context)
            utterance_status_change(utterance=utterance, to=S.SUBMITTED, actor=actor, reason=why, payload=context)
            utterance_status_change(utterance=utterance, to=S.ACCEPTED, actor=actor,
                                    reason=f"{why}: accepted by {len(judgments)} native judges", payload=context)
            _surplus_tasks_cancel(campaign=campaign, locale=utterance.locale, intent=utterance.intent, actor=actor,
                                  reason=f"{why}: utterance {utterance.pk} accepted")
        before_reasons = decision.reasons
        decision.outcome, decision.reasons, decision.decided_at = after, verdict.reasons, now
        decision.save(update_fields=["outcome", "reasons", "decided_at"])
        event_record(actor=actor, verb="collection.decision_recomputed", target=decision, locale=decision.locale,
                     payload={"utterance": utterance.pk, "round": decision.round, "from": row["before"], "to": after,
                              "reasons_before": before_reasons, "rule": campaign.rule})
        return RecomputedDecision(**row, status_after=Utterance.objects.get(pk=utterance.pk).status, applied=True)
