"""Culture API: template keys and texts (review, lint, render), formality registers, sensitive
terms and holidays, scoped to the caller's locales. Out-of-scope objects answer 404.

Template keys are shared by every locale (like intents): platform admins write them. A text
belongs to its locale: linguists and leads write their locales' texts; moving a text to approved,
retiring or reopening an approved text needs `culture.approve_responsetemplate` (leads).
"""
import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.access.scoping import actor_of
from parley.checks.selectors import results_for
from parley.locales.models import Locale
from parley.locales.selectors import UnknownLocale, locale_resolve
from parley.api.params import everywhere, locale_for_write, require_everywhere
from parley.nlu.api import LocaleTagFilter
from parley.nlu.models import Intent, Scenario

from .models import Holiday, FormalityRegister, RegisterOverride, ResponseTemplate, SensitiveTerm, TemplateKey
from .rendering import RenderError, format_pattern
from .selectors import (TemplateNotFound, holiday_coverage, holiday_list, holiday_region_clean, holidays_in_region,
                        holidays_in_year,
                        locale_culture_overview, register_list,
                        register_override_list, sample_values, sensitive_term_list, template_key_list, template_list,
                        template_render)
from .services import (REGION_CODE_MAX_LENGTH, holiday_create, holiday_date_add, holiday_date_remove, holiday_delete,
                       holiday_lexicon_feed, holiday_update, holiday_utterances_generate, register_delete,
                       register_override_delete, register_override_set, register_save, sensitive_term_create,
                       sensitive_term_delete, sensitive_term_update, template_delete, template_evaluate,
                       template_key_create, template_key_update, template_save, template_status_change,
                       template_step_needs_reviewer)

READ, WRITE = "culture:read", "culture:write"
APPROVE_PERM = "culture.approve_responsetemplate"


def _locale_visible(request, tag: str, perm: str) -> Locale:
    """A locale named in a request body or path that the caller holds `perm` in; else 404."""
    try:
        locale = locale_resolve(tag or "")
    except UnknownLocale:
        raise NotFound(f"No locale {tag!r}.") from None
    if not actor_of(request).can(perm, locale_id=locale.pk):
        raise NotFound(f"No locale {tag!r}.")
    return locale


# --- Template keys ------------------------------------------------------------------------------

class TemplateKeySerializer(serializers.ModelSerializer):
    intent = serializers.SlugRelatedField(slug_field="name", queryset=Intent.objects.all(), required=False,
                                          allow_null=True)
    source_locale = serializers.CharField(source="source_locale.tag")
    parameters = serializers.JSONField(required=False)

    class Meta:
        model = TemplateKey
        fields = ["key", "intent", "description", "parameters", "source_locale", "updated_at"]


