"""A replay for the fault suite whose alerts are known before it runs.

The wire is built from the labeled development sets (tests/data/detection): filler lines
the detector finds nothing in, and government statements about one government each. An
oracle applies the same rules as the stance compare-and-set (a government's statement
moves its key when the stance differs; publication times only increase, so none is stale)
to the detector's own output, so the expected alerts are those of a run with no fault.

Each line is keyed by its government (fillers by their id): a government's statements stay
on one partition, in order, however the partitions move between workers, so the expected
alerts do not depend on which worker got which partition.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from redis import Redis

from schemas import Alert, Speaker
from schemas.state import OUTBOX_KEY
from stancewire import kafka
from stancewire.runtime import Child, wait_until
from streams.detect import detect
from tests.integration.wire import read_topic

DATA = Path(__file__).parent.parent / "data" / "detection"
START = datetime(2025, 6, 1, tzinfo=UTC)
Change = tuple[str, str, str | None, str, str]
"""(government, topic, from, to, headline_id), as ``tests.integration.wire.transitions``."""


@dataclass(frozen=True)
class Line:
    key: bytes
    value: bytes


@dataclass
class Scenario:
    prefix: str
    lines: list[Line] = field(default_factory=list)
    expected: list[Change] = field(default_factory=list)
    state: dict[tuple[str, str], str] = field(default_factory=dict)
    """The oracle's stance per (government, topic) after every line so far."""
    unchanged: int = 0
    """Government statements that repeat the current stance (must not alert)."""
    clock: datetime = START

    def messages(self, lines: Sequence[Line] | None = None) -> list[tuple[bytes | None, bytes]]:
        return [(line.key, line.value) for line in (self.lines if lines is None else lines)]

    def _add(self, text: str, key: str | None) -> Line:
        self.clock += timedelta(minutes=1)
        headline_id = f"{self.prefix}-{len(self.lines):05d}"
        body = {
            "id": headline_id,
            "text": text,
            "source": f"Wire {len(self.lines) % 7}",
            "published_at": self.clock.isoformat(),
        }
        line = Line((key or headline_id).encode(), json.dumps(body).encode())
        self.lines.append(line)
        for government, topic, stance in _statements(text, self.clock):
            held = self.state.get((government, topic))
            if held == stance:
                self.unchanged += 1
                continue
            self.state[(government, topic)] = stance
            self.expected.append((government, topic, held, stance, headline_id))
        return line

    def extend(self, total: int, changes: int) -> Scenario:
        """Add lines until there are ``total`` and ``changes`` more stance changes, the
        statements spread evenly among the fillers."""
        fillers, statements = _pool()
        wanted = len(self.expected) + changes
        every = max(1, (total - len(self.lines)) // (changes * 2))
        n = 0
        while len(self.lines) < total or len(self.expected) < wanted:
            n += 1
            if n % every == 0 and len(self.expected) < wanted:
                text, government = statements[(n // every) % len(statements)]
                self._add(text, government)
            else:
                self._add(f"{fillers[n % len(fillers)]} (update {n})", None)
        return self

    def restate(self) -> Scenario:
        """Add, for each key held, a statement repeating its stance (if the pool has one)."""
        _fillers, statements = _pool()
        for text, government in statements:
            said = _statements(text, self.clock)
            if said and all(self.state.get((g, t)) == s for g, t, s in said):
                self._add(text, government)
        return self

    def change_line(self) -> tuple[Line, Change]:
        """One more line that changes a stance (a sentinel sent last)."""
        _fillers, statements = _pool()
        for text, government in statements:
            before = len(self.expected)
            said = _statements(text, self.clock + timedelta(minutes=1))
            if len(said) == 1 and self.state.get(said[0][:2]) != said[0][2]:
                line = self._add(text, government)
                assert len(self.expected) == before + 1
                return line, self.expected[-1]
        raise AssertionError("no statement in the pool changes a stance")


def _statements(text: str, at: datetime) -> list[tuple[str, str, str]]:
    return [
        (d.government, d.topic.value, d.stance.value)
        for d in detect(text, at)
        if d.speaker is Speaker.GOVERNMENT
    ]


@cache
def _pool() -> tuple[list[str], list[tuple[str, str]]]:
    """Filler texts (nothing detected) and texts with statements of one government only."""
    fillers: list[str] = []
    statements: list[tuple[str, str]] = []
    for name in ("dev.jsonl", "dev2.jsonl"):
        for raw in (DATA / name).read_text().splitlines():
            text = json.loads(raw)["text"]
            found = detect(text, START)
            governments = {d.government for d in found}
            if not found:
                fillers.append(text)
            elif len(governments) == 1 and any(d.speaker is Speaker.GOVERNMENT for d in found):
                statements.append((text, governments.pop()))
    return fillers, statements


# --- what came out --------------------------------------------------------------------------


def published(bootstrap: str, prefix: str) -> list[Alert]:
    """Every copy of this scenario's alerts on ``alerts``, in topic order."""
    alerts = []
    for _key, value in read_topic(bootstrap, "alerts"):
        alert = Alert.from_topic(value)
        if alert is not None and alert.headline_id.startswith(prefix):
            alerts.append(alert)
    return alerts


def assert_published_once_each(alerts: list[Alert], expected: list[Change]) -> None:
    """Every expected change is on the topic with the right ``from``; copies of one alert
    (an outbox republish after a crash) are identical; no change was alerted twice."""
    first: dict[str, Alert] = {}
    for alert in alerts:
        held = first.setdefault(alert.alert_id, alert)
        assert held.to_json() == alert.to_json(), f"two different copies of {alert.alert_id}"
    distinct = list(first.values())
    got = Counter(
        (a.government, a.topic.value, a.from_.value if a.from_ else None, a.to.value, a.headline_id)
        for a in distinct
    )
    want = Counter(expected)
    assert got == want, (
        f"missing: {sorted(want - got, key=str)}; extra: {sorted(got - want, key=str)}"
    )
    seqs = Counter((a.government, a.topic.value, a.seq) for a in distinct)
    assert all(count == 1 for count in seqs.values()), "one change number used twice"


def wait_drained(
    bootstrap: str,
    offsets: list[tuple[int, int]],
    redis: Redis,
    *,
    timeout: float = 120,
    worker: Child | None = None,
    group_id: str = "stancewire-worker",
) -> None:
    """Until the worker group committed past every offset and no alert waits in the outbox."""
    progress = kafka.GroupProgress(bootstrap, group_id)
    try:
        wait_until(
            lambda: progress.passed(offsets) and redis.xlen(OUTBOX_KEY) == 0,
            timeout,
            "the workers to drain the replay",
            worker,
        )
    finally:
        progress.close()


class Paced:
    """Produce lines at a steady rate in a thread, so a fault can strike mid-replay.

    The pacing sleeps set the offered load; nothing waits on them for a result."""

    def __init__(self, bootstrap: str, lines: Sequence[Line], per_second: float) -> None:
        self.offsets: list[tuple[int, int]] = []
        self.sent = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(bootstrap, list(lines), per_second), daemon=True
        )

    def __enter__(self) -> Paced:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(300)

    def done(self) -> bool:
        if self._error is not None:
            raise AssertionError("producing the replay failed") from self._error
        return not self._thread.is_alive()

    def _run(self, bootstrap: str, lines: list[Line], per_second: float) -> None:
        batch = max(1, round(per_second / 10))
        started = time.monotonic()
        try:
            for i in range(0, len(lines), batch):
                chunk = lines[i : i + batch]
                self.offsets += kafka.produce_headlines(
                    bootstrap, [(line.key, line.value) for line in chunk]
                )
                self.sent += len(chunk)
                time.sleep(max(0.0, started + self.sent / per_second - time.monotonic()))
        except BaseException as exc:
            self._error = exc
