"""The filter backend every list uses: django-filter's, with boolean parameters checked.

django-filter reads a boolean it does not understand (`?escalated=maybe`) as "no filter", so a
typo answers a different question than the one asked, and the schema (type boolean) is not what
the API accepts. Here such a value is a 400 naming the parameter.
"""
import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

BOOLEAN_VALUES = {"true", "false", "True", "False"}


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            wrong = {name: [f"{request.query_params[name][:40]!r} is not true or false"]
                     for name, declared in filterset_class.base_filters.items()
                     if isinstance(declared, django_filters.BooleanFilter) and name in request.query_params
                     and request.query_params[name] not in BOOLEAN_VALUES}
            if wrong:
                raise ValidationError(wrong)
        return super().filter_queryset(request, queryset, view)
