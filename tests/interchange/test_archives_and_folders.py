"""MASSIVE as published (.tar.gz, folder of per-locale files) and hostile archives refused whole."""
import io
import json
import tarfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

import factories as f
from factories import DE, EN, EN2, JA, SL, jsonl
from parley.interchange.exports import massive_rows
from parley.interchange.formats.sources import ArchiveLimits, SourceRefused, archive_check
from parley.interchange.services import import_batch_create, import_batch_run
from parley.locales.selectors import locale_resolve
from parley.nlu.models import Utterance

pytestmark = pytest.mark.django_db
LIMITS = ArchiveLimits(max_unpacked_bytes=10_000_000, max_members=100)


@pytest.fixture
def registry():
    for tag, alias in [("en-US", "en-US"), ("de-DE", "de-DE"), ("ja-JP", "ja-JP"), ("sl-SI", "sl-SL")]:
        f.alias(f.locale(tag), alias)


def add_file(archive: tarfile.TarFile, name: str, data: bytes, **attrs) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    archive.addfile(info, io.BytesIO(data))


def massive_tarball(path, files: dict[str, str], extra=()) -> None:
    """The distribution's layout: amazon-massive-dataset-1.1.tar.gz → 1.1/data/<locale>.jsonl."""
    with tarfile.open(path, "w:gz") as archive:
        folder = tarfile.TarInfo("1.1/data")
        folder.type = tarfile.DIRTYPE
        archive.addfile(folder)
        add_file(archive, "1.1/LICENSE", b"CC BY 4.0\n")
        for locale, text in files.items():
            add_file(archive, f"1.1/data/{locale}.jsonl", text.encode())
        for name, data, attrs in extra:
            add_file(archive, name, data, **attrs)


def run(path, *, fmt="massive", **options):
    batch = import_batch_create(format=fmt, path=str(path), actor="test", **options)
    return import_batch_run(batch=batch, actor="test")


def test_distribution_tarball_imports_every_locale_file_and_exports_unchanged(registry, tmp_path):
    path = tmp_path / "amazon-massive-dataset-1.1.tar.gz"
    massive_tarball(path, {"de-DE": jsonl(DE), "en-US": jsonl(EN, EN2), "ja-JP": jsonl(JA), "sl-SL": jsonl(SL)})
    batch = run(path, create_missing=True)
    assert (batch.status, batch.rows_read, batch.rows_accepted, batch.rows_rejected) == ("completed", 5, 5, 0)
    assert Utterance.objects.get(locale__tag="sl-SI").provenance["file"] == "1.1/data/sl-SL.jsonl"
    assert list(massive_rows(locale=locale_resolve("en-US"))) == [EN, EN2]
    assert run(path, create_missing=True).rows_present == 5  # idempotent


def test_folder_of_per_locale_files(registry, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "de-DE.jsonl").write_text(jsonl(DE))
    (tmp_path / "data" / "en-US.jsonl").write_text(jsonl(EN))
    (tmp_path / "data" / "README.md").write_text("not data")
    batch = run(tmp_path / "data", create_missing=True)
    assert (batch.status, batch.rows_accepted) == ("completed", 2)


def test_unpacked_distribution_is_read_from_its_top_folder(registry, tmp_path):
    """A folder's subfolders are read too (1.1/data/…), in path order; links and hidden files are not."""
    data = tmp_path / "amazon-massive-dataset-1.1" / "1.1" / "data"
    data.mkdir(parents=True)
    (data / "en-US.jsonl").write_text(jsonl(EN))
    (data.parent / "de-DE.jsonl").write_text(jsonl(DE))
    (data / ".hidden.jsonl").write_text("not json")
    (data / "linked.jsonl").symlink_to(data / "en-US.jsonl")
    batch = run(tmp_path / "amazon-massive-dataset-1.1", create_missing=True)
    assert (batch.status, batch.rows_accepted, batch.rows_rejected) == ("completed", 2, 0)
    assert list(Utterance.objects.order_by("source_order").values_list("provenance__file", flat=True)) == [
        "1.1/data/en-US.jsonl", "1.1/de-DE.jsonl"]


