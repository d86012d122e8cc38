"""Where rows come from: one file, a folder of files, or a .tar.gz as published.

Everything here treats its input as hostile: archives are checked member by member before a
single row is read, and lines are decoded strictly (UTF-8, a BOM tolerated) so a bad byte is
reported with its line instead of raising.
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


@dataclass
class RowError:
    file: str
    line: int
    field: str
    reason: str
    excerpt: str = ""


class SourceRefused(ValueError):
    """The input as a whole cannot be read (unsafe archive, no data files); nothing is imported."""


# A line longer than this (newline excluded) is one reject, read past without being held in memory.
# MASSIVE 1.1's longest line is about 3 KB; the setting PARLEY_IMPORT_MAX_LINE_BYTES overrides it.
DEFAULT_MAX_LINE_BYTES = 1024 * 1024
# Lines and skipped archive data are read this much at a time (compressed data is inflated per read).
_READ_CHUNK = 1 << 20
# Deeper JSON than this is refused before it is parsed (MASSIVE rows nest 3 levels).
DEFAULT_MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds an input must stay within: the archive's, and each line's."""

    max_unpacked_bytes: int
    max_members: int
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


# No header record (PAX or GNU long name) legitimately needs more than this; tarfile reads one of
# any declared size into memory before a single limit could be checked, so they are sized first.
MAX_HEADER_RECORD = 1024 * 1024
_HEADER_RECORD_TYPES = frozenset(b"xgLK")


