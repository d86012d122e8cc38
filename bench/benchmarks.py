"""The benchmark bodies. Each resets the tables it uses, so runs are repeatable."""
import statistics
import time

from django.conf import settings


def _timed(fn, repeat=3):
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _clear_utterances():
    """Empty the utterance table fast (the ORM's delete would load a million rows first)."""
    from django.db import connection

    from parley.nlu.models import Utterance

    table = Utterance._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} CASCADE" if connection.vendor == "postgresql" else f"DELETE FROM {table}")


def _reset_locales():
    from parley.access.models import Membership
    from parley.datasets.models import Release, ReleaseFile, TestRetirement
    from parley.events.models import Event
    from parley.locales.models import Locale, LocaleAlias

    # Releases keep their locales (PROTECT); a benchmark starting over drops its releases first.
    ReleaseFile.objects.all().delete()
    TestRetirement.objects.all().delete()
    Release.objects.update(previous=None)
    Release.objects.all().delete()
    Membership.objects.all().delete()
    LocaleAlias.objects.all().delete()
    Locale.objects.update(parent=None)
    Locale.objects.all().delete()
    Event.objects.all().delete()


def locales_bootstrap_1000():
    """Register 1,000 planned locales from CLDR data, against a baseline bulk insert of bare rows."""
    from parley.locales import cldr
    from parley.locales.models import Locale
    from parley.locales.services import locales_bootstrap

    def run():
        _reset_locales()
        return locales_bootstrap(top=1000, actor="bench")

    def baseline():
        _reset_locales()
        tags = cldr.bootstrap_candidates(1000)
        Locale.objects.bulk_create([Locale(tag=t, language=t.split("-")[0], english_name=t) for t in tags],
                                   batch_size=500)

    seconds, result = _timed(run)
    base, _ = _timed(baseline)
    assert result["created"] == 1000
    print(f"locales_bootstrap --top 1000: {seconds:.2f} s median of 3 "
          f"(bare bulk insert of the same tags: {base:.3f} s; ratio {seconds / base:.1f}x)")


def locale_packs_load():
    """Load the 52 shipped packs into an empty registry, then again (idempotent, nothing to do)."""
    from parley.locales.services import locale_packs_load as load

    def first():
        _reset_locales()
        return load(directory=settings.PARLEY_LOCALE_PACKS_DIR, actor="bench")

    seconds, _ = _timed(first)
    again, counts = _timed(lambda: load(directory=settings.PARLEY_LOCALE_PACKS_DIR, actor="bench"))
    assert counts["unchanged"] == 52
    print(f"locales_load (52 packs): first load {seconds:.2f} s, reload with nothing to change {again:.2f} s")


ALL = {
    "locales_bootstrap_1000": locales_bootstrap_1000,
    "locale_packs_load": locale_packs_load,
}


def _synthetic_massive(path, rows: int, locales: list[str]) -> None:
    """A deterministic MASSIVE-format corpus: rows spread over locales and 60 intents, 0–1 slots."""
    import json
    import random

    rng = random.Random(7)
    words = ["wake", "me", "up", "please", "tomorrow", "set", "an", "alarm", "for", "the", "kitchen", "lights"]
    shapes = ["wake me up at [time : {a} am] {b}", "what is the weather in [place_name : {a}] {b}",
              "turn off the lights {b}"]
    intents = [(f"scenario{n % 18}", f"scenario{n % 18}_action{n}") for n in range(60)]
    with open(path, "w", encoding="utf-8") as out:
        for i in range(rows):
            scenario, intent = intents[i % 60]
            a = rng.choice(words)
            b = " ".join(rng.choice(words) for _ in range(rng.randint(1, 6))) + f" {i}"
            annot = shapes[i % 3].format(a=a, b=b)
            utt = annot.replace("[time : ", "").replace("[place_name : ", "").replace("]", "")
            row = {"id": str(i), "locale": locales[i % len(locales)], "partition": ("train", "dev", "test")[i % 3],
                   "scenario": scenario, "intent": intent, "utt": utt, "annot_utt": annot, "worker_id": str(i % 50),
                   "slot_method": [], "judgments": []}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def massive_import():
    """Import N synthetic MASSIVE rows over the 52 shipped locales (BENCH_ROWS, default 100,000).

    Baseline side by side (PostgreSQL): COPY of the same rows' fields into a bare table.
    """
    import os
    import tempfile

    from django.db import connection

    from parley.interchange.services import import_batch_create, import_batch_run
    from parley.locales.services import locale_packs_load as load

    rows = int(os.environ.get("BENCH_ROWS", 100_000))
    _clear_utterances()
    _reset_locales()
    load(directory=settings.PARLEY_LOCALE_PACKS_DIR, actor="bench")
    from parley.locales.models import LocaleAlias

    tags = sorted(LocaleAlias.objects.filter(source="massive").values_list("tag", flat=True))
    path = os.path.join(tempfile.mkdtemp(prefix="parley-bench-"), "corpus.jsonl")
    _synthetic_massive(path, rows, tags)
    started, cpu_started = time.perf_counter(), time.process_time()
    batch = import_batch_run(batch=import_batch_create(format="massive", path=path, actor="bench",
                                                       create_missing=True), actor="bench")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert batch.rows_accepted == rows, (batch.rows_accepted, batch.rows_rejected)
    # CPU per row of this process (every thread) changes little when others share the machine.
    line = (f"massive import {rows:,} rows: {seconds:.1f} s, {rows / seconds:,.0f} rows/s (full validation; "
            f"importing process {cpu / rows * 1e6:.0f} µs CPU a row)")
    if connection.vendor == "postgresql":
        import json

        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_raw_copy")
            cursor.execute("CREATE TABLE bench_raw_copy (id text, locale text, partition text, intent text, "
                           "utt text, annot_utt text, row jsonb)")
        started = time.perf_counter()
        with connection.cursor() as cursor, open(path, encoding="utf-8") as handle:
            with cursor.copy("COPY bench_raw_copy FROM STDIN") as copy:
                for raw in handle:
                    r = json.loads(raw)
                    copy.write_row((r["id"], r["locale"], r["partition"], r["intent"], r["utt"], r["annot_utt"],
                                    raw.strip()))
        copy_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_raw_copy")
        line += f"; raw COPY of the same rows: {copy_seconds:.1f} s ({rows / copy_seconds:,.0f} rows/s), " \
                f"ratio {seconds / copy_seconds:.1f}x"
    print(line)
    _export_in_a_fresh_process(rows)
    _coverage_timing(rows)


def _export_in_a_fresh_process(rows: int) -> None:
    """Export every locale in a child process, so its peak RSS is the export's own."""
    import subprocess
    import sys
    from pathlib import Path

    probe = Path(__file__).with_name("export_probe.py")
    result = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True, check=True)
    print(result.stdout.strip())


def _coverage_timing(rows: int) -> None:
    """What GET /api/v1/coverage/ computes for a platform admin: one GROUP BY, both views."""
    from parley.nlu.selectors import coverage_cells, coverage_counts, coverage_matrix

    def both():
        cells = coverage_cells()
        return len(coverage_counts(cells=cells)), len(coverage_matrix(cells=cells))

    seconds, (status_rows, target_cells) = _timed(both, repeat=5)
    print(f"coverage over {rows:,} rows: {seconds * 1000:.0f} ms median of 5 ({status_rows:,} status rows, "
          f"{target_cells:,} target cells, one GROUP BY)")


ALL["massive_import"] = massive_import


def release_build():
    import release_bench

    release_bench.release_build_bench()


ALL["release_build"] = release_build
