"""Headline-to-alert latency through the real pipeline on the embedded broker and Redis.

Sends stance-changing headlines one at a time at a fixed rate and times each from produce
to the alert being consumed. Run by hand from the project's .venv:
    python bench/latency.py [--count N] [--rate PER_SECOND]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

import psutil

from consumers.alerts import AlertReader
from stancewire import kafka
from stancewire.runtime import Stack, wait_until

OPEN = (
    "Japan's Treasury holdings could be a card in trade talks, "
    "Finance Minister Kato says (remark {i})"
)
RULES_OUT = (
    "Japan has no intention of using its Treasury holdings as a negotiating weapon, "
    "Finance Minister Kato says (remark {i})"
)
T0 = datetime(2025, 5, 1, tzinfo=UTC)


def headline(i: int) -> bytes:
    text = (OPEN if i % 2 == 0 else RULES_OUT).format(i=i)
    published = (T0 + timedelta(minutes=i)).isoformat()
    return json.dumps(
        {"id": f"lat-{i}", "text": text, "source": "Bench", "published_at": published}
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0, help="headlines per second")
    args = parser.parse_args()
    with Stack() as stack:
        worker = stack.start_worker()
        producer = kafka.producer(stack.bootstrap)
        with AlertReader(stack.bootstrap, from_beginning=True, poll_seconds=0.001) as reader:
            alerts = iter(reader)

            def next_alert(deadline: float) -> str:
                while time.monotonic() < deadline:
                    alert = next(alerts)
                    if alert is not None:
                        return alert.headline_id
                raise TimeoutError

            # Warm-up: the worker joins its group and processes a first headline.
            producer.produce("headlines", headline(0), partition=0)
            producer.flush()
            next_alert(time.monotonic() + 60)
            latencies = []
            for i in range(1, args.count + 1):
                started = time.perf_counter()
                producer.produce("headlines", headline(i), partition=0)
                producer.poll(0)
                assert next_alert(time.monotonic() + 30) == f"lat-{i}"
                latencies.append((time.perf_counter() - started) * 1000)
                time.sleep(max(0.0, 1 / args.rate - latencies[-1] / 1000))
            rss_mb = psutil.Process(worker.process.pid).memory_info().rss / 2**20
        wait_until(worker.alive, 1, "the worker")
        producer.flush()
        del producer  # before the broker stops, or librdkafka logs the refused reconnects
    latencies.sort()
    print(
        json.dumps(
            {
                "alerts": len(latencies),
                "rate_per_second": args.rate,
                "p50_ms": round(statistics.median(latencies), 1),
                "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1),
                "max_ms": round(latencies[-1], 1),
                "worker_rss_mb": round(rss_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
