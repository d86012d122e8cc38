from django.core.management.base import BaseCommand, CommandError

from parley.feedback.models import FeedbackEvent, Signal
from parley.feedback.services import events_cluster, events_import_lines

ACTOR = "command:feedback_import"


def _lines(handle, rejects):
    for number, raw in enumerate(handle, start=1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            rejects.append((number, f"not UTF-8 at byte {exc.start}"))


class Command(BaseCommand):
    help = ("Backfill feedback events from a jsonl export (one event a line, the API's item shape). "
            "Idempotent per line: valid lines are stored, every rejected line is reported with its number "
            "and reason, and running the same file again stores only what is new.")

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--no-cluster", action="store_true", help="leave clustering to the workers")

    def handle(self, *args, **options):
        decode_rejects: list[tuple[int, str]] = []
        try:
            handle = open(options["path"], "rb")
        except OSError as exc:
            raise CommandError(f"cannot read {options['path']}: {exc.strerror}") from None
        with handle:
            report = events_import_lines(lines=_lines(handle, decode_rejects), actor=ACTOR)
        report["rejected"] += len(decode_rejects)
        rejects = sorted(report["rejects"] + decode_rejects)
        if not options["no_cluster"]:
            events_cluster()  # what the workers (or, without Redis, the in-process drain) have not reached yet
        waiting = FeedbackEvent.objects.filter(cluster__isnull=True).exclude(signal=Signal.SUCCESS).count()
        self.stdout.write(f"read {report['read'] + len(decode_rejects)} line(s): created {report['created']}, "
                          f"already present {report['duplicates']}, rejected {report['rejected']}; "
                          f"events waiting to be clustered: {waiting}")
        for number, reason in rejects:
            self.stdout.write(f"  line {number}: {reason}")
        if rejects:
            raise CommandError(f"{len(rejects)} line(s) rejected (listed above); the other lines are stored")
