"""Duplicate suppression in Redis: exact and near duplicates, in one round trip per headline.

Both layers run in one Lua script, atomic, so replicas that see the same story at once
cannot both let it through. Every key of a headline carries one hash tag, the digest of its
*claim*: the statements detected in it (government, topic, stance, speaker) and, from its
headline sentence (wire prefixes and datelines removed), the figures it states, the
governments it names, the kinds of speaker in it, the levers it names (tariffs, export
controls, purchases, Treasuries, lists) and its negations. Headlines with different claims
are never compared: "Japan will use" and "Japan will not use", another government,
another stance or speaker, another tariff rate, levies on coal versus export controls on
tungsten, all land under different tags. Within a tag:

- exact: the normalised text's fingerprint;
- near, for a headline that carries statements: the event itself. One key per claim: the
  same statements with the same figures and names within the window are one story, however
  reworded ("rules out" or "has no intention of"), which is how desks count outlets;
- near, for a headline without statements: MinHash bands of its headline sentence
  (``streams.minhash``); the candidate sharing the most bands wins if it shares at least
  ``min_bands``.

Either way the match must be published within ``window_seconds`` of this headline, in
event time, exact copies included (a statement repeated days later is a new event, and an
archive replays the same as the live wire).

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
from schemas.settings import WorkerSettings
from streams import minhash
from streams.detect import Detection, entities, story_start

# KEYS[1] exact key, KEYS[2..] candidate keys (the event key, or the band keys).
# ARGV: headline id, published (ms), source, exact ttl, near ttl, min votes, window (ms)
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


_NEGATION = re.compile(r"\b(?:not|no|never|without|\w+n't)\b", re.IGNORECASE)
_LEVERS = {
    "tariffs": r"tariff|levy|levies|dut(?:y|ies)|reciprocity|countermeasure|counter-measure",
    "exports": r"export|rare.earth|gallium|germanium|graphite|tungsten|antimony|chip",
    "purchases": r"purchas|buy|soybean|farm|agricultur|lng\b|energy",
    "treasuries": r"treasur|bonds?\b|debt",
    "lists": r"entity list|unreliable|sanction|white list|blacklist",
}
# One search per lever on the lowered sentence, each stopping at its first hit: a fifth of
# the time of one case-blind alternation scanned to the end.
_LEVER_PATTERNS = {lever: re.compile(pattern) for lever, pattern in _LEVERS.items()}


# The end of the first sentence: a full stop that ends no abbreviation ("U.S.", "No. 3").
# Unlike the detector's clauses, a colon or a dash does not end it: "Kato: Japan will not
# ..." and "Japan will not ... - Kato" keep their speaker.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<!\b[A-Z]\.)(?<!\b(?:No|Mr|Ms|Dr|St|vs)\.)"
    r"(?<!\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Gov|Sen|Rep)\.)(?<!\bSept\.)"
    r"\s+(?=[A-Z\"'])"
)


def headline_sentence(text: str) -> str:
    """The first sentence, without wire prefixes ("UPDATE 1-") or a dateline."""
    text = text[story_start(text) :].strip()
    return _SENTENCE_END.split(text, maxsplit=1)[0]


def claim(text: str, detections: Sequence[Detection]) -> str:
    """The hash tag of a headline: what it claims, and about whom (see the module's doc)."""
    headline = headline_sentence(text)
    lowered = headline.lower()
    governments, speakers = entities(headline)
    parts = [
        *sorted(f"{d.government}:{d.topic}:{d.stance}:{d.speaker}" for d in detections),
        "#",
        *minhash.numbers(headline),
        "#",
        *sorted(governments),
        "#",
        *sorted(speakers),
        "#",
        *sorted(lever for lever, pattern in _LEVER_PATTERNS.items() if pattern.search(lowered)),
        "#",
        str(len(_NEGATION.findall(headline))),
    ]
    return hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class DedupSettings:
    exact_ttl_seconds: int
    near_ttl_seconds: int
    window_seconds: int
    min_bands: int

    @classmethod
    def of(cls, settings: WorkerSettings) -> DedupSettings:
        return cls(
            exact_ttl_seconds=settings.dedup_ttl_seconds,
            near_ttl_seconds=settings.near_dup_ttl_seconds,
            window_seconds=settings.near_dup_window_seconds,
            min_bands=settings.near_dup_min_bands,
        )


class Dedup:
    def __init__(self, redis: Redis, settings: DedupSettings) -> None:
        self._check = redis.register_script(_CHECK)
        self._settings = settings

    async def check(self, headline: Headline, detections: Sequence[Detection]) -> Verdict:
        tag = claim(headline.text, detections)
        keys = [f"sw:dup:{{{tag}}}:exact:{fingerprint(headline.text)}"]
        if detections:
            keys.append(f"sw:dup:{{{tag}}}:event")
            min_votes = 1
        else:
            bands = minhash.signature(headline_sentence(headline.text)).bands()
            keys.extend(f"sw:dup:{{{tag}}}:band:{band}" for band in bands)
            min_votes = self._settings.min_bands
        s = self._settings
        reply = await self._check(
            keys=keys,
            args=[
                headline.id,
                int(headline.published_at.timestamp() * 1000),
                headline.source,
                s.exact_ttl_seconds,
                s.near_ttl_seconds,
                min_votes,
                s.window_seconds * 1000,
            ],
        )
        seen, story_id, layer, first_source = reply
        if seen == "redelivery" and layer != "first":
            seen = layer  # a duplicate redelivered is still a duplicate
        return Verdict(Seen(seen), story_id, first_source)
