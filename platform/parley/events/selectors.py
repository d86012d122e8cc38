from django.db.models import QuerySet

from .models import Event


def event_list(*, locale_tags: set[str] | None) -> QuerySet[Event]:
    """Events visible for a set of locale tags; None means every event (platform admins)."""
    qs = Event.objects.all()
    if locale_tags is not None:
        qs = qs.filter(locale_tag__in=locale_tags)
    return qs
