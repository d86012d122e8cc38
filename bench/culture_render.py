"""Template render through the API, warm: POST /api/v1/templates/{key}/render with a pipeline
token, over de-DE, ru-RU, ar-SA, ja-JP and a fallback (de-AT → de-DE), side by side with the same
render with the read-path copies turned off (PARLEY_READ_CACHE_SECONDS=0: every request reads
the token, grants, locales and texts from the database, as before the copies) and with
GET /api/v1/me/ (same client, token and middleware).

BENCH_RENDERS (default 2000) requests per endpoint after 200 warm-up requests.
"""
import os
import statistics
import time


def _percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _world():
    from parley.access.models import Role
    from parley.access.services import membership_grant, token_create
    from parley.culture.models import TemplateKey
    from parley.culture.services import register_save, template_key_create, template_save, template_status_change
    from parley.locales.models import Locale
    from parley.locales.services import locale_create, locale_parent_set
    from django.contrib.auth import get_user_model

    TemplateKey.objects.filter(key="bench.alarm_set.confirm").delete()
    tags = ["en-US", "de-DE", "ru-RU", "ar-SA", "ja-JP", "de-AT"]
    locales = {t: Locale.objects.filter(tag=t).first() or locale_create(tag=t, actor="bench") for t in tags}
    if locales["de-AT"].parent_id != locales["de-DE"].pk:
        locale_parent_set(locale=locales["de-AT"], parent=locales["de-DE"], actor="bench")
    for tag in ("de-DE", "de-AT"):
        register_save(locale=locales[tag], code="du", order=0, actor="bench")
        register_save(locale=locales[tag], code="sie", order=1, is_default=True, actor="bench")
    key = template_key_create(key="bench.alarm_set.confirm", source_locale=locales["en-US"], actor="bench",
                              parameters=[{"name": "count", "type": "number"}, {"name": "day", "type": "date"}])
    bodies = {
        ("en-US", ""): "{count, plural, one {# alarm} other {# alarms}} set for {day, date, long}.",
        ("de-DE", "sie"): "{count, plural, one {# Wecker ist} other {# Wecker sind}} für Sie am {day, date, long} gestellt.",
        ("ru-RU", ""): "{count, plural, one {# будильник поставлен} few {# будильника поставлены} many {# будильников "
                       "поставлены} other {# будильника поставлены}} на {day, date, long}.",
        ("ar-SA", ""): "{count, plural, zero {لا منبهات} one {منبه واحد} two {منبهان} few {# منبهات} many {# منبهًا} "
                       "other {# منبه}} ليوم {day, date, long}.",
        ("ja-JP", ""): "{day, date, long}に{count, plural, other {#件}}のアラームをセットしました。",
    }
    for (tag, register), body in bodies.items():
        text = template_save(key=key, locale=locales[tag], register=register, body=body, actor="bench")
        template_status_change(template=text, to="in_review", actor="bench")
        template_status_change(template=text, to="approved", actor="bench")
    User = get_user_model()
    user = User.objects.filter(username="bench-pipeline").first() or User.objects.create_user("bench-pipeline")
    if not user.memberships.exists():
        membership_grant(user=user, role=Role.objects.get(slug="pipeline"), locale=None, actor="bench")
    _token, plaintext = token_create(user=user, name=f"bench-{time.time_ns()}", scopes=["culture:read"], locales=[],
                                     actor="bench")
    return plaintext


