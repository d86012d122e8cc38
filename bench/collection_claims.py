"""50 annotators claiming and submitting at once on PostgreSQL: claim-next latency and double assignment.

`DATABASE_URL=postgresql://… python bench/run.py collection_claims` (BENCH_ANNOTATORS, default 50;
BENCH_CLAIM_TASKS writing tasks, default 600, each followed by 2 validations; BENCH_THINK_MS, default 0:
the mean pause before each claim, uniform over 0.5-1.5x, since real annotators read and type;
BENCH_BASELINE=0 skips the baseline). One process per
annotator (forked after Django is set up), released at once by a barrier; each loops claim →
submit (an utterance or a judgment) until the pool is empty. The baseline is the same run with
plain FOR UPDATE instead of FOR NO KEY UPDATE SKIP LOCKED in claim-next, where claimers queue
behind one another.
"""
import multiprocessing
import os
import random
import statistics
import time

from benchmarks import ALL, _clear_utterances


def _tag(i: int) -> str:
    letters = ""
    i += 26 * 26  # at least three letters
    while i:
        i, d = divmod(i, 26)
        letters = chr(97 + d) + letters
    return letters


def _setup(annotators: int, tasks: int):
    from django.contrib.auth import get_user_model

    from parley.access.models import Membership, Role
    from parley.access.services import membership_grant
    from parley.collection.models import Campaign, Decision, Judgment, Task, TaskLease
    from parley.collection.services import campaign_create, campaign_status_change
    from parley.locales.models import Locale
    from parley.locales.services import locale_create
    from parley.nlu.services import intent_ensure, intent_slot_types_allow, slot_type_ensure

    for model in (Judgment, Decision, TaskLease, Task, Campaign):
        model.objects.all().delete()
    _clear_utterances()
    en = Locale.objects.filter(tag="en-US").first() or locale_create(tag="en-US", actor="bench")
    time_slot = slot_type_ensure(name="time", actor="bench")
    intents = []
    for name in ("alarm_set", "alarm_query", "alarm_remove", "weather_query", "play_music", "calendar_set"):
        intent = intent_ensure(name=name, scenario=name.split("_")[0], actor="bench")
        intent_slot_types_allow(intent=intent, slot_types=[time_slot])
        intents.append(intent)
    role = Role.objects.get(slug="annotator")
    User = get_user_model()
    users = []
    for i in range(annotators):
        user = User.objects.filter(username=f"bench-anno-{i}").first() or User.objects.create_user(f"bench-anno-{i}")
        if not Membership.objects.filter(user=user, role=role, locale=en).exists():
            membership_grant(user=user, role=role, locale=en, proficiency="native", actor="bench")
        users.append(user.pk)
    campaign = campaign_create(name="bench", locales=[en], intents=intents, actor="bench",
                               target_per_intent=max(tasks // len(intents), 1), required_validations=2)
    campaign_status_change(campaign=campaign, to="active", actor="bench")
    return campaign.pk, users


def _annotator(args):
    index, user_id, campaign_id, barrier, skip_locked = args
    from django.contrib.auth import get_user_model
    from django.db import OperationalError, connections

    from parley.collection import services
    from parley.collection.models import Campaign

    connections.close_all()  # a forked child must not share the parent's connection
    if not skip_locked:
        _use_plain_for_update(services)
    user = get_user_model().objects.get(pk=user_id)
    campaign = Campaign.objects.get(pk=campaign_id)
    claims, submits, n, deadlocks = [], [], 0, 0

    def retrying(fn):
        # PostgreSQL aborts one transaction of a lock cycle; count it and try again, as a client would.
        nonlocal deadlocks
        while True:
            try:
                return fn()
            except OperationalError as exc:
                if "deadlock" not in str(exc):
                    raise
                deadlocks += 1

    think = int(os.environ.get("BENCH_THINK_MS", "0")) / 1000
    barrier.wait()
    while True:
        if think:
            time.sleep(random.uniform(0.5 * think, 1.5 * think))  # reading the prompt, typing
        started = time.perf_counter()
        task = retrying(lambda: services.task_claim_next(annotator=user, campaign=campaign))
        claims.append(time.perf_counter() - started)
        if task is None:
            break
        started = time.perf_counter()
        if task.kind == "validate":
            retrying(lambda: services.task_submit_judgment(
                task=task, annotator=user, intent_score=2, slots_score=2, grammar_score=4, spelling_score=2,
                language_identification="target"))
        else:
            n += 1
            text = f"wake {_tag(index)} up at [time : seven] number {n}"
            retrying(lambda: services.task_submit_utterance(task=task, annotator=user, annotated=text))
        submits.append(time.perf_counter() - started)
    connections.close_all()
    return claims, submits, deadlocks


def _use_plain_for_update(services):
    """The baseline: the same claim query locking with FOR UPDATE, without SKIP LOCKED."""
    original = services.claimable_tasks

    def claimable_without_skip(**kwargs):
        qs = original(**kwargs)

        class Plain(type(qs)):
            def select_for_update(self, nowait=False, skip_locked=False, of=(), no_key=False):
                return super().select_for_update(nowait=nowait, skip_locked=False, of=of, no_key=False)

        qs.__class__ = Plain
        return qs

    services.claimable_tasks = claimable_without_skip


def _pct(values, p):
    ordered = sorted(values)
    return ordered[min(int(round(p / 100 * (len(ordered) - 1))), len(ordered) - 1)] * 1000


def _run(annotators, tasks, *, skip_locked):
    from django.db import connection, connections

    from parley.collection.models import Task, TaskLease

    campaign_id, users = _setup(annotators, tasks)
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Manager().Barrier(annotators)
    started = time.perf_counter()
    with context.Pool(annotators) as pool:
        results = pool.map(_annotator, [(i, u, campaign_id, barrier, skip_locked) for i, u in enumerate(users)])
    wall = time.perf_counter() - started
    claims = [c for r in results for c in r[0]]
    submits = [s for r in results for s in r[1]]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM (SELECT task_id FROM {TaskLease._meta.db_table} "
                       f"GROUP BY task_id HAVING count(*) > 1) t")
        doubled = cursor.fetchone()[0]
    done = Task.objects.filter(campaign_id=campaign_id, status="done").count()
    total = Task.objects.filter(campaign_id=campaign_id).count()
    return {"claims": claims, "submits": submits, "wall": wall, "doubled": doubled, "done": done, "total": total,
            "deadlocks": sum(r[2] for r in results)}


def collection_claims():
    from django.db import connection

    if connection.vendor != "postgresql":
        print("collection_claims: needs PostgreSQL (set DATABASE_URL); row locks are the point. Skipped.")
        return
    annotators = int(os.environ.get("BENCH_ANNOTATORS", "50"))
    tasks = int(os.environ.get("BENCH_CLAIM_TASKS", "600"))
    modes = [("FOR NO KEY UPDATE SKIP LOCKED", True), ("baseline: plain FOR UPDATE", False)]
    if os.environ.get("BENCH_BASELINE", "1") == "0":
        modes = modes[:1]
    for label, skip_locked in modes:
        r = _run(annotators, tasks, skip_locked=skip_locked)
        c, s = r["claims"], r["submits"]
        think = os.environ.get("BENCH_THINK_MS", "0")
        print(f"collection_claims [{label}] {annotators} annotators, think {think} ms, {r['done']}/{r['total']} tasks done in "
              f"{r['wall']:.1f} s ({len(s) / r['wall']:.0f} submissions/s): claim-next p50 {_pct(c, 50):.1f} ms, "
              f"p95 {_pct(c, 95):.1f} ms, p99 {_pct(c, 99):.1f} ms, max {max(c) * 1000:.0f} ms "
              f"(n={len(c)}); submit p50 {_pct(s, 50):.1f} ms, p95 {_pct(s, 95):.1f} ms; "
              f"mean claim {statistics.mean(c) * 1000:.1f} ms; tasks handed to two annotators: {r['doubled']}; "
              f"deadlocks retried: {r['deadlocks']}")


ALL["collection_claims"] = collection_claims