class TemplateKeyViewSet(viewsets.ModelViewSet):
    """Template keys and their declared parameters. Everyone who may read texts somewhere reads
    them; platform admins create and change them (token scope culture:write)."""

    serializer_class = TemplateKeySerializer
    lookup_field = "key"
    lookup_value_regex = r"[A-Za-z0-9_.]+"
    cursor_ordering = "key"
    filterset_fields = {"intent__name": ["exact"]}
    required_scopes = {"read": READ, "write": WRITE}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if not actor_of(self.request).can("culture.view_templatekey"):
            return TemplateKey.objects.none()
        return template_key_list()

    def create(self, request, *args, **kwargs):
        require_everywhere(request, "culture.add_templatekey", "create template keys")
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        source = _locale_visible(request, data["source_locale"]["tag"], "locales.view_locale")
        obj = template_key_create(key=data["key"], source_locale=source, intent=data.get("intent"),
                                  parameters=data.get("parameters", []), description=data.get("description", ""),
                                  actor=request.user)
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        require_everywhere(request, "culture.change_templatekey", "change template keys")
        if "key" in request.data and request.data["key"] != obj.key:
            raise ValidationError({"key": ["a key is what callers render by; it cannot change"]})
        body = self.get_serializer(obj, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        source = (_locale_visible(request, data["source_locale"]["tag"], "locales.view_locale")
                  if "source_locale" in data else None)
        obj = template_key_update(template_key=obj, parameters=data.get("parameters"),
                                  description=data.get("description"),
                                  intent=data["intent"] if "intent" in data else "unchanged", source_locale=source,
                                  actor=request.user)
        return Response(self.get_serializer(obj).data)


# --- Template texts -------------------------------------------------------------------------------

class FindingSerializer(serializers.Serializer):
    check = serializers.CharField(source="check_id")
    severity = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField()
    position = serializers.IntegerField(allow_null=True)


def _finding_dicts(findings) -> list[dict]:
    return [{"check": f.check_id, "severity": getattr(f.severity, "value", f.severity), "message": f.message,
             "field": f.field, "position": f.position} for f in findings]


class ResponseTemplateSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="key.key")
    locale = serializers.CharField(source="locale.tag", help_text="tag or alias; fixed once created")
    register = serializers.CharField(required=False, allow_blank=True, max_length=30)
    findings = serializers.SerializerMethodField()

    class Meta:
        model = ResponseTemplate
        fields = ["id", "key", "locale", "register", "body", "status", "has_errors", "findings", "updated_at"]
        read_only_fields = ["status", "has_errors"]

    def get_findings(self, obj) -> list[dict]:
        by_id = self.context.get("findings_by_id")
        rows = by_id.get(str(obj.pk), []) if by_id is not None else results_for(target=obj)
        return [{"check": r.check_id, "severity": r.severity, "message": r.message, "field": r.field,
                 "position": r.position} for r in rows]


class TemplateStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ResponseTemplate.Status.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class TemplatePreviewSerializer(serializers.Serializer):
    key = serializers.CharField()
    locale = serializers.CharField()
    register = serializers.CharField(required=False, allow_blank=True, default="")
    body = serializers.CharField()
    parameters = serializers.DictField(required=False, help_text="values; the key's samples when left out")


class ResponseTemplateFilter(django_filters.FilterSet):
    locale = LocaleTagFilter()
    key = django_filters.CharFilter(field_name="key__key")
    failing_check = django_filters.CharFilter(method="with_failing_check", label="has a stored finding of this check")

    class Meta:
        model = ResponseTemplate
        fields = ["locale", "key", "status", "register", "has_errors", "failing_check"]

    def with_failing_check(self, queryset, name, value):
        from parley.checks.models import CheckResult

        ids = CheckResult.objects.filter(target_type="culture.responsetemplate", check_id=value).values("target_id")
        return queryset.filter(pk__in=[int(i) for i in ids.values_list("target_id", flat=True)])


