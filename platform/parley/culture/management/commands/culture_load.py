import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from parley.culture.packs import read_culture_packs
from parley.culture.services import culture_packs_load, holidays_materialize
from parley.locales.models import Locale
from parley.locales.packs import PackLoadError


class Command(BaseCommand):
    help = ("Load culture packs (registers, sensitive terms, topics per locale) from locales/culture/: "
            "all or none; additive, so linguists' edits survive a reload. --holidays also seeds the pack "
            "locales' holidays for this year and the next.")

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(settings.PARLEY_LOCALE_PACKS_DIR / "culture"),
                            help="folder of culture packs")
        parser.add_argument("--holidays", action="store_true",
                            help="seed holidays (holidays package) for the locales that have a culture pack")

    def handle(self, *args, **options):
        try:
            counts = culture_packs_load(directory=options["dir"], actor="command:culture_load")
        except PackLoadError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            "culture packs: {registers} registers, {overrides} overrides, {terms} terms, {topics} topics created; "
            "{unchanged} already present".format(**counts)))
        if options["holidays"]:
            this = dt.date.today().year
            tags = [p.tag for p in read_culture_packs(options["dir"])]
            for locale in Locale.objects.filter(tag__in=tags).order_by("tag"):
                result = holidays_materialize(locale=locale, years=[this, this + 1], actor="command:culture_load")
                self.stdout.write(f"holidays {locale.tag}: {result['created']} created, {result['dates']} dates")
