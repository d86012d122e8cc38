"""Login throttling's two hooks into django-axes: the client's address and the lockout page.

The client's address (AXES_CLIENT_IP_CALLABLE):

Without a proxy it is REMOTE_ADDR. Behind PARLEY_TRUSTED_PROXY_COUNT reverse proxies that each
append to X-Forwarded-For, it is the entry the outermost trusted proxy appended (that many from the
right): entries further left are whatever the client sent, and a client picking a fresh address
per try would never be locked. Missing or short headers fall back to REMOTE_ADDR.
"""
import ipaddress
import math

from django.conf import settings
from django.shortcuts import render


def client_address(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.PARLEY_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the lockout page (HTTP 429) for both login pages, saying how long."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return render(request, "access/lockout.html", {"failure_limit": settings.AXES_FAILURE_LIMIT,
                                                   "cooloff_minutes": minutes}, status=429)
