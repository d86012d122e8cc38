"""Template render over real HTTP: gunicorn serving the app, one client rendering in sequence.

    DATABASE_URL=postgresql://…/culture_bench REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/render_http_probe.py [--renders 2000] [--port 8104]

Same world and requests as bench/culture_render.py (de-DE, ru-RU, ar-SA, ja-JP, de-AT → de-DE),
over one keep-alive connection to gunicorn (1 gthread worker). The same requests run side by side
against a second server started with PARLEY_READ_CACHE_SECONDS=0 (no read-path copies), interleaved
request by request, so the ratio is taken under the same load. Latency is measured by the client,
so it includes HTTP parsing and the loopback hop.
"""
import argparse
import http.client
import json
import time

from http_server import django_ready, gunicorn_serving


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=2000)
    parser.add_argument("--port", type=int, default=8104)
    args = parser.parse_args()

    django_ready()
    import culture_render

    token = culture_render._world()
    requests = [("de-DE", None), ("ru-RU", None), ("ar-SA", None), ("ja-JP", None), ("de-AT", "sie")]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}",
               "Host": "127.0.0.1"}

    def body(i):
        tag, register = requests[i % len(requests)]
        payload = {"locale": tag, "parameters": {"count": i % 30, "day": "2026-12-24"}}
        if register:
            payload["register"] = register
        return json.dumps(payload).encode()

    warm, cold = args.port, args.port + 1
    with gunicorn_serving(port=warm, workers=1, threads=2), \
            gunicorn_serving(port=cold, workers=1, threads=2, env={"PARLEY_READ_CACHE_SECONDS": "0"}):
        connections = {port: http.client.HTTPConnection("127.0.0.1", port, timeout=30) for port in (warm, cold)}

        def render(port, i):
            connection = connections[port]
            started = time.perf_counter()
            connection.request("POST", "/api/v1/templates/bench.alarm_set.confirm/render", body=body(i),
                               headers=headers)
            response = connection.getresponse()
            payload = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status == 200, payload
            return elapsed

        for i in range(200):
            render(warm, i), render(cold, i)
        times = {warm: [], cold: []}
        for i in range(args.renders):
            for port in (warm, cold):
                times[port].append(render(port, i))

    def pct(values, q):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    w50, w95, w99 = (pct(times[warm], q) for q in (0.5, 0.95, 0.99))
    c50, c95 = (pct(times[cold], q) for q in (0.5, 0.95))
    print(f"render over HTTP (gunicorn 1 gthread worker, keep-alive), {args.renders} requests: "
          f"p50 {w50:.2f} ms, p95 {w95:.2f} ms, p99 {w99:.2f} ms")
    print(f"same, server without read-path copies: p50 {c50:.2f} ms, p95 {c95:.2f} ms; "
          f"p95 ratio {c95 / w95:.2f}x")


if __name__ == "__main__":
    main()
