"""Durable per-subscription delivery queues in Redis, their leases, and the dead letters.

Each subscription has its own queue, a Redis stream, so one slow or failing desk never
holds up another, and its deliveries stay in the order the alerts were on the topic (one
government and topic is one Kafka key, so one partition, so one order). Its keys share the
hash tag ``{sw:webhook:<subscription id>}`` (one Redis Cluster slot), so the enqueue script
can touch them together:

- ``...:queue`` — the stream of pending deliveries; the head is the one being attempted.
- ``...:seen:<alert_id>`` — set (with a TTL) by the enqueue, in the same script as the XADD:
  a dispatcher that re-reads an alert after a crash, or a second replica, enqueues nothing.
- ``...:attempts`` — a hash, entry id -> attempts so far, the next attempt's time and the
  last error: a restarted dispatcher carries on with the same count and schedule.
- ``...:lease`` — which dispatcher replica delivers this queue, with a TTL it renews.

Dead deliveries go to one stream for all subscriptions, ``sw:{sw:webhooks}:dead``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import cast

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

DEAD_KEY = "sw:{sw:webhooks}:dead"
DEAD_MAXLEN = 100_000
"""Dead letters kept (approximately); the oldest are trimmed past it."""

# KEYS: seen key, queue. ARGV: TTL (s), alert id, body, detected at (ms since the epoch)
_ENQUEUE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], '*', 'alert_id', ARGV[2], 'body', ARGV[3],
                    'detected_ms', ARGV[4])
end
return false
"""

# KEYS: lease. ARGV: holder, TTL (ms)
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: lease. ARGV: holder
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def key_prefix(subscription_id: str) -> str:
    return f"sw:{{sw:webhook:{subscription_id}}}"


def queue_key(subscription_id: str) -> str:
    return f"{key_prefix(subscription_id)}:queue"


def attempts_key(subscription_id: str) -> str:
    return f"{key_prefix(subscription_id)}:attempts"


def seen_key(subscription_id: str, alert_id: str) -> str:
    return f"{key_prefix(subscription_id)}:seen:{alert_id}"


@dataclass(frozen=True)
class Entry:
    """One pending delivery: the alert's id and its body exactly as it was on the topic."""

    entry_id: str
    alert_id: str
    body: str
    detected_ms: int


@dataclass(frozen=True)
class Progress:
    """What happened to an entry so far; absent from Redis before its first failure."""

    attempts: int = 0
    next_ms: int = 0
    """Not before this time (ms since the epoch): the backoff, durable across restarts."""
    status: int | None = None
    error: str = ""


@dataclass(frozen=True)
class DeadDelivery:
    """A delivery given up on: after the last attempt, or at once on a permanent failure."""

    subscription: str
    url: str
    alert_id: str
    attempts: int
    status: int | None
    error: str
    body: str
    dead_at_ms: int

    def fields(self) -> dict[str, str]:
        values = asdict(self)
        return {k: "" if v is None else str(v) for k, v in values.items()}

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> DeadDelivery:
        return cls(
            subscription=fields["subscription"],
            url=fields["url"],
            alert_id=fields["alert_id"],
            attempts=int(fields["attempts"]),
            status=int(fields["status"]) if fields["status"] else None,
            error=fields["error"],
            body=fields["body"],
            dead_at_ms=int(fields["dead_at_ms"]),
        )


class Queue:
    """One subscription's queue. The Redis client must use ``decode_responses=True``."""

    def __init__(self, redis: Redis, subscription_id: str) -> None:
        self._redis = redis
        self.subscription_id = subscription_id
        self.queue_key = queue_key(subscription_id)
        self.attempts_key = attempts_key(subscription_id)
        self._enqueue = redis.register_script(_ENQUEUE)

    async def enqueue(
        self, alert_id: str, body: str, detected_ms: int, seen_ttl_seconds: int
    ) -> str | None:
        """Append the delivery unless this alert was enqueued here before; the entry id."""
        entry = await self._enqueue(
            keys=[seen_key(self.subscription_id, alert_id), self.queue_key],
            args=[seen_ttl_seconds, alert_id, body, detected_ms],
        )
        return cast(str | None, entry)

    async def head(self, block_ms: int) -> Entry | None:
        """The oldest pending delivery, waiting up to ``block_ms`` for one to arrive.

        XREAD from ``0-0`` returns the first entry still in the stream: acknowledged ones
        are deleted, so that is the head, and an XADD wakes the wait at once.
        """
        reply = cast(
            list[tuple[str, list[tuple[str, dict[str, str]]]]] | None,
            await self._redis.xread({self.queue_key: "0-0"}, count=1, block=block_ms),
        )
        if not reply:
            return None
        _stream, entries = reply[0]
        entry_id, fields = entries[0]
        return Entry(entry_id, fields["alert_id"], fields["body"], int(fields["detected_ms"]))

    async def progress(self, entry: Entry) -> Progress:
        raw = cast(str | None, await self._redis.hget(self.attempts_key, entry.entry_id))
        return Progress() if raw is None else Progress(**json.loads(raw))

    async def record(self, entry: Entry, progress: Progress) -> None:
        await self._redis.hset(self.attempts_key, entry.entry_id, json.dumps(asdict(progress)))

    async def ack(self, entry: Entry) -> int:
        """Done with the head (delivered or dead): the next entry becomes the head.

        Returns the depth of the queue left.
        """
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xdel(self.queue_key, entry.entry_id)
            pipe.hdel(self.attempts_key, entry.entry_id)
            pipe.xlen(self.queue_key)
            *_, depth = await pipe.execute()
        return int(depth)

    async def depth(self) -> int:
        return int(await self._redis.xlen(self.queue_key))


async def dead_letter(redis: Redis, dead: DeadDelivery) -> None:
    """Record a dead delivery (before its entry is acknowledged: at least once, never lost)."""
    fields: dict[FieldT, EncodableT] = {k: v for k, v in dead.fields().items()}
    await redis.xadd(DEAD_KEY, fields, maxlen=DEAD_MAXLEN, approximate=True)


async def dead_letters(redis: Redis, count: int = 100) -> list[DeadDelivery]:
    """The newest dead deliveries, newest first."""
    entries = cast(list[tuple[str, dict[str, str]]], await redis.xrevrange(DEAD_KEY, count=count))
    return [DeadDelivery.from_fields(fields) for _id, fields in entries]


class Lease:
    """Which replica delivers a queue: a key holding the replica's token, with a TTL.

    Only the holder delivers, so a queue is delivered in order by one replica at a time.
    If a holder stalls past the TTL, another takes over and may repeat the POST in flight;
    receivers drop that repeat by its ``Idempotency-Key``.
    """

    def __init__(self, redis: Redis, subscription_id: str, holder: str, ttl_seconds: float) -> None:
        self._redis = redis
        self.key = f"{key_prefix(subscription_id)}:lease"
        self._holder = holder
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def acquire(self) -> bool:
        return bool(await self._redis.set(self.key, self._holder, nx=True, px=self._ttl_ms))

    async def renew(self) -> bool:
        """Extend the lease; False when it was lost (expired, or taken by another replica)."""
        return bool(await self._renew(keys=[self.key], args=[self._holder, self._ttl_ms]))

    async def release(self) -> None:
        await self._release(keys=[self.key], args=[self._holder])


def now_ms() -> int:
    return int(time.time() * 1000)
