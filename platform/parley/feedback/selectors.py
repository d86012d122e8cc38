"""Feedback reads: the queues, in the order linguists work them."""
from django.db.models import QuerySet

from .models import FeedbackCluster, FeedbackEvent, ParaphraseCandidate


def cluster_list() -> QuerySet[FeedbackCluster]:
    """Highest priority first; escalated clusters carry a bonus that puts them on top."""
    return FeedbackCluster.objects.select_related("locale", "assignee").defer("minhash").order_by("-priority", "-id")


def event_list() -> QuerySet[FeedbackEvent]:
    return FeedbackEvent.objects.select_related("locale").order_by("-id")


def paraphrase_list() -> QuerySet[ParaphraseCandidate]:
    return ParaphraseCandidate.objects.select_related("locale", "decided_by").order_by("-support", "-id")


def cluster_events(*, cluster: FeedbackCluster, limit: int = 50) -> QuerySet[FeedbackEvent]:
    return FeedbackEvent.objects.filter(cluster=cluster).order_by("-occurred_at")[:limit]
