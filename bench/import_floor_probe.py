"""The import's floor on this machine: the same pipeline (read, decode, provenance, writer thread,
COPY, index rebuild, VACUUM) with validation replaced by the bare minimum — no checks, no
annotation parse, no normalization — side by side with the full import, and the machine's busy CPU
per row for each (from /proc/stat: the importer and PostgreSQL together).

    DATABASE_URL=postgresql://…/import_bench BENCH_ROWS=200000 .venv/bin/python bench/import_floor_probe.py

If the floor is below a throughput goal, no amount of faster validation reaches the goal here.
"""
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
os.environ.setdefault("PARLEY_TESTING", "1")


def _busy_cpu_seconds() -> float:
    fields = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _minimal_row(record, schema, locale_override, *, keep=None):
    locale = schema.locale(locale_override or record["locale"])
    intent = schema.intent(record["intent"], record.get("scenario"))
    return {"locale_id": locale.pk, "intent_id": intent.pk, "text": record["utt"], "annotated": record["annot_utt"],
            "slots": [], "normalized": record["utt"].lower(), "external_id": str(record["id"]),
            "partition": record["partition"], "status": "promoted",
            "provenance": {"row": record, "fields": list(record), "file": None}, "findings": []}, "", ""


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    import benchmarks
    from parley.interchange import services
    from parley.locales.models import LocaleAlias
    from parley.locales.services import locale_packs_load

    rows = int(os.environ.get("BENCH_ROWS", 200_000))
    full_validation = services._validate_row
    for label, validate in (("floor (no validation)", _minimal_row), ("full import", full_validation),
                            ("floor (no validation)", _minimal_row)):
        benchmarks._clear_utterances()
        benchmarks._reset_locales()
        locale_packs_load(directory=settings.PARLEY_LOCALE_PACKS_DIR, actor="bench")
        tags = sorted(LocaleAlias.objects.filter(source="massive").values_list("tag", flat=True))
        path = os.path.join(tempfile.mkdtemp(prefix="parley-floor-"), "corpus.jsonl")
        benchmarks._synthetic_massive(path, rows, tags)
        services._validate_row = validate
        try:
            busy, started, cpu = _busy_cpu_seconds(), time.perf_counter(), time.process_time()
            batch = services.import_batch_run(batch=services.import_batch_create(
                format="massive", path=path, actor="bench", create_missing=True), actor="bench")
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            busy = _busy_cpu_seconds() - busy
        finally:
            services._validate_row = full_validation
        assert batch.rows_accepted == rows, batch.rows_accepted
        print(f"{label}, {rows:,} rows: {seconds:.1f} s, {rows / seconds:,.0f} rows/s; machine busy CPU "
              f"{busy / rows * 1e6:.0f} µs a row (importer {cpu / rows * 1e6:.0f}, the rest — PostgreSQL — "
              f"{(busy - cpu) / rows * 1e6:.0f}); {busy / seconds:.2f} of {os.cpu_count()} cores busy")


if __name__ == "__main__":
    main()
