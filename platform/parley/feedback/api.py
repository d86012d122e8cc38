"""Feedback API: event ingestion for pipelines, the triage queue and the paraphrase review queue.

Every read is scoped to the caller's locales (404 outside them); every change goes through a
service, which decides who may make it (403 with the reason).
"""
import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, Throttled, ValidationError
from rest_framework.response import Response

from parley.access.scoping import actor_of
from parley.api.params import ID_MAX, INTEGER_MAX
from parley.nlu.api import LocaleTagFilter

from . import services
from .models import FeedbackCluster, FeedbackEvent, ParaphraseCandidate
from .ratelimit import rate_key, rate_take
from .selectors import cluster_list, event_list, paraphrase_list
from .tasks import paraphrase_mining_queue

PERM_ADD_EVENT = "feedback.add_feedbackevent"


class IdempotencyKeyConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "idempotency key used before with a different body"


def _service(fn, **kwargs):
    """Call a service; its refusal of who-may-do-this becomes a 403 with the reason."""
    try:
        return fn(**kwargs)
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from None


# --- Events -----------------------------------------------------------------------------------

class FeedbackEventSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag")

    class Meta:
        model = FeedbackEvent
        fields = ["id", "idempotency_key", "locale", "text", "predicted_intent", "predicted_slots", "confidence",
                  "signal", "kind", "response_template_key", "session_hash", "occurred_at", "received_at", "masking",
                  "cluster"]


class EventFilter(django_filters.FilterSet):
    locale = LocaleTagFilter()

    class Meta:
        model = FeedbackEvent
        fields = ["cluster", "signal", "kind", "session_hash"]


_ITEM_EXAMPLE = {"idempotency_key": "7f3c…", "locale": "de-DE", "text": "weck mich um sieben",
                 "prediction": {"intent": "alarm_query", "slots": [{"type": "time", "value": "sieben"}],
                                "confidence": 0.41},
                 "signal": "user_rephrase", "kind": "wrong_intent", "response_template_key": "alarm.none_set",
                 "session_hash": "9b1d…(sha-256 hex)", "timestamp": "2026-12-01T21:55:00Z"}


class FeedbackEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """POST a batch of feedback events (token scope feedback:write); GET the stored ones (feedback:read)."""

    serializer_class = FeedbackEventSerializer
    filterset_class = EventFilter
    required_scopes = {"GET": "feedback:read", "HEAD": "feedback:read", "OPTIONS": "feedback:read",
                       "POST": "feedback:write"}

    def get_queryset(self):
        return actor_of(self.request).scope(event_list(), "feedback.view_feedbackevent")

    @extend_schema(
        request=inline_serializer("FeedbackBatch", {"events": serializers.ListField(child=serializers.DictField())}),
        responses={200: inline_serializer("FeedbackBatchResult", {
            "created": serializers.IntegerField(), "duplicates": serializers.IntegerField(),
            "rejected": serializers.IntegerField(),
            "results": serializers.ListField(child=serializers.DictField(),
                                             help_text="per item: index, idempotency_key, status "
                                                       "(created|duplicate|rejected), id (created or "
                                                       "duplicate), errors {field: [reasons]}")}),
                   409: OpenApiResponse(description="an idempotency key this sender used with another body; "
                                                    "nothing of the batch is stored")},
        description=("Up to PARLEY_FEEDBACK_MAX_BATCH events, each like "
                     f"`{_ITEM_EXAMPLE}`. Items stand alone: valid ones are stored even if others are "
                     "rejected. Keys are the sender's own (per user, shared by its tokens): a replay with "
                     "the same body answers `duplicate` with the first answer's `id` and changes nothing; a "
                     "used key with another body answers 409 and stores nothing of the batch. Emails, phone and card "
                     "numbers are masked before storage (`masking` on the stored event). 429 with Retry-After "
                     "past the token's events per minute."))
    def create(self, request):
        actor = actor_of(request)
        if not actor.can(PERM_ADD_EVENT):
            raise PermissionDenied("Your roles do not allow pushing feedback in any locale.")
        events = request.data.get("events") if isinstance(request.data, dict) else None
        if not isinstance(events, list):
            raise ValidationError({"events": ["required: a list of events"]})
        if len(events) > services.max_batch():
            raise ValidationError({"events": [f"at most {services.max_batch()} events a batch ({len(events)} sent)"]})
        wait = rate_take(key=rate_key(request), amount=len(events))
        if wait is not None:
            raise Throttled(wait=wait, detail=f"This token's feedback rate limit is reached; retry in {wait} s.")
        try:
            report = services.events_ingest(items=events, submitted_by=request.user,
                                            may_write=lambda locale_id: actor.can(PERM_ADD_EVENT, locale_id=locale_id))
        except services.IdempotencyConflict as exc:
            raise IdempotencyKeyConflict(str(exc)) from None
        return Response(report, status=status.HTTP_200_OK)


