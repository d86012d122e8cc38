"""Admin pages beside the changelists: a locale's culture in one place, and the holiday coverage
report. Both read through the selectors and show only the user's locales."""
import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from parley.access.scoping import ALL_LOCALES, can, locales_for, scope_queryset
from parley.locales.models import Locale

from .selectors import holiday_coverage, locale_culture_overview

SECTIONS = {"registers": "culture.view_formalityregister", "terms": "culture.view_sensitiveterm",
            "templates": "culture.view_responsetemplate", "holidays": "culture.view_holiday"}


def _year(request, default: int) -> int:
    try:
        year = int(request.GET.get("year") or default)
    except ValueError:
        return default
    return year if 1900 <= year <= 2100 else default


class CulturePagesMixin(admin.ModelAdmin):
    """Adds overview/ and holiday-coverage/ to an admin; its changelist links to them."""

    change_list_template = "admin/culture/change_list_with_pages.html"

    def get_urls(self):
        opts = self.model._meta
        return [
            path("overview/", self.admin_site.admin_view(self.overview_view),
                 name=f"{opts.app_label}_{opts.model_name}_overview"),
            path("holiday-coverage/", self.admin_site.admin_view(self.holiday_coverage_view),
                 name=f"{opts.app_label}_{opts.model_name}_holiday_coverage"),
        ] + super().get_urls()

    def _context(self, request, title):
        opts = self.model._meta
        return {**self.admin_site.each_context(request), "title": title, "opts": opts,
                "overview_url": f"admin:{opts.app_label}_{opts.model_name}_overview",
                "coverage_url": f"admin:{opts.app_label}_{opts.model_name}_holiday_coverage"}

    def changelist_view(self, request, extra_context=None):
        opts = self.model._meta
        extra_context = {**(extra_context or {}),
                         "overview_url": f"admin:{opts.app_label}_{opts.model_name}_overview",
                         "coverage_url": f"admin:{opts.app_label}_{opts.model_name}_holiday_coverage"}
        return super().changelist_view(request, extra_context)

    def overview_view(self, request):
        readable = Locale.objects.none()
        for perm in SECTIONS.values():
            readable = readable | scope_queryset(Locale.objects.all(), request.user, perm)
        locales = list(readable.distinct().order_by("tag").values_list("tag", flat=True))
        if not locales:
            raise PermissionDenied
        tag = request.GET.get("locale") or locales[0]
        if tag not in locales:
            raise Http404(f"No locale {tag!r}.")  # unknown and out of scope read alike: no probing
        locale = Locale.objects.get(tag=tag)
        year = _year(request, dt.date.today().year)
        sections = {name for name, perm in SECTIONS.items() if can(request.user, perm, locale_id=locale.pk)}
        try:
            overview = locale_culture_overview(locale=locale, year=year, sections=sections,
                                               region=request.GET.get("region") or None)
        except ValidationError as exc:  # an unknown region: say so and show the whole territory
            messages.error(request, "; ".join(exc.message_dict.get("region", exc.messages)))
            overview = locale_culture_overview(locale=locale, year=year, sections=sections)
        context = {**self._context(request, _("%(tag)s: how to speak and what to know") % {"tag": tag}),
                   "locales": locales, "chosen": tag, "year": year, "overview": overview}
        return TemplateResponse(request, "admin/culture/overview.html", context)

    def holiday_coverage_view(self, request):
        scope = locales_for(request.user, "culture.view_holiday")
        if scope is not ALL_LOCALES and not scope:
            raise PermissionDenied
        first = _year(request, dt.date.today().year)
        years = list(range(first, first + 2))
        report = holiday_coverage(locale_ids=None if scope is ALL_LOCALES else list(scope), years=years)
        context = {**self._context(request, _("Holiday coverage")), "report": report, "year": first}
        return TemplateResponse(request, "admin/culture/holiday_coverage.html", context)
