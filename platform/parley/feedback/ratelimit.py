"""Per-token rate limit on feedback events (not requests: a batch of 1,000 counts 1,000).

Chosen over DRF's throttles, which count requests and keep their counters in Django's cache (per
process here, as no shared cache is configured): with REDIS_URL the counter is one Redis key per
token and minute (INCRBY + EXPIRE in one round trip), shared by every web process; without Redis
(the embedded default) a per-process counter does the same for one process.

Redis unreachable: the limit falls back to the per-process counter (logged), rather than refusing
ingestion, which only needs the database: a pipeline keeps delivering and is still limited per
web process, and the shared counter resumes when Redis answers again.
"""
from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
_local: dict[str, tuple[int, int]] = {}
_local_lock = threading.Lock()
_client = None


def _redis():
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _client


def rate_take(*, key: str, amount: int, limit: int | None = None, now: float | None = None) -> int | None:
    """Count `amount` events against `key`'s minute; None if allowed, else seconds to wait.
    A refused batch is not counted, so a client that waits gets its full quota."""
    limit = settings.PARLEY_FEEDBACK_RATE_PER_MINUTE if limit is None else limit
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    retry_after = WINDOW_SECONDS - int(now % WINDOW_SECONDS)
    if amount > limit:
        return retry_after
    if settings.REDIS_URL:
        import redis

        name = f"parley:feedback:rate:{key}:{window}"
        try:
            pipe = _redis().pipeline()
            pipe.incrby(name, amount)
            pipe.expire(name, WINDOW_SECONDS * 2)
            used, _ = pipe.execute()
            if used > limit:
                _redis().decrby(name, amount)
                return retry_after
            return None
        except redis.exceptions.RedisError as exc:
            logger.warning("feedback rate limit: Redis unreachable (%s); counting in this process", exc)
    with _local_lock:
        current_window, used = _local.get(key, (window, 0))
        if current_window != window:
            used = 0
        if used + amount > limit:
            return retry_after
        _local[key] = (window, used + amount)
    return None


def rate_key(request) -> str:
    from parley.access.scoping import actor_of

    actor = actor_of(request)
    return f"token:{actor.token.prefix}" if actor.token is not None else f"user:{request.user.pk}"
