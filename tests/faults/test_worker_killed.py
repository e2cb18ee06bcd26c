"""The worker killed (SIGKILL) at the three places a crash can split the work, then
restarted; and Redis coming back empty. Nothing is lost, nothing doubled, no ``from`` wrong."""

from __future__ import annotations

import signal
from typing import cast

import pytest
from redis import Redis

from schemas.state import CURRENT_STANCES_KEY, STATE_COMPLETE_KEY, StanceState
from stancewire import kafka
from stancewire.runtime import Stack, free_port, wait_until
from tests.faults.conftest import FAST_OUTBOX, PREFIX, Subscribers
from tests.faults.scenario import Scenario, assert_published_once_each, published, wait_drained
from tests.integration.test_resilience import metric

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

#: Each worker in turn kills itself at one point: the N-th government statement before the
#: compare-and-set; the N-th change after it (alert only in the outbox); the N-th alert
#: acknowledged by the broker before its outbox entry is deleted.
KILLS = ("before_cas=12", "after_cas=4", "after_publish=4")


@pytest.mark.parametrize("batch", ["1", "32"], ids=["one-at-a-time", "in-batches"])
def test_killed_at_each_point_of_a_change_then_restarted(
    stack: Stack, subscribers: Subscribers, batch: str
) -> None:
    """In batches too: a batch is acknowledged only once screened, so a kill in the middle
    of one has the whole batch read again."""
    scenario = Scenario(PREFIX).extend(2000, 30)
    lines, expected = list(scenario.lines), list(scenario.expected)
    sentinel, sentinel_change = scenario.change_line()
    offsets = kafka.produce_headlines(stack.bootstrap, scenario.messages(lines))
    redis = Redis.from_url(stack.redis_url, decode_responses=True)

    batching = {"STANCEWIRE_SCREEN_BATCH_MAX": batch}
    for i, point in enumerate(KILLS):
        worker = stack.start_worker(
            name=f"worker-{i}", env={**FAST_OUTBOX, **batching, "STANCEWIRE_FAILPOINTS": point}
        )
        wait_until(worker.dead, 120, f"the worker to kill itself at {point}")
        assert worker.process.returncode == -signal.SIGKILL, worker.log_tail()
    survivor = stack.start_worker(name="worker-last", env={**FAST_OUTBOX, **batching})
    wait_drained(stack.bootstrap, offsets, redis, worker=survivor)

    assert_published_once_each(published(stack.bootstrap, PREFIX), expected)
    subscribers.assert_each_once(sentinel, sentinel_change, expected)


def test_redis_restarted_empty_the_state_is_rebuilt_from_the_alerts(stack: Stack) -> None:
    """Redis lost everything mid-replay: the next statements that repeat a stance must not
    alert again, and the next changes must say where they came from."""
    scenario = Scenario(PREFIX).extend(500, 12)
    port = free_port()
    worker = stack.start_worker(metrics_port=port)
    redis = Redis.from_url(stack.redis_url, decode_responses=True)
    before = kafka.produce_headlines(stack.bootstrap, scenario.messages())
    wait_drained(stack.bootstrap, before, redis, worker=worker)
    first = len(scenario.lines)

    stack.restart_redis_empty()
    redis = Redis.from_url(stack.redis_url, decode_responses=True)
    # The sweep rebuilds the board without waiting for a statement to need it.
    wait_until(
        lambda: bool(redis.exists(STATE_COMPLETE_KEY)), 60, "the state to be rebuilt", worker
    )
    board = {
        tuple(key.split(":")): StanceState.model_validate_json(value).stance.value
        for key, value in cast(dict[str, str], redis.hgetall(CURRENT_STANCES_KEY)).items()
    }
    assert board == scenario.state
    scenario.restate().extend(first + 500, 6)
    assert scenario.unchanged > 0
    after = kafka.produce_headlines(stack.bootstrap, scenario.messages(scenario.lines[first:]))
    wait_drained(stack.bootstrap, after, redis, worker=worker)

    assert_published_once_each(published(stack.bootstrap, PREFIX), scenario.expected)
    # Once at the start (an empty topic) and once after Redis came back empty.
    assert metric(port, "stancewire_state_rebuilds_total") == 2


def test_stopped_gracefully_in_the_middle_of_batches_then_restarted(
    stack: Stack, subscribers: Subscribers
) -> None:
    """SIGTERM while the worker screens a backlog in batches of 256: a batch cut short must
    not be acknowledged as screened (its headlines are read again by the next worker)."""
    scenario = Scenario(PREFIX).extend(2000, 30)
    lines, expected = list(scenario.lines), list(scenario.expected)
    sentinel, sentinel_change = scenario.change_line()
    offsets = kafka.produce_headlines(stack.bootstrap, scenario.messages(lines))
    batching = {**FAST_OUTBOX, "STANCEWIRE_SCREEN_BATCH_MAX": "256"}
    port = free_port()
    worker = stack.start_worker(metrics_port=port, name="worker-stopped", env=batching)
    wait_until(
        lambda: metric(port, "stancewire_headlines_total") >= 300, 120, "a batch screened", worker
    )
    worker.stop()
    assert worker.process.returncode == 0, worker.log_tail()
    survivor = stack.start_worker(name="worker-last", env=batching)
    redis = Redis.from_url(stack.redis_url, decode_responses=True)
    wait_drained(stack.bootstrap, offsets, redis, worker=survivor)

    assert_published_once_each(published(stack.bootstrap, PREFIX), expected)
    subscribers.assert_each_once(sentinel, sentinel_change, expected)
