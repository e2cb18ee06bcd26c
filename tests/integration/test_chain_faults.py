"""Story chains when something else fails or races, with the screen's own steps on a real
redis-server: a producer that refuses statements and corroborations costs no alert; a copy
linked on another replica while the alert is being published still corroborates it, once;
Redis refusing writes logs one outage, not one per headline."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from schemas import Alert, Corroboration, Statement, Topic
from schemas.settings import WorkerSettings
from schemas.state import STATE_COMPLETE_KEY
from stancewire.backtest import CollectingSink, screen_on
from stancewire.runtime import Stack
from streams.app import FaustSink, faust_app, worker_screen
from streams.detect import Detector
from streams.screen import Message, ProduceFailed, Screen

RULES_OUT = (
    "Japan has no intention of using its US Treasury holdings as a negotiating tool, "
    "Finance Minister Kato says"
)
OPEN = "Japan does not rule out using its US Treasury holdings in trade talks, Kato says"
COPY = "Kato says Japan has no intention of using its U.S. Treasury holdings as a negotiating tool"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with Stack(with_broker=False) as stack:
        yield stack.redis_url


class Sink(CollectingSink):
    """Keeps corroborations; ``refuse`` makes statements and corroborations fail as the
    worker's sink does when the producer's buffer is full; ``hold`` keeps an alert's
    publication waiting until it is set."""

    def __init__(self, refuse: bool = False) -> None:
        super().__init__()
        self.refuse = refuse
        self.corroborations: list[Corroboration] = []
        self.hold: asyncio.Event | None = None
        self.publishing = asyncio.Event()
        self.on_publish: Callable[[], Awaitable[object]] | None = None

    async def statement(self, statement: Statement) -> None:
        if self.refuse:
            raise ProduceFailed("producer buffer full")
        await super().statement(statement)

    async def corroboration(self, corroboration: Corroboration) -> None:
        if self.refuse:
            raise ProduceFailed("producer buffer full")
        self.corroborations.append(corroboration)

    async def alert(self, alert: Alert) -> None:
        self.publishing.set()
        if self.on_publish is not None:
            await self.on_publish()
        if self.hold is not None:
            await self.hold.wait()
        await super().alert(alert)


def message(hid: str, text: str, source: str, minute: int) -> Message:
    line = {"id": hid, "text": text, "source": source}
    line["published_at"] = f"2025-05-04T03:{minute:02d}:00+00:00"
    return Message(json.dumps(line).encode(), None, 0, minute)


async def fresh(redis_url: str) -> Redis:
    client = Redis.from_url(redis_url, decode_responses=True)
    await client.flushdb()
    return client


async def no_alerts_before() -> list[Alert]:
    return []


def screen(client: Redis, redis_url: str, sink: Sink) -> Screen:
    return screen_on(client, WorkerSettings(redis_url=redis_url), sink, Detector.from_path(None))


def test_a_producer_refusing_corroborations_and_statements_costs_no_alert(redis_url: str) -> None:
    # C is a copy of A's story from a new outlet; after B it returns the stance to rules_out:
    # it corroborates A's alert (refused) and must still alert open -> rules_out
    async def run() -> tuple[list[str], Sink]:
        client = await fresh(redis_url)
        sink = Sink(refuse=True)
        try:
            s = screen(client, redis_url, sink)
            outcomes = []
            for hid, text, source, minute in [
                ("A", RULES_OUT, "Reuters", 0),
                ("B", OPEN, "Kyodo", 10),
                ("C", COPY, "Jiji", 20),
            ]:
                outcomes += await s.handle([message(hid, text, source, minute)])
        finally:
            await client.aclose()
        return outcomes, sink

    outcomes, sink = asyncio.run(run())
    assert outcomes == ["relevant", "relevant", "duplicate"]
    assert sink.dead_letters == 0
    assert [(a.headline_id, a.to.value) for a in sink.alerts] == [
        ("A", "rules_out"),
        ("B", "open"),
        ("C", "rules_out"),
    ]


def test_a_bug_in_the_sink_is_not_taken_for_a_refusal(redis_url: str) -> None:
    class Broken(Sink):
        async def statement(self, statement: Statement) -> None:
            raise TypeError("a bug")

    async def run() -> tuple[list[str], Sink]:
        client = await fresh(redis_url)
        sink = Broken()
        try:
            outcomes = await screen(client, redis_url, sink).handle(
                [message("A", RULES_OUT, "Reuters", 0)]
            )
        finally:
            await client.aclose()
        return outcomes, sink

    outcomes, sink = asyncio.run(run())
    assert outcomes == ["failed"] and sink.dead_letters == 1  # kept whole, to replay


def test_a_copy_linked_while_the_alert_is_published_elsewhere_corroborates_it_once(
    redis_url: str,
) -> None:
    async def run() -> tuple[list[Alert], list[Corroboration]]:
        client = await fresh(redis_url)
        first, second = Sink(), Sink()
        first.hold = asyncio.Event()
        try:
            a, b = screen(client, redis_url, first), screen(client, redis_url, second)
            publishing = asyncio.create_task(a.handle([message("A", RULES_OUT, "Reuters", 0)]))
            await asyncio.wait_for(first.publishing.wait(), 10)  # A's alert awaits its ack
            assert await b.handle([message("B", COPY, "Kyodo", 1)]) == ["duplicate"]
            first.hold.set()
            assert await publishing == ["relevant"]
            # and a third outlet afterwards corroborates as before
            assert await b.handle([message("C", RULES_OUT.upper(), "Jiji", 2)]) == ["duplicate"]
        finally:
            await client.aclose()
        return first.alerts + second.alerts, first.corroborations + second.corroborations

    alerts, corroborations = asyncio.run(run())
    [alert] = alerts
    assert [
        (c.alert_id, c.outlets, c.reports, c.headline_id, c.source) for c in corroborations
    ] == [
        (alert.alert_id, 2, 2, "B", "Kyodo"),
        (alert.alert_id, 3, 3, "C", "Jiji"),
    ]


def redis_errors() -> float:
    return sum(
        REGISTRY.get_sample_value("stancewire_redis_errors_total", {"stage": stage}) or 0.0
        for stage in ("stories", "stance")
    )


def test_an_alert_is_recorded_in_its_chain_though_redis_fails_then(redis_url: str) -> None:
    # Redis out of memory while the alert is being published, until a call fails: recording
    # the alert in its chain (a write) must be retried, or no outlet is ever told
    async def run() -> list[tuple[int, str]]:
        client = await fresh(redis_url)
        sink = Sink()
        restored = asyncio.Event()

        async def restore_after_a_failure(before: float) -> None:
            deadline = time.monotonic() + 10
            while redis_errors() == before and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            await client.config_set("maxmemory", "0")
            restored.set()

        async def starve() -> None:
            await client.config_set("maxmemory-policy", "noeviction")
            await client.config_set("maxmemory", "1")
            asyncio.get_running_loop().create_task(restore_after_a_failure(redis_errors()))

        sink.on_publish = starve
        try:
            s = screen(client, redis_url, sink)
            assert await s.handle([message("A", RULES_OUT, "Reuters", 0)]) == ["relevant"]
            await asyncio.wait_for(restored.wait(), 20)
            sink.on_publish = None
            assert await s.republish_pending(None) == 0
            assert await s.handle([message("B", COPY, "Kyodo", 1)]) == ["duplicate"]
            assert await s.handle([message("C", RULES_OUT.upper(), "Jiji", 2)]) == ["duplicate"]
        finally:
            await client.config_set("maxmemory", "0")
            await client.aclose()
        return [(c.outlets, c.source) for c in sink.corroborations]

    assert asyncio.run(run()) == [(2, "Kyodo"), (3, "Jiji")]


def test_a_story_key_of_another_type_leaves_the_alert_unrecorded_not_held(
    redis_url: str,
) -> None:
    # not an outage: trying again would not mend it, so the stance step goes on
    async def run() -> tuple[list[str], int, int]:
        client = await fresh(redis_url)
        sink = Sink()
        chain = "sw:story:{A}:JP:treasury_holdings:rules_out:government:alerts"
        sink.on_publish = lambda: client.set(chain, "not a set")
        try:
            s = screen(client, redis_url, sink)
            outcomes = await asyncio.wait_for(s.handle([message("A", RULES_OUT, "Reuters", 0)]), 30)
            return outcomes, len(sink.alerts), await s.republish_pending(None)
        finally:
            await client.aclose()

    assert asyncio.run(run()) == (["relevant"], 1, 0)  # published, and acknowledged


async def _delaying_proxy(redis_port: int, delay: float) -> asyncio.Server:
    """A TCP proxy in front of redis-server whose replies arrive ``delay`` seconds late."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", redis_port)

        async def pipe(
            source: asyncio.StreamReader, sink: asyncio.StreamWriter, wait: float
        ) -> None:
            while data := await source.read(65536):
                if wait:
                    await asyncio.sleep(wait)  # (the delay simulated, not a synchronisation)
                sink.write(data)
                await sink.drain()
            sink.close()

        await asyncio.gather(
            pipe(reader, upstream_writer, 0.0),
            pipe(upstream_reader, writer, delay),
            return_exceptions=True,
        )

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def test_a_slow_redis_fails_dedup_open_and_still_records_the_alert(redis_url: str) -> None:
    """Redis answering in 80 ms: past dedup's timeout (it fails open), within the stance
    step's. The worker's own screen publishes the alert, records it in its story (for the
    corroborations that follow) and acknowledges it, rather than retrying on dedup's
    client for ever."""

    async def run() -> tuple[list[str], list[Alert], set[str], int]:
        client = await fresh(redis_url)
        await client.set(STATE_COMPLETE_KEY, "test")  # no state to rebuild from the broker
        proxy = await _delaying_proxy(urlsplit(redis_url).port or 6379, 0.08)
        port = proxy.sockets[0].getsockname()[1]
        sink = Sink()
        try:
            slow = worker_screen(WorkerSettings(redis_url=f"redis://127.0.0.1:{port}/0"), sink)
            outcomes = await asyncio.wait_for(
                slow.handle([message("A", RULES_OUT, "Reuters", 0)]), 30
            )
            chain = "sw:story:{A}:JP:treasury_holdings:rules_out:government:alerts"
            recorded = {str(member) for member in await client.smembers(chain)}
            pending = await slow.republish_pending(None)
        finally:
            proxy.close()
            await client.aclose()
        return outcomes, sink.alerts, recorded, pending

    outcomes, alerts, recorded, pending = asyncio.run(run())
    [alert] = alerts
    assert outcomes == ["relevant"] and pending == 0
    assert recorded == {f"JP:treasury_holdings|{alert.alert_id}"}


