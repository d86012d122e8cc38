from django.core.management.base import BaseCommand, CommandError
from django.core.exceptions import ValidationError

from parley.locales.services import locales_bootstrap
from parley.locales.tasks import BOOTSTRAP_KIND, locales_bootstrap_task
from parley.runs.services import task_run_enqueue


class Command(BaseCommand):
    help = "Register the N most-spoken languages from CLDR data as planned locales."

    def add_arguments(self, parser):
        parser.add_argument("--top", type=int, required=True, help="how many languages (e.g. 1000)")
        parser.add_argument("--async", dest="use_worker", action="store_true",
                            help="run as a Celery task recorded in a TaskRun instead of in this process")

    def handle(self, *args, **options):
        top = options["top"]
        if top < 1:
            raise CommandError("--top must be at least 1")
        if options["use_worker"]:
            run = task_run_enqueue(kind=BOOTSTRAP_KIND, args={"top": top}, task=locales_bootstrap_task,
                                   actor="command:locales_bootstrap")
            self.stdout.write(f"queued task run #{run.pk}")
            return
        try:
            result = locales_bootstrap(top=top, actor="command:locales_bootstrap")
        except ValidationError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            "bootstrap: {created} locales created, {existing} already registered".format(**result)
        ))
