"""Datasets API: releases (list, manifest, diff, downloads), building them, promotion, and the
lead's rules, floors and retirements. Thin: permissions and locales here, work in services.

Readers see published releases and, inside them, only their locales' files and figures (a token's
locale limit narrows that further); a locale outside the caller's answers 404 like a missing one.
"""
from __future__ import annotations

import json

from django.db.models import Q
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.access.scoping import ALL_LOCALES, actor_of, locales_for
from parley.api.filters import choice_param
from parley.api.params import ID_MAX, locale_param
from parley.locales.models import Locale
from parley.locales.selectors import UnknownLocale, locale_resolve
from parley.nlu.models import Intent

from . import downloads
from .build import release_folder
from .permissions import release_build_refusal
from .models import PromotionRefusal, PromotionRule, Release, ReleaseFile, TestFloor, TestRetirement
from .selectors import promotion_refusal_list, promotion_rule_list, release_list, retirement_list, floor_list
from .services import floor_set, promotion_rule_set, release_create, retirement_create
from .tasks import promotion_queue, release_build_queue

VIEW = "datasets.view_release"


def _reader_locales(request, perm: str = VIEW):
    """The ids of the locales the caller may read releases of, or ALL_LOCALES."""
    actor = actor_of(request)
    return locales_for(actor.user, perm, actor.token)


def _visible_tags(request) -> set[str] | None:
    ids = _reader_locales(request)
    if ids is ALL_LOCALES:
        return None
    return set(Locale.objects.filter(pk__in=ids).values_list("tag", flat=True))


def manifest_for(release: Release, tags: set[str] | None) -> dict:
    """The manifest narrowed to `tags` (None: all): other locales' counts, files, retirements,
    rules and floors left out (the every-locale default rules stay: they apply to the reader's)."""
    manifest = dict(release.manifest)
    if tags is None:
        return manifest
    manifest["locales"] = {t: v for t, v in manifest.get("locales", {}).items() if t in tags}
    manifest["files"] = [f for f in manifest.get("files", []) if f.get("locale") is None or f["locale"] in tags]
    manifest["retired"] = {t: v for t, v in manifest.get("retired", {}).items() if t in tags}
    rules = manifest.get("rules", {})
    manifest["rules"] = {
        "promotion": [r for r in rules.get("promotion", []) if r["locale"] == "*" or r["locale"] in tags],
        "test_floors": [r for r in rules.get("test_floors", []) if r["locale"] in tags]}
    if "violations" in manifest:
        manifest["violations"] = [v for v in manifest["violations"] if v["locale"] in tags]
        manifest["violation_count"] = len(manifest["violations"])
    return manifest


def visible_releases(qs, request):
    """Published releases with at least one of the caller's locales; builders also follow the
    building and failed ones they may build (all of them for who builds every locale)."""
    tags = _visible_tags(request)
    published = Q(status=Release.Status.PUBLISHED)
    if tags is not None:
        published &= Q(manifest__locales__has_any_keys=sorted(tags) or ["-"])
    builder = _reader_locales(request, "datasets.add_release")
    if builder is ALL_LOCALES:
        return qs
    if builder:
        return qs.filter(published | Q(created_by=request.user))
    return qs.filter(published)


class ReleaseSerializer(serializers.ModelSerializer):
    """A release as the caller may see it: locales, rows, diff counts and refusal reasons of the
    caller's locales only."""

    locales = serializers.SerializerMethodField()
    diff_summary = serializers.SerializerMethodField()
    rows = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = ["id", "name", "version", "status", "locales", "previous", "notes", "rows", "diff_summary",
                  "error", "task_run", "created_at", "published_at"]

    def _tags(self):
        return self.context.get("visible_tags")

    def get_locales(self, release) -> list[str]:
        tags = self._tags()
        names = sorted(release.manifest.get("locales", {})) or release.locale_tags
        return [t for t in names if tags is None or t in tags]

    def get_diff_summary(self, release) -> dict:
        tags = self._tags()
        return {t: v for t, v in release.diff_summary.items() if tags is None or t in tags}

    def get_rows(self, release) -> int:
        tags = self._tags()
        if tags is None:
            return release.rows
        return sum(v["rows"] for t, v in release.manifest.get("locales", {}).items() if t in tags)

    def get_error(self, release) -> str:
        tags = self._tags()
        if tags is None or not release.error:
            return release.error
        if "violations" in release.manifest:
            return "; ".join(v["message"] for v in release.manifest["violations"] if v["locale"] in tags)
        return release.error if release.status == Release.Status.BUILDING else ""


class ReleaseCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    locales = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class ReleaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Published releases (builders also see building and failed ones), newest first."""

    serializer_class = ReleaseSerializer
    required_scopes = {"read": "datasets:read", "write": "datasets:write"}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not _reader_locales(request):
            raise PermissionDenied("You may not read dataset releases.")

    def get_queryset(self):
        qs = visible_releases(release_list(), self.request)
        status_filter = self.request.query_params.get("status")
        if status_filter:
            qs = qs.filter(status=status_filter)
        name = self.request.query_params.get("name")
        return qs.filter(name=name) if name else qs

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "visible_tags": _visible_tags(self.request)}

    @extend_schema(request=ReleaseCreateSerializer, responses={202: ReleaseSerializer})
    def create(self, request):
        body = ReleaseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tags = []
        actor = actor_of(request)
        for raw in body.validated_data["locales"]:
            try:
                locale = locale_resolve(raw)
            except UnknownLocale:
                raise ValidationError({"locales": [f"unknown locale {raw!r}"]}) from None
            if not actor.can("datasets.add_release", locale_id=locale.pk):
                raise ValidationError({"locales": [f"unknown locale {raw!r}"]})
            tags.append(locale.tag)
        refusal = release_build_refusal(user=actor.user, token=actor.token, name=body.validated_data["name"],
                                        locale_ids=list(Locale.objects.filter(tag__in=tags).values_list("pk", flat=True)))
        if refusal:
            raise PermissionDenied(refusal)
        release = release_create(name=body.validated_data["name"], locale_tags=tags,
                                 notes=body.validated_data["notes"], actor=request.user)
        release_build_queue(release=release, actor=request.user)
        release.refresh_from_db()
        return Response(self.get_serializer(release).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: ReleaseSerializer})
    @action(detail=True, methods=["post"])
    def build(self, request, pk=None):
        """Build a release again whose last attempt died (it is still building); the attempt is
        idempotent, and one already running makes this one wait its turn."""
        release = self.get_object()
        if release.status != Release.Status.BUILDING:
            raise ValidationError({"status": [f"release {release} is {release.status}; only a building one is "
                                              f"built again"]})
        actor = actor_of(request)
        refusal = release_build_refusal(user=actor.user, token=actor.token, name=release.name, locale_ids=list(
            Locale.objects.filter(tag__in=release.locale_tags).values_list("pk", flat=True)))
        if refusal:
            raise PermissionDenied(refusal)
        release_build_queue(release=release, actor=request.user)
        release.refresh_from_db()
        return Response(self.get_serializer(release).data, status=status.HTTP_202_ACCEPTED)

    def _published(self) -> Release:
        release = self.get_object()
        if release.status != Release.Status.PUBLISHED:
            raise NotFound(f"Release {release} is not published.")
        return release

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def manifest(self, request, pk=None):
        """The manifest: counts per locale × partition × intent, sources, file checksums, rules."""
        return Response(manifest_for(self._published(), _visible_tags(request)))

    @extend_schema(parameters=[OpenApiParameter("locale", str, description="that locale's added, removed, changed "
                                                "and retired rows; without it, the counts of your locales")],
                   responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """What changed against the previous release: counts per locale, or one locale's rows."""
        release = self._published()
        if request.query_params.get("locale"):
            locale = locale_param(request, VIEW)
            path = downloads.locale_file(release=release, locale=locale, kind=ReleaseFile.Kind.DIFF)
            if path is None:
                raise NotFound(f"Release {release} has no locale {locale.tag}.")
            return FileResponse(path.open("rb"), content_type="application/json")
        diff = json.loads((release_folder(release) / "diff.json").read_text(encoding="utf-8"))
        tags = _visible_tags(request)
        if tags is not None:
            diff["locales"] = {t: v for t, v in diff["locales"].items() if t in tags}
        return Response(diff)

    @extend_schema(parameters=[OpenApiParameter("locale", str, description="one locale; without it the whole "
                                                "release (your locales) as MASSIVE .tar.gz"),
                               OpenApiParameter("output", str, enum=list(downloads.DOWNLOAD_FORMATS))],
                   # What each output answers: the whole release, one locale's MASSIVE jsonl, Rasa, Alexa.
                   responses={(200, "application/gzip"): OpenApiTypes.BINARY,
                              (200, "application/x-ndjson"): OpenApiTypes.STR,
                              (200, "application/x-yaml"): OpenApiTypes.OBJECT,
                              (200, "application/json"): OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        release = self._published()
        # `output`, not `format`: DRF reads ?format= as its own content-negotiation override.
        fmt = choice_param(request, "output", list(downloads.DOWNLOAD_FORMATS), default="massive")
        if not request.query_params.get("locale"):
            if fmt != "massive":
                raise ValidationError({"locale": [f"required for output {fmt}"]})
            return self._whole(request, release)
        locale = locale_param(request, VIEW)
        jsonl = downloads.locale_file(release=release, locale=locale, kind=ReleaseFile.Kind.MASSIVE)
        if jsonl is None:
            raise NotFound(f"Release {release} has no locale {locale.tag}.")
        stem = f"{release.name}-v{release.version}-{jsonl.stem}"
        lexicon = downloads.locale_file(release=release, locale=locale, kind=ReleaseFile.Kind.LEXICON)
        if fmt == "massive":
            response = FileResponse(jsonl.open("rb"), content_type="application/x-ndjson; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{stem}.jsonl"'
            return response
        if fmt == "rasa":
            responses, skipped = downloads.rasa_responses(
                downloads.locale_file(release=release, locale=locale, kind=ReleaseFile.Kind.TEMPLATES))
            text = downloads.rasa_nlu_yaml(jsonl=jsonl, lexicon=lexicon, char_split=locale.writes_without_spaces,
                                           responses=responses)
            response = HttpResponse(text.encode("utf-8"), content_type="application/x-yaml; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{stem}-nlu.yml"'
            response["X-Parley-Skipped-Responses"] = str(skipped)
            return response
        model, skipped = downloads.alexa_interaction_model(jsonl=jsonl, lexicon=lexicon,
                                                          char_split=locale.writes_without_spaces)
        response = HttpResponse(json.dumps(model, ensure_ascii=False, indent=1).encode("utf-8"),
                                content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{stem}-alexa.json"'
        response["X-Parley-Skipped-Samples"] = str(skipped)
        return response

    def _whole(self, request, release):
        ids = _reader_locales(request)
        files = downloads.release_files(release=release, locale_ids=None if ids is ALL_LOCALES else ids)
        extra = {}
        if ids is not ALL_LOCALES:  # a narrowed manifest, so the archive describes what it holds
            extra["manifest.json"] = (json.dumps(manifest_for(release, _visible_tags(request)), ensure_ascii=False,
                                                 indent=1) + "\n").encode()
            # diff.json counts every locale; the per-locale diffs of the reader's locales stay
            files = [f for f in files if not (f.kind == ReleaseFile.Kind.DIFF and f.locale_id is None)]
        response = StreamingHttpResponse(downloads.targz_pieces(release=release, files=files, extra=extra),
                                         content_type="application/gzip")
        response["Content-Disposition"] = f'attachment; filename="{release.name}-v{release.version}.tar.gz"'
        return response


class PromotionRequestSerializer(serializers.Serializer):
    locales = serializers.ListField(child=serializers.CharField(max_length=40), allow_empty=False)
    utterances = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=ID_MAX), required=False,
                                       default=list)


class PromotionView(APIView):
    """Queue promotion of the named locales' accepted utterances (the beat task does it on its own too)."""

    required_scopes = {"write": "datasets:write"}

    @extend_schema(request=PromotionRequestSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request):
        body = PromotionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = actor_of(request)
        tags = []
        for raw in body.validated_data["locales"]:
            try:
                locale = locale_resolve(raw)
            except UnknownLocale:
                raise ValidationError({"locales": [f"unknown locale {raw!r}"]}) from None
            if not actor.can("datasets.promote_utterances", locale_id=locale.pk):
                raise ValidationError({"locales": [f"unknown locale {raw!r}"]})
            tags.append(locale.tag)
        run = promotion_queue(actor=request.user, locale_tags=tags,
                              utterance_ids=body.validated_data["utterances"] or None)
        run.refresh_from_db()
        return Response({"task_run": run.pk, "status": run.status, "result": run.result},
                        status=status.HTTP_202_ACCEPTED)


class _LocaleScopedViewSet(viewsets.GenericViewSet):
    required_scopes = {"read": "datasets:read", "write": "datasets:write"}
    cursor_ordering = "id"
    view_perm = ""

    def get_queryset(self):
        qs = actor_of(self.request).scope(type(self).selector(), self.view_perm)
        tag = self.request.query_params.get("locale")
        return qs.filter(locale__tag=tag) if tag else qs

    def _locale_for_write(self, raw: str | None, perm: str) -> Locale | None:
        if not raw:
            if _reader_locales(self.request, perm) is not ALL_LOCALES:
                raise PermissionDenied("Only who holds the permission in every locale may set the default.")
            return None
        try:
            locale = locale_resolve(raw)
        except UnknownLocale:
            raise ValidationError({"locale": [f"unknown locale {raw!r}"]}) from None
        if not actor_of(self.request).can(perm, locale_id=locale.pk):
            raise ValidationError({"locale": [f"unknown locale {raw!r}"]})
        return locale


class PromotionRefusalSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag")
    text = serializers.CharField(source="utterance.text")

    class Meta:
        model = PromotionRefusal
        fields = ["id", "locale", "utterance", "text", "wanted", "code", "reason", "conflicting", "task_run",
                  "created_at"]


class PromotionRefusalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _LocaleScopedViewSet):
    """Accepted utterances the leakage guard kept back, with why."""

    serializer_class = PromotionRefusalSerializer
    view_perm = "datasets.view_promotionrefusal"
    selector = staticmethod(promotion_refusal_list)


class PromotionRuleSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag", allow_null=True, required=False, default=None)

    class Meta:
        model = PromotionRule
        fields = ["id", "locale", "source", "target", "split_train", "split_dev", "split_test", "seed", "updated_at"]


class PromotionRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                           _LocaleScopedViewSet):
    """Where each source's accepted rows go, per locale (empty locale: the default). POST sets one."""

    serializer_class = PromotionRuleSerializer
    view_perm = "datasets.view_promotionrule"
    selector = staticmethod(promotion_rule_list)

    def get_queryset(self):
        own = super().get_queryset()
        if not _reader_locales(self.request, self.view_perm):
            return own
        # Whoever may read a locale's rules reads the defaults too: they apply there unless overridden.
        return promotion_rule_list().filter(Q(pk__in=own.values("pk")) | Q(locale__isnull=True))

    def create(self, request):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        locale = self._locale_for_write(request.data.get("locale"), "datasets.change_promotionrule")
        rule = promotion_rule_set(locale=locale, source=data["source"], target=data["target"], actor=request.user,
                                  split=(data.get("split_train", "0.8"), data.get("split_dev", "0.1"),
                                         data.get("split_test", "0.1")), seed=data.get("seed", 0))
        return Response(self.get_serializer(rule).data, status=status.HTTP_201_CREATED)


class TestFloorSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag")
    intent = serializers.SlugRelatedField(slug_field="name", queryset=Intent.objects.all(), allow_null=True,
                                          required=False, default=None)

    class Meta:
        model = TestFloor
        fields = ["id", "locale", "intent", "minimum", "updated_at"]


class TestFloorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       _LocaleScopedViewSet):
    """The fewest test rows a locale × intent may have in a release. POST sets one."""

    serializer_class = TestFloorSerializer
    view_perm = "datasets.view_testfloor"
    selector = staticmethod(floor_list)

    def create(self, request):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        locale = self._locale_for_write(request.data.get("locale") or "?", "datasets.change_testfloor")
        floor = floor_set(locale=locale, intent=body.validated_data.get("intent"),
                          minimum=body.validated_data["minimum"], actor=request.user)
        return Response(self.get_serializer(floor).data, status=status.HTTP_201_CREATED)


class TestRetirementSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag")
    retired_by = serializers.CharField(source="retired_by.username", read_only=True, default=None)

    class Meta:
        model = TestRetirement
        fields = ["id", "locale", "row_uid", "utterance", "reason", "retired_by", "created_at", "applied_in"]
        read_only_fields = ["utterance", "applied_in"]


class TestRetirementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                            _LocaleScopedViewSet):
    """A lead's logged decision that the next release may drop or change a published test row."""

    serializer_class = TestRetirementSerializer
    view_perm = "datasets.view_testretirement"
    selector = staticmethod(retirement_list)

    def create(self, request):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        locale = self._locale_for_write(request.data.get("locale") or "?", "datasets.add_testretirement")
        retirement = retirement_create(locale=locale, row_uid=body.validated_data["row_uid"],
                                       reason=body.validated_data["reason"], actor=request.user)
        return Response(self.get_serializer(retirement).data, status=status.HTTP_201_CREATED)
