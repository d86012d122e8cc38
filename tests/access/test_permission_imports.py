"""Per-row import scope (issue 15, finding 2): every row of an import goes only to a locale its
starter may import into; creating shared schema needs a platform-wide grant; a starter limited to
some locales sees only its own batches.

Importers: a platform-wide admin in a session and through a token without a locale limit; the
same admin through a token limited to de-DE; a user holding the platform-admin role in de-DE
only; a locale lead of de-DE; a pipeline token (its role may not import).
"""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

import factories as f
from factories import DE, JA, jsonl
from parley.interchange.models import ImportBatch, ImportReject
from parley.locales.models import Locale
from parley.nlu.models import Intent, Scenario, SlotType, Utterance
from role_clients import api_client

pytestmark = pytest.mark.django_db

IN, OUT = "de-DE", "ja-JP"
IMPORTERS = ["admin", "admin_wide_token", "admin_de_token", "de_admin", "locale_lead", "pipeline_token"]


@pytest.fixture
def world():
    de, ja = f.locale(IN), f.locale(OUT)
    f.intent("alarm_set", "alarm", slots=["time", "date"])
    admin = f.member("platform_admin", None, username="admin")
    actors = {"admin": admin, "de_admin": f.member("platform_admin", de, username="de_admin"),
              "locale_lead": f.member("locale_lead", de, username="lead")}
    pipe = f.member("pipeline", None, username="pipe")
    tokens = {
        "admin_wide_token": f.token(admin, scopes=["imports:write"])[1],
        "admin_de_token": f.token(admin, scopes=["imports:write"], locales=[de])[1],
        "pipeline_token": f.token(pipe, scopes=["imports:write"], locales=[de])[1],
    }
    return {"de": de, "ja": ja, "actors": actors, "tokens": tokens}


def upload(client, rows, **options):
    file = SimpleUploadedFile("mixed.jsonl", jsonl(*rows).encode())
    return client.post("/api/v1/imports/", {"file": file, "format": "massive", **options}, format="multipart")


# importer: (status of the upload, locales written from a de-DE + ja-JP file)
MIXED_FILE = {
    "admin": (202, {IN, OUT}),
    "admin_wide_token": (202, {IN, OUT}),
    "admin_de_token": (202, {IN}),
    "de_admin": (202, {IN}),
    "locale_lead": (403, set()),
    "pipeline_token": (403, set()),
}


@pytest.mark.parametrize("importer", IMPORTERS)
def test_mixed_locale_file_writes_only_the_importers_locales(world, importer, django_capture_on_commit_callbacks):
    expected_status, written = MIXED_FILE[importer]
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api_client(world, importer), [DE, JA])
    assert response.status_code == expected_status, response.content
    assert set(Utterance.objects.values_list("locale__tag", flat=True)) == written
    if expected_status != 202:
        assert not ImportBatch.objects.exists()
        return
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.rows_accepted, batch.rows_rejected) == ("completed", len(written), 2 - len(written))
    if OUT not in written:
        reject = ImportReject.objects.get(batch=batch)
        # Named like any other reject: the row (file and line), the field and the locale.
        assert (reject.file, reject.line, reject.field) == ("mixed.jsonl", 2, "locale")
        assert f"locale {OUT!r} is outside the locales this import may write ({IN})" in reject.reason
        report = b"".join(api_client(world, importer).get(f"/api/v1/imports/{batch.pk}/rejects.csv/")
                          .streaming_content).decode()
        assert f"mixed.jsonl,2,locale,locale '{OUT}' is outside" in report


def test_locale_option_cannot_move_rows_out_of_scope(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api_client(world, "admin_de_token"), [DE], locale=OUT)
    assert response.status_code == 202, response.content
    assert not Utterance.objects.exists() and ImportBatch.objects.get().rows_rejected == 1


# importer: status of a create_missing upload (a new locale, scenario, intent and slot type)
CREATE_MISSING = {"admin": 202, "admin_wide_token": 202, "admin_de_token": 403, "de_admin": 403,
                  "locale_lead": 403, "pipeline_token": 403}


@pytest.mark.parametrize("importer", IMPORTERS)
def test_create_missing_needs_a_platform_wide_grant(world, importer, django_capture_on_commit_callbacks):
    new = {**DE, "id": "9", "locale": "de-AT", "scenario": "weather", "intent": "weather_query",
           "utt": "wetter in wien", "annot_utt": "wetter in [place_name : wien]"}
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api_client(world, importer), [new], create_missing="true")
    expected = CREATE_MISSING[importer]
    assert response.status_code == expected, response.content
    created = (Locale.objects.filter(tag="de-AT").exists(), Scenario.objects.filter(name="weather").exists(),
               Intent.objects.filter(name="weather_query").exists(),
               SlotType.objects.filter(name="place_name").exists())
    assert created == ((expected == 202),) * 4
    if importer in ("admin_de_token", "de_admin"):  # may import, but not create shared schema
        assert "platform-wide" in response.json()["error"]["message"]


def test_worker_refuses_create_missing_of_a_batch_whose_starter_lost_the_wide_grant(world, tmp_path):
    """The API refuses it up front; the worker asks again (a batch may have been queued before)."""
    from parley.access.models import ApiToken
    from parley.interchange.services import import_batch_create, import_batch_run

    token = ApiToken.objects.get(user=world["actors"]["admin"], locales=world["de"])
    path = tmp_path / "new.jsonl"
    path.write_text(jsonl({**DE, "scenario": "weather", "intent": "weather_query"}), encoding="utf-8")
    batch = import_batch_create(format="massive", path=str(path), actor=world["actors"]["admin"], token=token,
                                create_missing=True)
    batch = import_batch_run(batch=batch, actor="worker")
    assert batch.status == "failed" and "platform-wide" in batch.error
    assert not Intent.objects.filter(name="weather_query").exists() and not Utterance.objects.exists()


# importer: which importers' batches it sees in the list (and may open, with their rejects)
SEES = {
    "admin": set(IMPORTERS[:4]),
    "admin_wide_token": set(IMPORTERS[:4]),
    "admin_de_token": {"admin_de_token"},
    "de_admin": {"de_admin"},
}


@pytest.mark.parametrize("viewer", SEES)
def test_a_limited_starter_sees_only_its_own_batches(world, viewer, django_capture_on_commit_callbacks):
    batch_of = {}
    for importer in IMPORTERS[:4]:
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(api_client(world, importer), [DE, JA])
        assert response.status_code == 202, response.content
        batch_of[importer] = response.json()["id"]
    client = api_client(world, viewer)
    listed = {row["id"] for row in client.get("/api/v1/imports/").json()["results"]}
    assert listed == {batch_of[i] for i in SEES[viewer]}
    for importer, pk in batch_of.items():
        visible = importer in SEES[viewer]
        assert client.get(f"/api/v1/imports/{pk}/").status_code == (200 if visible else 404)
        assert client.get(f"/api/v1/imports/{pk}/rejects.csv/").status_code == (200 if visible else 404)
