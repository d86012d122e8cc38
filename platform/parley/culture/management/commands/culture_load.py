from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from parley.culture.services import culture_packs_load
from parley.locales.packs import PackLoadError


class Command(BaseCommand):
    help = ("Load culture packs (registers, sensitive terms, topics per locale) from locales/culture/: "
            "all or none; additive, so linguists' edits survive a reload.")

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(settings.PARLEY_LOCALE_PACKS_DIR / "culture"),
                            help="folder of culture packs")

    def handle(self, *args, **options):
        try:
            counts = culture_packs_load(directory=options["dir"], actor="command:culture_load")
        except PackLoadError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            "culture packs: {registers} registers, {overrides} overrides, {terms} terms, {topics} topics created; "
            "{unchanged} already present".format(**counts)))
