"""Stance state in Redis: an atomic compare-and-set that writes the alert to an outbox.

Every key lives under the ``{sw:stance}`` hash tag (one Redis Cluster slot): the state is
one small hash (governments x topics) and the outbox a short stream, and the script must
touch both in one step. The outbox is what makes a crash unable to lose an alert: the
change and its alert are written together, the worker publishes the alert and deletes the
entry, and entries a crash left behind are published again by ``pending``/``acknowledge``.

If Redis comes back empty (restarted without persistence, or flushed), the last decided
stance of each key would be forgotten and the next statement would alert again with a wrong
``from``. So the compare-and-set decides nothing until a marker says the state is complete;
without it the store first rebuilds the state from the ``alerts`` topic, the durable record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import cast

from pydantic import ValidationError
from redis.asyncio import Redis

from schemas import Alert, Stance, Statement
from schemas.state import (
    CURRENT_STANCES_KEY,
    OUTBOX_KEY,
    SEQUENCE_KEY,
    STATE_COMPLETE_KEY,
    StanceState,
)
from streams import metrics

log = logging.getLogger(__name__)

# KEYS: current stances, outbox, change counters, the state's completeness marker.
# ARGV: field, new stance, event time (ms), new state (JSON without seq), alert draft (JSON).
# A change takes the key's next sequence number, so an alert that reaches a desk late (from
# another partition's worker, or from the outbox sweep) is recognisably older. Without the
# marker (Redis restarted empty) nothing is decided: the caller rebuilds the state first.
_COMPARE_AND_SET = """
if redis.call('EXISTS', KEYS[4]) == 0 then
  return {'incomplete'}
end
local held = redis.call('HGET', KEYS[1], ARGV[1])
local previous = ''
if held then
  local current = cjson.decode(held)
  if tonumber(ARGV[3]) < tonumber(current['since_ms']) then
    return {'stale', current['stance']}
  end
  if current['stance'] == ARGV[2] then
    return {'unchanged', current['stance']}
  end
  previous = current['stance']
end
local seq = redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
redis.call('HSET', KEYS[1], ARGV[1], string.sub(ARGV[4], 1, -2) .. ',"seq":' .. seq .. '}')
local entry = redis.call('XADD', KEYS[2], '*', 'alert', ARGV[5], 'from', previous, 'seq', seq)
return {'changed', previous, entry, seq}
"""

# KEYS: current stances, change counters, the completeness marker.
# ARGV: the marker's value, then per key: field, state JSON (with seq), seq.
# A key another worker moved further meanwhile (a larger seq) is left as it is.
_RESTORE = """
for i = 2, #ARGV, 3 do
  local field, seq = ARGV[i], tonumber(ARGV[i + 2])
  local held = redis.call('HGET', KEYS[1], field)
  if not held or tonumber(cjson.decode(held)['seq'] or 0) < seq then
    redis.call('HSET', KEYS[1], field, ARGV[i + 1])
  end
  if tonumber(redis.call('HGET', KEYS[2], field) or 0) < seq then
    redis.call('HSET', KEYS[2], field, seq)
  end
