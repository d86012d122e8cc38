from django.db.models import QuerySet

from .models import Intent, SlotType, Utterance


def utterance_list() -> QuerySet[Utterance]:
    return Utterance.objects.select_related("locale", "intent", "intent__scenario")


def intent_list() -> QuerySet[Intent]:
    return Intent.objects.select_related("scenario").prefetch_related("slot_types")


def slot_type_list() -> QuerySet[SlotType]:
    return SlotType.objects.all()


def coverage_counts(*, locale_ids=None, partition: str | None = None):
    """Locale × intent counts by partition and status, aggregated in SQL (one GROUP BY).

    `locale_ids`: None for every locale, else an iterable of ids (the caller's scope).
    """
    from django.db.models import Count

    qs = Utterance.objects.exclude(status=Utterance.Status.RETIRED)
    if locale_ids is not None:
        qs = qs.filter(locale_id__in=locale_ids)
    if partition:
        qs = qs.filter(partition=partition)
    return (qs.values("locale__tag", "intent__name", "partition", "status").annotate(count=Count("id"))
            .order_by("locale__tag", "intent__name", "partition", "status"))
