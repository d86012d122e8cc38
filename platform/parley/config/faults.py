"""A database that cannot be reached, or no free pooled connection within the pool's timeout, is a
service that is unavailable for now: 503 (in the API's error shape under /api/), never a 500."""
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

from parley.api.errors import error_body

RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        message = "The database is unavailable or busy; retry shortly."
        if request.path.startswith("/api/"):
            response = JsonResponse(error_body("unavailable", message), status=503)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