end
redis.call('SET', KEYS[3], ARGV[1])
return 1
"""

History = Callable[[], Awaitable[list[Alert]]]
"""Every alert ever published, in topic order (``streams.history.read_alerts``)."""


class StateUnavailable(Exception):
    """The stance state could not be rebuilt now (the broker failed); retry later."""


class Outcome(StrEnum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    STALE = "stale"
    INCOMPLETE = "incomplete"
    """The state was lost (Redis restarted empty); never returned by ``apply``."""


@dataclass(frozen=True)
class Transition:
    outcome: Outcome
    alert: Alert | None = None
    """The alert to publish, with ``from`` filled in, when the stance changed."""
    outbox_entry: str | None = None


class StanceStore:
    def __init__(self, redis: Redis, history: History) -> None:  # decode_responses=True
        self._redis = redis
        self._history = history
        self._compare_and_set = redis.register_script(_COMPARE_AND_SET)
        self._restore = redis.register_script(_RESTORE)
        self._rebuilding = asyncio.Lock()

    async def apply(self, statement: Statement, draft: Alert) -> Transition:
        """Move ``statement``'s stance key to its stance unless it is unchanged or older;
        first rebuild the state from the alerts topic if Redis lost it."""
        transition = await self._apply(statement, draft)
        if transition.outcome is Outcome.INCOMPLETE:
            await self.rebuild()
            transition = await self._apply(statement, draft)
        if transition.outcome is Outcome.INCOMPLETE:
            raise StateUnavailable("the stance state was lost again during its rebuild")
        return transition

    async def rebuild(self) -> int:
        """Restore each key's latest state (the alert with the largest ``seq``) from the
        alerts topic and mark the state complete; returns how many keys were restored."""
        async with self._rebuilding:
            if await self._redis.exists(STATE_COMPLETE_KEY):
                return 0  # rebuilt while this call waited for the lock
            try:
                alerts = await self._history()
            except Exception as exc:  # the broker: retried by the caller like Redis
                raise StateUnavailable(f"reading the alerts topic failed: {exc!r}") from exc
            latest: dict[str, Alert] = {}
            for alert in alerts:
                key = f"{alert.government}:{alert.topic.value}"
                held = latest.get(key)
                if held is None or (alert.seq or 0, alert.published_at) >= (
                    held.seq or 0,
                    held.published_at,
                ):
                    latest[key] = alert
            args: list[str | int] = [
                f"rebuilt from {len(alerts)} alerts at {datetime.now(UTC).isoformat()}"
            ]
            for key, alert in latest.items():
                args += [key, _state(alert).model_dump_json(), alert.seq or 0]
            await self._restore(
                keys=[CURRENT_STANCES_KEY, SEQUENCE_KEY, STATE_COMPLETE_KEY], args=args
            )
            metrics.STATE_REBUILDS.inc()
            log.warning(
                "stance state was missing from Redis; rebuilt %d key(s) from %d alert(s)",
                len(latest),
                len(alerts),
            )
            return len(latest)

    async def _apply(self, statement: Statement, draft: Alert) -> Transition:
        state = _state(draft)  # the draft is the statement's alert: the state it would set
        reply = await self._compare_and_set(
            keys=[CURRENT_STANCES_KEY, OUTBOX_KEY, SEQUENCE_KEY, STATE_COMPLETE_KEY],
            args=[
                statement.stance_key,
                statement.stance.value,
                state.since_ms,
                state.model_dump_json(exclude={"seq"}),  # the script appends the seq
                draft.to_json(),
            ],
        )
        outcome = Outcome(reply[0])
        if outcome is not Outcome.CHANGED:
            return Transition(outcome)
        return Transition(outcome, _complete(draft, reply[1], reply[3]), reply[2])

    async def pending(
        self, older_than_ms: int | None = None, count: int = 100
    ) -> list[tuple[str, Alert]]:
        """Outbox entries not yet acknowledged, oldest first (only those older than the bound)."""
        if older_than_ms is not None and older_than_ms <= 0:
            return []
        # Entry ids start with their time in ms: "older than" is an inclusive end one ms before.
        upper = "+" if older_than_ms is None else str(older_than_ms - 1)
        entries = cast(
            list[tuple[str, dict[str, str]]],
            await self._redis.xrange(OUTBOX_KEY, "-", upper, count=count),
        )
        pending = []
        for entry_id, fields in entries:
            try:
                alert = Alert.model_validate_json(fields["alert"])
            except (KeyError, ValidationError) as exc:
                # Unreadable (another version wrote it): logged whole, then dropped, so one
                # entry cannot stop every later alert behind it.
                log.error("outbox entry %s unreadable, dropped: %s %r", entry_id, exc, fields)
                await self.acknowledge(entry_id)
                continue
            pending.append((entry_id, _complete(alert, fields["from"], fields.get("seq"))))
        return pending

    async def acknowledge(self, entry_id: str) -> None:
        await self._redis.xdel(OUTBOX_KEY, entry_id)

    async def current(self) -> dict[str, StanceState]:
        """The stance board: ``GOVERNMENT:topic`` -> its current state."""
        raw = cast(dict[str, str], await self._redis.hgetall(CURRENT_STANCES_KEY))
        return {key: StanceState.model_validate_json(value) for key, value in raw.items()}


def _state(alert: Alert) -> StanceState:
    """The state an alert set, as the compare-and-set wrote it."""
    return StanceState(
        stance=alert.to,
        since_ms=int(alert.published_at.timestamp() * 1000),
        since=alert.published_at,
        headline_id=alert.headline_id,
        alert_id=alert.alert_id,
        evidence=alert.evidence,
        source=alert.source,
        confidence=alert.confidence,
        seq=alert.seq or 0,
    )


def _complete(draft: Alert, previous: str, seq: int | str | None) -> Alert:
    """The draft with what the compare-and-set decided: ``from`` and ``seq``."""
    return draft.model_copy(
        update={
            "from_": Stance(previous) if previous else None,
            "seq": None if seq is None else int(seq),
        }
    )
