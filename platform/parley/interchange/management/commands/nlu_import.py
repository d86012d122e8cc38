from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from parley.interchange.models import ImportBatch
from parley.interchange.services import conll_label_map_read, import_batch_create, import_batch_run
from parley.interchange.tasks import import_batch_queue

ACTOR = "command:nlu_import"
LABEL_MAP_READ_LIMIT = 1_000_001  # one byte over the service's limit, so an oversized map is refused by it


class Command(BaseCommand):
    help = ("Import language data (MASSIVE or SLURP jsonl, CoNLL/BIO; a file, a folder of files or a .tar.gz); "
            "report every rejected row.")

    def add_arguments(self, parser):
        parser.add_argument("format", choices=ImportBatch.Format.values)
        parser.add_argument("path")
        parser.add_argument("--create-missing", action="store_true",
                            help="create unknown locales, intents and slot types instead of rejecting their rows")
        parser.add_argument("--strict", action="store_true", help="write nothing if any row is rejected")
        parser.add_argument("--locale", default="", help="store every row under this locale (CoNLL: overrides the locale the file name gives)")
        parser.add_argument("--label-map", default="", metavar="FILE",
                            help="CoNLL: a JSON file {\"intents\": {old: new}, \"slot_types\": {old: new}} renaming the "
                                 "file's labels (e.g. xSID's to MASSIVE's); unlisted names are stored as written")
        parser.add_argument("--async", dest="use_worker", action="store_true", help="run on a Celery worker")

    def handle(self, *args, **o):
        try:
            label_map = None
            if o["label_map"]:
                try:
                    with open(o["label_map"], "rb") as handle:
                        raw = handle.read(LABEL_MAP_READ_LIMIT)
                except OSError as exc:
                    raise CommandError(f"--label-map {o['label_map']}: {exc.strerror}") from None
                label_map = conll_label_map_read(raw)
            batch = import_batch_create(format=o["format"], path=o["path"], actor=ACTOR,
                                        create_missing=o["create_missing"], strict=o["strict"], locale=o["locale"],
                                        label_map=label_map)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if o["use_worker"]:
            from django.conf import settings

            run = import_batch_queue(batch=batch, actor=ACTOR)
            if settings.CELERY_TASK_ALWAYS_EAGER:
                batch.refresh_from_db()
                self.stdout.write(f"no REDIS_URL: ran in-process as task run #{run.pk}")
            else:
                self.stdout.write(f"import batch #{batch.pk} queued as task run #{run.pk}; progress: "
                                  f"/api/v1/imports/{batch.pk}/ or the admin")
                return
        batch = import_batch_run(batch=batch, actor=ACTOR)
        warned = f" ({batch.rows_warned} with warnings: /api/v1/check-results/)" if batch.rows_warned else ""
        self.stdout.write(f"import batch #{batch.pk}: {batch.status}; read {batch.rows_read}, accepted "
                          f"{batch.rows_accepted}{warned}, already present {batch.rows_present}, "
                          f"rejected {batch.rows_rejected}")
        for reject in batch.rejects.all()[:20]:
            self.stdout.write(f"  {reject}")
        if batch.rows_rejected > 20:
            self.stdout.write(f"  … {batch.rows_rejected - 20} more (admin or /api/v1/imports/{batch.pk}/rejects.csv)")
