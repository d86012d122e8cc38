"""OpenAPI schema post-processing: what every operation can answer, stated once.

Every endpoint can refuse a request in the one error shape (errors.py): a malformed or hostile
request (400), missing or wrong credentials (401), a role or token that does not reach it (403),
an unknown or out-of-scope object (404); one that takes a body can also refuse its size (413) or
media type (415). drf-spectacular documents only the success response, so a client (or a schema
fuzzer) reading the schema would take those for undocumented behaviour.
"""
ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error shape of the API.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "machine-readable, e.g. invalid, not_found"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {},
                           "description": "per field (or non_field_errors): what is wrong with it"},
            },
            "required": ["code", "message", "fields"],
        },
    },
    "required": ["error"],
}

COMMON_ERRORS = {
    "400": "Malformed or hostile input (names the field or parameter)",
    "401": "Not authenticated",
    "403": "Not allowed for this role or token",
    "404": "Not found, or outside the caller's locales",
    "503": "The database (or a service it needs) is unavailable; try again",
}
BODY_ERRORS = {
    "413": "Request body over DATA_UPLOAD_MAX_MEMORY_SIZE",
    "415": "Unsupported media type",
}
METHODS = ("get", "put", "post", "patch", "delete")


def error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: add the error shape and the common error responses."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            errors = COMMON_ERRORS | (BODY_ERRORS if "requestBody" in operation else {})
            if method == "post" or "requestBody" in operation:
                errors = errors | {"415": BODY_ERRORS["415"]}
            for code, description in errors.items():
                responses.setdefault(code, {"description": description, "content": reference})
            for code, response in responses.items():  # an error a view declares by description only
                if str(code) >= "400" and "content" not in response:
                    response["content"] = reference
    return result
