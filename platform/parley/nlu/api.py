"""NLU API: intents, slot types and utterances, scoped to the caller's locales."""
import django_filters
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from parley.access.scoping import actor_of
from parley.locales.selectors import UnknownLocale, locale_resolve

from .models import Intent, SlotType, Utterance
from .selectors import intent_list, slot_type_list, utterance_list
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