class ResponseTemplateViewSet(viewsets.ModelViewSet):
    """Each locale's texts of each key, with stored lint findings and the review lifecycle."""

    serializer_class = ResponseTemplateSerializer
    filterset_class = ResponseTemplateFilter
    cursor_ordering = "id"
    required_scopes = {"read": READ, "write": WRITE}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return actor_of(self.request).scope(template_list(), "culture.view_responsetemplate")

    def list(self, request, *args, **kwargs):
        # One query for the page's stored findings, not one per text.
        from parley.checks.models import CheckResult

        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        by_id: dict[str, list] = {}
        for row in CheckResult.objects.filter(target_type="culture.responsetemplate",
                                              target_id__in=[str(t.pk) for t in page]).order_by(
                "severity", "check_id", "position", "id"):
            by_id.setdefault(row.target_id, []).append(row)
        serializer = self.get_serializer(page, many=True, context={**self.get_serializer_context(),
                                                                   "findings_by_id": by_id})
        return self.get_paginated_response(serializer.data)

    def _key(self, name: str) -> TemplateKey:
        key = template_key_list().filter(key=name).first()
        if key is None:
            raise ValidationError({"key": [f"no template key {name!r}"]})
        return key

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        locale = locale_for_write(request, data["locale"]["tag"], "culture.add_responsetemplate")
        key = self._key(data["key"]["key"])
        register = data.get("register", "")
        if ResponseTemplate.objects.filter(key=key, locale=locale, register=register).exists():
            raise ValidationError({"register": [f"{key.key} already has a {locale.tag} text in register "
                                                f"{register or '(none)'!r}; edit that one"]})
        template = template_save(key=key, locale=locale, register=register, body=data["body"], actor=request.user)
        return Response(self.get_serializer(template).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        template = self.get_object()
        if not actor_of(request).can("culture.change_responsetemplate", template):
            raise PermissionDenied("You may not change templates of this locale.")
        fixed = sorted(set(request.data) & {"key", "locale", "register", "status"})
        if fixed:
            raise ValidationError({n: ["fixed once created (status changes through …/status)"] for n in fixed})
        body = self.get_serializer(template, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        if "body" in body.validated_data:
            template = template_save(key=template.key, locale=template.locale, register=template.register,
                                     body=body.validated_data["body"], actor=request.user)
        return Response(self.get_serializer(template).data)

    def destroy(self, request, *args, **kwargs):
        template = self.get_object()
        if not actor_of(request).can("culture.delete_responsetemplate", template):
            raise PermissionDenied("You may not delete templates of this locale.")
        template_delete(template=template, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=TemplateStatusSerializer, responses=ResponseTemplateSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def status_change(self, request, pk=None):
        """draft → in_review → approved → retired (reviewers approve, retire and reopen)."""
        template = self.get_object()
        actor = actor_of(request)
        body = TemplateStatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        to = body.validated_data["status"]
        if not actor.can("culture.change_responsetemplate", template):
            raise PermissionDenied("You may not change templates of this locale.")
        if template_step_needs_reviewer(current=template.status, to=to) and not actor.can(APPROVE_PERM, template):
            raise PermissionDenied(f"Only reviewers (locale leads) move a template from {template.status} to {to}.")
        template = template_status_change(template=template, to=to, actor=request.user,
                                          reason=body.validated_data.get("reason", ""))
        return Response(self.get_serializer(template).data)

    @extend_schema(request=TemplatePreviewSerializer,
                   responses=inline_serializer("TemplatePreview", {
                       "findings": FindingSerializer(many=True), "text": serializers.CharField(allow_null=True),
                       "parameters": serializers.DictField()}))
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Lint and render an unsaved text with sample (or given) values; nothing is stored."""
        body = TemplatePreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        locale = _locale_visible(request, data["locale"], "culture.view_responsetemplate")
        key = self._key(data["key"])
        candidate = ResponseTemplate(key=key, locale=locale, register=data.get("register", ""), body=data["body"])
        findings = template_evaluate(template=candidate)
        return Response(_preview_payload(candidate, findings, data.get("parameters")))


def _preview_payload(candidate: ResponseTemplate, findings, parameters) -> dict:
    """Findings plus the text rendered with the key's samples (or the values given)."""
    from .rendering import coerce

    text, problem, values = None, None, {}
    try:
        if parameters:
            declared = {p["name"]: p.get("type", "string") for p in candidate.key.parameters}
            values = {n: coerce(n, v, declared.get(n, "string")) for n, v in parameters.items()}
        else:
            values = sample_values(key=candidate.key)
        if not any(f.is_error for f in findings):
            text = format_pattern(candidate.body, candidate.locale.tag, values)
    except RenderError as exc:
        problem = exc.message
    shown = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}
    return {"findings": _finding_dicts(findings), "text": text, "parameters": shown, "problem": problem}


class RenderRequestSerializer(serializers.Serializer):
    locale = serializers.CharField(help_text="tag or alias")
    register = serializers.CharField(required=False, allow_blank=True, max_length=30,
                                     help_text="a register code; left out: the locale's default for the key's scenario")
    parameters = serializers.DictField(required=False, default=dict)
    time_zone = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                      help_text="IANA zone (Europe/Berlin) to say date-times in; left out: "
                                                "the wall time of each value's own offset")

    def to_internal_value(self, data):
        # A misspelt key ("timezone") would otherwise be dropped and the text said differently.
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                known = ", ".join(self.fields)
                raise serializers.ValidationError({name: [f"unknown field (known: {known})"] for name in unknown})
        return super().to_internal_value(data)


class RenderResponseSerializer(serializers.Serializer):
    text = serializers.CharField()
    locale = serializers.CharField(help_text="whose text was used, after the fallback chain (= text_locale)")
    text_locale = serializers.CharField(help_text="whose text was used, after the fallback chain")
    format_locale = serializers.CharField(help_text="whose CLDR data formatted numbers, dates and plurals: "
                                                    "the requested locale")
    register = serializers.CharField(help_text="the register actually used; empty for none")
    requested_locale = serializers.CharField()
    requested_register = serializers.CharField(allow_null=True)
    template_id = serializers.IntegerField()
    fallback_chain = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())


