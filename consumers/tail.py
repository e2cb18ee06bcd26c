"""``stancewire tail``: follow alerts in a terminal, filtered, as text or JSON lines."""

from __future__ import annotations

import sys
from datetime import UTC
from typing import TextIO

from consumers.alerts import AlertReader
from schemas import Alert
from schemas.desks import AlertFilter


def describe(alert: Alert) -> str:
    """One line a person reads: who, which lever, from what to what, and why."""
    previous = alert.from_.value if alert.from_ else "(none)"
    return (
        f"{alert.published_at.astimezone(UTC):%Y-%m-%d %H:%M}Z  "
        f"{alert.government} / {alert.topic.value}: "
        f"{previous} -> {alert.to.value}  [{alert.source}, {alert.confidence:.2f}]  "
        f'"{alert.evidence}"'
    )


def tail(
    bootstrap: str,
    alert_filter: AlertFilter,
    *,
    as_json: bool,
    from_beginning: bool,
    limit: int | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """Print matching alerts until interrupted (or ``limit`` of them); returns how many."""
    shown = 0
    seen: set[str] = set()  # an alert republished after a crash is shown once
    with AlertReader(bootstrap, from_beginning=from_beginning) as reader:
        for alert in reader:
            if alert is None or alert.alert_id in seen or not alert_filter.matches(alert):
                continue
            seen.add(alert.alert_id)
            print(alert.to_json() if as_json else describe(alert), file=out, flush=True)
            shown += 1
            if limit is not None and shown >= limit:
                break
    return shown
