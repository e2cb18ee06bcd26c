"""``stancewire backtest ARCHIVE``: which alerts an archive would have fired, with no broker.

The worker's own screen (``streams.screen.Screen``: the same detection, dedup and stance
code, the same Lua scripts) runs over the archive in event-time order against a Redis of
its own (embedded unless given), with a sink that collects the alerts instead of producing
them. With a second lexicon it runs again from empty state and prints the difference.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from redis.asyncio import Redis

from schemas import HEADLINES, Alert, Corroboration, DeadLetter, Statement
from schemas.settings import WorkerSettings
from streams.dedup import Dedup, DedupSettings
from streams.detect import Detector
from streams.screen import Message, Screen, Sink
from streams.stance import StanceStore
from streams.stories import Stories


@dataclass
class CollectingSink:
    """The screen's output, kept in memory."""

    alerts: list[Alert] = field(default_factory=list)
    dead_letters: int = 0
    statements: int = 0

    async def dead_letter(self, key: bytes | None, letter: DeadLetter) -> None:
        self.dead_letters += 1

    async def statement(self, statement: Statement) -> None:
        self.statements += 1

    async def alert(self, alert: Alert) -> None:
        self.alerts.append(alert)

    async def corroboration(self, corroboration: Corroboration) -> None:
        """Corroborations are not alerts; a backtest lists alerts."""


def event_time_order(lines: Sequence[bytes]) -> list[bytes]:
    """Lines by ``published_at`` as an instant (stable; "03:00Z" after "11:00+09:00"); lines
    without a readable, timezone-aware one keep their order, at the end."""

    def published(line: bytes) -> datetime | None:
        try:
            value = datetime.fromisoformat(json.loads(line)["published_at"])
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return value if value.tzinfo is not None else None

    keyed = [(published(line), line) for line in lines]
    dated = [(stamp, line) for stamp, line in keyed if stamp is not None]
    dated.sort(key=lambda pair: pair[0])
    return [line for _, line in dated] + [line for stamp, line in keyed if stamp is None]


BATCH = 256
"""Headlines screened together, with one dedup round trip for all (as the worker does from
a backlog with ``screen_batch_max``)."""


async def _nothing_alerted_before() -> list[Alert]:
    """A backtest starts from no stance: its Redis is emptied and no alert precedes it."""
    return []


async def backtest(
    lines: Sequence[bytes],
    redis_url: str,
    lexicon: Path | None,
    progress: Callable[[int], None] = lambda _: None,
) -> CollectingSink:
    """Screen every line in order from an empty Redis; ``progress`` is told each count done."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    await redis.flushdb()
    sink = CollectingSink()
    screen = screen_on(
        redis, WorkerSettings(redis_url=redis_url), sink, Detector.from_path(lexicon)
    )
    try:
        for start in range(0, len(lines), BATCH):
            batch = lines[start : start + BATCH]
            await screen.handle([Message(line, None, 0, start + i) for i, line in enumerate(batch)])
            progress(start + len(batch))
    finally:
        await redis.aclose()
    return sink


def screen_on(
    redis: Redis,
    settings: WorkerSettings,
    sink: Sink,
    detector: Detector,
    dedup: Dedup | None = None,
) -> Screen:
    """The worker's screen on ``redis``, for a replay from empty state: no alert was raised
    before it (``dedup``: the worker's own unless given)."""
    return Screen(
        detector,
        dedup or Dedup(redis, DedupSettings.of(settings)),
        Stories(redis, settings.story_ttl_seconds),
        StanceStore(redis, _nothing_alerted_before),
        sink,
        max_message_bytes=settings.max_message_bytes,
        source_topic=HEADLINES.name,
    )


def run(
    lines: Sequence[bytes],
    redis_url: str,
    lexicon: Path | None,
    progress: Callable[[int], None] = lambda _: None,
) -> CollectingSink:
    return asyncio.run(backtest(event_time_order(lines), redis_url, lexicon, progress))


def key(alert: Alert) -> tuple[str, str, str, str | None, str]:
    """What makes two runs' alerts the same alert: the event and the change."""
    previous = alert.from_.value if alert.from_ else None
    return alert.headline_id, alert.government, alert.topic.value, previous, alert.to.value