@pytest.mark.parametrize("name, attrs, reason", [
    ("/etc/cron.d/evil.jsonl", {}, "absolute path"),
    ("1.1/../../evil.jsonl", {}, "outside the archive"),
    ("1.1/data/link.jsonl", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}, "is a link"),
    ("1.1/data/hard.jsonl", {"type": tarfile.LNKTYPE, "linkname": "1.1/LICENSE"}, "is a link"),
    ("1.1/data/fifo", {"type": tarfile.FIFOTYPE}, "not a regular file"),
])
def test_unsafe_member_refuses_the_whole_archive(registry, tmp_path, name, attrs, reason):
    path = tmp_path / "evil.tar.gz"
    data = b"" if attrs else jsonl(EN).encode()
    massive_tarball(path, {"de-DE": jsonl(DE)}, extra=[(name, data, attrs)])
    batch = run(path, create_missing=True)
    assert batch.status == "rejected" and reason in batch.error
    reject = batch.rejects.get()
    assert (reject.line, reject.field) == (0, "(file)") and name in reject.reason
    assert not Utterance.objects.exists()  # nothing half-written, not even the safe members


def test_unpacked_size_and_member_count_are_bounded(tmp_path):
    path = tmp_path / "big.tar.gz"
    massive_tarball(path, {f"l{n}": "x" * 600 for n in range(5)})
    with pytest.raises(SourceRefused, match="more than 3 members"):
        archive_check(path, limits=ArchiveLimits(max_unpacked_bytes=10**6, max_members=3))
    with pytest.raises(SourceRefused, match="unpacks to more than 2000 bytes"):
        archive_check(path, limits=ArchiveLimits(max_unpacked_bytes=2000, max_members=100))


def test_garbage_named_like_an_archive_is_refused_not_crashed(registry, tmp_path):
    path = tmp_path / "data.tar.gz"
    path.write_bytes(b"\x1f\x8b not really gzip")
    batch = run(path)
    assert batch.status == "rejected" and "not a readable tar archive" in batch.error


def test_api_refuses_an_unsafe_archive_at_upload(tmp_path):
    admin = f.member("platform_admin", None, username="root")
    path = tmp_path / "evil.tar.gz"
    massive_tarball(path, {}, extra=[("../escape.jsonl", jsonl(EN).encode(), {})])
    client = APIClient()
    client.force_authenticate(admin)
    response = client.post("/api/v1/imports/", {"file": SimpleUploadedFile("evil.tar.gz", path.read_bytes()),
                                                "format": "massive"}, format="multipart")
    assert response.status_code == 400
    assert "outside the archive" in response.json()["error"]["fields"]["file"][0]


def test_api_accepts_the_distribution_tarball(registry, tmp_path, django_capture_on_commit_callbacks):
    admin = f.member("platform_admin", None, username="root")
    path = tmp_path / "amazon-massive-dataset-1.1.tar.gz"
    massive_tarball(path, {"de-DE": jsonl(DE), "en-US": jsonl(EN)})
    client = APIClient()
    client.force_authenticate(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/", {"file": SimpleUploadedFile(path.name, path.read_bytes()),
                                                    "format": "massive", "create_missing": "true"},
                               format="multipart")
    assert response.status_code == 202, response.content
    batch = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert (batch["status"], batch["rows_accepted"]) == ("completed", 2)
    assert json.loads(b"".join(client.get("/api/v1/exports/massive/?locale=de-DE").streaming_content)) == DE


def test_oversized_header_record_is_refused_before_tarfile_reads_it(tmp_path):
    # tarfile would read a PAX header of any declared size into memory; it is sized first.
    path = tmp_path / "pax.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("1.1/data/en-US.jsonl")
        info.pax_headers = {"comment": "x" * (2 * 1024 * 1024)}
        data = jsonl(EN).encode()
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    with pytest.raises(SourceRefused, match="header record of"):
        archive_check(path, limits=LIMITS)
