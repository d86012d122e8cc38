"""Where rows come from: one file, a folder of files, or a .tar.gz as published.

Everything here treats its input as hostile: archives are checked member by member before a
single row is read, and lines are decoded strictly (UTF-8, a BOM tolerated) so a bad byte is
reported with its line instead of raising.
"""
from __future__ import annotations

import os
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


@dataclass(frozen=True)
class ArchiveLimits:
    max_unpacked_bytes: int
    max_members: int


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
        with tarfile.open(fileobj=handle, mode="r|*") as archive:
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
                yield file.relative_to(path).as_posix(), handle
        return
    if is_archive(label or path.name):
        wanted = [n for n in archive_check(path, limits=limits) if n.lower().endswith(suffixes)]
        if not wanted:
            raise SourceRefused(f"archive {path.name!r} has no {'/'.join(suffixes)} members")
        wanted_set = set(wanted)
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                if member.name in wanted_set and member.isfile():
                    handle = archive.extractfile(member)
                    if handle is not None:
                        yield member.name, handle
        return
    with path.open("rb") as handle:
        yield Path(label).name if label else path.name, handle


def decoded_lines(name: str, handle: BinaryIO) -> Iterator[tuple[int, str] | RowError]:
    """(line number, text without the newline) or a RowError for a line that is not UTF-8."""
    for number, raw in enumerate(handle, 1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a BOM on the first line is tolerated
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield RowError(name, number, "(line)", f"not UTF-8 at byte {exc.start}")
            continue
        yield number, text.rstrip("\r\n")
