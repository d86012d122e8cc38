"""Re-apply each campaign's acceptance rule to the decisions already taken, and say what changed.

Run it after a rule changed (or after the default rule was corrected to MASSIVE's published scales).
Every change goes through the collection and nlu services, with their events; running it again
changes nothing.
"""
from django.core.management.base import BaseCommand, CommandError

from ...models import Campaign
from ...services import decisions_recompute

ACTOR = "command:collection_decisions_recompute"


class Command(BaseCommand):
    help = "Recompute collection decisions under each campaign's current acceptance rule; report the changes."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, help="only this campaign (id)")
        parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")

    def handle(self, *args, campaign=None, dry_run=False, **options):
        chosen = None
        if campaign is not None:
            chosen = Campaign.objects.filter(pk=campaign).first()
            if chosen is None:
                raise CommandError(f"no campaign with id {campaign}")
        changes = decisions_recompute(actor=ACTOR, campaign=chosen, dry_run=dry_run)
        for c in changes:
            state = "changed" if c.applied else "would change" if c.note == "dry run" else "left alone"
            line = (f"{state}: utterance {c.utterance} [{c.locale}] campaign {c.campaign} round {c.round}: "
                    f"{c.before} -> {c.after}; status {c.status_before} -> {c.status_after}")
            self.stdout.write(line + (f" ({c.note})" if c.note and c.note != "dry run" else ""))
        applied = sum(1 for c in changes if c.applied)
        if dry_run:
            self.stdout.write(f"{len(changes)} decision(s) differ from the current rules; nothing written (dry run).")
        else:
            self.stdout.write(f"{len(changes)} decision(s) differ from the current rules: {applied} changed now, "
                              f"{len(changes) - applied} left alone.")
