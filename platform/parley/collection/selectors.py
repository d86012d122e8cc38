"""Collection reads: who works where, what a campaign has done, how well its judges agree."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from parley.access.models import Membership
from parley.access.roles import ANNOTATOR
from parley.access.scoping import ALL_LOCALES, locales_for

from .acceptance import judgment_votes_accept
from .agreement import agreement_with_majority, krippendorff_alpha
from .models import Campaign, CampaignLocale, Decision, Judgment, Task, TaskLease

WORK_PERM = "collection.work_task"
SCALES = ("intent_score", "slots_score", "grammar_score", "spelling_score")
# Krippendorff's metric per scale. Intent and slots are categories, not grades: 2 is "a reasonable
# interpretation of the goal" and "no words in square brackets", neither "more than Yes" (scales.py).
# Grammar (0 completely unnatural … 4 perfect) and spelling (0 more than 2 errors … 2 none) are grades.
ALPHA_METRICS = {"intent_score": "nominal", "slots_score": "nominal", "grammar_score": "interval",
                 "spelling_score": "interval", "language_identification": "nominal"}


def native_locale_ids(*, user, token=None) -> frozenset:
    """Locales where the user is an annotator with native proficiency (and may work tasks).

    A membership in "every locale" names no language, so it makes no one a native of anything.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    native = set(Membership.objects.filter(user_id=user.pk, role__slug=ANNOTATOR, locale__isnull=False,
                                           proficiency=Membership.Proficiency.NATIVE)
                 .values_list("locale_id", flat=True))
    may = locales_for(user, WORK_PERM, token)
    return frozenset(native if may is ALL_LOCALES else native & may)


def campaigns_for_locales(locale_ids) -> QuerySet[Campaign]:
    """Campaigns with at least one of these locales (ALL_LOCALES: every campaign)."""
    if locale_ids is ALL_LOCALES:
        return Campaign.objects.all()
    return Campaign.objects.filter(pk__in=CampaignLocale.objects.filter(locale_id__in=locale_ids)
                                   .values("campaign_id"))


def campaigns_visible(*, user, perm: str = "collection.view_campaign", token=None) -> QuerySet[Campaign]:
    return campaigns_for_locales(locales_for(user, perm, token))


def campaign_locale_ids(*, campaign: Campaign, user, perm: str = "collection.view_campaign", token=None) -> list:
    """The campaign's locales the actor may see (a lead of sw-KE sees sw-KE's part of a wider campaign)."""
    scope = locales_for(user, perm, token)
    ids = list(campaign.campaign_locales.values_list("locale_id", flat=True))
    return ids if scope is ALL_LOCALES else [i for i in ids if i in scope]


def campaigns_for_annotator(*, user) -> list[dict]:
    """Active campaigns in the annotator's native locales with their open work."""
    natives = native_locale_ids(user=user)
    now = timezone.now()
    rows = []
    for campaign in (campaigns_for_locales(natives).filter(status=Campaign.Status.ACTIVE)
                     .filter(Q(deadline__isnull=True) | Q(deadline__gt=now)).prefetch_related("campaign_locales__locale")):
        mine = [cl for cl in campaign.campaign_locales.all() if cl.locale_id in natives]
        open_count = Task.objects.filter(campaign=campaign, locale_id__in=natives).filter(
            Q(status=Task.Status.OPEN) | Q(status=Task.Status.LEASED, lease_expires_at__lte=now)).count()
        rows.append({"campaign": campaign, "locales": mine, "open": open_count})
    return rows


