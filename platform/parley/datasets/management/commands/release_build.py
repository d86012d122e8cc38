from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from parley.datasets.build import release_build, release_folder
from parley.datasets.models import Release
from parley.datasets.services import release_create
from parley.datasets.tasks import release_build_queue
from parley.locales.selectors import UnknownLocale, locale_resolve


class Command(BaseCommand):
    help = "Build and publish the next version of a release (MASSIVE layout, manifest, diff)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the release's name, a slug (e.g. core)")
        parser.add_argument("--locale", action="append", default=[], help="a locale tag or alias (repeatable); "
                                                                         "default: every locale with promoted rows")
        parser.add_argument("--notes", default="")
        parser.add_argument("--async", dest="use_worker", action="store_true",
                            help="build on a Celery worker, recorded in a TaskRun")
        parser.add_argument("--if-missing", action="store_true",
                            help="do nothing when a release of this name is already published (make run)")

    def handle(self, *args, **options):
        existing = Release.objects.filter(name=options["name"], status=Release.Status.PUBLISHED).order_by("-version")
        if options["if_missing"] and existing.exists():
            self.stdout.write(f"{options['name']} v{existing.first().version} is published already")
            return
        try:
            tags = [locale_resolve(tag).tag for tag in options["locale"]]
            release = release_create(name=options["name"], locale_tags=tags, notes=options["notes"],
                                     actor="command:release_build")
        except (UnknownLocale, ValidationError) as exc:
            raise CommandError(str(exc)) from None
        if options["use_worker"]:
            run = release_build_queue(release=release, actor="command:release_build")
            self.stdout.write(f"{release.name} v{release.version}: queued task run #{run.pk}")
            return
        release = release_build(release=release, actor="command:release_build")
        if release.status != release.Status.PUBLISHED:
            raise CommandError(f"{release.name} v{release.version} refused: {release.error}")
        self.stdout.write(self.style.SUCCESS(
            f"{release.name} v{release.version} published: {release.rows} rows in {release_folder(release)}"))
        for tag, counts in sorted(release.diff_summary.items()):
            self.stdout.write(f"  {tag}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