def _tar_size(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256 for large sizes
        return int.from_bytes(field[1:], "big")
    digits = field.rstrip(b"\0 ").strip()
    return int(digits, 8) if digits else 0


def _header_records_check(handle: BinaryIO) -> None:
    """Walk the tar blocks (constant memory) and refuse an oversized header record."""
    import gzip

    magic = handle.read(2)
    handle.seek(0)
    stream = gzip.GzipFile(fileobj=handle, mode="rb") if magic == b"\x1f\x8b" else handle
    while True:
        header = stream.read(512)
        if len(header) < 512 or header == b"\0" * 512:
            break
        try:
            size = _tar_size(header[124:136])
        except ValueError:
            raise SourceRefused("not a readable tar archive: bad size field") from None
        if header[156] in _HEADER_RECORD_TYPES and size > MAX_HEADER_RECORD:
            raise SourceRefused(f"archive has a header record of {size} bytes (at most {MAX_HEADER_RECORD})")
        remaining = -(-size // 512) * 512
        while remaining:
            chunk = stream.read(min(remaining, 1 << 16))
            if not chunk:
                return  # truncated: tarfile's own pass reports it
            remaining -= len(chunk)
    handle.seek(0)


class _ForwardSeeking:
    """A GzipFile whose forward seeks (tarfile skipping a member's data) inflate 1 MiB a call
    instead of GzipFile's 8 KiB: the same bounded memory, a fraction of the calls."""

    def __init__(self, inflated):
        self.inflated = inflated

    def read(self, size: int = -1) -> bytes:
        return self.inflated.read(size)

    def tell(self) -> int:
        return self.inflated.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0 and offset >= self.inflated.tell():
            left = offset - self.inflated.tell()
            while left and (chunk := self.inflated.read(min(left, _READ_CHUNK))):
                left -= len(chunk)
            return self.inflated.tell()
        return self.inflated.seek(offset, whence)


def _open_tar(handle: BinaryIO) -> tarfile.TarFile:
    """A tar or .tar.gz in random-access mode: inflation is bounded per read (stream mode, "r|*",
    inflates a whole 10 KiB record at once: ~10 MB for a bomb's run of one byte)."""
    import gzip

    magic = handle.read(2)
    handle.seek(0)
    if magic == b"\x1f\x8b":
        return tarfile.open(fileobj=_ForwardSeeking(gzip.GzipFile(fileobj=handle, mode="rb")), mode="r:")
    return tarfile.open(fileobj=handle, mode="r:*")


def archive_check(path: str | Path, *, limits: ArchiveLimits) -> list[str]:
    with open(path, "rb") as handle:
        return archive_check_stream(handle, limits=limits)


def archive_check_stream(handle: BinaryIO, *, limits: ArchiveLimits) -> list[str]:
    """Names of the archive's regular files, or SourceRefused naming the first unsafe member.

    Refused: absolute paths, `..` components, links, devices and FIFOs, more than
    `max_members` entries, or more than `max_unpacked_bytes` in total (checked against the
    headers before anything is unpacked, so a zip bomb is refused at its first oversized header).
    """
    names, total, count = [], 0, 0
    try:
        _header_records_check(handle)
        handle.seek(0)
        with _open_tar(handle) as archive:
            for member in archive:
                count += 1
                if count > limits.max_members:
                    raise SourceRefused(f"archive has more than {limits.max_members} members")
                name = member.name
                parts = PurePosixPath(name).parts
                if name.startswith(("/", "\\")) or (parts and parts[0].endswith(":")):
                    raise SourceRefused(f"archive member {name!r} has an absolute path")
                if ".." in parts or "\\" in name:
                    raise SourceRefused(f"archive member {name!r} points outside the archive")
                if member.issym() or member.islnk():
                    raise SourceRefused(f"archive member {name!r} is a link")
                if member.isdir():
                    continue
                if not member.isfile():
                    raise SourceRefused(f"archive member {name!r} is not a regular file")
                total += member.size
                if total > limits.max_unpacked_bytes:
                    raise SourceRefused(f"archive unpacks to more than {limits.max_unpacked_bytes} bytes")
                names.append(name)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise SourceRefused(f"not a readable tar archive: {exc}") from None
    return names


def _folder_files(root: Path, *, suffixes: tuple[str, ...]) -> list[Path]:
    found = []
    for folder, subfolders, names in os.walk(root):  # never follows linked folders
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            file = Path(folder, name)
            if name.lower().endswith(suffixes) and not name.startswith(".") and file.is_file() \
                    and not file.is_symlink():
                found.append(file)
    return sorted(found, key=lambda file: file.relative_to(root).as_posix())


def open_members(path: str | Path, *, suffixes: tuple[str, ...], limits: ArchiveLimits, label: str = ""
                 ) -> Iterator[tuple[str, BinaryIO]]:
    """(name, binary stream) for each data file: the file itself, a folder's files (its subfolders
    too, so the distribution's unpacked `1.1/data/` is found from its top folder) in path order,
    links skipped, or an archive's members in archive order, streamed without unpacking to disk.

    `label` names a single stored file by what its user called it (uploads are stored under
    generated names, but a CoNLL file name carries its locale and partition).
    """
    path = Path(path)
    if path.is_dir():
        files = _folder_files(path, suffixes=suffixes)
        if not files:
            raise SourceRefused(f"folder {path.name!r} has no {'/'.join(suffixes)} files")
        if len(files) > limits.max_members:
            raise SourceRefused(f"folder {path.name!r} has {len(files):,} data files; the limit is "
                                f"{limits.max_members:,}")
        for file in files:
            with file.open("rb") as handle:
                yield file.relative_to(path).as_posix(), _LineBounded(handle, limits.max_line_bytes)
        return
    if is_archive(label or path.name):
        wanted = [n for n in archive_check(path, limits=limits) if n.lower().endswith(suffixes)]
        if not wanted:
            raise SourceRefused(f"archive {path.name!r} has no {'/'.join(suffixes)} members")
        wanted_set = set(wanted)
        with path.open("rb") as raw, _open_tar(raw) as archive:
            for member in archive:
                if member.name in wanted_set and member.isfile():
                    handle = archive.extractfile(member)
                    if handle is not None:
                        yield member.name, _LineBounded(handle, limits.max_line_bytes)
        return
    with path.open("rb") as handle:
        yield Path(label).name if label else path.name, _LineBounded(handle, limits.max_line_bytes)


class _LineBounded:
    """A binary stream that carries the line bound `decoded_lines` applies to it."""

    def __init__(self, handle: BinaryIO, max_line_bytes: int):
        self.handle, self.max_line_bytes = handle, max_line_bytes

    def read(self, size: int = -1) -> bytes:
        return self.handle.read(size)

    def __getattr__(self, name):
        return getattr(self.handle, name)


def _bounded_lines(handle: BinaryIO, limit: int) -> Iterator[bytes | None]:
    """Each line (its newline kept), or None for one of more than `limit` bytes before its newline,
    which is read past without being kept: memory stays within `limit` plus one read chunk,
    whatever the input. Large reads, because a compressed member is inflated per read call."""
    pending, too_long = bytearray(), False
    while True:
        chunk = handle.read(_READ_CHUNK)
        if not chunk:
            if too_long:
                yield None
            elif pending:
                yield bytes(pending)
            return
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not too_long:
                    pending += chunk[start:]
                    if len(pending) > limit:
                        pending, too_long = bytearray(), True
                break
            if too_long:
                yield None
                too_long = False
            elif len(pending) + end - start > limit:
                yield None
            else:
                yield bytes(pending) + chunk[start:end + 1] if pending else chunk[start:end + 1]
            pending = bytearray()
            start = end + 1


def text_problem(text: str) -> str | None:
    """What in a decoded string no column can store: a NUL or a lone surrogate, with its position."""
    position = text.find("\x00")
    if position >= 0:
        return f"contains a NUL character at position {position + 1}"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains a lone surrogate U+{ord(text[exc.start]):04X} at position {exc.start + 1}"
    return None


def _excerpt(text: str) -> str:
    return text[:200].replace("\x00", "\\0")


def decoded_lines(name: str, handle: BinaryIO) -> Iterator[tuple[int, str] | RowError]:
    """(line number, text without the newline) or a RowError for a line that is not UTF-8, holds
    a NUL or is longer than the handle's `max_line_bytes` (default DEFAULT_MAX_LINE_BYTES)."""
    limit = getattr(handle, "max_line_bytes", DEFAULT_MAX_LINE_BYTES)
    for number, raw in enumerate(_bounded_lines(handle, limit), 1):
        if raw is None:
            yield RowError(name, number, "(line)", f"line is longer than {limit:,} bytes")
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a BOM on the first line is tolerated
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield RowError(name, number, "(line)", f"not UTF-8 at byte {exc.start}")
            continue
        text = text.rstrip("\r\n")
        if "\x00" in text:
            yield RowError(name, number, "(line)", f"contains a NUL character at column {text.index(chr(0)) + 1}",
                           _excerpt(text))
            continue
        yield number, text


class JsonRefused(ValueError):
    """A JSON text that is not valid, or valid but unsafe to keep; the message says where, and
    `field` names the top-level key it is under ("(line)" when the text as a whole is refused)."""

    def __init__(self, message: str, field: str = "(line)"):
        super().__init__(message)
        self.field = field


def _refuse_constant(name: str):
    raise JsonRefused(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused(f"number {text[:20]}{'...' if len(text) > 20 else ''} is out of range")
    return value


_STRUCTURE = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')  # strings skipped whole (possessive: linear)


def _depth_check(text: str, max_depth: int) -> None:
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot be deeper
    depth = 0
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonRefused(f"nested deeper than {max_depth} levels at column {match.start() + 1}")
        elif token in "]}":
            depth -= 1


def _strings_check(value) -> None:
    stack = [(value, "$", "(line)")]
    while stack:
        item, where, field = stack.pop()
        if isinstance(item, str):
            if problem := text_problem(item):
                raise JsonRefused(problem if where == f"$.{field}" else f"{where} {problem}", field)
        elif isinstance(item, dict):  # children pushed last first, so the first problem is reported
            for key in item:
                if problem := text_problem(key):
                    raise JsonRefused(f"a key in {where} {problem}", field)
            stack.extend((child, f"{where}.{key}", key if where == "$" else field)
                         for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((item[index], f"{where}[{index}]", field) for index in range(len(item) - 1, -1, -1))


def strict_json_loads(text: str, *, max_depth: int = DEFAULT_MAX_JSON_DEPTH):
    """JSON that every later step can hold, or JsonRefused saying why and where.

    Refused: invalid JSON (with its column), nesting deeper than `max_depth`, NaN and Infinity,
    integers of more digits than Python converts (4,300), floats out of range, and a NUL or lone surrogate
    (written as \\u escapes) in any key or string (named by its path, e.g. $.judgments[0].worker_id).
    """
    _depth_check(text, max_depth)
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"invalid JSON at column {exc.colno}: {exc.msg}") from None
    except JsonRefused:
        raise
    except ValueError:  # Python's own bound on integer digits (sys.get_int_max_str_digits)
        raise JsonRefused(f"an integer has more than {sys.get_int_max_str_digits():,} digits") from None
    except RecursionError:
        raise JsonRefused("nested too deeply") from None
    if "\\u" in text:  # a NUL or lone surrogate can only arrive as an escape in valid JSON
        _strings_check(value)
    return value
