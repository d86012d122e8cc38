"""Generation counters: what a process may keep of what it read, and for how long.

The hot read paths (a token's grants, the locale registry, a template key's approved texts) are
read on every API request and change a few times a day. A process keeps its copy of them in a
`GenerationMemo` for as long as the counter it read with the copy is unchanged; the services
that write those rows bump the counter.

Counters live in Redis when REDIS_URL is set, so every web process and worker sees a bump;
otherwise in the memory of the one process the embedded server runs. A write bumps
twice: at once, so the writer's own process stops trusting its copy inside the transaction, and
after commit, so no process keeps a copy it reloaded from the old rows while the write was open.
A copy is filled only outside a transaction, so it never holds uncommitted rows, and is trusted
for at most PARLEY_READ_CACHE_SECONDS whatever the counters say: a write that bypassed the
services (SQL by hand) is seen within that time. A counter that cannot be read (Redis down)
means no copy is trusted and every copy is dropped: reads go to the database, slower but correct.
Without REDIS_URL copies are off unless PARLEY_READ_CACHE_SECONDS turns them on: per-process
counters are right only when one process serves and nothing else writes beside it.

During a request the counters are read once, in one round trip, by the first memo that needs
them (`GenerationSnapshotMiddleware`); outside requests every lookup reads them afresh.
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
import logging
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.db import connections, transaction

log = logging.getLogger(__name__)

KEY_PREFIX = "parley:generation:"
NAMES: set[str] = set()  # every counter a memo depends on: the snapshot reads them all at once

_snapshot: contextvars.ContextVar[dict | None] = contextvars.ContextVar("parley_generation_snapshot", default=None)
_UNREADABLE = object()


def _fresh_value() -> int:
    # A counter that vanished (Redis restarted) comes back at a value no copy was read with.
    return time.time_ns()


class _LocalCounters:
    """The embedded default (no REDIS_URL): the counters of the one process that serves."""

    def __init__(self):
        self._values: dict[str, int] = {}
        self._lock = threading.Lock()

    def read(self, keys: list[str]) -> list:
        with self._lock:
            return [self._values.setdefault(key, _fresh_value()) for key in keys]

    def bump(self, key: str) -> None:
        with self._lock:
            self._values[key] = self._values.get(key, _fresh_value()) + 1

    def forget(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)


class _RedisCounters:
    """One Redis key per counter, shared by every web process and worker (one client, pooled:
    Django's cache API builds a client object per call, a quarter of a warm render's time)."""

    def __init__(self, url: str):
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    def read(self, keys: list[str]) -> list:
        values = self._client.mget(keys)
        missing = [key for key, value in zip(keys, values) if value is None]
        if missing:
            with self._client.pipeline(transaction=False) as pipe:
                for key in missing:
                    pipe.set(key, _fresh_value(), nx=True)
                pipe.mget(keys)
                values = pipe.execute()[-1]
        return [int(v) if v is not None else _UNREADABLE for v in values]

    def bump(self, key: str) -> None:
        with self._client.pipeline(transaction=False) as pipe:
            pipe.set(key, _fresh_value(), nx=True)  # never INCR a vanished key up from 0
            pipe.incr(key)
            pipe.execute()

    def forget(self, key: str) -> None:
        self._client.delete(key)


_counters_by_url: dict[str, object] = {}


def counters():
    """Where the counters live: Redis when REDIS_URL is set, else this process."""
    url = settings.REDIS_URL
    if url not in _counters_by_url:
        _counters_by_url[url] = _RedisCounters(url) if url else _LocalCounters()
    return _counters_by_url[url]


def _read(names) -> dict:
    names = list(names)
    try:
        values = counters().read([KEY_PREFIX + n for n in names])
    except Exception as exc:  # Redis is down: trust no copy, now or after it is back
        log.warning("generation counters unreadable (%s); reading from the database", exc)
        memos_clear()  # a bump lost during the outage must not let an older copy match again
        return {n: _UNREADABLE for n in names}
    return dict(zip(names, values))


def generation(name: str):
    """The counter's current value (one round trip per request for all counters)."""
    snap = _snapshot.get()
    if snap is not None:
        if name not in snap:
            snap.update(_read(NAMES | {name}))
        return snap[name]
    return _read([name])[name]


