"""Hostile input against every endpoint: nothing may answer 500, and every refusal is in the API's
one error shape (issue 15, findings 10 and 16).

The endpoints come from the OpenAPI schema the API publishes, so a new endpoint is covered without
editing this file. Each operation is asked by a platform admin (who reaches the deepest code) with
real objects in its path (ids read from the list endpoint), and by the lowest-privilege token.
Run it on PostgreSQL too: a NUL or an out-of-range integer fails only there.
"""
import json
import re

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

import factories as f

pytestmark = pytest.mark.django_db

_SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
METHODS = ("get", "post", "put", "patch", "delete")
OPERATIONS = [(method.upper(), path, op) for path, ops in _SCHEMA["paths"].items()
              for method, op in ops.items() if method in METHODS]
JSON_OPERATIONS = [(m, p, op) for m, p, op in OPERATIONS
                   if "application/json" in op.get("requestBody", {}).get("content", {})]
GET_OPERATIONS = [(m, p, op) for m, p, op in OPERATIONS if m == "GET"]
PATH_OPERATIONS = [(m, p, op) for m, p, op in OPERATIONS if "{" in p]


def _id(operation):
    method, path, _ = operation
    return f"{method} {path}"


def _resolve(ref_or_schema):
    while "$ref" in ref_or_schema:
        ref_or_schema = _SCHEMA["components"]["schemas"][ref_or_schema["$ref"].rsplit("/", 1)[1]]
    return ref_or_schema


def _properties(op) -> dict:
    schema = _resolve(op["requestBody"]["content"]["application/json"]["schema"])
    return {name: _resolve(prop) for name, prop in schema.get("properties", {}).items()
            if not prop.get("readOnly")}


def _raw_body(op, *, string: str, number: str) -> str:
    """A JSON text with every string property set to `string` and every number to `number`
    (both raw JSON, so escapes and out-of-range literals reach the server as written)."""
    parts = []
    for name, prop in _properties(op).items():
        kind = prop.get("type")
        if kind in ("integer", "number"):
            value = number
        elif kind == "array":
            item = _resolve(prop.get("items", {}))
            value = f"[{number if item.get('type') in ('integer', 'number') else string}]"
        elif kind == "boolean":
            value = "true"
        elif kind == "object":
            value = f'{{"k": {string}}}'
        else:
            value = string
        parts.append(f"{json.dumps(name)}: {value}")
    return "{" + ", ".join(parts) + "}"


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


# (name, body maker, must the request be refused?)
BODIES = [
    ("nul", lambda op: _raw_body(op, string='"a\\u0000b"', number="1"), True),
    ("lone_surrogate", lambda op: _raw_body(op, string='"\\ud800x"', number="1"), True),
    ("nan", lambda op: _raw_body(op, string='"x"', number="NaN"), True),
    ("infinity", lambda op: _raw_body(op, string='"x"', number="-Infinity"), True),
    ("float_out_of_range", lambda op: _raw_body(op, string='"x"', number="1e999"), True),
    ("number_over_python_limit", lambda op: _raw_body(op, string='"x"', number="9" * 5000), True),
    ("deep_body", lambda op: _deep(100_000), True),
    ("deep_field", lambda op: _raw_body(op, string=_deep(5000), number=_deep(5000)), True),
    ("integer_overflow", lambda op: _raw_body(op, string='"x"', number="9" * 40), False),
    ("negative_overflow", lambda op: _raw_body(op, string='"x"', number="-" + "9" * 25), False),
    ("odd_unicode", lambda op: _raw_body(op, string=json.dumps("\u202eab\u200b\ufeff\U0001d518\u0301\uffff\U0010ffff"),
                                         number="0"), False),
    ("not_utf8", lambda op: b'{"x": "\xff\xfe"}', True),
]


@pytest.fixture
def world():
    """One of each object an id in a path may name, in locales the admin holds."""
    de, en = f.locale("de-DE"), f.locale("en-US")
    intent = f.intent("alarm_set", "alarm", slots=("time",))
    f.utterance(de, intent, "um [time : sieben]")
    concept = f.concept("time", "seven")
    f.lexicon_entry(concept, de, "sieben")
    key = f.template_key("alarm_set.confirm", source=en)
    f.template_text(key, de, "Wecker gestellt.")
    f.register(de, "formal", default=True)
    f.sensitive_term(de, "verboten")
    f.feedback_ingest(f.feedback_item("k1"))
    admin = f.member("platform_admin", None)
    _, lowest = f.token(f.user(), scopes=("locales:read",))
    return {"admin": admin, "lowest": lowest}


def _clients(world):
    admin = Client()
    admin.force_login(world["admin"])
    lowest = Client(HTTP_AUTHORIZATION=f"Bearer {world['lowest']}")
    return {"admin": admin, "lowest": lowest}


_collections: dict = {}


