"""Dedup checks per second against a real redis-server on loopback (the worker's own step).

Detection runs before the timing (the worker does it anyway); what is timed is the whole
check (the claim, the fingerprint, the Lua round trip): one at a time, as the worker calls
it with ``screen_batch_max`` 1, and in batches (``Dedup.check_many``), as the worker calls it
from a backlog with ``screen_batch_max`` N and the backtest does. Also Redis memory per
headline. Run by hand from the project's .venv:
python bench/dedup.py [--checks N] [--batch N] [--everything] [--copies F]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from schemas import Headline
from schemas.settings import WorkerSettings
from stancewire.demo import sample_wire
from stancewire.runtime import Stack
from streams.claims import headline_sentence
from streams.dedup import Dedup, DedupSettings
from streams.detect import Detection, detect

SETTINGS = DedupSettings(
    exact_ttl_seconds=86400, near_ttl_seconds=86400, window_seconds=86400, min_bands=4
)


def _after_headline(text: str, words: str) -> str:
    """``text`` with ``words`` at the end of its headline sentence (the claim reads no other)."""
    cut = text.index(headline_sentence(text)) + len(headline_sentence(text))
    return f"{text[:cut]}{words}{text[cut:]}"


def wire(count: int, everything: bool, copies: float) -> list[tuple[Headline, list[Detection]]]:
    """Headlines of the sample wire; only those with statements (all the worker checks)
    unless ``everything`` (statement-less ones take the MinHash layer). Each is a new story
    (the worst case: every story in its tag's list is compared), but for the share
    ``copies``: an outlet's copy of one of the 20 headlines before it."""
    texts = [json.loads(line)["text"] for line in sample_wire()]
    if not everything:
        texts = [text for text in texts if detect(text)]
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    chance = random.Random(7)
    written: list[str] = []
    items = []
    for i in range(count):
        if written and chance.random() < copies:
            text = _after_headline(written[-chance.randint(1, min(20, len(written)))], " - Reuters")
        else:
            # a serial number makes it a new story
            text = _after_headline(texts[i % len(texts)], f" (item {i})")
            written.append(text)
        headline = Headline(
            id=f"b-{i}", text=text, source="Bench", published_at=t0 + timedelta(seconds=i)
        )
        items.append((headline, detect(text)))
    return items


async def measure(
    redis_url: str, checks: int, batch: int, everything: bool, copies: float
) -> dict[str, float]:
    # the worker's client: its dedup timeout is on every read (see streams.app)
    timeout = WorkerSettings.model_fields["dedup_timeout_seconds"].default
    client = Redis.from_url(redis_url, decode_responses=True, socket_timeout=timeout)
    dedup = Dedup(client, SETTINGS)
    items = wire(checks, everything, copies)
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
        "copies": copies,
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
    parser.add_argument(
        "--copies",
        type=float,
        default=0.0,
        help="the share of checks that are copies of a recent story (0: the worst case; "
        "about 0.4 on the pipeline bench's wire, among the headlines the worker checks)",
    )
    args = parser.parse_args()
    with Stack(with_broker=False) as stack:
        result = measure(stack.redis_url, args.checks, args.batch, args.everything, args.copies)
        print(json.dumps(asyncio.run(result)))


if __name__ == "__main__":
    main()
