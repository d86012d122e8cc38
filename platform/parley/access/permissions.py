from rest_framework import permissions

from .models import ApiToken

NO_SCOPE_NEEDED = "(none)"


class IsAuthenticatedActor(permissions.BasePermission):
    """Authenticated, and a token used must carry the scope the view asks for this method.

    Views declare `required_scopes = {"read": "x:read", "write": "x:write"}` (keys may also be
    HTTP methods; the value NO_SCOPE_NEEDED lets any token in). A view that declares nothing is
    closed to tokens: forgetting the declaration fails safe. Session users are limited by their
    roles only; tokens by their user's roles and their own scopes and locale limit.
    """

    message = "You must be authenticated."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if token is None:
            return True
        needed = required_scope(view, request.method)
        if needed is None:
            self.message = "This endpoint is not available to API tokens."
            return False
        if needed != NO_SCOPE_NEEDED and needed not in token.scopes:
            self.message = f"This token lacks the scope {needed!r}."
            return False
        return True


def required_scope(view, method: str) -> str | None:
    scopes = getattr(view, "required_scopes", None) or {}
    if method in scopes:
        return scopes[method]
    kind = "read" if method in permissions.SAFE_METHODS else "write"
    return scopes.get(kind)
