"""PostgreSQL connections are bounded per serving process: many concurrent clients of a live
server (runserver: a thread per request; gunicorn with threads) never hold more connections than
the pool allows, and a database that cannot be reached answers 503, never 500."""
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from servers import request, runserver_command, start_server, stop_server

PORT = 8111
CLIENTS = 40
POOL = 3
APP_NAME = "parley-connection-bound-test"  # libpq names the server's connections (PGAPPNAME)


def connections_to_test_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND application_name = %s", [APP_NAME])
        return cursor.fetchone()[0]


def hammer(url: str, rounds: int = 4) -> tuple[list[int], int]:
    """CLIENTS concurrent clients, `rounds` requests each; (statuses, most connections seen meanwhile)."""
    most = 0
    done = threading.Event()

    def sample():
        nonlocal most
        while not done.is_set():
            most = max(most, connections_to_test_database())
            done.wait(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as clients:
            statuses = list(clients.map(lambda _: request(url, timeout=120)[0], range(CLIENTS * rounds)))
    finally:
        done.set()
        sampler.join()
    return statuses, max(most, connections_to_test_database())


def gunicorn_command(*, workers: int, threads: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "parley.config.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
            "--workers", str(workers), "--threads", str(threads)]


@pytest.fixture
def pool_env():
    # No broker: /healthz asks only the database here, as fast as it can.
    return {"PARLEY_DB_POOL_MAX_SIZE": str(POOL), "PARLEY_DB_POOL_TIMEOUT_SECONDS": "60", "REDIS_URL": "",
            "PGAPPNAME": APP_NAME}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_runserver_holds_at_most_the_pool_under_many_clients(tmp_path, pool_env):
    server = start_server(runserver_command(PORT), port=PORT, log_path=tmp_path / "server.log", env=pool_env)
    try:
        statuses, most = hammer(f"http://127.0.0.1:{PORT}/healthz")
    finally:
        stop_server(server)
    assert statuses == [200] * len(statuses), (sorted(set(statuses)), (tmp_path / "server.log").read_text()[-2000:])
    assert 1 <= most <= POOL


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_gunicorn_with_threads_holds_at_most_workers_times_the_pool(tmp_path, pool_env):
    server = start_server(gunicorn_command(workers=2, threads=8), port=PORT, log_path=tmp_path / "server.log",
                          env={**pool_env, "PYTHONPATH": "platform"})
    try:
        statuses, most = hammer(f"http://127.0.0.1:{PORT}/healthz")
    finally:
        stop_server(server)
    assert statuses == [200] * len(statuses), (sorted(set(statuses)), (tmp_path / "server.log").read_text()[-2000:])
    assert 1 <= most <= 2 * POOL


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_that_cannot_be_reached_answers_503_in_the_error_shape(tmp_path):
    env = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:5499/nothing", "REDIS_URL": "",
           "PARLEY_DB_POOL_TIMEOUT_SECONDS": "1", "PYTHONPATH": "platform"}
    # gunicorn, as runserver refuses to start without its database (it checks migrations first).
    server = start_server(gunicorn_command(workers=1, threads=2), port=PORT, log_path=tmp_path / "server.log", env=env)
    try:
        api_status, api_body = request(f"http://127.0.0.1:{PORT}/api/v1/locales/",
                                       token="prl_abcdefgh_" + "x" * 40)
        health_status, health = request(f"http://127.0.0.1:{PORT}/healthz")
    finally:
        stop_server(server)
    assert api_status == 503 and api_body["error"]["code"] == "unavailable", api_body
    assert health_status == 503 and health["database"]["ok"] is False
