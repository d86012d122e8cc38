from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from parley.locales.packs import PackLoadError
from parley.locales.services import locale_packs_load


class Command(BaseCommand):
    help = "Load locale packs (one YAML/JSON file per locale) idempotently: all packs or none."

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(settings.PARLEY_LOCALE_PACKS_DIR), help="folder of locale packs")

    def handle(self, *args, **options):
        try:
            counts = locale_packs_load(directory=options["dir"], actor="command:locales_load")
        except PackLoadError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            "locale packs: {created} created, {updated} updated, {unchanged} unchanged".format(**counts)
        ))