def culture_render():
    from django.test import Client

    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    kept = settings.PARLEY_READ_CACHE_SECONDS
    n = int(os.environ.get("BENCH_RENDERS", "2000"))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {_world()}")
    requests = [("de-DE", None), ("ru-RU", None), ("ar-SA", None), ("ja-JP", None), ("de-AT", "sie")]

    def render(i):
        tag, register = requests[i % len(requests)]
        body = {"locale": tag, "parameters": {"count": i % 30, "day": "2026-12-24"}}
        if register:
            body["register"] = register
        response = client.post("/api/v1/templates/bench.alarm_set.confirm/render", body,
                               content_type="application/json")
        assert response.status_code == 200, response.content
        return response

    def me(_i):
        response = client.get("/api/v1/me/")
        assert response.status_code == 200, response.content

    def render_without_copies(i):
        settings.PARLEY_READ_CACHE_SECONDS = 0
        try:
            render(i)
        finally:
            settings.PARLEY_READ_CACHE_SECONDS = kept

    def timed(*fns):
        """Each fn timed n times, interleaved request by request, so all see the same machine load."""
        for i in range(200):
            for fn in fns:
                fn(i)
        times = [[] for _ in fns]
        for i in range(n):
            for fn, bucket in zip(fns, times):
                started = time.perf_counter()
                fn(i)
                bucket.append((time.perf_counter() - started) * 1000)
        return times

    sample = render(2).json()
    assert sample["text"].startswith("٢ ") or sample["text"].startswith("منبهان"), sample
    fallback = render(4).json()
    assert (fallback["locale"], fallback["register"]) == ("de-DE", "sie"), fallback
    from parley.config.generations import generation_snapshot
    from parley.culture.selectors import template_render
    from parley.locales.selectors import locale_resolve

    def service(i):
        tag, register = requests[i % len(requests)]
        with generation_snapshot():  # as in a request: the counters read once
            template_render(key="bench.alarm_set.confirm", locale=locale_resolve(tag), register=register,
                            parameters={"count": i % 30, "day": "2026-12-24"})

    renders, uncached, baseline, direct = timed(render, render_without_copies, me, service)
    p50, p95, p99 = (_percentile(renders, q) for q in (0.5, 0.95, 0.99))
    u50, u95 = (_percentile(uncached, q) for q in (0.5, 0.95))
    b50, b95 = (_percentile(baseline, q) for q in (0.5, 0.95))
    print(f"render through the API, warm, {n} requests over de-DE/ru-RU/ar-SA/ja-JP/de-AT→de-DE: "
          f"p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms, mean {statistics.mean(renders):.2f} ms "
          f"(counters: {'Redis' if settings.REDIS_URL else 'this process'})")
    print(f"the same render with the read-path copies off: p50 {u50:.2f} ms, p95 {u95:.2f} ms; "
          f"copies off p95 / on p95 = {u95 / p95:.2f}x")
    print(f"GET /api/v1/me/ (same token, client, middleware): p50 {b50:.2f} ms, p95 {b95:.2f} ms")
    print(f"the render service alone (locale_resolve + template_render: counters, copies, ICU): "
          f"p50 {_percentile(direct, 0.5):.2f} ms, p95 {_percentile(direct, 0.95):.2f} ms")


def culture_term_check():
    """utterance.banned_term per row, as an import runs it (one CheckContext for the run), for rows of
    de-DE and ja-JP with the shipped pack terms, against the same rows in a locale without terms."""
    from parley.checks.registry import checks_evaluate_many
    from parley.culture.models import SensitiveTerm
    from parley.culture.services import sensitive_term_create
    from parley.locales.models import Locale
    from parley.locales.services import locale_create
    from parley.nlu.models import Utterance

    n = int(os.environ.get("BENCH_ROWS", "100000"))
    tags = {"de-DE": "weck mich diese woche um fünf uhr morgens auf", "ja-JP": "今週の午前五時に起こして",
            "eo": "veku min je la kvina"}
    locales = {t: Locale.objects.filter(tag=t).first() or locale_create(tag=t, actor="bench") for t in tags}
    for tag, terms in (("de-DE", ["Scheiße", "Arschloch", "Idiot", "Zigeuner", "Weib", "Führer", "Endlösung"]),
                       ("ja-JP", ["馬鹿", "アホ", "死ね", "気違い", "片親"])):
        for term in terms:
            if not SensitiveTerm.objects.filter(locale=locales[tag], term=term).exists():
                sensitive_term_create(locale=locales[tag], term=term, severity="block", actor="bench", recheck=False)

    def run(tag):
        rows = [(Utterance(text=tags[tag]), tag) for _ in range(n)]
        started = time.perf_counter()
        for _obj, _tag, _found in checks_evaluate_many(rows, applies_to="utterance", only=["utterance.banned_term"]):
            pass
        return (time.perf_counter() - started) / n * 1e6

    baseline = run("eo")
    print(f"utterance.banned_term, {n} rows a locale (no term in the text, the common case): "
          f"de-DE {run('de-DE'):.1f} µs/row, ja-JP {run('ja-JP'):.1f} µs/row; "
          f"a locale without terms (baseline) {baseline:.1f} µs/row")


ALL = {"culture_render": culture_render, "culture_term_check": culture_term_check}
