"""Two workers share the partitions; one is stopped gracefully mid-replay, a new one joins,
the other is killed: the partitions move, and no alert is missed or doubled."""

from __future__ import annotations

import signal

import pytest
from redis import Redis

from stancewire.runtime import Child, Stack, free_port, wait_until
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

RATE = 60.0
"""Headlines per second offered: 2,000 take 33 s, long enough for two hand-overs."""


def start(stack: Stack, name: str) -> tuple[Child, int]:
    port = free_port()
    return stack.start_worker(metrics_port=port, name=name, env=FAST_OUTBOX), port


def partitions(*ports: int) -> list[float]:
    return [metric(port, "stancewire_assigned_partitions") for port in ports]


def test_one_worker_stopped_one_killed_mid_replay(stack: Stack, subscribers: Subscribers) -> None:
    scenario = Scenario(PREFIX).extend(2000, 30)
    lines, expected = list(scenario.lines), list(scenario.expected)
    sentinel, sentinel_change = scenario.change_line()
    (first, first_port), (second, second_port) = start(stack, "worker-a"), start(stack, "worker-b")
    wait_until(
        lambda: sorted(partitions(first_port, second_port)) in ([1, 3], [2, 2]),
        90,
        "the two workers to share the four partitions",
    )
    with Paced(stack.bootstrap, lines, RATE) as paced:
        wait_until(lambda: paced.sent >= 500, 120, "a quarter of the replay")
        first.stop()
        assert first.process.returncode == 0, first.log_tail()
        wait_until(lambda: partitions(second_port) == [4], 90, "the second worker to take all four")

        third, third_port = start(stack, "worker-c")
        wait_until(
            lambda: metric(third_port, "stancewire_assigned_partitions") > 0,
            90,
            "the third worker to get partitions",
            third,
        )
        wait_until(lambda: paced.sent >= 1200, 120, "more of the replay")
        assert paced.sent < len(lines), "the replay ended before the second fault"
        second.process.send_signal(signal.SIGKILL)
        second.process.wait()
        wait_until(lambda: partitions(third_port) == [4], 90, "the third worker to take all four")
        wait_until(paced.done, 120, "every headline to be sent")
    redis = Redis.from_url(stack.redis_url, decode_responses=True)
    wait_drained(stack.bootstrap, paced.offsets, redis, worker=third)
    assert_published_once_each(published(stack.bootstrap, PREFIX), expected)
    subscribers.assert_each_once(sentinel, sentinel_change, expected)
