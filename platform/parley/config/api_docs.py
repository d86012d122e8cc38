"""Who may read the OpenAPI schema and the Swagger UI (issue 15, finding 14).

By default not the public, and not annotators: the schema maps every endpoint, filter and field,
which is for people and programs that use the API. Allowed: a valid API token (any scope; a
pipeline reads the schema it calls) and a signed-in user whose roles use the admin (linguists,
leads, platform admins). Annotators, whose role is the collection pages only, are refused.
PARLEY_API_DOCS_PUBLIC=1 opens both to anyone (a public API's documentation).
"""
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import permissions

from parley.access.models import ApiToken
from parley.access.selectors import user_may_use_admin


def may_read_api_docs(user, auth=None) -> bool:
    if settings.PARLEY_API_DOCS_PUBLIC:
        return True
    if not (user and user.is_authenticated):
        return False
    return isinstance(auth, ApiToken) or user_may_use_admin(user=user)


class ApiDocsAccess(permissions.BasePermission):
    message = "The API schema is for API users: sign in, or send an API token."

    def has_permission(self, request, view):
        return may_read_api_docs(request.user, request.auth)


schema_view = SpectacularAPIView.as_view(permission_classes=[ApiDocsAccess])
_swagger_view = SpectacularSwaggerView.as_view(url_name="schema")


def swagger_view(request, *args, **kwargs):
    """The Swagger UI page: a browser page, so a visitor not signed in is sent to the login page."""
    if not settings.PARLEY_API_DOCS_PUBLIC:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not may_read_api_docs(request.user):
            raise PermissionDenied("The API documentation is for API users.")
    return _swagger_view(request, *args, **kwargs)