# --- Clusters (the triage queue) --------------------------------------------------------------

class FeedbackClusterSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag")
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None)

    class Meta:
        model = FeedbackCluster
        fields = ["id", "locale", "kind", "status", "resolution", "resolution_note", "priority", "severity",
                  "event_count", "first_seen", "last_seen", "escalated_at", "assignee", "representative_text",
                  "normalized", "examples", "predicted_intents", "template_keys", "duplicate_of", "fix_template_key",
                  "fix_utterance", "created_at", "updated_at"]


class ClusterFilter(django_filters.FilterSet):
    locale = LocaleTagFilter()
    assignee = django_filters.CharFilter(method="by_assignee", help_text="a username, or `me`")
    escalated = django_filters.BooleanFilter(field_name="escalated_at", lookup_expr="isnull", exclude=True)
    open = django_filters.BooleanFilter(method="by_open", help_text="true: every status but resolved")

    class Meta:
        model = FeedbackCluster
        fields = ["kind", "status", "resolution"]

    def by_assignee(self, qs, name, value):
        if value == "me":
            return qs.filter(assignee=self.request.user)
        return qs.filter(assignee__username=value)

    def by_open(self, qs, name, value):
        return qs.exclude(status=FeedbackCluster.Status.RESOLVED) if value else qs.filter(
            status=FeedbackCluster.Status.RESOLVED)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.CharField(allow_null=True, help_text="username; null to unassign")


class CloseSerializer(NoteSerializer):
    resolution = serializers.ChoiceField(choices=["wont_fix", "not_a_bug"])


class LabelSerializer(NoteSerializer):
    intent = serializers.CharField(max_length=80)
    annotated = serializers.CharField(max_length=2000, help_text="MASSIVE notation: wake me up at [time : seven]")
    partition = serializers.ChoiceField(choices=list(services.LABEL_PARTITIONS))


class TemplateSerializer(NoteSerializer):
    template_key = serializers.CharField(max_length=200)


class DuplicateSerializer(NoteSerializer):
    of = serializers.IntegerField(min_value=1, max_value=ID_MAX, help_text="id of the cluster this one duplicates")


class FeedbackClusterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The triage queue: clusters of the caller's locales, highest priority first (escalated first).

    Filter by `locale` (tag or alias), `kind`, `status`, `open`, `escalated`, `assignee` (`me`).
    """

    serializer_class = FeedbackClusterSerializer
    filterset_class = ClusterFilter
    cursor_ordering = ("-priority", "-id")
    required_scopes = {"read": "feedback:read", "write": "feedback:triage"}

    def get_queryset(self):
        return actor_of(self.request).scope(cluster_list(), services.PERM_VIEW)

    def _act(self, request, fn, body_class=NoteSerializer, **extra):
        cluster = self.get_object()
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        updated = _service(fn, cluster=cluster, actor=actor_of(request), **self._arguments(data, cluster), **extra)
        return Response(FeedbackClusterSerializer(cluster_list().get(pk=updated.pk)).data)

    def _arguments(self, data, cluster):
        if "assignee" in data:
            name = data.pop("assignee")
            data["assignee"] = None
            if name is not None:
                data["assignee"] = get_user_model().objects.filter(username=name).first()
                if data["assignee"] is None:
                    # The same answer as for a real user outside the locale: no listing users by probing.
                    raise ValidationError({"assignee": [f"{name} is not a linguist of {cluster.locale.tag}"]})
        if "of" in data:
            target = self.get_queryset().filter(pk=data.pop("of")).first()
            if target is None:
                raise ValidationError({"of": ["no such cluster in your locales"]})
            data["of"] = target
        if "intent" in data:
            data["intent_name"] = data.pop("intent")
        return data

    @extend_schema(request=NoteSerializer, responses=FeedbackClusterSerializer)
    @action(detail=True, methods=["post"])
    def triage(self, request, pk=None):
        """new → triaged."""
        return self._act(request, services.cluster_triage)

    @extend_schema(request=AssignSerializer, responses=FeedbackClusterSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Assign to a linguist of the cluster's locale (leads; a linguist may assign themself)."""
        return self._act(request, services.cluster_assign, AssignSerializer)

    @extend_schema(request=None, responses=FeedbackClusterSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """triaged → in_review (the assignee, or whoever takes an unassigned cluster)."""
        return self._act(request, services.cluster_review_start, serializers.Serializer)

    @extend_schema(request=NoteSerializer, responses=FeedbackClusterSerializer)
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, pk=None):
        """in_review → triaged."""
        return self._act(request, services.cluster_send_back)

    @extend_schema(request=CloseSerializer, responses=FeedbackClusterSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Resolve as wont_fix or not_a_bug."""
        return self._act(request, services.cluster_close, CloseSerializer)

    @extend_schema(request=LabelSerializer, responses=FeedbackClusterSerializer)
    @action(detail=True, methods=["post"])
    def label(self, request, pk=None):
        """Resolve as fixed_data: create a submitted train or test candidate (source feedback)."""
        return self._act(request, services.cluster_label, LabelSerializer)

    @extend_schema(request=TemplateSerializer, responses=FeedbackClusterSerializer)
    @action(detail=True, methods=["post"], url_path="link-template")
    def link_template(self, request, pk=None):
        """Resolve as fixed_template: record the response template key to fix."""
        return self._act(request, services.cluster_link_template, TemplateSerializer)

    @extend_schema(request=DuplicateSerializer, responses=FeedbackClusterSerializer)
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        """Resolve as a duplicate of another cluster of the same locale."""
        return self._act(request, services.cluster_mark_duplicate, DuplicateSerializer)

    @extend_schema(request=NoteSerializer, responses=FeedbackClusterSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """resolved → triaged (leads)."""
        return self._act(request, services.cluster_reopen)


# --- Paraphrase candidates (the native review queue) ------------------------------------------

class ParaphraseSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)

    class Meta:
        model = ParaphraseCandidate
        fields = ["id", "locale", "failed_text", "intent_name", "slots", "annotated", "unmapped_slots",
                  "rephrase_example", "support", "sessions_failed", "confidence", "first_seen", "last_seen", "status",
                  "utterance", "decided_by", "decided_at"]


class ParaphraseFilter(django_filters.FilterSet):
    locale = LocaleTagFilter()
    min_support = django_filters.NumberFilter(field_name="support", lookup_expr="gte")
    min_confidence = django_filters.NumberFilter(field_name="confidence", lookup_expr="gte")

    class Meta:
        model = ParaphraseCandidate
        fields = ["status", "intent_name"]


class AcceptSerializer(serializers.Serializer):
    annotated = serializers.CharField(required=False, max_length=2000,
                                      help_text="a corrected annotation; default: the proposed one")


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class MiningRunSerializer(serializers.Serializer):
    window_seconds = serializers.IntegerField(required=False, min_value=1, max_value=86400)
    min_support = serializers.IntegerField(required=False, min_value=1, max_value=INTEGER_MAX)


class ParaphraseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Mined paraphrase candidates of the caller's locales, most supported first."""

    serializer_class = ParaphraseSerializer
    filterset_class = ParaphraseFilter
    cursor_ordering = ("-support", "-id")
    required_scopes = {"read": "feedback:read", "write": "feedback:triage"}

    def get_queryset(self):
        return actor_of(self.request).scope(paraphrase_list(), "feedback.view_paraphrasecandidate")

    @extend_schema(request=AcceptSerializer, responses=ParaphraseSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Accept: the failed phrasing becomes a submitted utterance with source `mined`."""
        candidate = self.get_object()
        body = AcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        done = _service(services.paraphrase_accept, candidate=candidate, actor=actor_of(request),
                        annotated=body.validated_data.get("annotated"))
        return Response(ParaphraseSerializer(paraphrase_list().get(pk=done.pk)).data)

    @extend_schema(request=RejectSerializer, responses=ParaphraseSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        candidate = self.get_object()
        body = RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        done = _service(services.paraphrase_reject, candidate=candidate, actor=actor_of(request),
                        reason=body.validated_data["reason"])
        return Response(ParaphraseSerializer(paraphrase_list().get(pk=done.pk)).data)

    @extend_schema(request=MiningRunSerializer, responses={202: inline_serializer(
        "MiningRun", {"task_run": serializers.IntegerField()})})
    @action(detail=False, methods=["post"], url_path="mine")
    def mine(self, request):
        """Queue a mining run over every locale's sessions (platform admins: it reads every locale)."""
        actor = actor_of(request)
        if actor.locale_tags(services.PERM_ASSIGN) is not None:
            raise PermissionDenied("Mining reads every locale's sessions: platform admins only.")
        body = MiningRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = paraphrase_mining_queue(actor=request.user, **body.validated_data)
        return Response({"task_run": run.pk}, status=status.HTTP_202_ACCEPTED)

