"""Screening in batches (one dedup round trip for many headlines, ``screen_batch_max``) decides
exactly what screening one headline at a time decides: the same outcome for every message,
the same alerts, statements and dead letters. On a real redis-server, from empty state."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

from redis.asyncio import Redis

from schemas import Headline, Stance
from schemas.settings import WorkerSettings
from stancewire.backtest import CollectingSink, event_time_order, screen_on
from stancewire.runtime import Stack
from streams.dedup import Dedup, DedupSettings
from streams.detect import Detection, Detector
from streams.screen import Message

PAIRS = Path(__file__).parents[1] / "data" / "dedup" / "pairs.jsonl"
BAD = b'{"id": "bad", "text": '
Decided = tuple[list[tuple[str, Stance | None, Stance, str]], int, int]


def wire() -> list[bytes]:
    """Both sides of every labelled pair (rewrites, syndicated copies, negations, other
    governments) in event-time order, a copy of each side, and some invalid messages."""
    lines = []
    for text in PAIRS.read_text().splitlines():
        pair = json.loads(text)
        for side in ("a", "b"):
            headline = {"id": f"{pair['id']}-{side}", **pair[side]}
            lines.append(json.dumps(headline).encode())
            lines.append(json.dumps({**headline, "id": f"{headline['id']}-copy"}).encode())
    with_bad: list[bytes] = []
    for i, message in enumerate(event_time_order(lines)):
        with_bad += [BAD, message] if i % 50 == 0 else [message]
    return with_bad


class FailingFor(Dedup):
    """Dedup with a bug for one headline: the fault a batch must contain."""

    def __init__(self, redis: Redis, settings: DedupSettings, headline_id: str) -> None:
        super().__init__(redis, settings)
        self._failing = headline_id

    def _requests(
        self, headline: Headline, detections: Sequence[Detection], detector: Detector | None
    ) -> list[tuple[str, list[str], list[str]]]:
        if headline.id == self._failing:
            raise ValueError(f"no claim for {headline.id}")
        return super()._requests(headline, detections, detector)


async def screened(
    redis_url: str, lines: list[bytes], batch: int, failing: str = ""
) -> tuple[list[str], Decided]:
    """Every message's outcome; the alerts (id, from, to, story), statements, dead letters.
    ``failing``: a headline whose dedup check raises."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    await redis.flushdb()
    settings = WorkerSettings(redis_url=redis_url)
    sink = CollectingSink()
    dedup = FailingFor(redis, DedupSettings.of(settings), failing)
    screen = screen_on(redis, settings, sink, Detector.from_path(None), dedup)
    outcomes: list[str] = []
    try:
        for start in range(0, len(lines), batch):
            chunk = lines[start : start + batch]
            messages = [Message(line, None, 0, start + i) for i, line in enumerate(chunk)]
            outcomes += await screen.handle(messages)
    finally:
        await redis.aclose()
    alerts = sorted((a.alert_id, a.from_, a.to, a.story_id) for a in sink.alerts)
    return outcomes, (alerts, sink.statements, sink.dead_letters)


def test_batches_decide_what_one_at_a_time_decides() -> None:
    lines = wire()
    with Stack(with_broker=False) as stack:
        one, one_out = asyncio.run(screened(stack.redis_url, lines, 1))
        many, many_out = asyncio.run(screened(stack.redis_url, lines, 64))
    assert one.count("duplicate") > 100 and one.count("invalid") == lines.count(BAD) > 10
    assert one_out[0], "the wire raises alerts"
    assert many == one
    assert many_out == one_out


def test_a_headline_whose_check_fails_is_dead_lettered_and_its_batch_goes_on() -> None:
    lines = wire()
    with Stack(with_broker=False) as stack:
        one, (_, _, dead) = asyncio.run(screened(stack.redis_url, lines, 64))
        failing = "pair-002-a"  # a headline with statements, so it is checked
        hit = next(i for i, line in enumerate(lines) if f'"{failing}"'.encode() in line)
        assert one[hit] == "relevant"
        many, (_, _, dead_after) = asyncio.run(screened(stack.redis_url, lines, 64, failing))
    assert many[hit] == "failed" and dead_after == dead + 1
    assert many[:hit] == one[:hit]
    rest_of_batch = slice(hit + 1, (hit // 64 + 1) * 64)
    assert "failed" not in many[rest_of_batch] and many[rest_of_batch] != []
