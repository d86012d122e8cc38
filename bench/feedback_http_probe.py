"""Feedback ingestion over real HTTP: gunicorn serving the app, clients POSTing batches.

    DATABASE_URL=postgresql://…/h_feedback_bench .venv/bin/python bench/feedback_http_probe.py \
        [--events 50000] [--workers 2] [--clients 2] [--port 8103]

Starts gunicorn (sync workers) on 127.0.0.1:PORT, creates a pipeline token, POSTs pre-encoded
batches of 1,000 from CLIENTS threads over keep-alive connections, prints events/s, stops the
server. The clients share the machine's cores with the server (2 cores here), so this is a floor.
"""
import argparse
import http.client
import json
import random
import threading
import time

from http_server import django_ready, gunicorn_serving


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--port", type=int, default=8103)
    args = parser.parse_args()

    django_ready()
    import feedback_bench

    feedback_bench._feedback_tables_clear()
    token = feedback_bench._world()
    rng = random.Random(8)
    items = [feedback_bench._item(i, rng) for i in range(args.events)]
    bodies = [json.dumps({"events": items[s:s + 1000]}).encode() for s in range(0, args.events, 1000)]

    with gunicorn_serving(port=args.port, workers=args.workers):
        queue = list(range(len(bodies)))
        lock = threading.Lock()
        created = [0]

        def client():
            connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
            while True:
                with lock:
                    if not queue:
                        return
                    index = queue.pop()
                connection.request("POST", "/api/v1/feedback/events", body=bodies[index],
                                   headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
                response = connection.getresponse()
                payload = json.loads(response.read())
                assert response.status == 200, payload
                with lock:
                    created[0] += payload["created"]

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
        assert created[0] == args.events, created[0]
        print(f"HTTP ingest: {args.events:,} events in batches of 1000, gunicorn {args.workers} workers, "
              f"{args.clients} clients: {seconds:.1f} s, {args.events / seconds:,.0f} events/s")


if __name__ == "__main__":
    main()