class TemplateRenderView(APIView):
    """POST /api/v1/templates/{key}/render: the approved text for a locale and register, formatted
    by ICU (plurals, numbers, dates of the locale). Falls back along the locale's chain."""

    required_scopes = {"write": READ}  # a POST that only reads: the read scope is enough

    @extend_schema(request=RenderRequestSerializer, responses=RenderResponseSerializer)
    def post(self, request, key):
        body = RenderRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        locale = _locale_visible(request, data["locale"], "culture.view_responsetemplate")
        try:
            rendered = template_render(key=key, locale=locale, register=data.get("register"),
                                       parameters=data.get("parameters") or {}, time_zone=data.get("time_zone"))
        except TemplateKey.DoesNotExist:
            raise NotFound(f"No template key {key!r}.") from None
        except RenderError as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        except TemplateNotFound as exc:
            raise NotFound(str(exc)) from None
        return Response(rendered.as_dict())


# --- Formality registers, overrides, sensitive terms ----------------------------------------------

class FormalityRegisterSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag", help_text="tag or alias; fixed once created")
    examples = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = FormalityRegister
        fields = ["id", "locale", "code", "name", "is_default", "guidance", "examples", "order", "updated_at"]


class _LocaleOwnedViewSet(viewsets.ModelViewSet):
    """Objects of one locale: list and read where the caller may view, write where they may change."""

    cursor_ordering = "id"
    required_scopes = {"read": READ, "write": WRITE}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    model = None
    selector = None

    def _perm(self, action_name: str) -> str:
        return f"culture.{action_name}_{self.model._meta.model_name}"

    def get_queryset(self):
        return actor_of(self.request).scope(type(self).selector(), self._perm("view"))

    def _may(self, action_name: str, obj) -> None:
        if not actor_of(self.request).can(self._perm(action_name), obj):
            raise PermissionDenied(f"You may not {action_name} {self.model._meta.verbose_name_plural} of this locale.")


