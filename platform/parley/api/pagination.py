from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class StableCursorPagination(CursorPagination):
    """Keyset pagination (no OFFSET), so page 1,000 costs what page 1 does.

    Views name a unique, unchanging field in `cursor_ordering` (default: newest id first).
    A `page_size` that is not one whole number from 1 to `max_page_size` is a 400 naming it (DRF
    would silently use the default, so a client's typo went unnoticed and the schema lied).
    """

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "cursor_ordering", "-id")
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def get_page_size(self, request):
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        problem = f"must be one whole number from 1 to {self.max_page_size}"
        if len(values) != 1 or not values[0].isascii() or not values[0].isdigit() or len(values[0]) > 7:
            raise ValidationError({self.page_size_query_param: [problem]})
        size = int(values[0])
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [problem]})
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return parameters
