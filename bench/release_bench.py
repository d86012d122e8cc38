"""Release benchmarks: build and publish a release of every promoted row (goal: 1M rows over 52
locales in < 60 s), build the next version (diff of 1M rows against the previous), and stream
downloads in a fresh process (goal ≥ 100k rows/s, flat memory) against a raw read of the same files.

Uses the promoted rows in the database; when there are fewer than BENCH_ROWS, it first imports the
synthetic MASSIVE corpus of `massive_import` (not timed). MASSIVE rows with a partition arrive
promoted, so they are exactly what a release carries.
"""
import os
import subprocess
import sys
import time
from pathlib import Path


def release_build_bench():
    from django.conf import settings

    import benchmarks
    from parley.datasets.build import release_build
    from parley.datasets.services import release_create
    from parley.nlu.models import Utterance

    rows = int(os.environ.get("BENCH_ROWS", 100_000))
    if Utterance.objects.filter(status="promoted").count() < rows:
        benchmarks.massive_import()
    promoted = Utterance.objects.filter(status="promoted").count()
    settings.PARLEY_RELEASES_DIR = Path(os.environ.get("BENCH_RELEASES_DIR") or
                                        Path(settings.VAR_DIR) / "bench-releases")
    name = f"bench-{int(time.time())}"
    started = time.perf_counter()
    first = release_build(release=release_create(name=name, actor="bench"), actor="bench")
    seconds = time.perf_counter() - started
    assert first.status == "published", first.error[:500]
    locales = len(first.manifest["locales"])
    print(f"release build {first.rows:,} rows ({promoted:,} promoted) over {locales} locales, first version: "
          f"{seconds:.1f} s, {first.rows / seconds:,.0f} rows/s (jsonl + index + lexicon + manifest, sha256 of "
          f"every file, atomic publish)")
    started = time.perf_counter()
    second = release_build(release=release_create(name=name, actor="bench"), actor="bench")
    seconds = time.perf_counter() - started
    assert second.status == "published", second.error[:500]
    print(f"release build, next version (diff and regression guard against {first.rows:,} previous rows): "
          f"{seconds:.1f} s")
    probe = Path(__file__).with_name("download_probe.py")
    for mode in ("raw", "locale", "targz"):
        result = subprocess.run([sys.executable, str(probe), str(second.pk), mode], capture_output=True, text=True,
                                check=True, env={**os.environ, "PARLEY_RELEASES_DIR": str(settings.PARLEY_RELEASES_DIR)})
        print(result.stdout.strip())
