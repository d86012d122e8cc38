"""Uploaded import files are kept for the retention period after their batch finished, then
deleted; what killed uploads leave is deleted once old; the cleanup is idempotent, touches only the
upload folders, and beat runs it."""
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

import factories as f
from factories import EN, jsonl
from parley.events.models import Event
from parley.interchange.models import ImportBatch
from parley.nlu.models import Utterance
from parley.interchange.services import import_batch_create, import_files_clean, upload_store
from parley.runs.kinds import tasks_discover

pytestmark = pytest.mark.django_db


@pytest.fixture
def folders(settings, tmp_path):
    settings.PARLEY_IMPORT_DIR = tmp_path / "imports"
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "spool"
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # spool every upload to a file, as large ones are
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    settings.PARLEY_IMPORT_RETENTION_DAYS = 7
    settings.PARLEY_UPLOAD_ORPHAN_HOURS = 24
    return settings.PARLEY_IMPORT_DIR, settings.FILE_UPLOAD_TEMP_DIR


def aged(path, hours: float):
    stamp = time.time() - hours * 3600
    os.utime(path, (stamp, stamp))
    return path


def finished_days_ago(batch, days: float):
    ImportBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now() - timedelta(days=days))


def test_a_finished_batch_keeps_its_file_for_the_retention_then_loses_only_the_file(folders, tmp_path,
                                                                                    django_capture_on_commit_callbacks):
    f.locale("en-US")
    client = APIClient()
    client.force_authenticate(f.member("platform_admin", None, username="root"))
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/api/v1/imports/", {"file": SimpleUploadedFile("a.jsonl", jsonl(EN).encode()),
                                                  "format": "massive", "create_missing": "true"}, format="multipart")
    batch = ImportBatch.objects.get(pk=answer.json()["id"])
    stored = batch.path
    assert batch.status == "completed" and os.path.exists(stored)
    finished_days_ago(batch, 6)
    assert import_files_clean() == {"batch_files": 0, "orphans": 0} and os.path.exists(stored)
    finished_days_ago(batch, 8)
    # A queued batch keeps its file however old; a command-line batch's own file is never touched.
    waiting = import_batch_create(format="massive", path=str(upload_store(SimpleUploadedFile("b.jsonl", b"{}\n"))),
                                  actor="t")
    own = tmp_path / "operator.jsonl"
    own.write_text(jsonl(EN))
    cli = import_batch_create(format="massive", path=str(own), actor="t")
    ImportBatch.objects.filter(pk__in=[waiting.pk, cli.pk]).update(created_at=timezone.now() - timedelta(days=30))
    ImportBatch.objects.filter(pk=cli.pk).update(status="completed", finished_at=timezone.now() - timedelta(days=30))
    aged(waiting.path, 24 * 30)
    assert import_files_clean() == {"batch_files": 1, "orphans": 0}
    batch.refresh_from_db()
    assert not os.path.exists(stored) and batch.path == "" and batch.status == "completed"
    assert Event.objects.filter(verb="import.file_removed", target_id=str(batch.pk)).count() == 1
    assert os.path.exists(waiting.path) and own.exists()
    assert client.get(f"/api/v1/imports/{batch.pk}/").json()["rows_accepted"] == 1  # the record stays
    assert import_files_clean() == {"batch_files": 0, "orphans": 0}  # idempotent


class KilledUpload(SimpleUploadedFile):
    """An upload whose request dies half-way through the copy."""

    def chunks(self, chunk_size=None):
        yield b'{"id": "1"'
        raise ConnectionResetError("client gone")


