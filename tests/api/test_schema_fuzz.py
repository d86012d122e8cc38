"""Schema fuzz run (issue 15, finding 17): schemathesis generates requests from the published
OpenAPI schema against a live server on PostgreSQL and fails on any 5xx, on any response that
the schema does not describe (body, content type, status code) and on any request that violates
the schema but is accepted.

Bounded and deterministic: a fixed seed, deterministic generation, a few examples per operation
and a time budget of a few minutes on two cores. Marked `postgres` (NUL bytes and integer
overflow fail only there), so it runs in CI (PARLEY_REQUIRE_SERVICES=1) and is skipped only where
services are not required. The schema is fetched with the admin token, so the run works whether
or not /api/schema/ needs a login.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

import factories as f
from parley.access.scopes import SCOPES

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# A failure of any of these fails the run; each is a class of mismatch fixed in issue 15
# (negative_data_rejection: invalid input must be refused, not read as something else).
CHECKS = ("not_a_server_error", "response_schema_conformance", "content_type_conformance",
          "status_code_conformance", "negative_data_rejection")
SEED = 20261207
EXAMPLES_PER_OPERATION = int(os.environ.get("PARLEY_FUZZ_EXAMPLES", 8))
TIME_BUDGET_SECONDS = int(os.environ.get("PARLEY_FUZZ_SECONDS", 180))


@pytest.fixture
def fuzz_world():
    """Rows for the generated requests to find: locales, an intent, an utterance, a template."""
    de, en = f.locale("de-DE"), f.locale("en-US")
    intent = f.intent("alarm_set", "alarm", slots=("time",))
    f.utterance(de, intent, "um [time : sieben]")
    f.lexicon_entry(f.concept("time", "seven"), de, "sieben")
    key = f.template_key("alarm_set.confirm", source=en)
    f.template_text(key, de, "Wecker gestellt.")
    f.register(de, "formal", default=True)
    f.sensitive_term(de, "verboten")
    f.feedback_ingest(f.feedback_item("k1"))
    _, plaintext = f.token(f.member("platform_admin", None), scopes=sorted(SCOPES))
    return plaintext


def _schemathesis() -> str:
    return str(Path(sys.executable).with_name("schemathesis"))


def test_schema_fuzz_finds_no_server_error_and_no_schema_violation(fuzz_world, live_server, tmp_path):
    token = fuzz_world
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content[:300]
    schema = tmp_path / "openapi.json"
    schema.write_bytes(response.content)
    command = [
        _schemathesis(), "run", str(schema), "--url", live_server.url,
        "-H", f"Authorization: Bearer {token}",
        "--checks", ",".join(CHECKS), "--phases", "coverage,fuzzing",
        # Revoking a token is tested elsewhere; here it would revoke the run's own token.
        "--exclude-path-regex", r"/tokens/\{id\}/revoke/",
        "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", str(SEED), "--generation-deterministic",
        "--continue-on-failure", "--no-shrink", "--workers", "1", "--max-time", str(TIME_BUDGET_SECONDS),
        "--request-timeout", "30", "--no-color", "--output-sanitize", "true",
        "--report", "ndjson", "--report-ndjson-path", str(tmp_path / "events.ndjson"),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=TIME_BUDGET_SECONDS + 300,
                         cwd=tmp_path, env={**os.environ, "NO_COLOR": "1"})
    output = run.stdout + run.stderr
    tested = re.search(r"Tested:\s+(\d+)", output)
    assert tested and int(tested.group(1)) > 100, f"schemathesis tested too little:\n{output[-4000:]}"
    failures = re.findall(r"^\s*❌\s+(ST\d+ [^:\n]+): (\d+)$", output, flags=re.MULTILINE)
    errors = [error for error in _errors(tmp_path / "events.ndjson") if not _dev_server_refusal(error)]
    assert not failures and not errors, (
        f"schema fuzz failures: {failures}; errors: {errors}\n--- last output ---\n{output[-12000:]}")
    assert run.returncode == 0 or _only_dev_server_refusals(tmp_path / "events.ndjson"), output[-4000:]


def _errors(events: Path) -> list[dict]:
    """The run's errors (requests that got no HTTP answer, or a check that could not run)."""
    found = []
    for line in events.read_text().splitlines():
        event = json.loads(line)
        if "NonFatalError" in event:
            found.append({"operation": event["NonFatalError"].get("label"), **event["NonFatalError"]["value"]})
    return found


def _dev_server_refusal(error: dict) -> bool:
    """Django's development server (under live_server) answers a request line it cannot parse with
    a bare HTML page that is not HTTP: that is http.server refusing before Parley runs, not Parley."""
    return error.get("type") == "ConnectionError" and "BadStatusLine('<!DOCTYPE HTML>" in error.get("message", "")


def _only_dev_server_refusals(events: Path) -> bool:
    errors = _errors(events)
    return bool(errors) and all(_dev_server_refusal(e) for e in errors)
