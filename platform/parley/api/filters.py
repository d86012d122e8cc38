"""The filter backend every list uses: django-filter's, with the values it would ignore refused;
and `choice_param`, the same rule for a view's own enum parameters.

django-filter reads a value it does not understand as "no filter": a boolean it does not know
(`?escalated=maybe`), or an empty value for a choice, number, id or date (`?direction=`,
`?cluster=`). A typo then answers a different question than the one asked, and the schema (an
enum, a boolean, an integer) is not what the API accepts. Here each is a 400 naming the
parameter. Free-text filters (`?q=`, `?locale=`) keep reading an empty value as "no filter": an
empty string is a string, so the schema allows it.
"""
import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

BOOLEAN_VALUES = {"true", "false", "True", "False"}


def _refused(declared: django_filters.Filter, value: str) -> str | None:
    if isinstance(declared, django_filters.BooleanFilter):
        return None if value in BOOLEAN_VALUES else f"{value[:40]!r} is not true or false"
    if declared.field_class is not forms.CharField and not value.strip():
        return "must not be empty"
    return None


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            wrong = {name: [problem] for name, declared in filterset_class.base_filters.items()
                     if name in request.query_params
                     and (problem := _refused(declared, request.query_params[name]))}
            if wrong:
                raise ValidationError(wrong)
        return super().filter_queryset(request, queryset, view)


def choice_param(request, name: str, choices, default: str | None = None) -> str | None:
    """The `?name=` value, one of `choices` (what the schema's enum lists), or `default` when the
    parameter is absent. Present but empty or unknown is a 400: read as "absent", it would answer
    a different question than the one asked."""
    if name not in request.query_params:
        return default
    value = request.query_params[name]
    if value not in choices:
        raise ValidationError({name: [f"{value[:80]!r} is not one of: {', '.join(choices)}"]})
    return value

