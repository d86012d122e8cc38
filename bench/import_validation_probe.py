"""CPU a row of the import's validation alone (parse, the utterance checks, normalize, bulk row),
on 20,000 synthetic MASSIVE rows already in memory, best of 5, nothing written. Load on a shared
machine moves this much less than wall-clock import times.

    DATABASE_URL=... .venv/bin/python bench/import_validation_probe.py [SOURCE_TREE]

SOURCE_TREE (default: this checkout) is another checkout whose platform/ code is measured, so a
base commit can be compared side by side with the same data. The locale packs must be loaded
(run `bench/run.py massive_import` once first).
"""
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
ROOT = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE
sys.path.insert(0, str(ROOT / "platform"))
sys.path.insert(0, str(HERE / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
os.environ.setdefault("PARLEY_TESTING", "1")

import django  # noqa: E402

django.setup()

import benchmarks  # noqa: E402
from parley.interchange import services  # noqa: E402
from parley.locales.models import LocaleAlias  # noqa: E402
from parley.nlu.services import utterance_bulk_row  # noqa: E402

ROWS = 20_000
tags = sorted(LocaleAlias.objects.filter(source="massive").values_list("tag", flat=True))
path = Path(tempfile.mkdtemp(prefix="parley-probe-")) / "corpus.jsonl"
benchmarks._synthetic_massive(path, ROWS, tags)
lines = path.read_text(encoding="utf-8").splitlines()
schema = services._Schema(create_missing=True, actor="bench", source="massive")
for line in lines[:2000]:  # resolve the locales and intents once, as an import's first rows do
    services._prepare_row("massive", json.loads(line), file=path.name, schema=schema, options={})
best = float("inf")
for _ in range(5):
    started = time.thread_time()
    for number, line in enumerate(lines):
        row, _field, _reason = services._prepare_row("massive", json.loads(line), file=path.name, schema=schema,
                                                     options={})
        row["provenance"]["file"] = path.name
        utterance_bulk_row(source="massive", source_order=number, **row)
    best = min(best, time.thread_time() - started)
print(f"import validation ({ROOT}): {best / ROWS * 1e6:.1f} µs CPU a row, best of 5 over {ROWS:,} rows")
