"""Duplicate suppression in Redis: exact and near duplicates, in one round trip per headline.

Both layers run in one Lua script, atomic, so replicas that see the same story at once
cannot both let it through. Every key of a headline carries one hash tag, the digest of
its *claim*: the statements detected in it (government, topic, stance, speaker) and the
figures it states. So a headline can only ever match one that says the same thing: "Japan
will use" and "Japan will not use", another government, another stance, another tariff
rate land under different tags and are never compared. Within a tag:

- exact: the normalised text's fingerprint, remembered for ``exact_ttl`` seconds;
- near: a MinHash signature in ``minhash.BANDS`` bands. The candidate story sharing the
  most bands wins if it shares at least ``min_bands`` and was published within
  ``window_seconds`` of this headline (a statement repeated days later is a new event;
  the window, in event time, applies to exact copies too, so archives replay the same).

Each fingerprint remembers which headline claimed it and what the verdict was, so a
redelivered headline gets its first verdict again: a crash between dedup and the stance
step never turns a headline into its own duplicate, and a duplicate stays one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis

from schemas import Headline
from streams import minhash
from streams.detect import Detection

# KEYS[1] exact key, KEYS[2..] band keys.
# ARGV: headline id, published (ms), source, exact ttl, near ttl, min bands, window (ms)
_CHECK = """
local id, published, source = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local window = tonumber(ARGV[7])
local held = redis.call('GET', KEYS[1])
if held then
  local holder, at, story, layer, first_source =
    string.match(held, '^(.-)\\t(.-)\\t(.-)\\t(.-)\\t(.*)$')
  if holder == id then return {'redelivery', story, layer, first_source} end
  if math.abs(tonumber(at) - published) <= window then
    return {'exact', story, 'exact', first_source}
  end
end
local votes, published_of, source_of = {}, {}, {}
for i = 2, #KEYS do
  local band = redis.call('GET', KEYS[i])
  if band then
    local story, at, first_source = string.match(band, '^(.-)\\t(.-)\\t(.*)$')
    votes[story] = (votes[story] or 0) + 1
    published_of[story], source_of[story] = tonumber(at), first_source
  end
end
local best, most = nil, 0
for story, count in pairs(votes) do
  local close = math.abs(published_of[story] - published) <= window
  if close and (count > most or (count == most and story < best)) then best, most = story, count end
end
if best and most >= tonumber(ARGV[6]) then
  local claim = table.concat({id, ARGV[2], best, 'near', source_of[best]}, '\\t')
  redis.call('SET', KEYS[1], claim, 'EX', ARGV[4])
  return {'near', best, 'near', source_of[best]}
end
redis.call('SET', KEYS[1], table.concat({id, ARGV[2], id, 'first', source}, '\\t'), 'EX', ARGV[4])
local band = id .. '\\t' .. ARGV[2] .. '\\t' .. source
for i = 2, #KEYS do redis.call('SET', KEYS[i], band, 'NX', 'EX', ARGV[5]) end
return {'first', id, 'first', source}
"""

_NOT_WORD = re.compile(r"[\W_]+")


class Seen(StrEnum):
    FIRST = "first"
    REDELIVERY = "redelivery"
    """This headline was seen before and was the first of its story: process it again."""
    EXACT = "exact"
    NEAR = "near"


@dataclass(frozen=True, slots=True)
class Verdict:
    seen: Seen
    story_id: str
    first_source: str

    @property
    def duplicate(self) -> bool:
        return self.seen in (Seen.EXACT, Seen.NEAR)


def fingerprint(text: str) -> str:
    """Fingerprint of a text's words: case, punctuation and spacing do not count."""
    normalised = _NOT_WORD.sub(" ", text.casefold()).strip()
    return hashlib.blake2b(normalised.encode(), digest_size=16).hexdigest()


def claim(text: str, detections: Sequence[Detection]) -> str:
    """The hash tag of a headline: what it claims (its statements) and the figures it states."""
    statements = sorted(f"{d.government}:{d.topic}:{d.stance}:{d.speaker}" for d in detections)
    digest = hashlib.blake2b(
        "|".join([*statements, "#", *minhash.numbers(text)]).encode(), digest_size=8
    )
    return digest.hexdigest()


@dataclass(frozen=True)
class DedupSettings:
    exact_ttl_seconds: int
    near_ttl_seconds: int
    window_seconds: int
    min_bands: int


class Dedup:
    def __init__(self, redis: Redis, settings: DedupSettings) -> None:
        self._check = redis.register_script(_CHECK)
        self._settings = settings

    async def check(self, headline: Headline, detections: Sequence[Detection]) -> Verdict:
        tag = claim(headline.text, detections)
        keys = [
            f"sw:dup:{{{tag}}}:exact:{fingerprint(headline.text)}",
            *(f"sw:dup:{{{tag}}}:band:{band}" for band in minhash.signature(headline.text).bands()),
        ]
        s = self._settings
        reply = await self._check(
            keys=keys,
            args=[
                headline.id,
                int(headline.published_at.timestamp() * 1000),
                headline.source,
                s.exact_ttl_seconds,
                s.near_ttl_seconds,
                s.min_bands,
                s.window_seconds * 1000,
            ],
        )
        seen, story_id, layer, first_source = reply
        if seen == "redelivery" and layer != "first":
            seen = layer  # a duplicate redelivered is still a duplicate
        return Verdict(Seen(seen), story_id, first_source)
