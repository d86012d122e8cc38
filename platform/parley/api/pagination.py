from rest_framework.pagination import CursorPagination


class StableCursorPagination(CursorPagination):
    """Keyset pagination (no OFFSET), so page 1,000 costs what page 1 does.

    Views name a unique, unchanging field in `cursor_ordering` (default: newest id first).
    """

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "cursor_ordering", "-id")
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)
