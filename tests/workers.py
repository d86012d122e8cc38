"""Real Celery workers for tests: start one on a queue of its own against the test database, stop
it, and wait for a task run to finish. The `celery_worker_process` fixture (conftest) uses these;
a test that kills its worker starts another with them."""
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _test_database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_celery_worker(queue: str, log_path: Path, releases_dir, *, env: dict | None = None,
                        beat_schedule: Path | None = None) -> subprocess.Popen:
    """A real `celery worker` process on Redis, using the test database, consuming `queue`; `env`
    adds settings (e.g. heartbeat timings); `beat_schedule` embeds beat (-B) with that state file."""
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "PARLEY_CELERY_QUEUE": queue, "PARLEY_TESTING": "1",
           # the worker writes releases where this test reads them
           "PARLEY_RELEASES_DIR": str(releases_dir), **(env or {})}
    log = log_path.open("a")
    start = log_path.stat().st_size
    beat = ["-B", "-s", str(beat_schedule)] if beat_schedule else []
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "parley.config.celery", "worker", "--pool=solo", "--loglevel=INFO",
         "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{queue}-{uuid.uuid4().hex[:4]}@%h",
         *beat],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text()[start:]:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"celery worker did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


def stop_celery_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()




def wait_for_run(run, timeout: float = 60):
    """The task run once it succeeded or failed; fails the test if it is still going after `timeout`."""
    from parley.runs.models import TaskRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (TaskRun.Status.SUCCEEDED, TaskRun.Status.FAILED):
            return run
        time.sleep(0.2)
    pytest.fail(f"task run {run.pk} still {run.status} after {timeout}s")
