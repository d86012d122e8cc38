"""NLU API: the schema (intents, slot types, their per-locale guides, the slot value lexicon),
utterances and coverage, scoped to the caller's locales.

Intents, slot types and lexicon concepts are global: writing them needs the permission in every
locale (platform admins). Guides, lexicon entries and coverage targets belong to a locale.
"""
import django_filters
from django.db.models import Q
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.access.scoping import ALL_LOCALES, actor_of, locales_for
from parley.api.errors import error_body
from parley.api.filters import choice_param
from parley.api.params import INTEGER_MAX, everywhere, locale_for_write, locale_param, require_everywhere
from parley.locales.models import Locale
from parley.locales.selectors import UnknownLocale, locale_resolve

from . import lexicon_io
from .checks import utterance_edit_evaluate
from .reports import COVERAGE_COLUMNS, coverage_csv
from .models import CoverageTarget, Intent, IntentGuide, LexiconConcept, LexiconEntry, SlotType, SlotTypeGuide, Utterance
from .selectors import (coverage_cells, coverage_counts, coverage_matrix, coverage_target_list, intent_guide_for, intent_guide_list,
                        intent_list, lexicon_concept_list, lexicon_entry_list, lexicon_rows, slot_type_guide_for,
                        slot_type_guide_list, slot_type_list, utterance_list)
from .services import (coverage_target_delete, coverage_target_set, guide_delete, intent_create, intent_delete,
                       intent_guide_save, intent_update, lexicon_concept_create, lexicon_entry_create,
                       lexicon_entry_delete, lexicon_entry_update, lexicon_import, slot_type_create, slot_type_delete,
                       slot_type_guide_save, slot_type_update, utterance_annotation_update, utterance_review)


class LocaleTagFilter(django_filters.CharFilter):
    """A locale by canonical tag or alias (sl-SL finds sl-SI)."""

    def filter(self, qs, value):
        if not value:
            return qs
        try:
            return qs.filter(locale=locale_resolve(value))
        except UnknownLocale:
            return qs.none()


# --- Intents and slot types -------------------------------------------------------------------

class IntentSerializer(serializers.ModelSerializer):
    scenario = serializers.CharField(source="scenario.name")
    slot_types = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Intent
        fields = ["name", "scenario", "slot_types", "description"]


