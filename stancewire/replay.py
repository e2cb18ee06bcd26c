"""Replay: push headlines through the real pipeline (broker, Redis, worker) and collect alerts.

Headlines go to one partition of ``headlines``, in input order, so the worker processes
them in that order. The input is drained when the worker group's committed offset on that
partition passes the last headline: the worker acknowledges each alert on the broker before
it moves on, so by then every alert is on ``alerts``, and reading until idle collects them.
(The embedded broker's end offsets cannot be trusted; see DESIGN.md.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

from consumers.alerts import AlertReader
from schemas import Alert
from schemas.settings import WorkerSettings
from stancewire import kafka
from stancewire.runtime import Child, Stack, wait_until

REPLAY_PARTITION = 0


def headline_id(line: bytes) -> str | None:
    """The ``id`` of a JSONL line, if it has one (bad lines still go through, to the DLQ)."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def replay(
    stack: Stack,
    lines: Sequence[bytes],
    on_alert: Callable[[Alert], None],
    *,
    worker: Child | None,
    embedded: bool,
    pace_seconds: float = 0.0,
    timeout: float = 300.0,
    partition: int | None = REPLAY_PARTITION,
    progress: Callable[[int], None] = lambda _: None,
) -> list[Alert]:
    """Send ``lines`` to ``headlines`` and return the alerts they caused, in order.

    ``partition=None`` spreads the lines over the partitions by key (no order across them).
    """
    ids = {found for line in lines if (found := headline_id(line)) is not None}
    settings = WorkerSettings(bootstrap=stack.bootstrap, redis_url=stack.redis_url)
    alerts: list[Alert] = []
    with AlertReader(stack.bootstrap, from_beginning=embedded) as reader:
        offsets: list[tuple[int, int]] = []
        if pace_seconds:
            for line in lines:
                offsets += kafka.produce_headlines(stack.bootstrap, [(_key(line), line)], partition)
                _collect(
                    reader,
                    ids,
                    alerts,
                    on_alert,
                    idle_polls=1,
                    until=time.monotonic() + pace_seconds,
                )
        else:
            offsets = kafka.produce_headlines(
                stack.bootstrap, [(_key(line), line) for line in lines], partition, progress
            )
        if offsets:
            group = kafka.GroupProgress(stack.bootstrap, settings.group_id)

            def drained() -> bool:
                _collect(reader, ids, alerts, on_alert, idle_polls=1, until=None)
                return group.passed(offsets)

            try:
                wait_until(drained, timeout, "the worker to process every headline", worker)
            finally:
                group.close()
        _collect(reader, ids, alerts, on_alert, idle_polls=2, until=None)
    return alerts


def _key(line: bytes) -> bytes | None:
    found = headline_id(line)
    return None if found is None else found.encode()


def _collect(
    reader: AlertReader,
    ids: set[str],
    alerts: list[Alert],
    on_alert: Callable[[Alert], None],
    *,
    idle_polls: int,
    until: float | None,
) -> None:
    """Take alerts for ``ids`` from the reader until ``idle_polls`` polls in a row find
    nothing (and, with ``until``, not before that monotonic time)."""
    idle = 0
    for alert in reader:
        if alert is None:
            idle += 1
            if idle >= idle_polls and (until is None or time.monotonic() >= until):
                return
            continue
        idle = 0
        if alert.headline_id in ids and all(a.alert_id != alert.alert_id for a in alerts):
            alerts.append(alert)
            on_alert(alert)