class FormalityRegisterViewSet(_LocaleOwnedViewSet):
    """A locale's registers (du/Sie, tu/vous, plain/polite/honorific); leads edit them."""

    serializer_class = FormalityRegisterSerializer
    filterset_class = None
    filterset_fields = {"locale__tag": ["exact"], "code": ["exact"]}
    model = FormalityRegister
    selector = staticmethod(register_list)

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        locale = locale_for_write(request, data["locale"]["tag"], self._perm("add"))
        if FormalityRegister.objects.filter(locale=locale, code=data["code"]).exists():
            raise ValidationError({"code": [f"{locale.tag} already has the register {data['code']!r}"]})
        reg = register_save(locale=locale, code=data["code"], name=data.get("name"), is_default=data.get("is_default"),
                            guidance=data.get("guidance"), examples=data.get("examples"), order=data.get("order"),
                            actor=request.user)
        return Response(self.get_serializer(reg).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        reg = self.get_object()
        self._may("change", reg)
        fixed = sorted(set(request.data) & {"locale", "code"})
        if fixed:
            raise ValidationError({n: ["fixed once created"] for n in fixed})
        body = self.get_serializer(reg, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        reg = register_save(locale=reg.locale, code=reg.code, name=data.get("name"), is_default=data.get("is_default"),
                            guidance=data.get("guidance"), examples=data.get("examples"), order=data.get("order"),
                            actor=request.user)
        return Response(self.get_serializer(reg).data)

    def destroy(self, request, *args, **kwargs):
        reg = self.get_object()
        self._may("delete", reg)
        register_delete(register=reg, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegisterOverrideSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag")
    scenario = serializers.SlugRelatedField(slug_field="name", queryset=Scenario.objects.all())
    register = serializers.CharField(source="register.code")

    class Meta:
        model = RegisterOverride
        fields = ["id", "locale", "scenario", "register", "note"]


class RegisterOverrideViewSet(_LocaleOwnedViewSet):
    """Per-scenario registers (e.g. a bank scenario in Sie where the assistant says du)."""

    serializer_class = RegisterOverrideSerializer
    filterset_fields = {"locale__tag": ["exact"], "scenario__name": ["exact"]}
    model = RegisterOverride
    selector = staticmethod(register_override_list)
    http_method_names = ["get", "post", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        locale = locale_for_write(request, data["locale"]["tag"], self._perm("add"))
        reg = FormalityRegister.objects.filter(locale=locale, code=data["register"]["code"]).first()
        if reg is None:
            raise ValidationError({"register": [f"{data['register']['code']!r} is not a register of {locale.tag}"]})
        row = register_override_set(locale=locale, scenario=data["scenario"], register=reg,
                                    note=data.get("note", ""), actor=request.user)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        row = self.get_object()
        self._may("delete", row)
        register_override_delete(row=row, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SensitiveTermSerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag", help_text="tag or alias; fixed once created")

    class Meta:
        model = SensitiveTerm
        fields = ["id", "locale", "kind", "term", "severity", "reason", "replacement", "source", "updated_at"]
        read_only_fields = ["source"]


class SensitiveTermFilter(django_filters.FilterSet):
    locale = LocaleTagFilter()

    class Meta:
        model = SensitiveTerm
        fields = ["locale", "kind", "severity"]


class SensitiveTermViewSet(_LocaleOwnedViewSet):
    """Blocked and warned terms and careful topics of the caller's locales."""

    serializer_class = SensitiveTermSerializer
    filterset_class = SensitiveTermFilter
    model = SensitiveTerm
    selector = staticmethod(sensitive_term_list)

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        locale = locale_for_write(request, data["locale"]["tag"], self._perm("add"))
        row = sensitive_term_create(locale=locale, term=data["term"], kind=data.get("kind", "term"),
                                    severity=data.get("severity", "warn"), reason=data.get("reason", ""),
                                    replacement=data.get("replacement", ""), actor=request.user)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        row = self.get_object()
        self._may("change", row)
        fixed = sorted(set(request.data) & {"locale", "kind"})
        if fixed:
            raise ValidationError({n: ["fixed once created"] for n in fixed})
        body = self.get_serializer(row, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        row = sensitive_term_update(row=row, term=data.get("term"), severity=data.get("severity"),
                                    reason=data.get("reason"), replacement=data.get("replacement"), actor=request.user)
        return Response(self.get_serializer(row).data)

    def destroy(self, request, *args, **kwargs):
        row = self.get_object()
        self._may("delete", row)
        sensitive_term_delete(row=row, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Holidays ------------------------------------------------------------------------------------

class HolidaySerializer(serializers.ModelSerializer):
    locale = serializers.CharField(source="locale.tag", help_text="tag or alias; fixed once created")
    key = serializers.CharField(required=False, max_length=120)
    aliases = serializers.ListField(child=serializers.CharField(), required=False)
    regions = serializers.ListField(child=serializers.CharField(), required=False)
    rule_params = serializers.JSONField(required=False)
    dates = serializers.SerializerMethodField()
    date_regions = serializers.SerializerMethodField(
        help_text="Dates observed only in some regions (a school break's dates differ by state): date → codes")

    class Meta:
        model = Holiday
        fields = ["id", "locale", "key", "english_name", "native_name", "aliases", "category", "regions", "rule",
                  "rule_params", "greeting", "notes", "source", "dates", "date_regions", "updated_at"]
        read_only_fields = ["source"]

    def get_dates(self, obj) -> list[str]:
        return [d.date.isoformat() for d in obj.dates.all()]  # prefetched by holiday_list

    def get_date_regions(self, obj) -> dict[str, list[str]]:
        return {d.date.isoformat(): d.regions for d in obj.dates.all() if d.regions}


class HolidayDateInSerializer(serializers.Serializer):
    date = serializers.DateField()
    remove = serializers.BooleanField(required=False, default=False)
    regions = serializers.ListField(child=serializers.CharField(max_length=REGION_CODE_MAX_LENGTH), required=False,
                                    allow_empty=True, max_length=200,
                                    help_text="subdivisions where this date holds; absent: kept; []: the holiday's")


class HolidayFilter(django_filters.FilterSet):
    locale = LocaleTagFilter()
    region = django_filters.CharFilter(method="in_region", help_text="a subdivision code (BY): holidays observed there")

    class Meta:
        model = Holiday
        fields = ["locale", "category", "rule", "source", "key", "region"]

    def in_region(self, queryset, name, value):
        tag = self.data.get("locale")
        if tag:  # one locale: the region must be one of its territory's (a 400 lists them)
            try:
                value = holiday_region_clean(locale=locale_resolve(tag), region=value)
            except UnknownLocale:
                return queryset.none()
        return holidays_in_region(queryset, value)


class HolidayViewSet(_LocaleOwnedViewSet):
    """Holidays of the caller's locales: linguists add and correct them (name, rule, category,
    regions, greeting, notes); `…/{id}/dates` enters a date (lunar, announced)."""

    serializer_class = HolidaySerializer
    filterset_class = HolidayFilter
    model = Holiday
    selector = staticmethod(holiday_list)

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        locale = locale_for_write(request, data.pop("locale")["tag"], self._perm("add"))
        holiday = holiday_create(locale=locale, key=data.pop("key", ""), english_name=data.pop("english_name"),
                                 actor=request.user, **data)
        return Response(self.get_serializer(holiday_list().get(pk=holiday.pk)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        holiday = self.get_object()
        self._may("change", holiday)
        fixed = sorted(set(request.data) & {"locale", "key", "source"})
        if fixed:
            raise ValidationError({n: ["fixed once created"] for n in fixed})
        body = self.get_serializer(holiday, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        holiday = holiday_update(holiday=holiday, actor=request.user, **body.validated_data)
        return Response(self.get_serializer(holiday_list().get(pk=holiday.pk)).data)

    def destroy(self, request, *args, **kwargs):
        holiday = self.get_object()
        self._may("delete", holiday)
        holiday_delete(holiday=holiday, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=HolidayDateInSerializer, responses=HolidaySerializer)
    @action(detail=True, methods=["post"])
    def dates(self, request, pk=None):
        """Enter a date of this holiday (kept through every later materialization), or remove one.
        `regions` absent keeps a date's regions; [] clears them."""
        holiday = self.get_object()
        self._may("change", holiday)
        body = HolidayDateInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        date = body.validated_data["date"]
        if body.validated_data.get("remove"):
            row = holiday.dates.filter(date=date).first()
            if row is None:
                raise NotFound(f"{holiday.key} has no date {date}.")
            holiday_date_remove(row=row, actor=request.user)
        else:
            holiday_date_add(holiday=holiday, date=date, actor=request.user,
                             regions=body.validated_data.get("regions"))
        return Response(self.get_serializer(holiday_list().get(pk=holiday.pk)).data)  # fresh dates


def _years(request, *, default_span: int = 1, posted: list[int] | None = None) -> list[int]:
    """`?year=` (one, or a comma-separated list), else the `posted` body years, else this year on."""
    import datetime as dt

    raw = request.query_params.get("year")
    if not raw and posted:
        return posted
    if raw in (None, "", []):
        this = dt.date.today().year
        return list(range(this, this + default_span))
    values = raw if isinstance(raw, list) else str(raw).split(",")
    try:
        years = [int(v) for v in values]
    except (TypeError, ValueError):
        raise ValidationError({"year": [f"{raw!r} is not a year or a list of years"]}) from None
    if any(not 1900 <= y <= 2100 for y in years):
        raise ValidationError({"year": ["years run from 1900 to 2100"]})
    return years


class LocaleHolidaysView(APIView):
    """GET /api/v1/locales/{tag}/holidays?year=2026[&region=BY]: the holidays and their dates; with a
    region, only the dates observed there (an unknown region is a 400 listing the valid ones)."""

    required_scopes = {"read": READ}

    @extend_schema(parameters=[OpenApiParameter("year", int), OpenApiParameter("region", str)],
                   responses=inline_serializer("LocaleHolidays", {
                       "locale": serializers.CharField(), "year": serializers.IntegerField(),
                       "results": serializers.ListField(child=serializers.DictField())}))
    def get(self, request, tag):
        locale = _locale_visible(request, tag, "culture.view_holiday")
        [year] = _years(request)[:1]
        region = holiday_region_clean(locale=locale, region=request.query_params.get("region"))
        return Response({"locale": locale.tag, "year": year, "region": region,
                         "results": holidays_in_year(locale=locale, year=year, region=region)})


class HolidaySeedSerializer(serializers.Serializer):
    years = serializers.ListField(child=serializers.IntegerField(min_value=1900, max_value=2100), required=False,
                                  help_text="default: this year")


class LocaleHolidaysSeedView(APIView):
    """POST /api/v1/locales/{tag}/holidays/seed {years}: seed from the holidays package and
    materialize the years, as a task run (202 with the run to follow)."""

    required_scopes = {"write": WRITE}

    @extend_schema(request=HolidaySeedSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request, tag):
        from parley.runs.services import task_run_enqueue

        from .tasks import HOLIDAYS_KIND, holidays_materialize_task

        locale = _locale_visible(request, tag, "culture.view_holiday")
        if not actor_of(request).can("culture.add_holiday", locale_id=locale.pk):
            raise PermissionDenied("You may not add holidays in this locale.")
        # Through the serializer, not request.data.get: a form's repeated `years` would be its last value.
        body = HolidaySeedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        years = _years(request, posted=body.validated_data.get("years"))
        run = task_run_enqueue(kind=HOLIDAYS_KIND, args={"locale": locale.tag, "years": years},
                               task=holidays_materialize_task, actor=request.user, locale_tag=locale.tag)
        return Response({"task_run": run.pk, "url": f"/api/v1/task-runs/{run.pk}/"}, status=status.HTTP_202_ACCEPTED)


class HolidayUtterancesSerializer(serializers.Serializer):
    intent = serializers.CharField(required=False, default="calendar_query")
    slot_type = serializers.CharField(required=False, default="event_name")
    patterns = serializers.ListField(child=serializers.CharField(), required=False)
    holidays = serializers.ListField(child=serializers.CharField(), required=False)


class LocaleHolidayUtterancesView(APIView):
    """POST /api/v1/locales/{tag}/holidays/utterances: "when is {holiday}" candidates as submitted
    utterances (source holiday-generated) for native review."""

    required_scopes = {"write": WRITE}

    @extend_schema(request=HolidayUtterancesSerializer,
                   responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT})
    def post(self, request, tag):
        locale = _locale_visible(request, tag, "culture.view_holiday")
        actor = actor_of(request)
        if not (actor.can("culture.change_holiday", locale_id=locale.pk)
                and actor.can("nlu.change_utterance", locale_id=locale.pk)):
            raise PermissionDenied("You may not make utterances from this locale's holidays.")
        body = HolidayUtterancesSerializer(data=request.data)  # (a form's repeated patterns: all of them)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        intent = Intent.objects.filter(name=data["intent"]).first()
        if intent is None:
            raise ValidationError({"intent": [f"no intent {data['intent']!r}"]})
        result = holiday_utterances_generate(locale=locale, intent=intent, actor=request.user,
                                             slot_type=data["slot_type"], patterns=data.get("patterns"),
                                             holiday_keys=data.get("holidays"))
        return Response(result, status=status.HTTP_201_CREATED if result["created"] else status.HTTP_200_OK)


class LocaleHolidayLexiconView(APIView):
    """POST /api/v1/locales/{tag}/holidays/lexicon {slot_type}: native names and aliases as lexicon
    values; new concepts only for platform admins (concepts are global)."""

    required_scopes = {"write": WRITE}

    @extend_schema(request=inline_serializer("HolidayLexicon", {"slot_type": serializers.CharField()}),
                   responses=OpenApiTypes.OBJECT)
    def post(self, request, tag):
        locale = _locale_visible(request, tag, "culture.view_holiday")
        actor = actor_of(request)
        if not actor.can("nlu.add_lexiconentry", locale_id=locale.pk):
            raise PermissionDenied("You may not add lexicon values in this locale.")
        result = holiday_lexicon_feed(locale=locale, slot_type_name=request.data.get("slot_type") or "",
                                      actor=request.user,
                                      create_concepts=everywhere(actor, "nlu.add_lexiconconcept"))
        return Response(result)


class HolidayCoverageView(APIView):
    """GET /api/v1/holidays/coverage?year=2026,2027: locales without holidays, holidays without a
    native name, years not materialized, explicit holidays without a date (the caller's locales)."""

    required_scopes = {"read": READ}

    @extend_schema(parameters=[OpenApiParameter("year", str, description="comma-separated years")],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request):
        from parley.access.scoping import ALL_LOCALES, locales_for

        actor = actor_of(request)
        scope = locales_for(actor.user, "culture.view_holiday", actor.token)
        ids = None if scope is ALL_LOCALES else list(scope)
        return Response(holiday_coverage(locale_ids=ids, years=_years(request, default_span=2)))


OVERVIEW_SECTIONS = {"registers": "culture.view_formalityregister", "terms": "culture.view_sensitiveterm",
                     "templates": "culture.view_responsetemplate", "holidays": "culture.view_holiday"}


def overview_sections(actor, locale) -> set[str]:
    return {name for name, perm in OVERVIEW_SECTIONS.items() if actor.can(perm, locale_id=locale.pk)}


class LocaleCultureView(APIView):
    """GET /api/v1/locales/{tag}/culture?year=2026[&region=BY]: the locale's registers, terms and topics,
    template texts with their lint status and the year's holidays, in one answer."""

    required_scopes = {"read": READ}

    @extend_schema(parameters=[OpenApiParameter("year", int), OpenApiParameter("region", str)],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request, tag):
        try:
            locale = locale_resolve(tag)
        except UnknownLocale:
            raise NotFound(f"No locale {tag!r}.") from None
        sections = overview_sections(actor_of(request), locale)
        if not sections:
            raise NotFound(f"No locale {tag!r}.")
        [year] = _years(request)[:1]
        return Response(locale_culture_overview(locale=locale, year=year, sections=sections,
                                                region=request.query_params.get("region") or None))
