"""The feed poller's state in Redis: what was already sent, and each feed's HTTP validators.

Two keys per feed, both in the feed's own hash slot (``{feed:NAME}``), so the layout works
unchanged on Redis Cluster:

- ``stancewire:{feed:NAME}:sent`` — a sorted set of the headline ids already acknowledged by
  the broker, scored by when the entry was last seen in the feed (epoch seconds). An id is
  forgotten once the feed has not carried it for ``ttl`` seconds, and the set keeps at most
  ``cap`` ids (the least recently seen go first), so it stays bounded however long a feed
  lives; the whole key expires ``ttl`` after the feed last answered (200 or 304).
- ``stancewire:{feed:NAME}:http`` — a hash of the ``url`` it was fetched from and the ``etag``
  and ``last_modified`` of that response, for the next conditional GET.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis


def sent_key(feed: str) -> str:
    return f"stancewire:{{feed:{feed}}}:sent"


def http_key(feed: str) -> str:
    return f"stancewire:{{feed:{feed}}}:http"


@dataclass(frozen=True)
class Validators:
    """What the last complete response of a feed's URL said about its version."""

    etag: str | None
    last_modified: str | None

    def request_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class FeedStore:
    """Sent ids and validators of every feed, on one Redis (``decode_responses=True``)."""

    def __init__(self, redis: Redis, ttl_seconds: int, cap: int) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._cap = cap

    async def validators(self, feed: str, url: str) -> Validators | None:
        """The validators stored for ``feed``, if they were given by this same ``url``."""
        stored: dict[str, str] = await self._redis.hgetall(http_key(feed))  # type: ignore[assignment]
        if stored.get("url") != url:
            return None
        found = Validators(stored.get("etag") or None, stored.get("last_modified") or None)
        return found if found.etag or found.last_modified else None

    async def save_validators(
        self, feed: str, url: str, etag: str | None, last_modified: str | None
    ) -> None:
        key = http_key(feed)
        if not etag and not last_modified:
            await self._redis.delete(key)
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.delete(key)
            pipe.hset(
                key, mapping={"url": url, "etag": etag or "", "last_modified": last_modified or ""}
            )
            pipe.expire(key, self._ttl)
            await pipe.execute()

    async def touch(self, feed: str) -> None:
        """The feed answered 304: keep its state alive as long as the feed is."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.expire(sent_key(feed), self._ttl)
            pipe.expire(http_key(feed), self._ttl)
            await pipe.execute()

    async def unsent(self, feed: str, ids: Sequence[str]) -> list[str]:
        """The ids among ``ids`` not sent yet, in their order."""
        if not ids:
            return []
        scores = await self._redis.zmscore(sent_key(feed), list(ids))
        return [id_ for id_, score in zip(ids, scores, strict=True) if score is None]

    async def mark_sent(
        self, feed: str, sent: Sequence[str], present: Sequence[str], now: float
    ) -> None:
        """Remember ``sent`` (acknowledged by the broker) and refresh ``present`` (every id the
        feed carries now: an id already sent is kept as long as the feed keeps carrying it);
        then forget what the feed dropped more than ``ttl`` ago and trim to ``cap``."""
        key = sent_key(feed)
        async with self._redis.pipeline(transaction=False) as pipe:
            if sent:
                pipe.zadd(key, dict.fromkeys(sent, now))
            if present:
                pipe.zadd(key, dict.fromkeys(present, now), xx=True)
            pipe.zremrangebyscore(key, "-inf", now - self._ttl)
            pipe.zremrangebyrank(key, 0, -(self._cap + 1))
            pipe.expire(key, self._ttl)
            await pipe.execute()
