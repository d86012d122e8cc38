from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from parley.datasets.services import locales_with_candidates, utterances_promote
from parley.datasets.tasks import promotion_queue
from parley.locales.selectors import UnknownLocale, locale_resolve


class Command(BaseCommand):
    help = "Promote accepted utterances into train/dev/test by the promotion rules (leakage guard on)."

    def add_arguments(self, parser):
        parser.add_argument("--locale", action="append", default=[], help="a locale tag or alias (repeatable); "
                                                                         "default: every locale with candidates")
        parser.add_argument("--async", dest="use_worker", action="store_true",
                            help="run as a Celery task recorded in a TaskRun instead of in this process")

    def handle(self, *args, **options):
        try:
            locales = [locale_resolve(tag) for tag in options["locale"]] or locales_with_candidates()
        except UnknownLocale as exc:
            raise CommandError(str(exc)) from None
        if options["use_worker"]:
            run = promotion_queue(actor="command:datasets_promote", locale_tags=[l.tag for l in locales])
            self.stdout.write(f"queued task run #{run.pk}")
            return
        for locale in locales:
            try:
                result = utterances_promote(locale=locale, actor="command:datasets_promote")
            except ValidationError as exc:
                raise CommandError(f"{locale.tag}: {exc}") from None
            promoted = ", ".join(f"{n} {p}" for p, n in result.promoted.items() if n) or "none"
            self.stdout.write(f"{locale.tag}: {result.candidates} candidates, promoted {promoted}, "
                              f"refused {result.refused}")
            for refusal in result.refusals:
                self.stdout.write(f"  refused utterance {refusal['utterance']} ({refusal['code']}): {refusal['reason']}")
