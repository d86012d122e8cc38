"""Request body parsers: DRF's, with the hostile-input rules every endpoint needs.

A body that decodes (JSON, form fields, multipart fields and file names) may still carry what
the database or later code cannot hold: a NUL (PostgreSQL text refuses it), a lone surrogate
(cannot be encoded as UTF-8), nesting deep enough to exhaust the stack, an integer of thousands
of digits, NaN or Infinity. Each is refused here as a 400 naming where it is, so no view has to
think of it and none answers 500.
"""
from django.conf import settings
from django.utils.http import parse_header_parameters
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
        if not key.strip():  # no serializer field has it, so the value would be silently dropped
            return "a field with an empty name"
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


class _BodyHead:
    """A stream that remembers how long it was and how it began (what the parser read)."""

    KEEP = 512

    def __init__(self, stream):
        self._stream, self.head, self.length = stream, b"", 0

    def read(self, *args):
        chunk = self._stream.read(*args)
        if len(self.head) < self.KEEP:
            self.head += chunk[:self.KEEP - len(self.head)]
        self.length += len(chunk)
        return chunk


class MultiPartParser(parsers.MultiPartParser):
    """Django's parser skips what is not a part with a name: a body that is not multipart at all
    (no boundary), or parts without a Content-Disposition name, parse as a form with no fields, so
    a PATCH or an action would answer as a no-op for a request it did not understand. A body of
    which no part was read is refused unless it is the empty form (just the closing boundary)."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = _BodyHead(stream) if stream is not None else None
        result = super().parse(body, media_type, parser_context)
        if problem := _form_problem(result.data, result.files):
            raise ParseError(f"Multipart form parse error - {problem}")
        if body is not None and body.length and not result.data and not result.files:
            boundary = parse_header_parameters(media_type or "")[1].get("boundary", "")
            if body.length > body.KEEP or body.head.strip() != f"--{boundary}--".encode("ascii", "replace"):
                raise ParseError("Multipart form parse error - no part with a field name: "
                                 "not a multipart/form-data body for its boundary")
        return result
