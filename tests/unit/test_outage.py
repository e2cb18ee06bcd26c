"""streams.screen.Outage: one log line when a stage starts failing and one when it answers
again, however its calls interleave; every failure counted. The clock and timer are injected."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from streams.screen import Outage

QUIET = Outage.QUIET_SECONDS


class Time:
    """A clock and a timer that runs what is due when the clock is moved."""

    def __init__(self) -> None:
        self.now = 0.0
        self.due: list[tuple[float, Callable[[], None]]] = []

    def later(self, delay: float, callback: Callable[[], None]) -> None:
        self.due.append((self.now + delay, callback))

    def to(self, now: float) -> None:
        self.now = now
        ready = [callback for at, callback in self.due if at <= now]
        self.due = [(at, callback) for at, callback in self.due if at > now]
        for callback in ready:
            callback()


class Lines(logging.Handler):
    """The lines the outage logs."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def lines() -> Iterator[list[str]]:
    handler = Lines()
    logger = logging.getLogger("streams.screen")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def outage(time: Time, errors: list[None]) -> Outage:
    return Outage(
        "Redis", "dedup", "duplicates pass", lambda: errors.append(None), clock=lambda: time.now,
        later=time.later,
    )  # fmt: skip


def test_a_stage_failing_some_calls_is_one_outage(lines: list[str]) -> None:
    time, errors = Time(), list[None]()
    stage = outage(time, errors)
    for second in range(20):  # a write refused and a read answered, each second
        time.to(float(second))
        stage.failed(RuntimeError("OOM"))
        stage.answered()
    time.to(19 + QUIET - 0.5)
    assert lines == ["Redis failed at dedup (duplicates pass): OOM"]
    time.to(19 + QUIET)  # nothing failed for QUIET seconds since it last answered
    assert lines[1:] == ["Redis answers again at dedup"]
    assert len(errors) == 20


def test_recovery_is_told_without_further_calls(lines: list[str]) -> None:
    # the stance stage retries until it answers (its backoff is shorter than QUIET), and the
    # stories stage may not be called again for a long time
    time, errors = Time(), list[None]()
    stage = outage(time, errors)
    stage.failed(RuntimeError("blip"))
    time.to(5.0)
    stage.answered()
    time.to(3600.0)
    stage.failed(RuntimeError("down again"))
    assert lines == [
        "Redis failed at dedup (duplicates pass): blip",
        "Redis answers again at dedup",
        "Redis failed at dedup (duplicates pass): down again",
    ]


def test_a_failure_while_settling_keeps_the_outage_open(lines: list[str]) -> None:
    time, errors = Time(), list[None]()
    stage = outage(time, errors)
    stage.failed(RuntimeError("OOM"))
    time.to(1.0)
    stage.answered()
    time.to(8.0)
    stage.failed(RuntimeError("OOM"))
    time.to(12.0)  # the settling from 1.0 finds a failure 4 s old
    assert lines == ["Redis failed at dedup (duplicates pass): OOM"]
    stage.answered()
    time.to(18.0)
    assert lines[1:] == ["Redis answers again at dedup"]
