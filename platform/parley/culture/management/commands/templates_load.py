from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

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
        totals: dict[str, int] = {}
        parsed, problems = [], []
        for path in options["files"]:
            keys, errors = template_file_read(path)
            parsed.append((path, keys))
            problems += errors
        if not problems:
            with transaction.atomic():
                for path, keys in parsed:
                    try:
                        counts = templates_load(keys=keys, file=str(path), actor="command:templates_load")
                    except PackLoadError as exc:
                        problems += exc.errors  # every file's refusals are reported, then nothing stays
                        continue
                    for name, n in counts.items():
                        totals[name] = totals.get(name, 0) + n
                if problems:
                    transaction.set_rollback(True)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in template files; nothing was loaded:\n"
                               + "\n".join(f"  {p}" for p in problems))
        self.stdout.write(self.style.SUCCESS(
            "templates: {keys} keys and {texts} texts created; {unchanged} texts already present".format(**totals)))
        if totals["with_errors"]:
            self.stdout.write(self.style.WARNING(
                f"{totals['with_errors']} new draft(s) have check errors: see their findings in the admin or "
                "/api/v1/check-results/ before sending them to review"))
        if totals["kept_declarations"]:
            self.stdout.write(self.style.WARNING(
                f"{totals['kept_declarations']} existing key(s) declare other parameters in the file; the stored "
                "declarations were kept (change them in the admin or through the API)"))