def generation_bump(name: str) -> None:
    """Invalidate every process's copy of `name`: now, and again when the transaction commits.
    (A pack load bumps once a row: one INCR each, cheap beside the rows it writes.)"""
    _bump(name)
    transaction.on_commit(lambda: _bump(name))


def _outermost_block(using: str = "default"):
    """The outermost atomic block of our own (not a test case's), or None in autocommit."""
    return next((b for b in connections[using].atomic_blocks if not getattr(b, "_from_testcase", False)), None)


def _bump(name: str) -> None:
    snap = _snapshot.get()
    if snap is not None:
        snap.pop(name, None)
    for memo in GenerationMemo.instances:
        if name in memo.depends:
            memo.clear()
    try:
        counters().bump(KEY_PREFIX + name)
    except Exception as exc:
        memos_clear()
        log.warning("generation counter %s not bumped (%s); other processes see the change within %ss",
                    name, exc, copies_seconds())


def in_transaction(using: str = "default") -> bool:
    """Inside an atomic block of our own (the one a test case wraps around each test excluded)."""
    return _outermost_block(using) is not None


def copies_seconds() -> float:
    """How long a copy may be trusted. PARLEY_READ_CACHE_SECONDS when set; else 30 s with shared
    counters (REDIS_URL) and 0 without: per-process counters are right only for one process, and
    a server with several workers (the Dockerfile's gunicorn) must not keep a revoked token alive
    in the workers that did not revoke it."""
    configured = settings.PARLEY_READ_CACHE_SECONDS
    if configured is not None:
        return configured
    return 30.0 if settings.REDIS_URL else 0.0


class GenerationMemo:
    """Values loaded from the database, keyed, kept while the counters in `depends` are unchanged.

    `get(key, load)` answers from the copy or calls `load()`; a load that returns None (not found)
    is not kept, so a row created later is seen at once. At most `size` keys are kept.
    """

    instances: list[GenerationMemo] = []

    def __init__(self, *depends: str, size: int = 10_000):
        self.depends = tuple(depends)
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        NAMES.update(depends)
        GenerationMemo.instances.append(self)

    def _stamp(self) -> tuple | None:
        """The counters to check a copy against, or None when no copy may be used at all."""
        if not copies_seconds() or in_transaction():
            return None
        stamp = tuple(generation(name) for name in self.depends)
        return None if _UNREADABLE in stamp else stamp

    def get(self, key, load, *, unkept=None):
        """The copy for `key`, else `load()`'s value (kept unless None). Where no copy may be
        used (inside a transaction, copies off, counters unreadable) `unkept()` answers instead
        when given: a narrower query than the whole copy's load."""
        stamp = self._stamp()
        if stamp is None:
            return (unkept or load)()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] == stamp and now - entry[1] < copies_seconds():
            return entry[2]
        value = load()
        if value is not None:
            with self._lock:
                self._entries[key] = (stamp, now, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def memos_clear() -> None:
    """Forget every copy in this process (tests: the database is rolled back under the memos)."""
    for memo in GenerationMemo.instances:
        memo.clear()


def values_copied(values: tuple) -> tuple:
    """A kept row's values for a fresh instance: JSON lists and dicts copied (a caller may change
    its own in place), everything else immutable and shared (a whole deepcopy cost 5x more)."""
    return tuple(copy.deepcopy(v) if isinstance(v, (list, dict)) else v for v in values)


class AdminDeleteBumps:
    """For admins whose deletes go straight to the ORM (cascades included): the counters in
    `bumps` move after each delete, so no process keeps rendering or resolving deleted rows."""

    bumps: tuple[str, ...] = ()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        for name in self.bumps:
            generation_bump(name)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        for name in self.bumps:
            generation_bump(name)


@contextlib.contextmanager
def generation_snapshot():
    """Inside: the counters are read once, at the first memo lookup, for every memo."""
    token = _snapshot.set({})
    try:
        yield
    finally:
        _snapshot.reset(token)


class GenerationSnapshotMiddleware:
    """Counters are read at most once per request, whichever memos the request consults."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with generation_snapshot():
            return self.get_response(request)
