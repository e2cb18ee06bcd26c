"""Delivery latency: from an alert on the ``alerts`` topic to its arrival at a desk.

Starts the embedded broker and Redis, a worker and a gateway; a Kafka reader notes when
each alert is on the topic, an SSE client when it arrives on the stream. Run by hand from
the project's .venv:  python bench/delivery.py [--count N] [--rate PER_SECOND]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx

from consumers.alerts import AlertReader
from schemas.desks import Desk, Desks
from stancewire import kafka
from stancewire.runtime import Stack, free_port

TOKEN = "bench-desk-token-0001"
TEXTS = (
    "Japan's Treasury holdings could be a card in trade talks, Finance Minister Kato says ({i})",
    "Japan has no intention of using its Treasury holdings as a negotiating weapon, "
    "Finance Minister Kato says ({i})",
)


def headline(i: int) -> bytes:
    published = (datetime(2025, 5, 1, tzinfo=UTC) + timedelta(minutes=i)).isoformat()
    text = TEXTS[i % 2].format(i=i)
    return json.dumps(
        {"id": f"d-{i}", "text": text, "source": "Bench", "published_at": published}
    ).encode()


def percentiles(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(values[max(0, int(len(values) * 0.95) - 1)], 1),
        "max_ms": round(values[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--rate", type=float, default=5.0)
    args = parser.parse_args()
    on_topic: dict[str, float] = {}
    on_stream: dict[str, float] = {}
    produced: dict[str, float] = {}
    with Stack() as stack:
        stack.start_worker()
        port = free_port()
        desks = Desks(desks=(Desk(desk="bench", token_sha256=Desk.hash_token(TOKEN)),))
        stack.start_gateway(port, desks.model_dump_json())
        stop = threading.Event()

        def read_topic() -> None:
            with AlertReader(stack.bootstrap, from_beginning=True, poll_seconds=0.001) as reader:
                for alert in reader:
                    if stop.is_set():
                        return
                    if alert is not None:
                        on_topic.setdefault(alert.headline_id, time.perf_counter())

        def read_stream() -> None:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            url = f"http://127.0.0.1:{port}/v1/alerts/stream"
            try:
                with httpx.stream("GET", url, headers=headers, timeout=None) as response:
                    for line in response.iter_lines():
                        if line.startswith("data: "):
                            hid = json.loads(line[6:])["headline_id"]
                            on_stream.setdefault(hid, time.perf_counter())
                        if stop.is_set():
                            return
            except httpx.HTTPError:
                return  # the gateway stopped at the end of the run

        threads = [threading.Thread(target=f, daemon=True) for f in (read_topic, read_stream)]
        for thread in threads:
            thread.start()
        producer = kafka.producer(stack.bootstrap)
        # Warm-up: the worker joins its group and the stream is open before timing starts.
        producer.produce("headlines", headline(0), partition=0)
        producer.flush()
        deadline = time.monotonic() + 60
        while "d-0" not in on_stream and time.monotonic() < deadline:
            time.sleep(0.05)
        for i in range(1, args.count + 1):
            produced[f"d-{i}"] = time.perf_counter()
            producer.produce("headlines", headline(i), partition=0)
            producer.flush()
            time.sleep(1 / args.rate)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(on_stream) < args.count + 1:
            time.sleep(0.05)
        stop.set()
        del producer
    sse = [(on_stream[h] - on_topic[h]) * 1000 for h in produced if h in on_stream]
    end_to_end = [(on_stream[h] - produced[h]) * 1000 for h in produced if h in on_stream]
    result = {
        "alerts": len(sse),
        "topic_to_sse": percentiles(sse),
        "headline_to_sse": percentiles(end_to_end),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
