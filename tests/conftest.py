"""Test setup shared by every app's tests.

Tests that need real services carry a marker (postgres, redis, worker, browser, compose). Without
the service they skip, unless PARLEY_REQUIRE_SERVICES=1 (CI), where they fail instead: nothing
that CI is meant to exercise may be skipped silently.
"""
import os
import shutil
import uuid
from pathlib import Path

import pytest

from workers import start_celery_worker, stop_celery_worker

REQUIRE_SERVICES = os.environ.get("PARLEY_REQUIRE_SERVICES") == "1"
ROOT = Path(__file__).resolve().parents[1]


def _postgres_missing():
    from django.db import connection

    return None if connection.vendor == "postgresql" else f"database is {connection.vendor}; set DATABASE_URL to PostgreSQL"


def _redis_missing():
    url = os.environ.get("REDIS_URL")
    if not url:
        return "REDIS_URL is not set"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # the reason is the message
        return f"Redis at {url} is unreachable: {exc}"
    return None


def _browser_missing():
    if not os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium is not installed (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


def _compose_missing():
    if shutil.which("docker-compose"):
        return None
    return "docker-compose is not installed (apt-get install docker-compose)"


REQUIREMENTS = {
    "postgres": [_postgres_missing],
    "redis": [_redis_missing],
    "worker": [_postgres_missing, _redis_missing],
    "browser": [_browser_missing],
    "compose": [_compose_missing],
}


def pytest_sessionstart(session):
    if REQUIRE_SERVICES:
        missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
        if missing:
            raise pytest.UsageError(f"PARLEY_REQUIRE_SERVICES=1 but {', '.join(missing)} not set")


@pytest.fixture(autouse=True)
def _services_for_marked_tests(request):
    for name, checks in REQUIREMENTS.items():
        if request.node.get_closest_marker(name) is None:
            continue
        for check in checks:
            reason = check()
            if reason:
                if REQUIRE_SERVICES:
                    pytest.fail(f"[{name}] required by PARLEY_REQUIRE_SERVICES=1: {reason}")
                pytest.skip(f"[{name}] {reason}")


@pytest.fixture(autouse=True)
def _eager_celery_unless_worker(request):
    """Tests run tasks in-process unless they start a real worker (marker `worker`)."""
    from parley.config.celery import app

    if request.node.get_closest_marker("worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher is slow by design; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _read_copies_forgotten():
    """Each test's database is rolled back under the read-path copies (tokens, locale registry,
    templates); production never rewinds, so each test starts with none."""
    from parley.config.generations import memos_clear

    memos_clear()
    yield
    memos_clear()


@pytest.fixture(autouse=True)
def _releases_dir(settings, tmp_path):
    # Each test publishes releases into a folder of its own.
    settings.PARLEY_RELEASES_DIR = tmp_path / "releases"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real worker on a queue of its own; tasks sent during the test go to it. Yields
    (process, log path); a test may kill it and start another on the queue (`app.conf.task_default_queue`)."""
    from django.conf import settings

    from parley.config.celery import app

    queue = f"parley-test-{uuid.uuid4().hex[:8]}"
    log_path = tmp_path / "worker.log"
    log_path.touch()
    process = start_celery_worker(queue, log_path, settings.PARLEY_RELEASES_DIR)
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        yield process, log_path
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        stop_celery_worker(process)
