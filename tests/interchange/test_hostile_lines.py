"""Hostile lines in import files (issue 15, findings 3 and 4): each bad line is one reject naming
its line number, the other lines import, and a line of any length is read in bounded memory."""
import io
import json
import tarfile
import tracemalloc

import pytest

import factories as f
from factories import EN, jsonl
from parley.interchange.formats.sources import ArchiveLimits, decoded_lines, open_members
from parley.interchange.services import import_batch_create, import_batch_run
from parley.nlu.models import Utterance

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    f.alias(f.locale("en-US"), "en-US")
    f.intent("alarm_set", "alarm", slots=["time", "date"])


def run(path, *, fmt="massive", **options):
    batch = import_batch_create(format=fmt, path=str(path), actor="test", create_missing=True, **options)
    return import_batch_run(batch=batch, actor="test")


def row(number: int, **fields) -> str:
    return json.dumps({**EN, "id": str(number), **fields}, ensure_ascii=False)


# (what, the line as written in the file); every one must be a reject of its own line.
HOSTILE_LINES = [
    ("raw NUL", row(2).replace("wake me", "wake\x00me", 1)),
    ("escaped NUL", row(3).replace("wake me", "wake\\u0000me", 1)),
    ("lone surrogate", row(4).replace("wake me", "wake\\ud800me", 1)),
    ("surrogate in a nested key", row(5)[:-1] + ', "judgments": [{"\\udfff": 1}]}'),
    ("deep nesting", row(6)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("number over 4,300 digits", row(7)[:-1] + ', "x": ' + "9" * 5000 + "}"),
    ("NaN", row(8)[:-1] + ', "x": NaN}'),
    ("Infinity", row(9)[:-1] + ', "x": -Infinity}'),
    ("float out of range", row(10)[:-1] + ', "x": 1e999}'),
]


def test_each_hostile_line_is_one_reject_with_its_line_number(registry, tmp_path):
    lines = [row(1)] + [line for _, line in HOSTILE_LINES] + [row(11)]
    path = tmp_path / "data.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n")
    batch = run(path)
    assert batch.status == "completed"
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (11, 2, 9)
    rejects = {r.line: r for r in batch.rejects.all()}
    assert sorted(rejects) == list(range(2, 11))
    assert "NUL character at column" in rejects[2].reason
    assert (rejects[3].field, rejects[3].reason) == ("utt", "contains a NUL character at position 5")
    assert rejects[4].field == "utt" and "lone surrogate U+D800" in rejects[4].reason
    assert rejects[5].field == "judgments" and "lone surrogate U+DFFF" in rejects[5].reason
    assert "nested deeper than" in rejects[6].reason
    assert "more than 4,300 digits" in rejects[7].reason
    assert "NaN is not a JSON number" in rejects[8].reason and "-Infinity" in rejects[9].reason
    assert "1e999 is out of range" in rejects[10].reason
    assert sorted(Utterance.objects.values_list("external_id", flat=True)) == ["1", "11"]


def test_slurp_lines_follow_the_same_rules(tmp_path):
    f.locale("en-US")
    good = {"slurp_id": 1, "sentence": "hi there", "sentence_annotation": "hi there", "intent": "general_greet"}
    path = tmp_path / "devel.jsonl"
    path.write_text("\n".join([json.dumps(good), '{"slurp_id": 2, "sentence": "a\\u0000b"}', "[" * 10_000,
                               json.dumps({**good, "slurp_id": 3, "x": "NaN"}).replace('"NaN"', "NaN")]) + "\n")
    batch = run(path, fmt="slurp")
    assert batch.status == "completed" and batch.rows_accepted == 1
    assert sorted(r.line for r in batch.rejects.all()) == [2, 3, 4]


def test_conll_line_with_a_nul_is_a_reject_of_its_sentence(tmp_path):
    f.locale("en-US")
    f.intent("alarm_set", "alarm", slots=["time"])
    path = tmp_path / "en.train.conll"
    path.write_bytes(b"# text: wake me at five\n# intent: alarm_set\n1\twake\talarm_set\tO\n2\tme\talarm_set\tO\n"
                     b"3\tat\talarm_set\tO\n4\tfi\x00ve\talarm_set\tB-time\n\n")
    batch = run(path, fmt="conll", locale="en-US")
    assert batch.status == "completed" and batch.rows_accepted == 0
    reject = batch.rejects.get()
    assert reject.line == 6 and "NUL character at column 5" in reject.reason


def _tarball(path, member: str, chunks) -> None:
    """A .tar.gz with one member written from `chunks` (never held whole)."""
    data = b"".join(chunks)
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


def test_a_line_over_the_limit_in_an_archive_is_one_reject_and_the_next_lines_import(registry, tmp_path, settings):
    settings.PARLEY_IMPORT_MAX_LINE_BYTES = 10_000
    path = tmp_path / "massive.tar.gz"
    _tarball(path, "1.1/data/en-US.jsonl", [row(1).encode(), b"\n", b"x" * 200_000, b"\n", row(3).encode(), b"\n"])
    batch = run(path)
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (3, 2, 1)
    reject = batch.rejects.get()
    assert (reject.line, reject.field, reject.reason) == (2, "(line)", "line is longer than 10,000 bytes")


def test_a_line_exactly_at_the_limit_is_read(registry, tmp_path, settings):
    line = row(1).encode()
    settings.PARLEY_IMPORT_MAX_LINE_BYTES = len(line)  # the newline does not count, a \r before it does
    path = tmp_path / "data.jsonl"
    path.write_bytes(line + b"\n" + line.replace(b'"1"', b'"2"') + b"\r\n")
    batch = run(path)
    assert (batch.rows_accepted, batch.rows_rejected) == (1, 1)
    assert batch.rejects.get().line == 2  # its \r made it one byte too long


def test_a_gigantic_line_without_a_newline_is_read_in_bounded_memory(tmp_path):
    """64 MiB of one line (a 64 KiB download gzipped) must not be held: peak memory stays near
    the line bound, whatever the line's length."""
    path = tmp_path / "bomb.tar.gz"
    size = 64 * 1024 * 1024
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("data/en-US.jsonl")
        info.size = size

        class Zeros(io.RawIOBase):
            left = size

            def readable(self):
                return True

            def readinto(self, buffer):
                n = min(len(buffer), self.left)
                buffer[:n] = b"a" * n
                self.left -= n
                return n

        archive.addfile(info, io.BufferedReader(Zeros()))
    assert path.stat().st_size < 1024 * 1024
    limits = ArchiveLimits(max_unpacked_bytes=10 ** 9, max_members=10, max_line_bytes=1024 * 1024)
    tracemalloc.start()
    try:
        items = [item for name, handle in open_members(path, suffixes=(".jsonl",), limits=limits)
                 for item in decoded_lines(name, handle)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(i.line, i.reason) for i in items] == [(1, "line is longer than 1,048,576 bytes")]
    assert peak < 8 * 1024 * 1024, f"peak {peak:,} bytes for a {size:,}-byte line"


def test_decoded_lines_without_a_bound_use_the_default(tmp_path):
    from parley.interchange.formats.sources import DEFAULT_MAX_LINE_BYTES

    handle = io.BytesIO(b"ok\n" + b"y" * (DEFAULT_MAX_LINE_BYTES + 5) + b"\nlast")
    items = list(decoded_lines("x.jsonl", handle))
    assert items[0] == (1, "ok") and items[2] == (3, "last")
    assert items[1].line == 2 and "longer than" in items[1].reason
