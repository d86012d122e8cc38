from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from parley.culture.selectors import holiday_coverage
from parley.culture.services import holidays_materialize
from parley.locales.models import Locale
from parley.locales.selectors import UnknownLocale, locale_resolve


class Command(BaseCommand):
    help = ("Seed holidays from the holidays package for locales' territories (with subdivisions and native "
            "names) and materialize dates for a year range; idempotent. Then print the coverage report.")

    def add_arguments(self, parser):
        parser.add_argument("--locale", action="append", default=[], help="tag or alias; repeat; default: every "
                                                                          "locale not retired")
        parser.add_argument("--years", default="", help="e.g. 2026-2028 or 2026,2027 (default: this year and next)")

    def handle(self, *args, **options):
        import datetime as dt

        spec = options["years"].strip()
        try:
            if "-" in spec:
                first, last = (int(p) for p in spec.split("-", 1))
                years = list(range(first, last + 1))
            elif spec:
                years = [int(p) for p in spec.split(",")]
            else:
                years = [dt.date.today().year, dt.date.today().year + 1]
        except ValueError:
            raise CommandError(f"--years {spec!r}: write 2026-2028 or 2026,2027") from None
        try:
            locales = [locale_resolve(t) for t in options["locale"]] or list(
                Locale.objects.exclude(status=Locale.Status.RETIRED).order_by("tag"))
        except UnknownLocale as exc:
            raise CommandError(str(exc)) from None
        for locale in locales:
            try:
                result = holidays_materialize(locale=locale, years=years, actor="command:holidays_seed")
            except ValidationError as exc:
                raise CommandError(f"{locale.tag}: {'; '.join(exc.messages)}") from None
            if not result["supported"]:
                self.stdout.write(f"{locale.tag}: territory {locale.territory or '(none)'} not in the holidays package")
                continue
            self.stdout.write(f"{locale.tag}: {result['created']} holidays created, {result['dates']} dates, "
                              f"{result['computed']} computed; native names from {result['native_language'] or '-'}"
                              + (f"; explicit dates missing: {', '.join(result['explicit_missing'])}"
                                 if result["explicit_missing"] else ""))
        report = holiday_coverage(locale_ids=[l.pk for l in locales], years=years)
        if report["locales_without_holidays"]:
            self.stdout.write("no holiday data: " + ", ".join(report["locales_without_holidays"]))
        self.stdout.write(self.style.SUCCESS(f"{len(locales)} locale(s), years {years[0]}–{years[-1]}"))
