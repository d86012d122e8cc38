"""Request body parsers: DRF's, with the hostile-input rules every endpoint needs.

A body that decodes (JSON, form fields, multipart fields and file names) may still carry what
the database or later code cannot hold: a NUL (PostgreSQL text refuses it), a lone surrogate
(cannot be encoded as UTF-8), nesting deep enough to exhaust the stack, an integer of thousands
of digits, NaN or Infinity. Each is refused here as a 400 naming where it is, so no view has to
think of it and none answers 500.
"""
from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError

from parley.interchange.formats.sources import JsonRefused, strict_json_loads, text_problem


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self):
        super().__init__(f"The request body is over the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.")


class BodyRefused(ParseError):
    """A parse error that knows which top-level field of the body it is in, so the error shape
    can name it in `fields` like any other invalid input."""

    def __init__(self, detail: str, field: str | None = None):
        super().__init__(detail)
        self.field = field


def _max_depth() -> int:
    return settings.PARLEY_API_MAX_JSON_DEPTH


class JSONParser(parsers.JSONParser):
    """JSON bodies through `strict_json_loads`: UTF-8 only, bounded depth, finite numbers, no NUL
    or lone surrogate in any key or string."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = (stream.read() if limit is None else stream.read(limit + 1)) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - not UTF-8 at byte {exc.start}") from None
        try:
            return strict_json_loads(text, max_depth=_max_depth())
        except JsonRefused as exc:
            raise BodyRefused(f"JSON parse error - {exc}",
                              field=None if exc.field == "(line)" else exc.field) from None


def _form_problem(data, files=None) -> str | None:
    for key, values in data.lists():
        for value in (key, *values):
            if isinstance(value, str) and (problem := text_problem(value)):
                return f"field {key!r}: {problem}"
    for key, upload in (files.items() if files is not None else ()):
        if problem := text_problem(key) or text_problem(upload.name or ""):
            return f"file {key!r}: {problem}"
    return None


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if problem := _form_problem(data):
            raise ParseError(f"Form parse error - {problem}")
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        if problem := _form_problem(result.data, result.files):
            raise ParseError(f"Multipart form parse error - {problem}")
        return result
