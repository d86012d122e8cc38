"""A real web server process for tests that need one apart from the test process: its own
environment (a dead broker address, a serving mode), the test database, a port of its own."""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from workers import ROOT, _test_database_url


def start_server(command: list[str], *, port: int, log_path: Path, env: dict | None = None) -> subprocess.Popen:
    """Start `command` (runserver or gunicorn, listening on `port`) against the test database and
    wait until it answers /healthz (any status)."""
    full_env = {**os.environ, "DATABASE_URL": _test_database_url(), "PARLEY_TESTING": "1", **(env or {})}
    log = log_path.open("a")
    process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return process
        except urllib.error.HTTPError:
            return process  # it answers (503 is an answer)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"server on port {port} did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)


def runserver_command(port: int) -> list[str]:
    return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def request(url: str, *, method: str | None = None, token: str | None = None, body: dict | None = None,
            files: dict | None = None, fields: dict | None = None, timeout: float = 60) -> tuple[int, dict | str]:
    """(status, JSON body or text). `files` {name: (filename, bytes)} with `fields` makes a multipart body."""
    headers = {}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if files is not None:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in (fields or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, content) in files.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                         f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"),
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")
