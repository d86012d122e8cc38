from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from parley.api.errors import api_not_found

from .api_docs import schema_view, swagger_view
from .health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("parley.api.urls")),
    path("collect/", include("parley.collection.urls")),  # annotators' UI and the lead dashboard
    # (No ReDoc: its page loads web fonts from a CDN, and the docs must work offline.)
    # Schema and Swagger UI: API users only unless PARLEY_API_DOCS_PUBLIC (config/api_docs.py).
    path("api/schema/", schema_view, name="schema"),
    path("api/docs/", swagger_view, name="api-docs"),
    # Unknown /api/ paths answer in the API's error shape, not Django's HTML 404 page.
    path("api/<path:rest>", api_not_found),
]

# Refused and failed requests under /api/ answer in the API's error shape (HTML elsewhere).
handler400 = "parley.api.errors.api_bad_request"
handler500 = "parley.api.errors.api_server_error"
