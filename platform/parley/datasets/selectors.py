"""Dataset reads."""
from django.db.models import QuerySet

from .models import PromotionRefusal, PromotionRule, Release, TestFloor, TestRetirement, WebhookDelivery


def release_list() -> QuerySet[Release]:
    return Release.objects.select_related("previous", "task_run").order_by("-id")


def promotion_rule_list() -> QuerySet[PromotionRule]:
    return PromotionRule.objects.select_related("locale")


def promotion_refusal_list() -> QuerySet[PromotionRefusal]:
    return PromotionRefusal.objects.select_related("locale", "utterance")


def floor_list() -> QuerySet[TestFloor]:
    return TestFloor.objects.select_related("locale", "intent")


def retirement_list() -> QuerySet[TestRetirement]:
    return TestRetirement.objects.select_related("locale", "retired_by")


def webhook_delivery_list() -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.select_related("webhook", "release")
