"""The annotator web UI under /collect/: server-rendered pages and one JSON endpoint for live checks.

Annotators see only campaigns and tasks of their native locales; a task page answers 404 unless
the task is leased to the user asking (no probing of others' work).
"""
from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from parley.nlu import annotation as notation
from parley.nlu.models import LexiconEntry
from parley.nlu.selectors import intent_guide_for

from .models import Campaign, CampaignLocale, Task
from .scales import LANGUAGE_PARTS, LANGUAGE_QUESTION, SCORE_SCALES, language_parts
from .selectors import annotator_progress, campaigns_for_annotator, native_locale_ids
from .services import (SLOT_METHODS, current_lease, submission_evaluate, task_claim_next, task_skip,
                       task_submit_judgment, task_submit_utterance)

LOGIN_URL = "collect:login"
LEXICON_EXAMPLES_PER_SLOT = 3


class LoginView(auth_views.LoginView):
    template_name = "collection/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("collect:home")


def annotator_required(view):
    @login_required(login_url=LOGIN_URL)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return view(request, *args, **kwargs)
    return wrapped


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, template, {**context, "may_lead": _may_view_campaigns(request.user)}, status=status)


def _held_task(request, task_id: int) -> Task:
    task = (Task.objects.select_related("campaign", "locale", "intent", "source", "source__locale", "utterance")
            .filter(pk=task_id, assignee=request.user, status=Task.Status.LEASED,
                    locale_id__in=native_locale_ids(user=request.user)).first())
    if task is None:
        raise Http404("No such task of yours.")
    return task


@annotator_required
@require_GET
def home(request):
    held = current_lease(annotator=request.user, now=timezone.now())
    return _render(request, "collection/home.html", {
        "rows": campaigns_for_annotator(user=request.user), "held": held,
        "is_native": bool(native_locale_ids(user=request.user))})


def _may_view_campaigns(user) -> bool:
    from parley.access.scoping import can

    return can(user, "collection.view_campaign")


@annotator_required
@require_POST
def claim(request, campaign_id: int):
    allowed = {row["campaign"].pk for row in campaigns_for_annotator(user=request.user)}
    if campaign_id not in allowed:
        raise Http404("No such campaign for you.")
    task = task_claim_next(annotator=request.user, campaign=Campaign.objects.get(pk=campaign_id))
    if task is None:
        messages.info(request, _("No task is waiting for you in this campaign. Thank you!"))
        return redirect("collect:home")
    return redirect("collect:task", task_id=task.pk)


def _lexicon_examples(task: Task) -> list[dict]:
    examples = []
    for slot_type in task.intent.slot_types.all().order_by("name"):
        values = list(LexiconEntry.objects.filter(locale=task.locale, concept__slot_type=slot_type)
                      .order_by("value").values_list("value", flat=True)[:LEXICON_EXAMPLES_PER_SLOT])
        examples.append({"slot_type": slot_type.name, "values": values})
    return examples


def _task_context(task: Task, *, errors=None, values=None) -> dict:
    guide = intent_guide_for(intent=task.intent, locale=task.locale)
    instructions = (CampaignLocale.objects.filter(campaign=task.campaign, locale=task.locale)
                    .values_list("instructions", flat=True).first() or "")
    context = {
        "task": task, "locale": task.locale, "page_lang": task.locale.tag, "page_dir": task.locale.direction, "guide": guide, "instructions": instructions,
        "lexicon": _lexicon_examples(task), "errors": errors or {}, "values": values or {},
        "lease_seconds": max(int((task.lease_expires_at - timezone.now()).total_seconds()), 0),
        "slot_methods": SLOT_METHODS,
        "initial_annotated": (values or {}).get("annotated") or (task.utterance.annotated if task.utterance_id else ""),
    }
    if task.kind == Task.Kind.LOCALIZE and task.source_id:
        context["source_slots"] = sorted({s["type"] for s in task.source.slots})
    if task.kind == Task.Kind.VALIDATE:
        context["scales"] = _judgment_scales(values)
    return context


