"""One JSON error shape for the whole API: {"error": {"code", "message", "fields"}}."""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from parley.api.parsers import RequestTooLarge


def _flatten(detail):
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(d, (dict, list)) for d in detail):
            return [str(d) for d in detail]
        return [_flatten(d) for d in detail]
    return [str(detail)]


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        # Services raise Django's ValidationError; the API reports it as a 400 with fields.
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(fields)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Django's own refusal (DATA_UPLOAD_MAX_MEMORY_SIZE) would otherwise be its HTML 400 page.
        exc = RequestTooLarge()
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        exc = exceptions.ParseError(str(exc))
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request was refused as malformed.")

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = _flatten(detail) if isinstance(detail, dict) else {"non_field_errors": _flatten(detail)}
        body = error_body("invalid", "Invalid input.", fields)
    else:
        code = getattr(exc, "default_code", "error")
        if isinstance(exc.detail, dict | list):
            message = "; ".join(str(v) for v in (exc.detail.values() if isinstance(exc.detail, dict) else exc.detail))
        else:
            message = str(exc.detail)
        if hasattr(exc, "get_codes") and isinstance(exc.get_codes(), str):
            code = exc.get_codes()
        field = getattr(exc, "field", None)  # a body refused at the parser, inside one field
        body = error_body(code, message, {field: [message]} if field else None)
    response.data = body
    return response


@csrf_exempt  # an unknown API path must answer 404 in the API's shape, for any method
def api_not_found(request, exception=None, **kwargs):
    return JsonResponse(error_body("not_found", f"No API endpoint at {request.path}."), status=status.HTTP_404_NOT_FOUND)




def api_bad_request(request, exception=None):
    """Django's 400 (a refused request that never reached a DRF view): the API's shape under /api/."""
    from django.views.defaults import bad_request

    if not request.path_info.startswith("/api/"):
        return bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        error = RequestTooLarge()
        return JsonResponse(error_body(error.default_code, str(error.detail)), status=error.status_code)
    return JsonResponse(error_body("parse_error", "The request was refused as malformed."),
                        status=status.HTTP_400_BAD_REQUEST)


def api_server_error(request):
    """An unhandled error: still a bug, but under /api/ it answers in the API's shape, not HTML."""
    from django.views.defaults import server_error

    if not request.path_info.startswith("/api/"):
        return server_error(request)
    return JsonResponse(error_body("server_error", "Internal server error."),
                        status=status.HTTP_500_INTERNAL_SERVER_ERROR)