def test_what_killed_uploads_leave_is_removed_once_old(folders):
    imports, spool = folders
    with pytest.raises(ConnectionResetError):
        upload_store(KilledUpload("big.jsonl", b""))
    partial, = imports.iterdir()
    assert partial.name.endswith(".jsonl.part")  # never under the name a batch would use
    young = imports / "young.jsonl"
    young.write_text("{}")
    # Spooled as Django spools a large request body: named tmpXXXX.upload<ext of the client's name>;
    # left open, as by a process killed while handling the request.
    spooled = [TemporaryUploadedFile(name, "application/octet-stream", 1, None)
               for name in ("big.jsonl", "big.tar.gz", "noext")]
    names = sorted(Path(upload.temporary_file_path()).name for upload in spooled)
    assert sorted(name.split(".", 1)[1] for name in names) == ["upload", "upload.gz", "upload.jsonl"]
    unrelated = spool / "keep.txt"
    unrelated.write_text("not an upload")
    lookalike = spool / "tmpabc.upload.jsonl.bak"
    lookalike.write_text("not Django's")
    assert import_files_clean()["orphans"] == 0  # all younger than the orphan age
    for path in (partial, young, unrelated, lookalike, *(spool / name for name in names)):
        aged(path, 25)
    assert import_files_clean()["orphans"] == 5
    assert sorted(p.name for p in spool.iterdir()) == ["keep.txt", lookalike.name] and not any(imports.iterdir())
    for upload in spooled:
        upload.close()  # Django's own close: the file is gone already
    assert import_files_clean()["orphans"] == 0


def test_beat_runs_the_cleanup_and_the_run_sweeper():
    from parley.config.celery import app

    tasks_discover()
    scheduled = {e["task"]: e["schedule"] for e in django_settings.CELERY_BEAT_SCHEDULE.values()}
    for task in ("parley.interchange.tasks.import_files_clean_task", "parley.runs.tasks.task_runs_sweep_task"):
        assert task in app.tasks and scheduled[task] > 0


def test_a_batch_whose_file_was_removed_is_never_run_again_and_never_reads_the_working_directory(
        folders, tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    """An emptied path is Path(""), the worker's working directory: run again would have scanned
    it (under `make worker`, the repo's fixtures and every user's uploads). "Run again" is refused
    with the reason, and a batch queued without its file fails without reading anything."""
    from parley.interchange.services import import_batch_run
    from parley.interchange.tasks import import_batch_queue
    from parley.runs.models import TaskRun

    f.locale("en-US")
    admin = f.member("platform_admin", None, username="root")
    batch = import_batch_create(format="massive", path=str(upload_store(SimpleUploadedFile("a.jsonl", b"not json\n"))),
                                actor=admin)
    with django_capture_on_commit_callbacks(execute=True):
        run = import_batch_queue(batch=batch, actor=admin)
    ImportBatch.objects.filter(pk=batch.pk).update(status="failed", finished_at=timezone.now() - timedelta(days=8))
    TaskRun.objects.filter(pk=run.pk).update(status="failed", error="worker lost: ...")
    assert import_files_clean()["batch_files"] == 1
    # What the worker's working directory holds: another user's rows.
    working_directory = tmp_path / "worker-cwd"
    working_directory.mkdir()
    (working_directory / "someone-elses.jsonl").write_text(jsonl(EN))
    monkeypatch.chdir(working_directory)

    client = APIClient()
    client.force_authenticate(admin)
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(f"/api/v1/task-runs/{run.pk}/run-again/")
    assert refused.status_code == 400, refused.content
    assert "upload it again" in refused.json()["error"]["message"] + str(refused.json()["error"].get("fields"))
    batch.refresh_from_db()
    run.refresh_from_db()
    assert (batch.status, run.status) == ("failed", "failed")

    # A batch queued with its file gone (e.g. before this check existed) fails, reading nothing.
    ImportBatch.objects.filter(pk=batch.pk).update(status="queued", error="", finished_at=None)
    batch.refresh_from_db()
    batch = import_batch_run(batch=batch, actor=admin)
    assert (batch.status, batch.rows_accepted) == ("failed", 0)
    assert "upload it again" in batch.error
    assert batch.rejects.count() == 1  # the first run's report (the line that is not JSON) stays
    assert not Utterance.objects.exists()
