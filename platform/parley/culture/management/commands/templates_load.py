from django.core.management.base import BaseCommand, CommandError

from parley.culture.services import templates_load
from parley.culture.template_files import template_file_read
from parley.locales.packs import PackLoadError


class Command(BaseCommand):
    help = ("Load response templates from YAML/JSON template files (keys, declarations, texts with a status): "
            "all files or none; additive, so texts linguists already have are left alone. "
            "Format: parley/culture/template_files.py; export with templates_export.")

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")

    def handle(self, *args, **options):
        totals = {"keys": 0, "texts": 0, "unchanged": 0}
        parsed, problems = [], []
        for path in options["files"]:
            keys, errors = template_file_read(path)
            parsed.append((path, keys))
            problems += errors
        if problems:
            raise CommandError(str(PackLoadError(problems)))
        from django.db import transaction

        try:
            with transaction.atomic():
                for path, keys in parsed:
                    for name, n in templates_load(keys=keys, file=str(path), actor="command:templates_load").items():
                        totals[name] += n
        except PackLoadError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            "templates: {keys} keys and {texts} texts created; {unchanged} texts already present".format(**totals)))
