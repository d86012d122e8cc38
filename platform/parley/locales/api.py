"""Locale registry API. Thin: scoping and scopes from access, logic in services/selectors."""
import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from parley.access.scoping import actor_of

from .models import Locale, LocaleAlias
from .selectors import FallbackCycle, UnknownLocale, locale_fallback_chain, locale_resolve
from .services import locale_status_change


class LocaleAliasSerializer(serializers.ModelSerializer):
    class Meta:
        model = LocaleAlias
        fields = ["tag", "source", "note"]


class LocaleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Locale
        fields = [
            "tag", "language", "script", "territory", "variant", "english_name", "autonym", "direction",
            "status", "speaker_population", "plural_cardinal", "plural_ordinal", "first_day_of_week", "calendar",
        ]


class LocaleDetailSerializer(LocaleSerializer):
    aliases = LocaleAliasSerializer(many=True, read_only=True)
    parent = serializers.SlugRelatedField(slug_field="tag", read_only=True, allow_null=True)
    fallback_chain = serializers.SerializerMethodField()

    class Meta(LocaleSerializer.Meta):
        fields = LocaleSerializer.Meta.fields + ["parent", "fallback_chain", "aliases", "overridden_fields"]

    def get_fallback_chain(self, obj) -> list[str]:
        try:
            return locale_fallback_chain(locale=obj)
        except FallbackCycle:
            return []


class LocaleStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Locale.Status.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class LocaleFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search tag, names or aliases")

    class Meta:
        model = Locale
        fields = ["status", "script", "direction", "language", "territory"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(tag__icontains=value) | Q(english_name__icontains=value) | Q(autonym__icontains=value)
            | Q(aliases__tag__icontains=value)
        ).distinct()


class LocaleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The locales the caller may see; detail by canonical tag or any alias (sl-SL → sl-SI)."""

    lookup_field = "tag"
    lookup_value_regex = r"[A-Za-z0-9_-]+"
    filterset_class = LocaleFilter
    cursor_ordering = "tag"
    required_scopes = {"read": "locales:read", "write": "locales:write"}

    def get_queryset(self):
        return actor_of(self.request).scope(Locale.objects.all(), "locales.view_locale")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return LocaleDetailSerializer
        if self.action == "status":
            return LocaleStatusSerializer
        return LocaleSerializer

    def get_object(self):
        try:
            locale = locale_resolve(self.kwargs["tag"])
        except UnknownLocale:
            raise NotFound(f"No locale {self.kwargs['tag']!r}.") from None
        # Out of scope looks exactly like absent: no probing for which locales exist.
        if not self.get_queryset().filter(pk=locale.pk).exists():
            raise NotFound(f"No locale {self.kwargs['tag']!r}.")
        return locale

    @extend_schema(request=LocaleStatusSerializer, responses=LocaleDetailSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, tag=None):
        """Move the locale through its lifecycle (planned → collecting → testing → launched → retired)."""
        locale = self.get_object()
        if not actor_of(request).can("locales.change_locale", locale):
            raise PermissionDenied("You may not change this locale.")
        body = LocaleStatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        locale = locale_status_change(locale=locale, status=body.validated_data["status"], actor=request.user,
                                      reason=body.validated_data.get("reason", ""))
        return Response(LocaleDetailSerializer(locale).data)
