"""Checks API: the registry of rules and the stored results, scoped like the event log."""
import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.access.scoping import actor_of
from parley.api.filters import choice_param

from .models import CheckResult
from .registry import APPLIES_TO, registry
from .selectors import check_result_list

VIEW_PERM = "checks.view_checkresult"


class CheckSerializer(serializers.Serializer):
    id = serializers.CharField()
    severity = serializers.CharField(source="severity.value")
    applies_to = serializers.CharField()
    description = serializers.CharField()


class CheckListView(APIView):
    """The registered rules (id, severity, what they apply to, what they check)."""

    required_scopes = {"read": "checks:read"}

    @extend_schema(parameters=[OpenApiParameter("applies_to", str, enum=list(APPLIES_TO))],
                   responses=inline_serializer("CheckList", {"results": CheckSerializer(many=True)}))
    def get(self, request):
        if not actor_of(request).can(VIEW_PERM):
            raise PermissionDenied("You may not read checks.")
        kind = choice_param(request, "applies_to", sorted(APPLIES_TO))  # unknown: not every check
        checks = [c for c in registry.all() if not kind or c.applies_to == kind]
        return Response({"results": CheckSerializer(checks, many=True).data})


class CheckResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckResult
        fields = ["id", "created_at", "target_type", "target_id", "target_repr", "locale_tag", "check_id",
                  "severity", "code", "message", "field", "position"]


class CheckResultFilter(django_filters.FilterSet):
    check = django_filters.CharFilter(field_name="check_id")
    # The canonical tag, as stored. (Alias lookup would make checks import locales; checks
    # imports no app but access, the one exception for interfaces.)
    locale = django_filters.CharFilter(field_name="locale_tag")

    class Meta:
        model = CheckResult
        fields = ["check", "severity", "locale", "target_type", "target_id"]


class CheckResultViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stored findings: everything for platform admins; the caller's locales for everyone else."""

    serializer_class = CheckResultSerializer
    filterset_class = CheckResultFilter
    required_scopes = {"read": "checks:read"}

    def get_queryset(self):
        actor = actor_of(self.request)
        if not actor.can(VIEW_PERM):
            return CheckResult.objects.none()
        return check_result_list(locale_tags=actor.locale_tags(VIEW_PERM))
