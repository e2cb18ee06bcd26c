"""Exact-duplicate suppression in Redis: one round trip per headline, remembered for a TTL.

The check and the insert are one Lua script, so two worker replicas that see the same
story at once cannot both let it through. The fingerprint's key remembers the id of the
headline that claimed it: the same headline seen again (a redelivery after a crash) is
``REDELIVERY`` and is processed again, so a crash between dedup and the stance step can
never turn a headline into its own duplicate.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum

from redis.asyncio import Redis

_CLAIM = """
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""

_NOT_WORD = re.compile(r"[\W_]+")


class Seen(StrEnum):
    FIRST = "first"
    REDELIVERY = "redelivery"
    DUPLICATE = "duplicate"


def fingerprint(text: str) -> str:
    """Fingerprint of a text's words: case, punctuation and spacing do not count."""
    normalised = _NOT_WORD.sub(" ", text.casefold()).strip()
    return hashlib.blake2b(normalised.encode(), digest_size=16).hexdigest()


class ExactDedup:
    def __init__(self, redis: Redis, ttl_seconds: int) -> None:
        self._claim = redis.register_script(_CLAIM)
        self._ttl = ttl_seconds

    async def check(self, headline_id: str, text: str) -> Seen:
        # The fingerprint is its own hash tag, so keys spread over a Redis Cluster's slots.
        key = f"sw:dup:exact:{{{fingerprint(text)}}}"
        held = await self._claim(keys=[key], args=[headline_id, self._ttl])
        if held is None:
            return Seen.FIRST
        return Seen.REDELIVERY if held == headline_id else Seen.DUPLICATE
