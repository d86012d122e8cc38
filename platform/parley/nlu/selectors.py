from django.db.models import QuerySet

from .models import Intent, SlotType, Utterance


def utterance_list() -> QuerySet[Utterance]:
    return Utterance.objects.select_related("locale", "intent", "intent__scenario")


def intent_list() -> QuerySet[Intent]:
    return Intent.objects.select_related("scenario").prefetch_related("slot_types")


def slot_type_list() -> QuerySet[SlotType]:
    return SlotType.objects.all()