def _fill_path(client, path: str) -> str:
    """The path with each {param} replaced by a real object's value when its list has one."""
    def value(match):
        name = match.group(1)
        prefix = path[:match.start()]
        if name in ("tag",):
            return "de-DE"
        if name == "format_name":
            return "massive"
        listing = client.get(prefix)
        if listing.status_code == 200 and listing["Content-Type"].startswith("application/json"):
            body = listing.json()
            rows = body.get("results", body) if isinstance(body, dict) else body
            if isinstance(rows, list) and rows and isinstance(rows[0], dict) and name in rows[0]:
                return str(rows[0][name])
        return "1"
    return re.sub(r"\{(\w+)\}", value, path)


def assert_no_server_error(response, what):
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:300]!r}"
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), f"{what}: {response['Content-Type']}"
        error = response.json()["error"]
        assert set(error) == {"code", "message", "fields"}, f"{what}: {error}"


@pytest.mark.parametrize("operation", JSON_OPERATIONS, ids=_id)
def test_json_endpoint_survives_hostile_bodies(world, operation):
    method, path, op = operation
    for actor, client in _clients(world).items():
        url = _fill_path(client, path)
        clean = _raw_body(op, string='"x"', number="1")
        for name, make, refused in BODIES:
            body = make(op)
            refused = refused and body != clean  # an operation without such a field has nothing to refuse
            response = client.generic(method, url, body, content_type="application/json")
            what = f"{actor} {method} {url} [{name}]"
            assert_no_server_error(response, what)
            if refused and response.status_code not in (401, 403, 404, 405):
                assert response.status_code == 400, f"{what}: accepted with {response.status_code}"


# Raw (already percent-encoded): huge and negative numbers, an encoded lone surrogate, invalid
# UTF-8, bidi and BOM characters, a long value.
QUERY_VALUES = ("9" * 40, "-" + "9" * 25, "1e999", "NaN", "%ED%A0%80", "%FF", "%E2%80%AE%EF%BB%BF", "x" * 5000)


@pytest.mark.parametrize("operation", GET_OPERATIONS, ids=_id)
def test_query_parameters_refuse_nul_and_survive_huge_numbers(world, operation):
    method, path, op = operation
    names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"] or ["q"]
    for actor, client in _clients(world).items():
        url = _fill_path(client, path)
        for name in names:
            response = client.get(f"{url}?{name}=a%00b")
            assert_no_server_error(response, f"{actor} GET {url}?{name}=NUL")
            assert response.status_code == 400, f"{actor} GET {url}?{name}=NUL answered {response.status_code}"
            for value in QUERY_VALUES:
                response = client.get(f"{url}?{name}={value}")
                assert_no_server_error(response, f"{actor} GET {url}?{name}={value[:12]}")


@pytest.mark.parametrize("operation", PATH_OPERATIONS, ids=_id)
def test_path_parameters_refuse_nul_and_survive_huge_numbers(world, operation):
    method, path, _ = operation
    for actor, client in _clients(world).items():
        for value in ("a%00b", "9" * 40, "-1", "%F0%9D%94%98", "%ED%A0%80"):
            url = re.sub(r"\{\w+\}", value, path)
            response = client.generic(method, url, "{}", content_type="application/json")
            assert_no_server_error(response, f"{actor} {method} {url}")
            if "%00" in value:
                assert response.status_code in (400, 404), f"{actor} {method} {url}: {response.status_code}"


def test_body_over_the_limit_answers_413_in_the_error_shape(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = _clients(world)["admin"]
    big_json = json.dumps({"name": "x" * 2000})
    response = client.post("/api/v1/tokens/", big_json, content_type="application/json")
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    response = client.post("/api/v1/tokens/", {"name": "x" * 2000})  # form-encoded: Django's own refusal
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def _integer_properties(schema, where):
    schema = _resolve(schema)
    if schema.get("type") in ("integer", "number") and not schema.get("readOnly"):
        yield where, schema
    for name, child in schema.get("properties", {}).items():
        yield from _integer_properties(child, f"{where}.{name}")
    if "items" in schema:
        yield from _integer_properties(schema["items"], f"{where}[]")


def test_every_integer_a_request_body_takes_is_bounded():
    """An unbounded integer field lets 9999...9 reach a PostgreSQL column and overflow it (a 500)."""
    unbounded = [where for method, path, op in JSON_OPERATIONS
                 for where, prop in _integer_properties(op["requestBody"]["content"]["application/json"]["schema"],
                                                        f"{method} {path}")
                 if "maximum" not in prop or "minimum" not in prop]
    assert unbounded == []


@pytest.mark.parametrize("value", ["9" * 40, str(2 ** 31), "-1"])
def test_coverage_target_out_of_range_is_a_400_naming_the_field(world, value):
    client = _clients(world)["admin"]
    body = f'{{"locale": "de-DE", "partition": "train", "target": {value}}}'
    response = client.post("/api/v1/coverage-targets/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert list(response.json()["error"]["fields"]) == ["target"]


def test_every_operation_is_in_the_corpus():
    """The corpus reads the schema: an endpoint with a JSON body is covered without a listing here."""
    assert len(JSON_OPERATIONS) > 50 and len(GET_OPERATIONS) > 50
    assert ("POST", "/api/v1/coverage-targets/") in {(m, p) for m, p, _ in JSON_OPERATIONS}
