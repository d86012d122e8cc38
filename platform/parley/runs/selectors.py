from django.db.models import QuerySet

from .models import TaskRun


def task_run_list(*, locale_tags: set[str] | None) -> QuerySet[TaskRun]:
    """Runs visible for a set of locale tags; None means all. Runs with no locale are admin-only."""
    qs = TaskRun.objects.all()
    if locale_tags is not None:
        qs = qs.filter(locale_tag__in=locale_tags)
    return qs