class IntentWriteSerializer(serializers.Serializer):
    name = serializers.SlugField(max_length=80, required=False)
    scenario = serializers.SlugField(max_length=60, required=False)
    slot_types = serializers.ListField(child=serializers.CharField(max_length=60), required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class ResolvedGuideSerializer(serializers.Serializer):
    locale = serializers.CharField(allow_null=True, help_text="whose guide applies; null: the entry's description")
    requested = serializers.CharField()
    description = serializers.CharField()
    guidance = serializers.CharField()
    examples = serializers.ListField(child=serializers.CharField())
    fallback_chain = serializers.ListField(child=serializers.CharField())


class IntentViewSet(viewsets.ModelViewSet):
    """Intents with their scenario and allowed slot types. Reading is open to every role; creating,
    changing and deleting is for platform admins (token scope schema:write)."""

    serializer_class = IntentSerializer
    lookup_field = "name"
    cursor_ordering = "name"
    filterset_fields = {"scenario__name": ["exact"]}
    required_scopes = {"read": "schema:read", "write": "schema:write"}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = intent_list()

    @extend_schema(request=IntentWriteSerializer, responses={201: IntentSerializer})
    def create(self, request, *args, **kwargs):
        require_everywhere(request, "nlu.add_intent", "create intents")
        body = IntentWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        missing = {n: ["required"] for n in ("name", "scenario") if not data.get(n)}
        if missing:
            raise ValidationError(missing)
        intent = intent_create(name=data["name"], scenario=data["scenario"], slot_types=data.get("slot_types", []),
                               description=data.get("description", ""), actor=request.user)
        return Response(IntentSerializer(intent_list().get(pk=intent.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=IntentWriteSerializer, responses=IntentSerializer)
    def partial_update(self, request, *args, **kwargs):
        intent = self.get_object()
        require_everywhere(request, "nlu.change_intent", "change intents")
        body = IntentWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("name", intent.name) != intent.name:
            raise ValidationError({"name": ["an intent's name is its identity in exports and datasets; it cannot "
                                            "change"]})
        intent_update(intent=intent, scenario=data.get("scenario"), slot_types=data.get("slot_types"),
                      description=data.get("description"), actor=request.user)
        return Response(IntentSerializer(intent_list().get(pk=intent.pk)).data)

    def destroy(self, request, *args, **kwargs):
        intent = self.get_object()
        require_everywhere(request, "nlu.delete_intent", "delete intents")
        intent_delete(intent=intent, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[OpenApiParameter("locale", str, required=True)], responses=ResolvedGuideSerializer)
    @action(detail=True, methods=["get"])
    def guide(self, request, name=None):
        """The guide that applies in a locale: its own, else the nearest along its fallback chain,
        else the intent's description."""
        intent = self.get_object()
        locale = locale_param(request, "nlu.view_intentguide")
        return Response(intent_guide_for(intent=intent, locale=locale).as_dict())


class SlotTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SlotType
        fields = ["name", "kind", "description"]


class SlotTypeWriteSerializer(serializers.Serializer):
    name = serializers.SlugField(max_length=60, required=False)
    kind = serializers.ChoiceField(choices=SlotType.Kind.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class SlotTypeViewSet(viewsets.ModelViewSet):
    """Slot types (open or catalogued). Writing is for platform admins (token scope schema:write)."""

    serializer_class = SlotTypeSerializer
    lookup_field = "name"
    cursor_ordering = "name"
    filterset_fields = ["kind"]
    required_scopes = {"read": "schema:read", "write": "schema:write"}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = slot_type_list()

    @extend_schema(request=SlotTypeWriteSerializer, responses={201: SlotTypeSerializer})
    def create(self, request, *args, **kwargs):
        require_everywhere(request, "nlu.add_slottype", "create slot types")
        body = SlotTypeWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if not data.get("name"):
            raise ValidationError({"name": ["required"]})
        slot_type = slot_type_create(name=data["name"], kind=data.get("kind", SlotType.Kind.OPEN),
                                     description=data.get("description", ""), actor=request.user)
        return Response(SlotTypeSerializer(slot_type).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SlotTypeWriteSerializer, responses=SlotTypeSerializer)
    def partial_update(self, request, *args, **kwargs):
        slot_type = self.get_object()
        require_everywhere(request, "nlu.change_slottype", "change slot types")
        body = SlotTypeWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("name", slot_type.name) != slot_type.name:
            raise ValidationError({"name": ["a slot type's name is written in every annotation; it cannot change"]})
        slot_type = slot_type_update(slot_type=slot_type, kind=data.get("kind"), description=data.get("description"),
                                     actor=request.user)
        return Response(SlotTypeSerializer(slot_type).data)

    def destroy(self, request, *args, **kwargs):
        slot_type = self.get_object()
        require_everywhere(request, "nlu.delete_slottype", "delete slot types")
        slot_type_delete(slot_type=slot_type, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[OpenApiParameter("locale", str, required=True)], responses=ResolvedGuideSerializer)
    @action(detail=True, methods=["get"])
    def guide(self, request, name=None):
        """The slot type's guide for a locale, with the same fallback as intents."""
        slot_type = self.get_object()
        locale = locale_param(request, "nlu.view_slottypeguide")
        return Response(slot_type_guide_for(slot_type=slot_type, locale=locale).as_dict())


# --- Per-locale guides ------------------------------------------------------------------------

class _GuideSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag", help_text="tag or alias; fixed once created")
    examples = serializers.ListField(child=serializers.CharField(), required=False)


class IntentGuideSerializer(_GuideSerializer):
    intent = serializers.SlugRelatedField(slug_field="name", queryset=Intent.objects.all())

    class Meta:
        model = IntentGuide
        fields = ["id", "intent", "locale", "description", "guidance", "examples", "updated_at"]


class SlotTypeGuideSerializer(_GuideSerializer):
    slot_type = serializers.SlugRelatedField(slug_field="name", queryset=SlotType.objects.all())

    class Meta:
        model = SlotTypeGuide
        fields = ["id", "slot_type", "locale", "description", "guidance", "examples", "updated_at"]


class _GuideViewSet(viewsets.ModelViewSet):
    """Per-locale guides: POST creates or updates the guide of (owner, locale); PATCH edits text."""

    cursor_ordering = "id"
    required_scopes = {"read": "schema:read", "write": "schema:write"}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    owner_field = ""
    save = None
    selector = None

    def _perm(self, action_name):
        return f"nlu.{action_name}_{self.serializer_class.Meta.model._meta.model_name}"

    def get_queryset(self):
        return actor_of(self.request).scope(type(self).selector(), self._perm("view"))

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        locale = locale_for_write(request, data["locale"]["tag"], self._perm("add"))
        model = self.serializer_class.Meta.model
        existed = model.objects.filter(**{self.owner_field: data[self.owner_field]}, locale=locale).exists()
        if existed and not actor_of(request).can(self._perm("change"), locale_id=locale.pk):
            raise PermissionDenied("You may not change this guide.")
        guide = type(self).save(**{self.owner_field: data[self.owner_field]}, locale=locale, actor=request.user,
                                description=data.get("description"), guidance=data.get("guidance"),
                                examples=data.get("examples"))
        return Response(self.get_serializer(guide).data,
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        guide = self.get_object()
        if not actor_of(request).can(self._perm("change"), guide):
            raise PermissionDenied("You may not change guides of this locale.")
        body = self.get_serializer(guide, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        stored = {self.owner_field: getattr(guide, self.owner_field), "locale": {"tag": guide.locale.tag}}
        fixed = sorted(n for n in stored if n in data and data[n] != stored[n])
        if fixed:
            raise ValidationError({n: ["fixed once created; delete this guide and create another"] for n in fixed})
        guide = type(self).save(**{self.owner_field: getattr(guide, self.owner_field)}, locale=guide.locale,
                                actor=request.user, description=data.get("description"),
                                guidance=data.get("guidance"), examples=data.get("examples"))
        return Response(self.get_serializer(guide).data)

    def destroy(self, request, *args, **kwargs):
        guide = self.get_object()
        if not actor_of(request).can(self._perm("delete"), guide):
            raise PermissionDenied("You may not delete guides of this locale.")
        guide_delete(guide=guide, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(create=extend_schema(responses={201: IntentGuideSerializer, 200: IntentGuideSerializer},
                                         description="201 when the guide is new, 200 when it changed it."))
class IntentGuideViewSet(_GuideViewSet):
    serializer_class = IntentGuideSerializer
    filterset_fields = {"intent__name": ["exact"], "locale__tag": ["exact"]}
    owner_field = "intent"
    save = staticmethod(intent_guide_save)
    selector = staticmethod(intent_guide_list)


@extend_schema_view(create=extend_schema(responses={201: SlotTypeGuideSerializer, 200: SlotTypeGuideSerializer},
                                         description="201 when the guide is new, 200 when it changed it."))
class SlotTypeGuideViewSet(_GuideViewSet):
    serializer_class = SlotTypeGuideSerializer
    filterset_fields = {"slot_type__name": ["exact"], "locale__tag": ["exact"]}
    owner_field = "slot_type"
    save = staticmethod(slot_type_guide_save)
    selector = staticmethod(slot_type_guide_list)


# --- Slot value lexicon -----------------------------------------------------------------------

class LexiconConceptSerializer(serializers.ModelSerializer):
    slot_type = serializers.SlugRelatedField(slug_field="name", queryset=SlotType.objects.all())

    class Meta:
        model = LexiconConcept
        fields = ["id", "slot_type", "key", "note"]


class LexiconConceptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                            viewsets.GenericViewSet):
    """Concepts of catalogued slot types (currency_name/JPY). Everyone with lexicon access reads
    them; platform admins add them (imports by platform admins add them too)."""

    serializer_class = LexiconConceptSerializer
    cursor_ordering = "id"
    filterset_fields = {"slot_type__name": ["exact"], "key": ["exact"]}
    required_scopes = {"read": "schema:read", "write": "schema:write"}

    def get_queryset(self):
        # Concepts carry no locale: anyone who may read them somewhere reads all of them.
        if not actor_of(self.request).can("nlu.view_lexiconconcept"):
            return LexiconConcept.objects.none()
        return lexicon_concept_list()

    def create(self, request, *args, **kwargs):
        require_everywhere(request, "nlu.add_lexiconconcept", "add lexicon concepts")
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        concept = lexicon_concept_create(actor=request.user, **body.validated_data)
        return Response(self.get_serializer(concept).data, status=status.HTTP_201_CREATED)


class LexiconEntrySerializer(serializers.ModelSerializer):
    slot_type = serializers.CharField(source="concept.slot_type.name")
    concept = serializers.CharField(source="concept.key")
    locale = serializers.CharField(source="locale.tag", help_text="tag or alias; fixed once created")
    synonyms = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = LexiconEntry
        fields = ["id", "slot_type", "concept", "locale", "value", "synonyms", "updated_at"]


class LexiconEntryFilter(django_filters.FilterSet):
    locale = LocaleTagFilter()
    slot_type = django_filters.CharFilter(field_name="concept__slot_type__name")
    concept = django_filters.CharFilter(field_name="concept__key")
    q = django_filters.CharFilter(method="search", label="value or synonym contains")

    class Meta:
        model = LexiconEntry
        fields = ["locale", "slot_type", "concept", "q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(value__icontains=value) | Q(normalized__icontains=value) | Q(synonyms__icontains=value))


class LexiconEntryViewSet(viewsets.ModelViewSet):
    """Values of lexicon concepts in the caller's locales, with synonyms."""

    serializer_class = LexiconEntrySerializer
    filterset_class = LexiconEntryFilter
    cursor_ordering = "id"
    required_scopes = {"read": "schema:read", "write": "schema:write"}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return actor_of(self.request).scope(lexicon_entry_list(), "nlu.view_lexiconentry")

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        locale = locale_for_write(request, data["locale"]["tag"], "nlu.add_lexiconentry")
        concept = LexiconConcept.objects.select_related("slot_type").filter(
            slot_type__name=data["concept"]["slot_type"]["name"], key=data["concept"]["key"]).first()
        if concept is None:
            raise ValidationError({"concept": [f"{data['concept']['slot_type']['name']} has no concept "
                                               f"{data['concept']['key']!r}"]})
        entry = lexicon_entry_create(concept=concept, locale=locale, value=data["value"],
                                     synonyms=data.get("synonyms", []), actor=request.user)
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        entry = self.get_object()
        if not actor_of(request).can("nlu.change_lexiconentry", entry):
            raise PermissionDenied("You may not change lexicon entries of this locale.")
        unknown = sorted(set(request.data) & {"slot_type", "concept", "locale"})
        if unknown:
            raise ValidationError({n: ["fixed once created; delete this entry and create another"] for n in unknown})
        body = self.get_serializer(entry, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        entry = lexicon_entry_update(entry=entry, value=data.get("value"), synonyms=data.get("synonyms"),
                                     actor=request.user)
        return Response(self.get_serializer(entry).data)

    def destroy(self, request, *args, **kwargs):
        entry = self.get_object()
        if not actor_of(request).can("nlu.delete_lexiconentry", entry):
            raise PermissionDenied("You may not delete lexicon entries of this locale.")
        lexicon_entry_delete(entry=entry, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _scope_ids(request, *perms):
    """Locale ids where the actor holds every permission given; None means every locale."""
    actor = actor_of(request)
    scopes = [locales_for(actor.user, perm, actor.token) for perm in perms]
    if all(s is ALL_LOCALES for s in scopes):
        return None
    ids = None
    for s in scopes:
        if s is not ALL_LOCALES:
            ids = set(s) if ids is None else ids & set(s)
    return ids


class LexiconExportView(APIView):
    """Lexicon entries in the caller's locales as CSV or JSON (what the import reads)."""

    required_scopes = {"read": "schema:read"}

    @extend_schema(parameters=[OpenApiParameter("output", str, enum=["csv", "json"]),
                               OpenApiParameter("locale", str), OpenApiParameter("slot_type", str),
                               OpenApiParameter("concept", str)],
                   responses={(200, "text/csv"): OpenApiTypes.STR,
                              (200, "application/json"): inline_serializer("LexiconExportEntry", {
                                  **{name: serializers.CharField() for name in lexicon_io.REQUIRED},
                                  "synonyms": serializers.ListField(child=serializers.CharField())}, many=True)})
    def get(self, request):
        locale_ids = _scope_ids(request, "nlu.view_lexiconentry")
        if request.query_params.get("locale"):
            locale_ids = [locale_param(request, "nlu.view_lexiconentry").pk]
        fmt = choice_param(request, "output", list(lexicon_io.FORMATS), default="csv")
        rows = lexicon_rows(locale_ids=locale_ids, slot_type=request.query_params.get("slot_type") or None,
                            concept=request.query_params.get("concept") or None)
        writer = lexicon_io.write_json if fmt == "json" else lexicon_io.write_csv
        content_type = "application/json" if fmt == "json" else "text/csv"
        response = StreamingHttpResponse(writer(rows), content_type=f"{content_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="lexicon.{fmt}"'
        return response


class LexiconUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    # Not `format`: the import API's field of that name has other choices (one enum per name in the schema).
    file_format = serializers.ChoiceField(choices=lexicon_io.FORMATS, required=False,
                                          help_text="csv or json; default: from the file name (.json, else CSV)")


LEXICON_UPLOAD_MAX_BYTES = 5 * 1024 * 1024


class LexiconImportView(APIView):
    """Import lexicon entries (CSV or JSON) into the caller's locales: all rows or none.

    Synchronous on purpose: lexicons are thousands of rows, not millions, and the caller wants
    the reject report in the response. 200 with counts; 400 with every rejected row (row,
    field, reason) and nothing written.
    """

    required_scopes = {"write": "schema:write"}
    parser_classes = [MultiPartParser]

    @extend_schema(request=LexiconUploadSerializer, responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT})
    def post(self, request):
        actor = actor_of(request)
        if not actor.can("nlu.add_lexiconentry"):
            raise PermissionDenied("Your roles do not allow lexicon changes in any locale.")
        body = LexiconUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        if upload.size > LEXICON_UPLOAD_MAX_BYTES:
            raise ValidationError({"file": [f"{upload.size} bytes is over the limit of {LEXICON_UPLOAD_MAX_BYTES}"]})
        text, problem = lexicon_io.decode(upload.read())
        fmt = body.validated_data.get("file_format") or lexicon_io.format_for(upload.name)
        rows = [problem] if problem else lexicon_io.read(text, fmt)
        result = lexicon_import(rows=rows, actor=request.user,
                                locale_ids=_scope_ids(request, "nlu.add_lexiconentry", "nlu.change_lexiconentry"),
                                create_concepts=everywhere(actor, "nlu.add_lexiconconcept"))
        if not result.ok:
            error = error_body("rejected", f"{len(result.rejects)} row(s) rejected; nothing was written.")
            error["error"]["rejects"] = [r.as_dict() for r in result.rejects]
            return Response(error, status=status.HTTP_400_BAD_REQUEST)
        return Response(result.as_dict())


# --- Coverage targets -------------------------------------------------------------------------

class CoverageTargetSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag", help_text="tag or alias")
    intent = serializers.SlugRelatedField(slug_field="name", queryset=Intent.objects.all(), allow_null=True,
                                          required=False, help_text="null: the locale's default for every intent")
    target = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX)

    class Meta:
        model = CoverageTarget
        fields = ["id", "locale", "intent", "partition", "target", "updated_at"]


class CoverageTargetViewSet(viewsets.ModelViewSet):
    """Per-locale coverage targets (a default per partition, optional per-intent overrides).
    POST sets one (creating or changing it); locale leads edit their locales'."""

    serializer_class = CoverageTargetSerializer
    cursor_ordering = "id"
    filterset_fields = {"locale__tag": ["exact"], "intent__name": ["exact"], "partition": ["exact"]}
    required_scopes = {"read": "schema:read", "write": "schema:write"}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return actor_of(self.request).scope(coverage_target_list(), "nlu.view_coveragetarget")

    @extend_schema(responses={201: CoverageTargetSerializer, 200: CoverageTargetSerializer},
                   description="201 when the target is new, 200 when it changed an existing one.")
    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        locale = locale_for_write(request, data["locale"]["tag"], "nlu.add_coveragetarget")
        existed = CoverageTarget.objects.filter(locale=locale, intent=data.get("intent"),
                                                partition=data["partition"]).exists()
        if existed and not actor_of(request).can("nlu.change_coveragetarget", locale_id=locale.pk):
            raise PermissionDenied("You may not change coverage targets of this locale.")
        row = coverage_target_set(locale=locale, intent=data.get("intent"), partition=data["partition"],
                                  target=data["target"], actor=request.user)
        return Response(self.get_serializer(row).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        row = self.get_object()
        if not actor_of(request).can("nlu.change_coveragetarget", row):
            raise PermissionDenied("You may not change coverage targets of this locale.")
        fixed = sorted(set(request.data) & {"locale", "intent", "partition"})
        if fixed:
            raise ValidationError({n: ["fixed once created; set another target instead"] for n in fixed})
        body = self.get_serializer(row, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        row = coverage_target_set(locale=row.locale, intent=row.intent, partition=row.partition,
                                  target=body.validated_data.get("target", row.target), actor=request.user)
        return Response(self.get_serializer(row).data)

    def destroy(self, request, *args, **kwargs):
        row = self.get_object()
        if not actor_of(request).can("nlu.delete_coveragetarget", row):
            raise PermissionDenied("You may not delete coverage targets of this locale.")
        coverage_target_delete(row=row, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UtteranceSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag", read_only=True)
    intent = serializers.SlugRelatedField(slug_field="name", queryset=Intent.objects.all())
    scenario = serializers.CharField(source="intent.scenario.name", read_only=True)

    class Meta:
        model = Utterance
        fields = ["id", "locale", "scenario", "intent", "text", "annotated", "slots", "source", "external_id",
                  "partition", "status", "provenance", "created_at", "updated_at"]
        read_only_fields = ["text", "slots", "source", "external_id", "partition", "status", "provenance"]


class UtteranceFilter(django_filters.FilterSet):
    locale = LocaleTagFilter()
    intent = django_filters.CharFilter(field_name="intent__name")
    scenario = django_filters.CharFilter(field_name="intent__scenario__name")
    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label="text contains")

    class Meta:
        model = Utterance
        fields = ["locale", "intent", "scenario", "partition", "source", "status", "q"]


class UtteranceReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "reject"])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class UtteranceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                       viewsets.GenericViewSet):
    """Utterances in the caller's locales. PATCH `annotated` (and `intent`) to correct one."""

    serializer_class = UtteranceSerializer
    filterset_class = UtteranceFilter
    cursor_ordering = "id"
    required_scopes = {"read": "utterances:read", "write": "utterances:write"}
    http_method_names = ["get", "post", "patch", "head", "options"]  # POST: the review action only

    def get_queryset(self):
        return actor_of(self.request).scope(utterance_list(), "nlu.view_utterance")

    @extend_schema(parameters=[OpenApiParameter("annotated", str, required=True),
                               OpenApiParameter("intent", str, description="intent name; default: the current one")],
                   responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"], url_path="check")
    def check(self, request, pk=None):
        """Check an edit without saving it: the registry's findings for `annotated` (the admin's
        live validation asks this as the linguist types). Read-only, so any reader may ask."""
        # Not get_object(): its list filters would read ?intent= (the edit's intent) as a filter.
        utterance = self.get_queryset().filter(pk=pk).first() if str(pk).isascii() and str(pk).isdigit() else None
        if utterance is None:
            raise NotFound("No such utterance.")
        annotated = request.query_params.get("annotated")
        if annotated is None:
            raise ValidationError({"annotated": ["required"]})
        intent, wanted = utterance.intent, request.query_params.get("intent")
        if wanted:  # a name, or the id the admin's select holds
            by_id = wanted.isascii() and wanted.isdigit()
            intent = Intent.objects.filter(**({"pk": int(wanted)} if by_id else {"name": wanted})).first()
            if intent is None:
                raise ValidationError({"intent": [f"no intent {wanted!r}"]})
        built, findings = utterance_edit_evaluate(utterance=utterance, annotated=annotated, intent=intent)
        return Response({
            "ok": not any(f.is_error for f in findings),
            "text": built.text if built is not None else None,
            "findings": [{"check": f.check_id, "severity": f.severity.value, "code": f.code, "message": str(f.message),
                          "field": f.field, "position": f.position} for f in findings],
        })

    @extend_schema(request=UtteranceReviewSerializer, responses={200: UtteranceSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """A native linguist accepts or rejects a submitted candidate (feedback, mined, manual):
        accepted ones are promoted by the dataset pipeline."""
        utterance = self.get_object()
        if not actor_of(request).can("nlu.change_utterance", utterance):
            raise PermissionDenied("You may not review utterances of this locale.")
        body = UtteranceReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        utterance = utterance_review(utterance=utterance, accept=body.validated_data["decision"] == "accept",
                                     reason=body.validated_data["reason"], actor=request.user)
        return Response(UtteranceSerializer(utterance_list().get(pk=utterance.pk)).data)

    def perform_update(self, serializer):
        utterance = serializer.instance
        if not actor_of(self.request).can("nlu.change_utterance", utterance):
            raise PermissionDenied("You may not edit utterances of this locale.")
        data = serializer.validated_data
        serializer.instance = utterance_annotation_update(
            utterance=utterance, annotated=data.get("annotated", utterance.annotated), intent=data.get("intent"),
            actor=self.request.user)


class CoverageView(APIView):
    """Coverage in the caller's locales: `rows` are locale × intent counts by partition and status;
    `targets` are locale × intent × partition counted (accepted + promoted) and pending
    (draft, submitted, in validation) utterances with the locale's target and the gap.
    `?output=csv` gives `rows` as CSV, `?output=csv&view=targets` the targets."""

    required_scopes = {"read": "utterances:read"}

    @extend_schema(parameters=[OpenApiParameter("locale", str), OpenApiParameter("partition", str),
                               OpenApiParameter("scenario", str), OpenApiParameter("intent", str),
                               OpenApiParameter("output", str, enum=["json", "csv"]),
                               OpenApiParameter("view", str, enum=["status", "targets"])],
                   responses={200: OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR})
    def get(self, request):
        actor = actor_of(request)
        scope = actor.scope(Locale.objects.all(), "nlu.view_utterance").values_list("pk", flat=True)
        tag = request.query_params.get("locale")
        if tag:
            scope = [locale_param(request, "nlu.view_utterance").pk]
        params = request.query_params
        view = choice_param(request, "view", list(COVERAGE_COLUMNS), default="status")
        output = choice_param(request, "output", ["json", "csv"], default="json")
        partition = params.get("partition") or None
        filters = {"locale_ids": list(scope), "partition": partition, "scenario": params.get("scenario") or None,
                   "intent": params.get("intent") or None}
        cells = coverage_cells(**filters)  # one GROUP BY serves both views
        targets = [c.as_dict() for c in coverage_matrix(**filters, cells=cells)]
        if view == "targets" and output == "csv":
            return coverage_csv(targets, "targets")
        rows = coverage_counts(cells=cells)
        # (`output`, not `format`: DRF reserves ?format= for choosing a renderer.)
        if output == "csv":
            return coverage_csv(rows, "status")
        return Response({"rows": rows, "targets": targets})
