"""Imports (upload, progress, reject report) and streaming exports."""
import itertools

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.access.scoping import actor_of
from parley.api.params import locale_param
from parley.config.csv_cells import csv_writer
from parley.nlu.models import Utterance
from parley.runs.workers import waiting_reason

from .exports import EXPORT_FORMATS
from .models import ImportBatch
from .services import (LABEL_MAP_MAX_BYTES, conll_label_map_read, import_batch_create, import_may_create_schema,
                       upload_problem, upload_store)
from .tasks import import_batch_queue


class ImportBatchSerializer(serializers.ModelSerializer):
    waiting = serializers.SerializerMethodField(help_text="why a queued import has not started yet, if it waited long")

    class Meta:
        model = ImportBatch
        fields = ["id", "format", "source_name", "options", "status", "waiting", "rows_read", "rows_accepted",
                  "rows_present", "rows_rejected", "rows_warned", "error", "task_run", "created_at", "finished_at"]

    def get_waiting(self, batch) -> str:
        return waiting_reason(run=batch.task_run)  # a batch waits exactly while its run is queued


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.ChoiceField(choices=ImportBatch.Format.choices)
    create_missing = serializers.BooleanField(default=False)
    strict = serializers.BooleanField(default=False)
    locale = serializers.CharField(required=False, allow_blank=True, default="")
    label_map = serializers.FileField(
        required=False, help_text='CoNLL only: JSON {"intents": {old: new}, "slot_types": {old: new}} renaming '
                                  "the file's labels as listed (docs/formats.md, xSID)")

    def validate(self, data):
        upload = data["file"]
        problem = upload_problem(name=upload.name, size=upload.size, format=data["format"], file=upload)
        if problem:
            raise ValidationError({"file": [problem]})
        if data.get("label_map") is not None:
            if data["format"] != ImportBatch.Format.CONLL:
                raise ValidationError({"label_map": ["a label map applies to CoNLL imports only"]})
            try:
                data["label_map"] = conll_label_map_read(data["label_map"].read(LABEL_MAP_MAX_BYTES + 1))
            except DjangoValidationError as exc:
                raise ValidationError({"label_map": exc.messages}) from None
        return data


class ImportBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Platform admins upload imports; progress and counts update while the task runs.

    Every row goes only to a locale where the caller (through its token's limit) may import; rows
    of other locales are rejects. `create_missing` makes shared schema: platform-wide grant only.
    A caller limited to some locales sees only the batches it started.
    """

    serializer_class = ImportBatchSerializer
    required_scopes = {"read": "imports:write", "write": "imports:write"}
    parser_classes = [MultiPartParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not actor_of(request).can("interchange.view_importbatch"):
            raise PermissionDenied("Only platform admins import data.")

    def get_queryset(self):
        actor = actor_of(self.request)
        batches = ImportBatch.objects.select_related("task_run")
        if actor.locale_tags("interchange.view_importbatch") is None:
            return batches  # platform-wide: every batch
        # A batch may span locales and its rejects quote rows of any of them: only its starter
        # sees it (a token the batches it started, a session user those it started in any way).
        if actor.token is not None:
            return batches.filter(token=actor.token)
        if not actor.user.is_authenticated:
            return batches.none()  # the schema generator asks as an anonymous user
        return batches.filter(created_by=actor.user)

    @extend_schema(request=ImportUploadSerializer, responses={202: ImportBatchSerializer})
    def create(self, request):
        actor = actor_of(request)
        if not actor.can("interchange.add_importbatch"):
            raise PermissionDenied("Only platform admins import data.")
        body = ImportUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["create_missing"] and not import_may_create_schema(user=actor.user, token=actor.token):
            raise PermissionDenied("create_missing creates locales, scenarios, intents and slot types, which every "
                                   "locale shares: it needs a platform-wide grant (no token locale limit).")
        path = upload_store(data["file"])
        batch = import_batch_create(format=data["format"], path=str(path), source_name=data["file"].name,
                                    actor=request.user, create_missing=data["create_missing"], strict=data["strict"],
                                    locale=data["locale"], label_map=data.get("label_map"), token=actor.token)
        import_batch_queue(batch=batch, actor=request.user)
        batch.refresh_from_db()
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], url_path="rejects.csv")
    def rejects_csv(self, request, pk=None):
        """Every rejected row: file, line, field, reason, excerpt."""
        batch = self.get_object()

        class Echo:
            def write(self, value):
                return value

        writer = csv_writer(Echo())
        rows = batch.rejects.values_list("file", "line", "field", "reason", "excerpt").iterator(chunk_size=2000)
        header = ("file", "line", "field", "reason", "excerpt")
        stream = (writer.writerow(r) for r in itertools.chain([header], rows))
        response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-rejects.csv"'
        return response


class ExportView(APIView):
    """Stream one locale's utterances as MASSIVE jsonl, SLURP-style jsonl or CoNLL/BIO.

    MASSIVE rows keep their original order, fields and locale tag (sl-SL stays sl-SL).
    """

    required_scopes = {"read": "utterances:read"}

    @extend_schema(parameters=[OpenApiParameter("locale", str, required=True),
                               OpenApiParameter("partition", str, required=False),
                               OpenApiParameter("source", str, required=False)],
                   responses={(200, "application/x-ndjson"): OpenApiTypes.STR,
                              (200, "text/plain"): OpenApiTypes.STR})
    def get(self, request, format_name: str):
        export = EXPORT_FORMATS.get(format_name)
        if export is None:
            raise NotFound(f"No export format {format_name!r}; known: {', '.join(EXPORT_FORMATS)}.")
        locale = locale_param(request, "nlu.view_utterance")
        tag = locale.tag  # never the raw parameter: it lands in a header
        partition = request.query_params.get("partition") or None
        if partition and partition not in Utterance.Partition.values:
            raise ValidationError({"partition": [f"one of {', '.join(Utterance.Partition.values)}"]})
        source = request.query_params.get("source") or None
        if source and source not in Utterance.Source.values:
            raise ValidationError({"source": [f"one of {', '.join(Utterance.Source.values)}"]})
        lines = export.stream(locale=locale, source=source, partition=partition)
        response = StreamingHttpResponse(lines, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{tag}{export.suffix}"'
        return response
