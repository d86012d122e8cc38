"""The lead dashboard under /collect/lead/: progress per locale × intent against target, throughput,
decisions, agreement and the annotator table, CSV export; campaign status changes.

A lead sees a campaign when it has one of their locales, and only those locales' part of it;
anything else answers 404.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from parley.access.scoping import can
from parley.config.csv_cells import csv_writer

from .models import Campaign, TaskLease
from .selectors import (campaign_agreement, campaign_judgments, campaign_locale_ids, campaign_progress,
                        campaign_throughput, campaigns_visible)
from .services import CAMPAIGN_TRANSITIONS, campaign_status_change
from .views import annotator_required

VIEW = "collection.view_campaign"
CHANGE = "collection.change_campaign"


def _visible(request, campaign_id: int) -> tuple[Campaign, list]:
    campaign = campaigns_visible(user=request.user).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404("No such campaign in your locales.")
    return campaign, campaign_locale_ids(campaign=campaign, user=request.user)


def may_change(user, campaign: Campaign) -> bool:
    """Campaign-wide changes need the permission in every one of its locales."""
    ids = list(campaign.campaign_locales.values_list("locale_id", flat=True))
    return bool(ids) and all(can(user, CHANGE, locale_id=i) for i in ids)


@annotator_required
@require_GET
def lead_home(request):
    if not can(request.user, VIEW):
        raise Http404("No campaigns for you to lead.")
    campaigns = campaigns_visible(user=request.user).prefetch_related("campaign_locales__locale")
    return render(request, "collection/lead_home.html", {"campaigns": campaigns, "may_lead": True})


@annotator_required
@require_GET
def dashboard(request, campaign_id: int):
    campaign, locale_ids = _visible(request, campaign_id)
    agreement = campaign_agreement(campaign=campaign, locale_ids=locale_ids)
    skips = (TaskLease.objects.filter(task__campaign=campaign, task__locale_id__in=locale_ids,
                                      outcome=TaskLease.Outcome.SKIPPED)
             .values("task__locale__tag", "task__kind", "skip_reason").annotate(n=Count("id")).order_by("-n")[:20])
    transitions = sorted(CAMPAIGN_TRANSITIONS[campaign.status]) if may_change(request.user, campaign) else []
    progress = campaign_progress(campaign=campaign, locale_ids=locale_ids)
    totals = {key: sum(r[key] for r in progress) for key in ("target", "accepted", "rejected", "in_validation", "open")}
    return render(request, "collection/dashboard.html", {
        "campaign": campaign, "progress": progress, "totals": totals,
        "throughput": campaign_throughput(campaign=campaign, locale_ids=locale_ids),
        "agreement": agreement, "skips": skips, "transitions": transitions, "may_lead": True})


@annotator_required
@require_POST
def status_change(request, campaign_id: int):
    campaign, _ = _visible(request, campaign_id)
    if not may_change(request.user, campaign):
        return HttpResponseForbidden("Changing a campaign needs the lead role in every one of its locales.")
    try:
        campaign_status_change(campaign=campaign, to=request.POST.get("to", ""), actor=request.user)
    except (ValidationError, KeyError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("collect:dashboard", campaign_id=campaign.pk)


JUDGMENT_COLUMNS = ["utterance_id", "locale", "intent", "text", "annotated", "author_id", "round", "annotator_id",
                    "annotator", "intent_score", "slots_score", "grammar_score", "spelling_score",
                    "language_identification", "proposed_annotation", "comment", "utterance_status", "judged_at"]


def judgment_rows(*, campaign, locale_ids):
    for j in campaign_judgments(campaign=campaign, locale_ids=locale_ids):
        u = j.utterance
        yield [u.pk, j.locale.tag, u.intent.name, u.text, u.annotated, u.provenance.get("worker_id", ""), j.round,
               j.annotator_id, j.annotator.get_username(), j.intent_score, j.slots_score, j.grammar_score,
               j.spelling_score, j.language_identification, j.proposed_annotation, j.comment, u.status,
               j.created_at.isoformat()]


def write_csv(response, *, campaign, locale_ids, what: str) -> None:
    writer = csv_writer(response)
    if what == "progress":
        rows = campaign_progress(campaign=campaign, locale_ids=locale_ids)
        columns = list(rows[0]) if rows else ["locale", "intent", "target"]
        writer.writerow(columns)
        writer.writerows([r[c] for c in columns] for r in rows)
    elif what == "annotators":
        rows = campaign_agreement(campaign=campaign, locale_ids=locale_ids)["annotators"]
        columns = ["annotator_id", "username", "judgments", "intent_agreement", "intent_compared",
                   "decision_agreement", "authored_accepted", "authored_rejected"]
        writer.writerow(columns)
        writer.writerows([r[c] for c in columns] for r in rows)
    else:
        writer.writerow(JUDGMENT_COLUMNS)
        writer.writerows(judgment_rows(campaign=campaign, locale_ids=locale_ids))


@annotator_required
@require_GET
def export_csv(request, campaign_id: int):
    campaign, locale_ids = _visible(request, campaign_id)
    what = request.GET.get("what", "judgments")
    if what not in ("judgments", "progress", "annotators"):
        raise Http404("what= is judgments, progress or annotators")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-{what}.csv"'
    write_csv(response, campaign=campaign, locale_ids=locale_ids, what=what)
    return response
