import sys

from django.core.management.base import BaseCommand, CommandError

from parley.interchange.exports import massive_jsonl
from parley.locales.selectors import UnknownLocale, locale_resolve


class Command(BaseCommand):
    help = "Export one locale's utterances as MASSIVE jsonl (original order, fields and locale tag)."

    def add_arguments(self, parser):
        parser.add_argument("format", choices=["massive"])
        parser.add_argument("--locale", required=True)
        parser.add_argument("--out", default="-", help="file path, or - for standard output")
        parser.add_argument("--all-sources", action="store_true", help="not only rows imported from MASSIVE")

    def handle(self, *args, **o):
        try:
            locale = locale_resolve(o["locale"])
        except UnknownLocale as exc:
            raise CommandError(str(exc)) from None
        lines = massive_jsonl(locale=locale, source=None if o["all_sources"] else "massive")
        out = sys.stdout if o["out"] == "-" else open(o["out"], "w", encoding="utf-8")
        try:
            for line in lines:
                out.write(line)
        finally:
            if out is not sys.stdout:
                out.close()
