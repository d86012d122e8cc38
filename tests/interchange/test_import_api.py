"""Uploading an import through the API and the admin; progress, reject report, export stream."""
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

import factories as f
from factories import DE, EN, JA, jsonl
from parley.interchange.models import ImportBatch
from parley.nlu.models import Utterance

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    f.locale("en-US"), f.locale("de-DE")
    return f.member("platform_admin", None, username="root")


def test_api_upload_runs_import_and_reports_rejects(admin_user, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_authenticate(admin_user)
    upload = SimpleUploadedFile("batch.jsonl", (jsonl(EN, DE) + "{oops\n").encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/", {"file": upload, "format": "massive", "create_missing": "true"},
                               format="multipart")
    assert response.status_code == 202, response.content
    batch = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert (batch["status"], batch["rows_accepted"], batch["rows_rejected"]) == ("completed", 2, 1)
    run = client.get(f"/api/v1/task-runs/{batch['task_run']}/").json()
    assert run["status"] == "succeeded" and run["done"] == 3
    report = b"".join(client.get(f"/api/v1/imports/{batch['id']}/rejects.csv/").streaming_content).decode()
    assert report.splitlines()[0] == "file,line,field,reason,excerpt"
    # The report names the file as the client called it, never the generated storage name.
    assert report.splitlines()[1].startswith("batch.jsonl,3,(line),invalid JSON")
    assert not ImportBatch.objects.get().path.endswith("batch.jsonl")
    exported = b"".join(client.get("/api/v1/exports/massive/?locale=de-DE").streaming_content).decode()
    assert [json.loads(line) for line in exported.splitlines()] == [DE]


def test_upload_refuses_wrong_kind_of_file_with_field_error(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    response = client.post("/api/v1/imports/", {"file": SimpleUploadedFile("x.exe", b"MZ"), "format": "massive"},
                           format="multipart")
    assert response.status_code == 400 and "file" in response.json()["error"]["fields"]


def test_upload_over_the_size_limit_is_refused(admin_user, settings):
    settings.PARLEY_IMPORT_MAX_BYTES = 10
    client = APIClient()
    client.force_authenticate(admin_user)
    response = client.post("/api/v1/imports/", {"file": SimpleUploadedFile("a.jsonl", jsonl(EN).encode()),
                                                "format": "massive"}, format="multipart")
    assert response.status_code == 400 and "over the limit" in response.json()["error"]["fields"]["file"][0]


def test_admin_upload_and_edit_with_validation(admin_user, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/interchange/importbatch/add/", {
            "format": "massive", "upload": SimpleUploadedFile("en.jsonl", jsonl(EN).encode()), "create_missing": "on"})
    assert response.status_code == 302
    utterance = Utterance.objects.get()
    url = f"/admin/nlu/utterance/{utterance.pk}/change/"
    bad = client.post(url, {"intent": utterance.intent.pk, "annotated": "wake me up at [time five am]"})
    assert bad.status_code == 200 and "position" in bad.content.decode()
    good = client.post(url, {"intent": utterance.intent.pk,
                             "annotated": "wake me up at [time : five am] this week"})
    assert good.status_code == 302
    utterance.refresh_from_db()
    assert utterance.text == "wake me up at five am this week"
    assert utterance.slots == [{"type": "time", "value": "five am", "start": 14, "end": 21}]


def test_api_edit_rejects_bad_annotation_with_position(admin_user):
    intent = f.intent("alarm_set", "alarm", slots=["time"])
    utterance = Utterance.objects.create(locale=f.locale("de-DE"), intent=intent, text="x", annotated="x",
                                         normalized="x", source="manual")
    client = APIClient()
    client.force_authenticate(admin_user)
    response = client.patch(f"/api/v1/utterances/{utterance.pk}/", {"annotated": "um [time : ]"}, format="json")
    assert response.status_code == 400
    assert "position" in response.json()["error"]["fields"]["annotated"][0]


def test_export_api_streams_each_format_and_names_bad_parameters(admin_user, tmp_path):
    path = tmp_path / "en.jsonl"
    path.write_text(jsonl(EN), encoding="utf-8")
    from parley.interchange.services import import_batch_create, import_batch_run

    import_batch_run(batch=import_batch_create(format="massive", path=str(path), actor="t", create_missing=True),
                     actor="t")
    client = APIClient()
    client.force_authenticate(admin_user)

    def body(url):
        response = client.get(url)
        assert response.status_code == 200, response.content
        return b"".join(response.streaming_content).decode()

    slurp = json.loads(body("/api/v1/exports/slurp/?locale=en-US"))
    assert (slurp["sentence"], slurp["intent"], slurp["action"]) == (EN["utt"], "alarm_set", "set")
    conll = body("/api/v1/exports/conll/?locale=en-US&partition=test")
    assert "# intent = alarm_set" in conll and "\tB-time" in conll  # xSID-0.7's comment style
    assert body("/api/v1/exports/conll/?locale=en-US&partition=train") == ""
    assert client.get("/api/v1/exports/yaml/?locale=en-US").json()["error"]["code"] == "not_found"
    bad = client.get("/api/v1/exports/massive/?locale=en-US&partition=holdout")
    assert bad.status_code == 400 and "partition" in bad.json()["error"]["fields"]


def test_slurp_case_only_differences_are_accepted_and_exported_as_written(tmp_path):
    from parley.interchange.exports import slurp_rows
    from parley.interchange.services import import_batch_create, import_batch_run
    from parley.locales.selectors import locale_resolve

    f.locale("en-US")
    rows = [
        {"slurp_id": 1, "sentence": "what is on friday", "sentence_annotation": "what is on [date : Friday]",
         "scenario": "calendar", "action": "query", "intent": "calendar_query"},
        {"slurp_id": 2, "sentence": "play some jazz", "sentence_annotation": "play some [music_genre : jazz]",
         "scenario": "play", "action": "music", "intent": "music"},
        {"slurp_id": 3, "sentence": "weather in orlando fl",
         "sentence_annotation": "weather in [place_name : orlando florida]", "scenario": "weather",
         "action": "query", "intent": "weather_query"},
    ]
    path = tmp_path / "devel.jsonl"
    path.write_text(jsonl(*rows), encoding="utf-8")
    batch = import_batch_run(batch=import_batch_create(format="slurp", path=str(path), actor="t",
                                                       create_missing=True), actor="t")
    assert (batch.rows_accepted, batch.rows_rejected) == (2, 1)  # a real mismatch is still rejected
    reject = batch.rejects.get()
    assert (reject.line, reject.field) == (3, "annot_utt") and "text_mismatch" in reject.reason
    stored = Utterance.objects.get(external_id="1")
    # both texts kept as published, the case-only difference stored as a warning of the checks registry
    assert (stored.text, stored.annotated, stored.partition) == ("what is on friday", "what is on [date : Friday]", "dev")
    assert stored.slots == [{"type": "date", "value": "friday", "start": 11, "end": 17}]
    from parley.checks.selectors import results_for
    [warning] = results_for(target=stored)
    assert (warning.check_id, warning.severity, warning.field, warning.position) == (
        "utterance.text_case_differs", "warning", "text", 11)
    assert not results_for(target=Utterance.objects.get(external_id="2")).exists()
    assert Utterance.objects.get(external_id="2").intent.name == "play_music"
    assert list(slurp_rows(locale=locale_resolve("en-US"))) == rows[:2]  # as the file wrote them


def test_export_filename_never_carries_the_raw_parameter(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    response = client.get("/api/v1/exports/massive/", {"locale": "de-DE\n"})
    assert response.status_code == 200 and response["Content-Disposition"].endswith('"de-DE.jsonl"')


def test_admin_batch_page_shows_the_first_rejects_and_links_the_full_report(admin_user, tmp_path):
    from parley.interchange.admin import INLINE_REJECTS
    from parley.interchange.services import import_batch_create, import_batch_run

    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n" * (INLINE_REJECTS + 5), encoding="utf-8")
    batch = import_batch_run(batch=import_batch_create(format="massive", path=str(path), actor="t"), actor="t")
    assert batch.rows_rejected == INLINE_REJECTS + 5
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/interchange/importbatch/{batch.pk}/change/").content.decode()
    assert page.count("field-reason") == INLINE_REJECTS and "the reject report has them all" in page
    report = client.get(f"/api/v1/imports/{batch.pk}/rejects.csv")
    assert report.status_code == 200
    assert b"".join(report.streaming_content if report.streaming else [report.content]).count(
        b"invalid JSON") == INLINE_REJECTS + 5


def _queued_upload(client, rows, django_capture_on_commit_callbacks):
    """Upload through the API; return the batch id and the callbacks that would queue its task."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/api/v1/imports/", {"file": SimpleUploadedFile("de.jsonl", jsonl(*rows).encode()),
                                                    "format": "massive"}, format="multipart")
    assert response.status_code == 202, response.content
    return response.json()["id"], callbacks


def assert_run_refused_like(batch):
    """The batch's run reads failed with the batch's reason, after its one attempt (a refusal is
    not retried), and says so in the event log."""
    from parley.events.models import Event

    run = batch.task_run
    run.refresh_from_db()
    assert (run.status, run.error, run.attempts) == ("failed", batch.error, 1)
    assert Event.objects.get(verb="task_run.failed", target_id=str(run.pk)).payload == {"error": batch.error}


def test_a_token_revoked_before_the_worker_runs_writes_nothing(django_capture_on_commit_callbacks):
    from parley.access.services import token_revoke

    de = f.locale("de-DE")
    f.intent("alarm_set", "alarm", slots=["time", "date"])
    admin = f.member("platform_admin", None, username="root")
    token, plaintext = f.token(admin, scopes=["imports:write"], locales=[de])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    batch_id, callbacks = _queued_upload(client, [DE], django_capture_on_commit_callbacks)
    batch = ImportBatch.objects.get(pk=batch_id)
    assert batch.token == token and batch.started_with == {"user": admin.pk, "token": token.pk,
                                                           "token_locales": [de.pk]}
    token_revoke(token=token, actor="test")
    for callback in callbacks:
        callback()  # the worker picks the task up now
    batch.refresh_from_db()
    assert batch.status == "failed" and "revoked" in batch.error
    assert not Utterance.objects.exists()
    assert_run_refused_like(batch)


def test_a_starter_who_lost_the_role_before_the_worker_runs_writes_nothing(django_capture_on_commit_callbacks):
    from parley.access.models import Membership
    from parley.access.services import membership_revoke

    de = f.locale("de-DE")
    f.intent("alarm_set", "alarm", slots=["time", "date"])
    admin = f.member("platform_admin", de, username="de-admin")
    client = APIClient()
    client.force_authenticate(admin)
    batch_id, callbacks = _queued_upload(client, [DE], django_capture_on_commit_callbacks)
    membership_revoke(membership=Membership.objects.get(user=admin), actor="test")
    for callback in callbacks:
        callback()
    batch = ImportBatch.objects.get(pk=batch_id)
    assert batch.status == "failed" and "may no longer import" in batch.error
    assert_run_refused_like(batch)
    assert not Utterance.objects.exists()


@pytest.mark.worker
def test_real_worker_asks_the_batchs_starter_again(celery_worker_process, tmp_path):
    """A worker process runs the batches: the de-DE token's rows outside de-DE are rejects, and
    the batch of a token revoked after queueing writes nothing."""
    from parley.access.services import token_revoke
    from parley.interchange.services import import_batch_create
    from parley.interchange.tasks import import_batch_queue
    from parley.runs.models import TaskRun
    from workers import wait_for_run

    de, _ = f.locale("de-DE"), f.locale("ja-JP")
    f.intent("alarm_set", "alarm", slots=["time", "date"])
    admin = f.member("platform_admin", None, username="root")
    limited, _ = f.token(admin, scopes=["imports:write"], locales=[de])
    revoked, _ = f.token(admin, scopes=["imports:write"], locales=[de])
    path = tmp_path / "mixed.jsonl"
    path.write_text(jsonl(DE, JA), encoding="utf-8")
    kept = import_batch_create(format="massive", path=str(path), actor=admin, token=limited)
    lost = import_batch_create(format="massive", path=str(path), actor=admin, token=revoked)
    token_revoke(token=revoked, actor="test")
    runs = [import_batch_queue(batch=batch, actor=admin) for batch in (kept, lost)]
    kept_run, lost_run = (wait_for_run(run) for run in runs)
    assert kept_run.status == TaskRun.Status.SUCCEEDED
    kept.refresh_from_db(), lost.refresh_from_db()
    assert (kept.status, kept.rows_accepted, kept.rows_rejected) == ("completed", 1, 1)
    assert "outside the locales this import may write" in kept.rejects.get().reason
    assert lost.status == "failed" and "revoked" in lost.error
    assert lost_run.status == TaskRun.Status.FAILED
    assert_run_refused_like(lost)  # with the batch's reason, after one attempt
    assert list(Utterance.objects.values_list("locale__tag", flat=True)) == ["de-DE"]
