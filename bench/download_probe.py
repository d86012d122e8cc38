"""Child process of the release benchmark: stream a release's downloads and report rows/s and
this process's peak resident memory (VmHWM), so the figure is the download's alone.

Modes: raw (read the files, the baseline), locale (every locale's jsonl through the API view with
a platform admin's session), targz (the whole release as one streamed tar.gz through the API)."""
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
os.environ.setdefault("PARLEY_TESTING", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from parley.datasets.build import release_folder  # noqa: E402
from parley.datasets.models import Release, ReleaseFile  # noqa: E402

settings.ALLOWED_HOSTS = ["*"]
release = Release.objects.get(pk=int(sys.argv[1]))
mode = sys.argv[2]
files = list(ReleaseFile.objects.filter(release=release, kind="massive").select_related("locale"))
rows = sum(f.rows for f in files)
streamed = 0
started = time.perf_counter()
if mode == "raw":
    for entry in files:
        with (release_folder(release) / entry.path).open("rb") as handle:
            while piece := handle.read(256 * 1024):
                streamed += len(piece)
else:
    admin = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
        "bench-admin", password="bench-admin-pw")
    client = Client()
    client.force_login(admin)
    urls = ([f"/api/v1/releases/{release.pk}/download/?locale={f.locale.tag}" for f in files] if mode == "locale"
            else [f"/api/v1/releases/{release.pk}/download/"])
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        for piece in response.streaming_content:
            streamed += len(piece)
seconds = time.perf_counter() - started
peak_mb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
label = {"raw": "raw read of the release's jsonl files (baseline)", "locale": "download every locale's jsonl via "
         "the API", "targz": "download the whole release as one tar.gz via the API"}[mode]
print(f"{label}: {rows:,} rows, {streamed / 1e6:,.0f} MB in {seconds:.1f} s, {rows / seconds:,.0f} rows/s; "
      f"peak RSS {peak_mb:.0f} MB")
