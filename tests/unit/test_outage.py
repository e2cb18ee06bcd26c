"""streams.screen.Outage: one log line when a stage starts failing and one when it answers
again, however its calls interleave; every failure counted. The clock is injected."""

from __future__ import annotations

import logging

import pytest

from streams.screen import Outage


def test_a_stage_failing_some_calls_is_one_outage(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    errors: list[None] = []
    outage = Outage(
        "Redis", "dedup", "duplicates pass", lambda: errors.append(None), lambda: now[0]
    )
    with caplog.at_level(logging.WARNING, logger="streams.screen"):
        for second in range(20):  # a write refused, a read answered, each second
            now[0] = float(second)
            outage.failed(RuntimeError("OOM"))
            outage.answered()
        now[0] = 19 + Outage.QUIET_SECONDS - 0.5
        outage.answered()  # not quiet long enough yet
        now[0] = 19 + Outage.QUIET_SECONDS
        outage.answered()
        outage.answered()
        now[0] += 60
        outage.failed(RuntimeError("down"))  # a new outage
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Redis failed at dedup (duplicates pass): OOM",
        "Redis answers again at dedup",
        "Redis failed at dedup (duplicates pass): down",
    ]
    assert len(errors) == 21
