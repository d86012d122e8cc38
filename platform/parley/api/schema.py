"""OpenAPI schema post-processing: what every operation can answer, stated once.

Every endpoint can refuse a request in the one error shape (errors.py): a malformed or hostile
request (400), missing or wrong credentials (401), a role or token that does not reach it (403),
an unknown or out-of-scope object (404); one that takes a body can also refuse its size (413) or
media type (415). drf-spectacular documents only the success response, so a client (or a schema
fuzzer) reading the schema would take those for undocumented behaviour. And a form or multipart
body reads an empty value as null or "not given" where JSON would not: its schema says so.
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


FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# A form cannot send null or leave a field out of a <form> that has it: DRF reads an empty value as
# null for a nullable field and as "not given" for an optional one (rest_framework.fields
# Field.get_value). JSON keeps "" as "" (refused where the field needs text).
EMPTY_FORM_VALUE = {"type": "string", "maxLength": 0,
                    "description": "empty in a form: null where the field is nullable, else not given"}


def _takes_empty_string(prop: dict, schemas: dict) -> bool:
    if "$ref" in prop:
        prop = schemas.get(prop["$ref"].rsplit("/", 1)[-1], {})
    return (prop.get("type") == "string" and not prop.get("minLength")
            and not {"pattern", "enum", "format"} & set(prop))


def _form_variant(schema: dict, schemas: dict) -> dict | None:
    """The schema with each optional or nullable property also taking an empty value; None if no
    property changes."""
    required = set(schema.get("required", ()))
    properties, changed = dict(schema.get("properties", {})), False
    for name, prop in properties.items():
        optional = name not in required or prop.get("nullable")
        # (A list reads an empty value as a list of one empty item, refused like any empty item.)
        if (optional and not prop.get("readOnly") and prop.get("type") != "array"
                and not _takes_empty_string(prop, schemas)):
            properties[name], changed = {"anyOf": [prop, EMPTY_FORM_VALUE]}, True
    return {**schema, "properties": properties} if changed else None


def form_empty_values(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: form and multipart bodies say that an empty value is null or
    "not given" where DRF reads it so (`<Component>Form` beside the JSON one)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    variants = {}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            content = operation.get("requestBody", {}).get("content", {}) if method in METHODS else {}
            for media_type in FORM_MEDIA_TYPES:
                if media_type not in content:
                    continue
                schema = content[media_type].get("schema", {})
                if "$ref" in schema:
                    name = schema["$ref"].rsplit("/", 1)[-1]
                    if name not in variants:
                        variants[name] = _form_variant(schemas.get(name, {}), schemas)
                    if variants[name] is not None:
                        content[media_type]["schema"] = {"$ref": f"#/components/schemas/{name}Form"}
                elif (variant := _form_variant(schema, schemas)) is not None:
                    content[media_type]["schema"] = variant
    schemas.update({f"{name}Form": variant for name, variant in variants.items() if variant is not None})
    return result
