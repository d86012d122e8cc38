from django.conf import settings
from django.core.management.base import BaseCommand

from parley.feedback.tasks import paraphrase_mining_queue

ACTOR = "command:feedback_mine"


class Command(BaseCommand):
    help = "Mine user rephrases into paraphrase candidates (a recorded task run; idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--window", type=int, default=settings.PARLEY_FEEDBACK_REPHRASE_WINDOW_SECONDS,
                            help="seconds within which a rephrase follows its failed turn")
        parser.add_argument("--min-support", type=int, default=settings.PARLEY_FEEDBACK_MIN_SUPPORT,
                            help="distinct sessions a pair needs to become a candidate")

    def handle(self, *args, **options):
        run = paraphrase_mining_queue(actor=ACTOR, window_seconds=options["window"],
                                      min_support=options["min_support"])
        run.refresh_from_db()
        if run.status == run.Status.QUEUED:
            self.stdout.write(f"queued as task run #{run.pk} (progress: /api/v1/task-runs/{run.pk}/)")
        else:
            self.stdout.write(f"task run #{run.pk}: {run.status} {run.result or run.error}")
