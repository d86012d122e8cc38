"""Benchmarks: `make bench` (or `python bench/run.py NAME…`). Figures go in docs/benchmarks.md.

Each benchmark prints one line per figure; a ratio against a baseline run side by side in the
same process is reported where there is one. Uses DATABASE_URL when set (PostgreSQL), else a
throwaway SQLite file.
"""
import argparse
import os
import platform as stdlib_platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
os.environ.setdefault("PARLEY_TESTING", "1")
if not os.environ.get("DATABASE_URL"):
    os.environ["PARLEY_VAR_DIR"] = tempfile.mkdtemp(prefix="parley-bench-")


def setup_django():
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def machine() -> str:
    from django.db import connection

    return (f"{stdlib_platform.node()} · {os.cpu_count()} cores · Python {stdlib_platform.python_version()} · "
            f"{connection.vendor}")


def main() -> None:
    import benchmarks
    import feedback_bench  # noqa: F401  (registers its benchmarks in benchmarks.ALL)
    import collection_claims  # noqa: F401  (registers collection_claims in benchmarks.ALL)
    benchmarks.ALL.update(__import__("culture_render").ALL)  # issue 6: culture_render, culture_term_check

    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all): {', '.join(benchmarks.ALL)}")
    args = parser.parse_args()
    setup_django()
    print(f"# machine: {machine()}")
    for name in args.names or list(benchmarks.ALL):
        started = time.perf_counter()
        benchmarks.ALL[name]()
        print(f"# {name} finished in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
