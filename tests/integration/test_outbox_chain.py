"""An alert the outbox sweep publishes joins its story's chain as one published at once does:
the reports that follow corroborate it. On a real redis-server, with the screen's own steps."""

from __future__ import annotations

import asyncio
import json

from redis.asyncio import Redis

from schemas import Alert, Corroboration
from schemas.settings import WorkerSettings
from stancewire.backtest import CollectingSink, screen_on
from stancewire.runtime import Stack
from streams.detect import Detector
from streams.screen import Message

TEXT = "Japan has no intention of using its Treasury holdings as a negotiating tool, Kato says"


class BrokerDownOnce(CollectingSink):
    """The first alert is refused (the broker is down), so it waits in the outbox."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0
        self.corroborations: list[Corroboration] = []

    async def alert(self, alert: Alert) -> None:
        if not self.refused:
            self.refused += 1
            raise ConnectionError("broker down")
        await super().alert(alert)

    async def corroboration(self, corroboration: Corroboration) -> None:
        self.corroborations.append(corroboration)


def message(offset: int, hid: str, text: str, source: str, minute: int) -> Message:
    line = {"id": hid, "text": text, "source": source}
    line["published_at"] = f"2025-05-04T03:{minute:02d}:00+00:00"
    return Message(json.dumps(line).encode(), None, 0, offset)


async def screened(redis_url: str) -> tuple[list[str], BrokerDownOnce]:
    redis = Redis.from_url(redis_url, decode_responses=True)
    await redis.flushdb()
    sink = BrokerDownOnce()
    screen = screen_on(redis, WorkerSettings(redis_url=redis_url), sink, Detector.from_path(None))
    try:
        outcomes = await screen.handle([message(0, "first", TEXT, "Reuters", 0)])
        assert not sink.alerts and await screen.republish_pending(None) == 1
        outcomes += await screen.handle([message(1, "copy", TEXT.upper(), "Kyodo", 5)])
    finally:
        await redis.aclose()
    return outcomes, sink


def test_an_alert_the_sweep_publishes_is_corroborated_by_the_reports_that_follow() -> None:
    with Stack(with_broker=False) as stack:
        outcomes, sink = asyncio.run(screened(stack.redis_url))
    assert outcomes == ["relevant", "duplicate"]
    [alert] = sink.alerts
    assert [(c.alert_id, c.headline_id, c.outlets) for c in sink.corroborations] == [
        (alert.alert_id, "copy", 2)
    ]