def annotator_progress(*, user) -> dict:
    leases = TaskLease.objects.filter(annotator=user)
    by_outcome = dict(leases.values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n"))
    by_kind = dict(leases.filter(outcome=TaskLease.Outcome.SUBMITTED).values_list("task__kind")
                   .annotate(n=Count("id")).values_list("task__kind", "n"))
    decided = dict(Decision.objects.filter(author=user).values_list("outcome").annotate(n=Count("id"))
                   .values_list("outcome", "n"))
    return {"submitted": by_outcome.get("submitted", 0), "skipped": by_outcome.get("skipped", 0),
            "expired": by_outcome.get("expired", 0), "by_kind": by_kind,
            "accepted": decided.get("accepted", 0), "rejected": decided.get("rejected", 0),
            "judgments": Judgment.objects.filter(annotator=user).count()}


def campaign_progress(*, campaign: Campaign, locale_ids) -> list[dict]:
    """Locale × intent: target, tasks open, in validation, accepted, rejected decisions."""
    production = Task.objects.filter(campaign=campaign, locale_id__in=locale_ids).exclude(kind=Task.Kind.VALIDATE)
    first_round = production.filter(round=1)
    cells: dict = defaultdict(lambda: {"open": 0, "written": 0, "in_validation": 0, "accepted": 0, "rejected": 0,
                                       "rework": 0})
    for row in first_round.values("locale__tag", "intent__name", "status", "utterance__status").annotate(n=Count("id")):
        cell = cells[(row["locale__tag"], row["intent__name"])]
        if row["status"] in (Task.Status.OPEN, Task.Status.LEASED):
            cell["open"] += row["n"]
        if row["utterance__status"]:
            cell["written"] += row["n"]
        status = row["utterance__status"]
        if status in ("submitted", "in_validation"):
            cell["in_validation"] += row["n"]
        elif status in ("accepted", "promoted"):
            cell["accepted"] += row["n"]
        elif status == "draft":
            cell["rework"] += row["n"]
    for row in (Decision.objects.filter(campaign=campaign, locale_id__in=locale_ids, outcome=Decision.Outcome.REJECTED)
                .values("locale__tag", "intent__name").annotate(n=Count("id"))):
        cells[(row["locale__tag"], row["intent__name"])]["rejected"] += row["n"]
    tags = list(CampaignLocale.objects.filter(campaign=campaign, locale_id__in=locale_ids)
                .values_list("locale__tag", flat=True))
    intents = list(campaign.intents.values_list("name", flat=True))
    out = []
    for tag in sorted(tags):
        for name in sorted(intents):
            cell = cells[(tag, name)]
            out.append({"locale": tag, "intent": name, "target": campaign.target_per_intent, **cell,
                        "gap": max(campaign.target_per_intent - cell["accepted"], 0)})
    return out


def campaign_throughput(*, campaign: Campaign, locale_ids, days: int = 7, now=None) -> list[dict]:
    """Per day (UTC): tasks submitted and decisions taken, the last `days` days."""
    now = now or timezone.now()
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    submitted = defaultdict(int)
    for ended in TaskLease.objects.filter(task__campaign=campaign, task__locale_id__in=locale_ids,
                                          outcome=TaskLease.Outcome.SUBMITTED, ended_at__gte=start
                                          ).values_list("ended_at", flat=True):
        submitted[ended.date()] += 1
    decided: dict = defaultdict(lambda: {"accepted": 0, "rejected": 0})
    for at, outcome in Decision.objects.filter(campaign=campaign, locale_id__in=locale_ids, decided_at__gte=start
                                               ).values_list("decided_at", "outcome"):
        decided[at.date()][outcome] += 1
    return [{"day": (start + timedelta(days=i)).date().isoformat(),
             "submitted": submitted[(start + timedelta(days=i)).date()],
             **decided[(start + timedelta(days=i)).date()]} for i in range(days)]


def campaign_judgments(*, campaign: Campaign, locale_ids) -> QuerySet[Judgment]:
    return (Judgment.objects.filter(task__campaign=campaign, locale_id__in=locale_ids)
            .select_related("locale", "utterance", "utterance__intent", "annotator").order_by("utterance_id", "round", "id"))


def campaign_agreement(*, campaign: Campaign, locale_ids) -> dict:
    """Per locale: Krippendorff's alpha per scale (ALPHA_METRICS) and per
    annotator the rate of agreement with the other judges' majority (intent score and verdict)."""
    rule = campaign.rule
    by_locale: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    verdicts: dict = defaultdict(dict)
    decisions = {(d.utterance_id, d.round): d.outcome for d in Decision.objects.filter(campaign=campaign)}
    authored = defaultdict(lambda: {"accepted": 0, "rejected": 0})
    for d in Decision.objects.filter(campaign=campaign, locale_id__in=locale_ids):
        if d.author_id:
            authored[d.author_id][d.outcome] += 1
    judged_against_decision = defaultdict(lambda: {"compared": 0, "agreed": 0})
    names = {}
    for j in campaign_judgments(campaign=campaign, locale_ids=locale_ids):
        unit = (j.utterance_id, j.round)
        tag = j.locale.tag
        names[j.annotator_id] = j.annotator.get_username()
        for scale in SCALES + ("language_identification",):
            by_locale[tag][scale][unit][j.annotator_id] = getattr(j, scale)
        verdicts[unit][j.annotator_id] = judgment_votes_accept(j, rule=rule)
        outcome = decisions.get(unit)
        if outcome is not None:
            row = judged_against_decision[j.annotator_id]
            row["compared"] += 1
            row["agreed"] += int(verdicts[unit][j.annotator_id] == (outcome == Decision.Outcome.ACCEPTED))
    locales = {}
    for tag, scales in sorted(by_locale.items()):
        alpha = {scale: krippendorff_alpha([list(u.values()) for u in units.values()], metric=ALPHA_METRICS[scale])
                 for scale, units in scales.items()}
        locales[tag] = {"alpha": alpha, "units": len(scales["intent_score"])}
    intent_units = {unit: by_judge for scales in by_locale.values() for unit, by_judge in scales["intent_score"].items()}
    with_majority = agreement_with_majority(intent_units)
    missing = (set(authored) - set(names))
    if missing:
        from django.contrib.auth import get_user_model

        names.update(get_user_model().objects.filter(pk__in=missing).values_list("pk", "username"))
    annotators = []
    for annotator_id in sorted(set(names) | set(authored)):
        row = with_majority.get(annotator_id, {"compared": 0, "agreed": 0, "rate": None})
        versus = judged_against_decision.get(annotator_id, {"compared": 0, "agreed": 0})
        annotators.append({
            "annotator_id": annotator_id, "username": names.get(annotator_id, ""),
            "judgments": sum(1 for units in verdicts.values() if annotator_id in units),
            "intent_agreement": row["rate"], "intent_compared": row["compared"],
            "decision_agreement": versus["agreed"] / versus["compared"] if versus["compared"] else None,
            "authored_accepted": authored[annotator_id]["accepted"],
            "authored_rejected": authored[annotator_id]["rejected"],
        })
    return {"metric": ALPHA_METRICS, "locales": locales,
            "annotators": annotators}
