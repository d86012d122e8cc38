"""NLU API: intents, slot types and utterances, scoped to the caller's locales."""
import csv
import io

import django_filters
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.access.scoping import actor_of
from parley.locales.models import Locale
from parley.locales.selectors import UnknownLocale, locale_resolve

from .models import Intent, SlotType, Utterance
from .selectors import coverage_counts, intent_list, slot_type_list, utterance_list
from .services import utterance_annotation_update


class IntentSerializer(serializers.ModelSerializer):
    scenario = serializers.CharField(source="scenario.name")
    slot_types = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Intent
        fields = ["name", "scenario", "slot_types", "description"]


class SlotTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SlotType
        fields = ["name", "kind", "description"]


class IntentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = IntentSerializer
    lookup_field = "name"
    cursor_ordering = "name"
    filterset_fields = {"scenario__name": ["exact"]}
    required_scopes = {"read": "schema:read"}
    queryset = intent_list()


class SlotTypeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SlotTypeSerializer
    lookup_field = "name"
    cursor_ordering = "name"
    required_scopes = {"read": "schema:read"}
    queryset = slot_type_list()


class UtteranceSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag", read_only=True)
    intent = serializers.SlugRelatedField(slug_field="name", queryset=Intent.objects.all())
    scenario = serializers.CharField(source="intent.scenario.name", read_only=True)

    class Meta:
        model = Utterance
        fields = ["id", "locale", "scenario", "intent", "text", "annotated", "slots", "source", "external_id",
                  "partition", "status", "provenance", "created_at", "updated_at"]
        read_only_fields = ["text", "slots", "source", "external_id", "partition", "status", "provenance"]


class LocaleTagFilter(django_filters.CharFilter):
    """A locale by canonical tag or alias (sl-SL finds sl-SI)."""

    def filter(self, qs, value):
        if not value:
            return qs
        try:
            return qs.filter(locale=locale_resolve(value))
        except UnknownLocale:
            return qs.none()


class UtteranceFilter(django_filters.FilterSet):
    locale = LocaleTagFilter()
    intent = django_filters.CharFilter(field_name="intent__name")
    scenario = django_filters.CharFilter(field_name="intent__scenario__name")
    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label="text contains")

    class Meta:
        model = Utterance
        fields = ["locale", "intent", "scenario", "partition", "source", "status", "q"]


class UtteranceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                       viewsets.GenericViewSet):
    """Utterances in the caller's locales. PATCH `annotated` (and `intent`) to correct one."""

    serializer_class = UtteranceSerializer
    filterset_class = UtteranceFilter
    cursor_ordering = "id"
    required_scopes = {"read": "utterances:read", "write": "utterances:write"}
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return actor_of(self.request).scope(utterance_list(), "nlu.view_utterance")

    def perform_update(self, serializer):
        utterance = serializer.instance
        if not actor_of(self.request).can("nlu.change_utterance", utterance):
            raise PermissionDenied("You may not edit utterances of this locale.")
        data = serializer.validated_data
        serializer.instance = utterance_annotation_update(
            utterance=utterance, annotated=data.get("annotated", utterance.annotated), intent=data.get("intent"),
            actor=self.request.user)


class CoverageView(APIView):
    """Locale × intent utterance counts by partition and status, in the caller's locales (JSON or CSV)."""

    required_scopes = {"read": "utterances:read"}

    @extend_schema(parameters=[OpenApiParameter("locale", str), OpenApiParameter("partition", str),
                               OpenApiParameter("output", str, enum=["json", "csv"])],
                   responses={200: OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR})
    def get(self, request):
        actor = actor_of(request)
        scope = actor.scope(Locale.objects.all(), "nlu.view_utterance").values_list("pk", flat=True)
        tag = request.query_params.get("locale")
        if tag:
            try:
                locale = locale_resolve(tag)
            except UnknownLocale:
                raise NotFound(f"No locale {tag!r}.") from None
            if not actor.can("nlu.view_utterance", locale_id=locale.pk):
                raise NotFound(f"No locale {tag!r}.")
            scope = [locale.pk]
        rows = list(coverage_counts(locale_ids=scope, partition=request.query_params.get("partition") or None))
        # (`output`, not `format`: DRF reserves ?format= for choosing a renderer.)
        if request.query_params.get("output") == "csv":
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["locale", "intent", "partition", "status", "count"])
            for r in rows:
                writer.writerow([r["locale__tag"], r["intent__name"], r["partition"], r["status"], r["count"]])
            response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="coverage.csv"'
            return response
        return Response({"rows": [{"locale": r["locale__tag"], "intent": r["intent__name"],
                                   "partition": r["partition"], "status": r["status"], "count": r["count"]}
                                  for r in rows]})
