"""GET /healthz: is the database reachable, and the broker (when one is configured)?"""
from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # report, don't crash: this endpoint exists to say what is wrong
        return {"ok": False, "vendor": connection.vendor, "error": str(exc)[:300]}


def _broker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "eager", "detail": "no broker configured; tasks run in-process"}
    import redis

    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        return {"ok": True, "mode": "redis"}
    except Exception as exc:
        return {"ok": False, "mode": "redis", "error": str(exc)[:300]}


def _workers() -> dict:
    from parley.runs.workers import worker_state

    state = worker_state(fresh=True)
    if state.mode == "eager":
        return {"ok": True, "mode": "eager"}
    return {"ok": bool(state.consumers), "queue": state.queue, "consumers": state.consumers,
            **({"error": state.error} if state.error else {})}


def _runs(database_ok: bool) -> dict:
    """Runs the broker has not taken yet (the outbox): the sweeper sends them when it answers."""
    if not database_ok:
        return {}
    from parley.runs.models import TaskRun

    return {"unsent": TaskRun.objects.filter(status=TaskRun.Status.QUEUED, dispatched_at__isnull=True)
            .exclude(task_name="").count()}


def healthz(request):
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(c["ok"] for c in checks.values())
    # No worker is a degraded service, not a dead one: the web still serves, tasks wait in the queue.
    workers = _workers() if checks["broker"]["ok"] else {"ok": False, "error": "broker unavailable"}
    status = "ok" if healthy and workers["ok"] else ("degraded" if healthy else "unavailable")
    return JsonResponse({"status": status, **checks, "workers": workers, "runs": _runs(checks["database"]["ok"])},
                        status=200 if healthy else 503)
