import sys

from django.core.management.base import BaseCommand, CommandError

from parley.culture.selectors import templates_for_export
from parley.culture.template_files import template_file_dump
from parley.locales.selectors import UnknownLocale, locale_resolve


class Command(BaseCommand):
    help = "Write response templates as a template file (YAML, or --json) that templates_load reads back."

    def add_arguments(self, parser):
        parser.add_argument("--locale", action="append", default=[], help="only texts of this locale (repeatable)")
        parser.add_argument("--status", action="append", default=[],
                            choices=["draft", "in_review", "approved", "retired"], help="only texts in this status")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, **options):
        try:
            ids = [locale_resolve(tag).pk for tag in options["locale"]] or None
        except UnknownLocale as exc:
            raise CommandError(str(exc)) from None
        keys = templates_for_export(locale_ids=ids, statuses=options["status"] or None)
        # A file to load back: retired texts are exported (for translators' context) but not loadable.
        text = template_file_dump(keys, as_json=options["json"])
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as out:
                out.write(text)
        else:
            sys.stdout.write(text)
