"""Redis killed and the broker paused mid-replay: every process recovers by itself, and
nothing is lost or doubled."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis

from schemas.topics import HEADLINES
from stancewire.runtime import (
    Child,
    Stack,
    free_port,
    redis_answers,
    redis_server_binary,
    spawn,
    wait_until,
)
from tests.faults.conftest import FAST_OUTBOX, PREFIX, Subscribers
from tests.faults.scenario import (
    Paced,
    Scenario,
    assert_published_once_each,
    published,
    wait_drained,
)
from tests.integration.test_resilience import metric

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

OUTAGE_SECONDS = 10.0
"""How long each fault lasts (the issue's figure); held by a sleep, which is the fault's
duration and synchronises nothing."""
RATE = 150.0
"""Headlines per second offered: 2,000 take about 13 s, so the outage falls mid-replay."""


def wait_ready(port: int, worker: Child) -> None:
    """The worker holds every partition of headlines: the replay starts only then, so the
    fault falls mid-replay however long the worker took to join its group."""
    wait_until(
        lambda: metric(port, "stancewire_assigned_partitions") == HEADLINES.partitions,
        90,
        "the worker to take every partition of headlines",
        worker,
    )


def mid_replay(port: int, paced: Paced, total: int) -> Callable[[], bool]:
    """The worker has alerted a few times and most of the replay is still to come."""

    def check() -> bool:
        assert paced.sent < total - 1000, "the replay got too far before the fault"
        return metric(port, "stancewire_alerts_total") >= 3

    return check


class PersistentRedis:
    """A redis-server with an append-only file synced on every write (the production
    setting), restartable on the same port with the same data."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._argv = [
            redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", str(directory),
        ]  # fmt: skip
        self._dir = directory
        self.child = self.start()

    def start(self) -> Child:
        child = spawn("persistent-redis", self._argv, self._dir)
        wait_until(lambda: redis_answers(self.url), 30, "redis-server to answer", child)
        return child


@pytest.fixture
def persistent(tmp_path: Path) -> Iterator[PersistentRedis]:
    server = PersistentRedis(tmp_path)
    yield server
    server.child.stop()


def test_redis_killed_for_ten_seconds_mid_replay(persistent: PersistentRedis) -> None:
    scenario = Scenario(PREFIX).extend(2000, 30)
    with Stack(redis_url=persistent.url) as stack:
        port = free_port()
        worker = stack.start_worker(metrics_port=port, env=FAST_OUTBOX)
        wait_ready(port, worker)
        with Paced(stack.bootstrap, scenario.lines, RATE) as paced:
            wait_until(mid_replay(port, paced, len(scenario.lines)), 120, "alerts", worker)
            persistent.child.process.kill()
            persistent.child.process.wait()
            time.sleep(OUTAGE_SECONDS)
            assert metric(port, "stancewire_redis_errors_total") > 0, worker.log_tail(40)
            persistent.child = persistent.start()
            wait_until(paced.done, 120, "every headline to be sent")
        redis = Redis.from_url(persistent.url, decode_responses=True)
        wait_drained(stack.bootstrap, paced.offsets, redis, worker=worker)
        assert_published_once_each(published(stack.bootstrap, PREFIX), scenario.expected)
        # One worker, never restarted: each headline screened exactly once, none lost.
        assert metric(port, "stancewire_headlines_total") == len(scenario.lines)
        assert metric(port, 'stancewire_headlines_total{outcome="failed"}') == 0
        assert metric(port, "stancewire_state_rebuilds_total") <= 1  # only the first start


def test_broker_paused_for_ten_seconds_mid_replay(stack: Stack, subscribers: Subscribers) -> None:
    scenario = Scenario(PREFIX).extend(2000, 30)
    lines, expected = list(scenario.lines), list(scenario.expected)
    sentinel, sentinel_change = scenario.change_line()
    port = free_port()
    worker = stack.start_worker(metrics_port=port, env=FAST_OUTBOX)
    broker = stack.child("broker")
    wait_ready(port, worker)
    with Paced(stack.bootstrap, lines, RATE) as paced:
        wait_until(mid_replay(port, paced, len(lines)), 120, "alerts", worker)
        os.kill(broker.process.pid, signal.SIGSTOP)
        try:
            time.sleep(OUTAGE_SECONDS)
        finally:
            os.kill(broker.process.pid, signal.SIGCONT)
        wait_until(paced.done, 180, "every headline to be sent")
    redis = Redis.from_url(stack.redis_url, decode_responses=True)
    wait_drained(stack.bootstrap, paced.offsets, redis, worker=worker)
    assert worker.alive() and subscribers.gateway.alive() and subscribers.dispatcher.child.alive()
    assert_published_once_each(published(stack.bootstrap, PREFIX), expected)
    subscribers.assert_each_once(sentinel, sentinel_change, expected)
