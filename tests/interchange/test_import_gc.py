"""The validation freezes what survived each chunk out of Python's full collections and undoes it
at the end, unless something else had frozen objects (then it leaves the collector alone)."""
import gc

import pytest

import factories as f
from factories import EN, jsonl
from parley.interchange import services
from parley.interchange.services import import_batch_create, import_batch_run

pytestmark = pytest.mark.django_db


def run(tmp_path, monkeypatch):
    f.alias(f.locale("en-US"), "en-US")
    frozen_during = []
    real_flush = services._Validation._flush

    def flush(self):
        real_flush(self)
        frozen_during.append(gc.get_freeze_count())

    monkeypatch.setattr(services, "CHUNK", 2)
    monkeypatch.setattr(services._Validation, "_flush", flush)
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl(*[{**EN, "id": str(i)} for i in range(6)]), encoding="utf-8")
    batch = import_batch_run(batch=import_batch_create(format="massive", path=str(path), actor="t",
                                                       create_missing=True), actor="t")
    assert batch.rows_accepted == 6
    return frozen_during


def test_freezes_after_each_chunk_and_unfreezes_at_the_end(tmp_path, monkeypatch):
    assert gc.get_freeze_count() == 0
    frozen_during = run(tmp_path, monkeypatch)
    assert frozen_during[1] > 0  # the second chunk's flush runs after the first freeze
    assert gc.get_freeze_count() == 0


def test_leaves_a_heap_frozen_by_someone_else_as_it_was(tmp_path, monkeypatch):
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        frozen_during = run(tmp_path, monkeypatch)
        # Nothing frozen on top (frozen objects may still be freed), nothing unfrozen.
        assert all(count <= before for count in frozen_during)
        assert 0 < gc.get_freeze_count() <= before
    finally:
        gc.unfreeze()
