"""Feedback benchmarks (issue 8): ingestion through the API, the clustering drain, rephrase mining.

`python bench/run.py feedback_ingest feedback_mining` with DATABASE_URL set to PostgreSQL.
BENCH_FEEDBACK_EVENTS (default 100,000) events are pushed in batches of 1,000; BENCH_MINING_EVENTS
(default 1,000,000) events are mined.
"""
import json
import os
import random
import time
from datetime import datetime, timedelta, timezone as tz

from benchmarks import ALL

T0 = datetime(2026, 11, 1, tzinfo=tz.utc)
VERBS = ["weck mich", "stell einen wecker", "erinnere mich", "spiel musik", "wie wird das wetter", "mach das licht an",
         "ruf mama an", "lies meine mails", "was steht heute an", "schalte den fernseher ein"]
OBJECTS = ["um sieben", "morgen früh", "in berlin", "im wohnzimmer", "bitte", "jetzt", "am wochenende", "heute abend",
           "für zehn minuten", "ganz leise"]


def _feedback_tables_clear():
    from django.db import connection

    from parley.feedback.models import ClusterBand, FeedbackCluster, FeedbackEvent, ParaphraseCandidate

    tables = [m._meta.db_table for m in (ClusterBand, FeedbackEvent, FeedbackCluster, ParaphraseCandidate)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")


def _world():
    from django.contrib.auth import get_user_model

    from parley.access.models import Role
    from parley.access.roles import roles_sync
    from parley.access.services import membership_grant, token_create
    from parley.locales.models import Locale
    from parley.locales.services import locale_create

    from parley.nlu.services import intent_ensure

    roles_sync()
    for name in ("alarm_query", "alarm_set"):  # predictions name registered intents (else: a warning each)
        intent_ensure(name=name, scenario="alarm", actor="bench")
    for tag in ("de-DE", "en-US"):
        if not Locale.objects.filter(tag=tag).exists():
            locale_create(tag=tag, actor="bench")
    user, created = get_user_model().objects.get_or_create(username="bench-pipeline")
    if created:
        membership_grant(user=user, role=Role.objects.get(slug="pipeline"), locale=None, actor="bench")
    _, plaintext = token_create(user=user, name="bench", scopes=["feedback:write"], actor="bench")
    return plaintext


def _item(i: int, rng: random.Random) -> dict:
    phrase = f"{VERBS[rng.randrange(len(VERBS))]} {OBJECTS[rng.randrange(len(OBJECTS))]}"
    if rng.random() < 0.3:
        phrase += f" {rng.randrange(1000)}"  # a long tail of rarer phrasings
    return {"idempotency_key": f"bench-{i}", "locale": "de-DE" if i % 3 else "en-US", "text": phrase,
            "prediction": {"intent": "alarm_query", "slots": [{"type": "time", "value": "sieben"}],
                           "confidence": round(rng.random(), 3)},
            "signal": ("user_rephrase", "negative_rating", "barge_in", "low_confidence", "reported_defect")[i % 5],
            "session_hash": f"{i // 4:032x}", "timestamp": (T0 + timedelta(seconds=i)).isoformat()}


def feedback_ingest():
    """POST batches of 1,000 events through the full API stack (token auth, parsing, validation,
    masking, checks, INSERT … ON CONFLICT) in-process, clustering left to the (absent) workers as
    in production. Baseline side by side: the same events through `events_insert` alone. Then
    a replay of the same batches (all duplicates) and the clustering drain over what was stored."""
    from django.db import connection
    from rest_framework.test import APIClient

    from parley.config.celery import app
    from parley.checks.registry import CheckContext
    from parley.feedback.ingest import LocaleCache, event_clean
    from parley.feedback.models import FeedbackCluster
    from parley.feedback.services import events_cluster, events_insert
    from django.db import transaction

    total = int(os.environ.get("BENCH_FEEDBACK_EVENTS", 100_000))
    batch = 1000
    _feedback_tables_clear()
    token = _world()
    rng = random.Random(8)
    items = [_item(i, rng) for i in range(total)]
    bodies = [json.dumps({"events": items[s:s + batch]}).encode() for s in range(0, total, batch)]
    from django.conf import settings

    settings.ALLOWED_HOSTS.append("testserver")  # the in-process client's host name
    client = APIClient()
    app.conf.task_always_eager = False  # the drain message goes to the broker, as with real workers
    app.conf.broker_url = "memory://"

    def push():
        created = duplicates = 0
        for body in bodies:
            response = client.post("/api/v1/feedback/events", data=body, content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {token}")
            assert response.status_code == 200, response.content[:300]
            report = response.json()
            created += report["created"]
            duplicates += report["duplicates"]
        return created, duplicates

    started = time.perf_counter()
    created, _ = push()
    api_seconds = time.perf_counter() - started
    assert created == total, created
    started = time.perf_counter()
    _, duplicates = push()
    replay_seconds = time.perf_counter() - started
    assert duplicates == total
    print(f"feedback ingest via API, {total:,} events in batches of {batch}: {api_seconds:.1f} s, "
          f"{total / api_seconds:,.0f} events/s; replay (all duplicates): {total / replay_seconds:,.0f} events/s")

    started = time.perf_counter()
    clustered = events_cluster()
    drain_seconds = time.perf_counter() - started
    clusters = FeedbackCluster.objects.count()
    print(f"clustering drain: {clustered:,} events in {drain_seconds:.1f} s, {clustered / drain_seconds:,.0f} events/s "
          f"-> {clusters:,} clusters")

    _feedback_tables_clear()
    started = time.perf_counter()
    locales, context = LocaleCache(), CheckContext()
    for s in range(0, total, batch):
        clean = [event_clean(item, locales=locales, may_write=lambda _id: True, context=context)[0]
                 for item in items[s:s + batch]]
        with transaction.atomic():
            events_insert(events=clean)
    baseline_seconds = time.perf_counter() - started
    print(f"baseline, the same events validated and inserted without HTTP/DRF: {baseline_seconds:.1f} s, "
          f"{total / baseline_seconds:,.0f} events/s; API/baseline time ratio {api_seconds / baseline_seconds:.2f}x "
          f"({connection.vendor})")


def _mining_corpus(total: int):
    """Sessions of 2–4 turns: a failure and, in most, a successful rephrase a few seconds later."""
    from parley.feedback.ingest import CleanEvent
    from parley.locales.models import Locale

    rng = random.Random(9)
    de = Locale.objects.get(tag="de-DE")
    failed = [f"{v} {o}" for v in VERBS for o in OBJECTS]
    out, i, session = [], 0, 0
    while i < total:
        turns = rng.choice((2, 3, 3, 4))
        start = T0 + timedelta(seconds=session * 7)
        for t in range(min(turns, total - i)):
            success = t > 0 and rng.random() < 0.8
            text = ("weck mich um sieben" if success else failed[rng.randrange(len(failed))])
            out.append(CleanEvent(idempotency_key=f"m-{i}", locale_id=de.pk, locale_tag="de-DE", text=text,
                                  predicted_intent="alarm_set" if success else "",
                                  predicted_slots=[{"type": "time", "value": "sieben"}] if success else [],
                                  confidence=None, signal="success" if success else "user_rephrase",
                                  kind="wrong_intent", response_template_key="", session_hash=f"{session:032x}",
                                  occurred_at=start + timedelta(seconds=t * rng.randrange(2, 40)), masking=[]))
            i += 1
        session += 1
    return out


def feedback_mining():
    """Rephrase mining over BENCH_MINING_EVENTS stored events (inserted through `events_insert`)."""
    from django.db import connection, transaction

    from parley.feedback.services import events_insert, paraphrases_mine

    total = int(os.environ.get("BENCH_MINING_EVENTS", 1_000_000))
    _feedback_tables_clear()
    _world()
    corpus = _mining_corpus(total)
    started = time.perf_counter()
    for s in range(0, total, 5000):
        with transaction.atomic():
            events_insert(events=corpus[s:s + 5000])
    insert_seconds = time.perf_counter() - started
    del corpus
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE feedback_feedbackevent")
    started = time.perf_counter()
    result = paraphrases_mine(window_seconds=120, min_support=3, actor="bench")
    mine_seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = paraphrases_mine(window_seconds=120, min_support=3, actor="bench")
    again_seconds = time.perf_counter() - started
    print(f"mining {total:,} events: {mine_seconds:.1f} s, {total / mine_seconds:,.0f} events/s; "
          f"{result['pairs']:,} pairs -> {result['candidates_created']:,} candidates; second run {again_seconds:.1f} s, "
          f"{again['candidates_created']} created, {again['candidates_refreshed']} refreshed "
          f"(setup: insert {total / insert_seconds:,.0f} events/s)")


ALL["feedback_ingest"] = feedback_ingest
ALL["feedback_mining"] = feedback_mining
