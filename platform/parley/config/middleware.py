"""Request-level guards that no view should have to repeat."""
from django.http import HttpResponse, JsonResponse

from parley.api.errors import error_body


def _nul_in_request(request) -> str | None:
    """Where a NUL is in the path, query string or credentials (decoded as Django decodes them)."""
    if "\x00" in request.path_info:
        return "path"
    query = request.META.get("QUERY_STRING", "")
    if "%00" in query or "\x00" in query:
        for key, values in request.GET.lists():
            if "\x00" in key:
                return "query parameter name"
            if any("\x00" in value for value in values):
                return f"query parameter {key!r}"
    for header in ("HTTP_AUTHORIZATION", "HTTP_COOKIE", "HTTP_X_CSRFTOKEN"):
        if "\x00" in request.META.get(header, ""):
            return f"header {header.removeprefix('HTTP_').replace('_', '-').title()}"
    return None


class HostileRequestMiddleware:
    """A NUL in the path, a query parameter or the credentials is answered 400 at once.

    PostgreSQL text cannot hold a NUL, so any lookup built from such a value would fail with a
    database error (a 500) deep inside a view; refusing here covers every endpoint, present and
    future. API paths answer in the API's error shape.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = _nul_in_request(request)
        if where is None:
            return self.get_response(request)
        message = f"The request's {where} contains a NUL character."
        if request.path_info.startswith("/api/"):
            return JsonResponse(error_body("invalid", message, {where: ["contains a NUL character"]}), status=400)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