def test_a_producer_with_the_broker_away_refuses_rather_than_blocks() -> None:
    """The worker's sink on the real broker, stopped: once the producer's buffer is full, a
    corroboration is refused (the screen logs it and goes on) rather than waiting for the
    producer's request timeout, which holds the partition for up to 20 minutes."""

    def corroboration(n: int) -> Corroboration:
        now = datetime.now(UTC)
        return Corroboration(
            corroboration_id=Corroboration.derive_id("a" * 32, n), alert_id="a" * 32,
            story_id="s", government="JP", topic=Topic.TREASURY_HOLDINGS, outlets=n, reports=n,
            novelty=50.0, headline_id=f"h{n}" + "x" * 200, source="Outlet", published_at=now,
            detected_at=now,
        )  # fmt: skip

    async def run(stack: Stack) -> int:
        # (the producer is not stopped: it would wait for the broker to flush its buffer;
        # the loop's end cancels it)
        app = faust_app(WorkerSettings(bootstrap=stack.bootstrap, redis_url=stack.redis_url))
        await app.maybe_start_producer()
        sink = FaustSink(app)
        await sink.corroboration(corroboration(1))
        stack.child("broker").stop()
        for n in range(2, 2000):
            try:  # (a deadline for the test, far above the sink's own)
                await asyncio.wait_for(sink.corroboration(corroboration(n)), 60)
            except ProduceFailed:
                return n
        return 0

    with Stack() as stack:
        assert asyncio.run(run(stack)) > 2  # some were queued before the buffer was full


def test_redis_refusing_writes_is_one_outage_in_the_log(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # out of memory, Redis answers the dedup check of an exact copy (a read) and refuses to
    # link it to its story (a write): one outage, logged once, not once per call
    async def run() -> list[str]:
        client = await fresh(redis_url)
        try:
            s = screen(client, redis_url, Sink())
            outcomes = await s.handle([message("A", RULES_OUT, "Reuters", 0)])
            await client.config_set("maxmemory-policy", "noeviction")
            await client.config_set("maxmemory", "1")
            try:
                with caplog.at_level(logging.WARNING, logger="streams.screen"):
                    for minute in range(1, 6):
                        copy = message(f"C{minute}", RULES_OUT, f"Outlet {minute}", minute)
                        outcomes += await s.handle([copy])
            finally:
                await client.config_set("maxmemory", "0")
        finally:
            await client.aclose()
        return outcomes

    outcomes = asyncio.run(run())
    assert outcomes == ["relevant"] + ["duplicate"] * 5
    lines = [r.getMessage() for r in caplog.records if r.name == "streams.screen"]
    assert len(lines) == 1 and lines[0].startswith("Redis failed at stories"), lines