def _judgment_scales(values) -> list[dict]:
    """MASSIVE's questions and the published meaning of every answer (scales.py), with what the
    judge chose if the page comes back with errors."""
    values = values or {}
    chosen_language = set(values.getlist("language_identification") if hasattr(values, "getlist")
                          else language_parts(values.get("language_identification", "")))
    scales = [{"name": scale.name, "question": scale.question, "input": "radio",
               "options": [{"value": str(value), "label": meaning, "checked": values.get(scale.name) == str(value)}
                           for value, meaning in scale.options]} for scale in SCORE_SCALES]
    scales.append({"name": "language_identification", "question": LANGUAGE_QUESTION, "input": "checkbox",
                   "options": [{"value": name, "label": label, "checked": name in chosen_language}
                               for name, label in LANGUAGE_PARTS]})
    return scales


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "message_dict"):
        return exc.message_dict
    return {"__all__": exc.messages}


@annotator_required
def task_page(request, task_id: int):
    task = _held_task(request, task_id)
    if request.method != "POST":
        return _render(request, f"collection/task_{'validate' if task.kind == 'validate' else 'write'}.html",
                      _task_context(task))
    try:
        if task.kind == Task.Kind.VALIDATE:
            def score(name):
                raw = request.POST.get(name, "")
                return int(raw) if raw.isascii() and raw.isdigit() else None
            task_submit_judgment(task=task, annotator=request.user, intent_score=score("intent_score"),
                                 slots_score=score("slots_score"), grammar_score=score("grammar_score"),
                                 spelling_score=score("spelling_score"),
                                 # the checked boxes (target, english, other): the service joins them as published
                                 language_identification="|".join(request.POST.getlist("language_identification")),
                                 proposed_annotation=request.POST.get("proposed_annotation", ""),
                                 comment=request.POST.get("comment", ""))
        else:
            annotated = request.POST.get("annotated", "")
            slot_method = [{"slot": key[len("slot_method_"):], "method": value}
                           for key, value in request.POST.items() if key.startswith("slot_method_") and value]
            built = notation.parse(annotated).annotation
            if built is not None:  # methods only for the slots the new annotation has
                present = {s.type for s in built.slots}
                slot_method = [m for m in slot_method if m["slot"] in present]
            task_submit_utterance(task=task, annotator=request.user, annotated=annotated, slot_method=slot_method)
    except ValidationError as exc:
        template = "validate" if task.kind == "validate" else "write"
        return _render(request, f"collection/task_{template}.html",
                      _task_context(task, errors=_errors(exc), values=request.POST), status=400)
    messages.success(request, _("Saved. Here is the next one."))
    return _next(request, task.campaign)


def _next(request, campaign):
    nxt = task_claim_next(annotator=request.user, campaign=campaign)
    if nxt is None:
        messages.info(request, _("No more tasks for you in %(name)s right now.") % {"name": campaign.name})
        return redirect("collect:home")
    return redirect("collect:task", task_id=nxt.pk)


@annotator_required
@require_POST
def skip(request, task_id: int):
    task = _held_task(request, task_id)
    try:
        task_skip(task=task, annotator=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        template = "validate" if task.kind == "validate" else "write"
        return _render(request, f"collection/task_{template}.html",
                      _task_context(task, errors={"reason": _errors(exc).get("reason", exc.messages)}), status=400)
    messages.info(request, _("Skipped; the reason is recorded."))
    return _next(request, task.campaign)


@annotator_required
@require_GET
def check(request, task_id: int):
    """Live validation of what the annotator types: every utterance check, nothing saved."""
    task = _held_task(request, task_id)
    if task.kind == Task.Kind.VALIDATE:
        raise Http404("A validate task has no text to check.")
    annotated = request.GET.get("annotated")
    if annotated is None:
        return JsonResponse({"error": {"code": "invalid", "message": "annotated is required",
                                       "fields": {"annotated": ["required"]}}}, status=400)
    built, findings = submission_evaluate(task=task, annotated=annotated)
    return JsonResponse({
        "ok": not any(x.is_error for x in findings),
        "text": built.text if built is not None else None,
        "slots": [{"type": s.type, "value": s.value} for s in built.slots] if built is not None else [],
        "findings": [{"check": x.check_id, "severity": x.severity.value, "code": x.code, "message": str(x.message),
                      "field": x.field, "position": x.position} for x in findings],
    })


@annotator_required
@require_GET
def progress(request):
    return _render(request, "collection/progress.html", {"progress": annotator_progress(user=request.user)})
