"""Collection API for pipelines and leads: campaigns, their progress, agreement and judgments.

Scoped like the dashboard: a campaign is visible when one of its locales is the caller's, and its
figures cover only the caller's locales; anything else is 404. Token scopes: collection:read,
collection:write (status changes, which need the lead role in every locale of the campaign).
"""
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from parley.access.scoping import actor_of

from .models import Campaign
from .selectors import (campaign_agreement, campaign_locale_ids, campaign_progress, campaign_throughput,
                        campaigns_visible)
from .acceptance import DEFAULT_ACCEPTANCE_RULE
from .services import campaign_acceptance_rule_set, campaign_status_change
from .views_lead import may_change, write_csv


class CampaignSerializer(serializers.ModelSerializer):
    locales = serializers.SerializerMethodField()
    intents = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    source_locale = serializers.SlugRelatedField(read_only=True, slug_field="tag", allow_null=True)
    acceptance_rule = serializers.SerializerMethodField()
    # Plain strings: a second enum named "status" would collide in the OpenAPI schema.
    status = serializers.CharField(read_only=True, help_text="draft, active, paused or closed")

    class Meta:
        model = Campaign
        fields = ["id", "name", "description", "status", "locales", "intents", "target_per_intent", "task_kinds",
                  "source_locale", "required_validations", "acceptance_rule", "lease_minutes", "deadline",
                  "created_at"]

    def get_locales(self, obj) -> list[dict]:
        visible = set(self.context.get("locale_ids_by_campaign", {}).get(obj.pk, []))
        return [{"tag": cl.locale.tag, "instructions": cl.instructions}
                for cl in obj.campaign_locales.all() if cl.locale_id in visible]

    def get_acceptance_rule(self, obj) -> dict:
        return obj.rule


class DepthSafeJSONParser(JSONParser):
    """JSON bodies nested deeper than Python's recursion limit are a 400, not a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None


class AcceptanceRuleSerializer(serializers.Serializer):
    overrides = serializers.JSONField(
        help_text="Overrides of the default rule (an empty object: the default). Keys: "
                  + ", ".join(f"{key} (default {value!r})" for key, value in DEFAULT_ACCEPTANCE_RULE.items()))


class StatusSerializer(serializers.Serializer):
    to = serializers.CharField(help_text="active, paused or closed (the service refuses other steps)")


class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    """Collection campaigns in your locales. `…/{id}/progress/`: locale × intent against target,
    throughput, totals; `…/{id}/agreement/`: Krippendorff's alpha per locale and scale, the annotator
    table; `…/{id}/judgments/`: every judgment as CSV with annotator and author ids."""

    serializer_class = CampaignSerializer
    cursor_ordering = "-id"
    filterset_fields = {"status": ["exact"]}
    required_scopes = {"read": "collection:read", "write": "collection:write"}

    def _actor(self):
        return actor_of(self.request)

    def get_queryset(self):
        actor = self._actor()
        return campaigns_visible(user=actor.user, token=actor.token).prefetch_related(
            "campaign_locales__locale", "intents").select_related("source_locale")

    def _locale_ids(self, campaign):
        actor = self._actor()
        return campaign_locale_ids(campaign=campaign, user=actor.user, token=actor.token)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        page = getattr(self, "_page_objects", None)
        if page is not None:
            context["locale_ids_by_campaign"] = {c.pk: self._locale_ids(c) for c in page}
        return context

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        self._page_objects = page
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        campaign = self.get_object()
        self._page_objects = [campaign]
        return Response(self.get_serializer(campaign).data)

    @extend_schema(responses=inline_serializer("CampaignProgress", {
        "campaign": serializers.IntegerField(), "status": serializers.CharField(),
        "cells": serializers.ListField(child=serializers.DictField(), help_text="per locale and intent"),
        "totals": serializers.DictField(child=serializers.IntegerField()),
        "throughput": serializers.JSONField()}))
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        campaign = self.get_object()
        ids = self._locale_ids(campaign)
        cells = campaign_progress(campaign=campaign, locale_ids=ids)
        totals = {key: sum(c[key] for c in cells) for key in ("target", "accepted", "rejected", "in_validation", "open")}
        return Response({"campaign": campaign.pk, "status": campaign.status, "cells": cells, "totals": totals,
                         "throughput": campaign_throughput(campaign=campaign, locale_ids=ids)})

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def agreement(self, request, pk=None):
        campaign = self.get_object()
        return Response(campaign_agreement(campaign=campaign, locale_ids=self._locale_ids(campaign)))

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"])
    def judgments(self, request, pk=None):
        campaign = self.get_object()
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-judgments.csv"'
        write_csv(response, campaign=campaign, locale_ids=self._locale_ids(campaign), what="judgments")
        return response

    def _may_change_or_403(self, campaign) -> None:
        actor = self._actor()
        token_ok = actor.token is None or all(
            actor.can("collection.change_campaign", locale_id=i)
            for i in campaign.campaign_locales.values_list("locale_id", flat=True))
        if not (may_change(actor.user, campaign) and token_ok):
            raise PermissionDenied("Changing a campaign needs the lead role in every one of its locales.")

    @action(detail=True, methods=["get", "put"], url_path="acceptance-rule", serializer_class=AcceptanceRuleSerializer,
            parser_classes=[DepthSafeJSONParser])
    def acceptance_rule(self, request, pk=None):
        """GET: the rule in force (`rule`), the campaign's `overrides` and the `default`. PUT
        `{"overrides": {...}}` replaces the overrides (lead role in every locale of the campaign;
        scope collection:write). Decisions already taken change only through the
        collection_decisions_recompute command."""
        campaign = self.get_object()
        if request.method == "PUT":
            self._may_change_or_403(campaign)
            body = AcceptanceRuleSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            campaign = campaign_acceptance_rule_set(campaign=campaign, rule=body.validated_data["overrides"],
                                                    actor=request.user)
        return Response({"campaign": campaign.pk, "rule": campaign.rule, "overrides": campaign.acceptance_rule,
                         "default": DEFAULT_ACCEPTANCE_RULE})

    @action(detail=True, methods=["post"], serializer_class=StatusSerializer)
    def status(self, request, pk=None):
        campaign = self.get_object()
        body = StatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        self._may_change_or_403(campaign)
        campaign = campaign_status_change(campaign=campaign, to=body.validated_data["to"], actor=request.user)
        self._page_objects = [campaign]
        return Response(CampaignSerializer(campaign, context=self.get_serializer_context()).data)
