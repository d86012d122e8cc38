"""gunicorn serving the app on 127.0.0.1 for the real-HTTP probes (feedback ingest, render).

Run a probe as `python bench/<probe>.py`: bench/ is then on sys.path and this module puts
platform/ there and sets up Django (`django_ready`)."""
import contextlib
import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")


def django_ready() -> None:
    """Django set up and the database migrated, as the probes need before building their world."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


@contextlib.contextmanager
def gunicorn_serving(*, port: int, workers: int, threads: int = 1, env: dict | None = None):
    """Start gunicorn (sync workers, or gthread with keep-alive when threads > 1), wait for
    /healthz, yield, stop it."""
    environment = {**os.environ, "PARLEY_DEBUG": "0", "PYTHONPATH": str(ROOT / "platform"), **(env or {})}
    command = [sys.executable, "-m", "gunicorn", "parley.config.wsgi", "-b", f"127.0.0.1:{port}",
               "-w", str(workers), "--keep-alive", "30", "--log-level", "warning"]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    server = subprocess.Popen(command, cwd=ROOT, env=environment)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                probe.request("GET", "/healthz")
                probe.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start")
                time.sleep(0.3)
        yield
    finally:
        server.terminate()
        server.wait(timeout=20)
