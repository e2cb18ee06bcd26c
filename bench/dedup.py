"""Dedup checks per second against a real redis-server on loopback (the worker's own step).

Detection runs before the timing (the worker does it anyway); what is timed is the whole
check (the claim, the fingerprint, the Lua round trip): one at a time, as the worker calls
it with ``screen_batch_max`` 1, and in batches (``Dedup.check_many``), as the worker calls it
from a backlog with ``screen_batch_max`` N and the backtest does. Also Redis memory per
headline. Run by hand from the project's .venv:
python bench/dedup.py [--checks N] [--batch N] [--everything]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from schemas import Headline
from stancewire.demo import sample_wire
from stancewire.runtime import Stack
from streams.claims import headline_sentence
from streams.dedup import Dedup, DedupSettings
from streams.detect import Detection, detect

SETTINGS = DedupSettings(
    exact_ttl_seconds=86400, near_ttl_seconds=86400, window_seconds=86400, min_bands=4
)


def wire(count: int, everything: bool) -> list[tuple[Headline, list[Detection]]]:
    """Headlines of the sample wire, each a new story; only those with statements (all the
    worker checks) unless ``everything`` (statement-less ones take the MinHash layer)."""
    texts = [json.loads(line)["text"] for line in sample_wire()]
    if not everything:
        texts = [text for text in texts if detect(text)]
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    items = []
    for i in range(count):
        # A serial number in the headline sentence (the claim reads no other) makes each
        # headline a new story, the worst case: every story in the tag's list is compared.
        text = texts[i % len(texts)]
        cut = text.index(headline_sentence(text)) + len(headline_sentence(text))
        text = f"{text[:cut]} (item {i}){text[cut:]}"
        headline = Headline(
            id=f"b-{i}", text=text, source="Bench", published_at=t0 + timedelta(seconds=i)
        )
        items.append((headline, detect(text)))
    return items


async def measure(redis_url: str, checks: int, batch: int, everything: bool) -> dict[str, float]:
    client = Redis.from_url(redis_url, decode_responses=True)
    dedup = Dedup(client, SETTINGS)
    items = wire(checks, everything)
    await client.flushdb()
    started = time.perf_counter()
    for headline, detections in items:
        await dedup.check(headline, detections)
    sequential = checks / (time.perf_counter() - started)
    memory = (await client.info("memory"))["used_memory"]
    await client.flushdb()
    baseline = (await client.info("memory"))["used_memory"]
    await client.config_resetstat()

    started = time.perf_counter()
    for start in range(0, len(items), batch):
        await dedup.check_many(items[start : start + batch])
    batched = checks / (time.perf_counter() - started)
    script = (await client.info("commandstats"))["cmdstat_evalsha"]["usec_per_call"]
    await client.aclose()
    return {
        "checks": checks,
        "sequential_checks_per_second": round(sequential),
        "batch": batch,
        "batched_checks_per_second": round(batched),
        "redis_script_microseconds": script,
        "redis_bytes_per_headline": round((memory - baseline) / checks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument(
        "--everything", action="store_true", help="also headlines without statements (MinHash)"
    )
    args = parser.parse_args()
    with Stack(with_broker=False) as stack:
        result = measure(stack.redis_url, args.checks, args.batch, args.everything)
        print(json.dumps(asyncio.run(result)))


if __name__ == "__main__":
    main()
