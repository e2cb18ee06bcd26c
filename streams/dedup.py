"""Duplicate suppression in Redis: exact and near duplicates, in one round trip per headline.

Both layers run in one Lua script, atomic, so replicas that see the same story at once
cannot both let it through. Each statement of a headline is checked on its own (one script
call each, all in the headline's round trip), under a hash tag from its claim
(``streams.claims``): the statement and the polarity, which must be equal for two reports
to carry one statement. "Japan will use" and "Japan will not use", another government,
stance or speaker never share a tag, so they are never compared. A statement is suppressed
only by the same statement: a rewrite whose lead adds another actor's statement joins the
story of the one it repeats (a corroboration) and opens a story for the one it adds (which
may alert). A headline without statements is checked once, as a whole.

Within a tag:

- exact: the normalised text's fingerprint;
- near, for a headline that carries statements: the event. The tag's recent stories (the
  latest 32) are kept with their claim's facts, and a report joins the newest story whose
  facts are compatible with its own (figures, governments, speakers, goods: each side's
  within the other's);
- near, for a headline without statements: MinHash bands of its headline sentence
  (``streams.minhash``), under a tag that holds its facts but the kinds of speaker, each
  band holding the story that set it; of the stories whose speakers are compatible too, the
  one sharing the most bands wins if it shares at least ``min_bands``.

Either way the match must be published within ``window_seconds`` of this headline, in
event time, exact copies included (a statement repeated days later is a new event, and an
archive replays the same as the live wire). A merge never costs an alert: a duplicate still
goes to the stance compare-and-set (``streams.screen``); what it changes is the story chain.

Each fingerprint remembers, under each tag, which headline claimed it and what the verdict
was, so a redelivered headline gets its first verdicts again: a crash between dedup and the stance
step never turns a headline into its own duplicate, and a duplicate stays one.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import (
    BusyLoadingError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
)
from redis.exceptions import TimeoutError as RedisTimeoutError

from schemas import Headline
from schemas.settings import WorkerSettings
from streams import minhash
from streams.claims import claim, headline_sentence, statement_key
from streams.detect import Detection, Detector
from streams.wording import words

log = logging.getLogger(__name__)

# KEYS[1] exact key; KEYS[2] the tag's stories (a list), or KEYS[2..] the MinHash band keys.
# ARGV: headline id, published (ms), source, the settings ("exact-ttl near-ttl min-votes
# window-ms"), the headline's facts (``Claim.facts``, tab-separated). Few arguments:
# packing them is most of the client's cost.
_CHECK = """
local find, sub, byte, band, abs = string.find, string.sub, string.byte, bit.band, math.abs
local id, published, source = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local exact_ttl, near_ttl, min_votes, window =
  string.match(ARGV[4], '^(%d+) (%d+) (%d+) (%d+)$')
window = tonumber(window)
local held = redis.call('GET', KEYS[1])
if held then
  local holder, at, story, layer, first_source =
    string.match(held, '^(.-)\\t(.-)\\t(.-)\\t(.-)\\t(.*)$')
  if holder == id then return {'redelivery', story, layer, first_source} end
  if abs(tonumber(at) - published) <= window then
    return {'exact', story, 'exact', first_source}
  end
end
local function near(story, first_source)
  redis.call('SET', KEYS[1], id .. '\\t' .. ARGV[2] .. '\\t' .. story .. '\\tnear\\t'
             .. first_source, 'EX', exact_ttl)
  return {'near', story, 'near', first_source}
end
local function first()
  redis.call('SET', KEYS[1], id .. '\\t' .. ARGV[2] .. '\\t' .. id .. '\\tfirst\\t' .. source,
             'EX', exact_ttl)
  return {'first', id, 'first', source}
end
local facts = {}
for fact in string.gmatch(ARGV[5], '[^\\t]+') do facts[#facts + 1] = fact end
-- A fact is a list like ",10,2007," ("," when empty): membership is a plain find, and one
-- list is within the other when all my members are in it, or all of its in mine.
local function probes(list)
  local out = {}
  for member in string.gmatch(list, '[^,]+') do out[#out + 1] = ',' .. member .. ',' end
  return out
end
local mine = {}
local function compatible(i, theirs)
  -- ",*," stands for any list: exact figures, when one of them is approximate
  local own = facts[i]
  if theirs == own or theirs == ',*,' or own == ',*,' then return true end
  local members = mine[i]
  if not members then members = probes(own); mine[i] = members end
  local found, length, n = 0, 1, #members
  for k = 1, n do
    local probe = members[k]
    if find(theirs, probe, 1, true) then found, length = found + 1, length + #probe - 1 end
  end
  -- all of mine in theirs, or all of theirs in mine: the members of mine it holds are all
  -- it holds when they fill it (members are distinct)
  return found == n or length == #theirs
end
-- A story is one string, (published, its facts, id, source) joined by tabs, read only as
-- far as needed: most stories differ from this headline in their first facts.
local nfacts = #facts
local function matches(story)
  local first_tab = find(story, '\\t', 1, true)
  local at = first_tab + 1
  for j = 1, nfacts do
    local tab = find(story, '\\t', at, true)
    if not compatible(j, sub(story, at, tab - 1)) then return false end
    at = tab + 1
  end
  return abs(tonumber(sub(story, 1, first_tab - 1)) - published) <= window
end
-- Its id and source, after its facts (the source last: it may hold anything).
local function named(story)
  local at = 1
  for _ = 1, #facts + 1 do at = find(story, '\\t', at, true) + 1 end
  local tab = find(story, '\\t', at, true)
  return sub(story, at, tab - 1), sub(story, tab + 1)
end
-- The story that matches may be this headline's own (its exact key expired before the
-- story did): then it is a redelivery, not a copy of itself.
local function joined(other)
  local story_id, first_source = named(other)
  if story_id == id then return first() end
  return near(story_id, first_source)
end
local story = ARGV[2] .. '\\t' .. ARGV[5] .. '\\t' .. id .. '\\t' .. source
if #KEYS == 2 then
  -- The tag's list holds a directory, then its stories, newest first: reading a story out
  -- of Redis into Lua costs more than comparing it, so the directory summarises each story's
  -- facts in two 31-bit words, and only the stories whose summaries are compatible with mine
  -- are read and compared in full. Each member of a fact sets one bit of the fact's field,
  -- picked by a hash of its length and first 7 bytes (",*," sets none): a list within
  -- another has its bits within the other's, so a field where each side has a bit the other
  -- lacks rules the story out; bits shared by distinct members only let through a story that
  -- the full comparison then rejects. The first word is the figures, the fact that differs
  -- most often, with two bits a member (a story let through costs more than a bit); the
  -- second has a field for each of the rest (others and answered, rarely stated, have none).
  -- The directory is 4 bytes of first word for each story, then 4 bytes of second word for
  -- each.
  local function bits(fact, low, width, twice)
    local out, at, stop = 0, 2, #fact
    if fact == ',*,' then return 0 end
    while at < stop do
      local comma = find(fact, ',', at, true)
      local a, b, c, d, e, f, g = byte(fact, at, comma - 1)
      local hash = ((((((((comma - at) * 33 + a) * 33 + (b or 0)) * 33 + (c or 0)) * 33
        + (d or 0)) * 33 + (e or 0)) * 33 + (f or 0)) * 33 + (g or 0)) % 2039
      local flag = low * 2 ^ (hash % width)
      if out % (flag + flag) < flag then out = out + flag end
      if twice then
        flag = low * 2 ^ ((hash - hash % width) / width % width)
        if out % (flag + flag) < flag then out = out + flag end
      end
      at = comma + 1
    end
    return out
  end
  local function word(m)
    return string.char((m - m % 16777216) / 16777216, (m % 16777216 - m % 65536) / 65536,
                       (m % 65536 - m % 256) / 256, m % 256)
  end
  local SECOND = {2, 8, 4, 4, 5, 6, 6, 4, 7, 5, 9, 4} -- each field's fact and width
  local first_word = bits(facts[1] or ',', 1, 31, true)
  local second_word, fields, low = 0, {}, 1
  for k = 1, #SECOND, 2 do
    local high = low * 2 ^ SECOND[k + 1]
    local field = bits(facts[SECOND[k]] or ',', low, SECOND[k + 1])
    if field > 0 then -- a field where mine is empty never rules a story out
      fields[#fields + 1] = low
      fields[#fields + 1] = high
    end
    second_word, low = second_word + field, high
  end
  local function clashes(theirs)
    local shared = band(theirs, second_word)
    if shared == theirs or shared == second_word then return false end
    local only_theirs, only_mine = theirs - shared, second_word - shared
    for k = 1, #fields, 2 do
      if only_theirs % fields[k + 1] >= fields[k] and only_mine % fields[k + 1] >= fields[k] then
        return true
      end
    end
    return false
  end
  local directory = redis.call('LINDEX', KEYS[2], '0')
  local mine = word(first_word)
  if not directory then
    redis.call('LPUSH', KEYS[2], story, mine .. word(second_word))
  else
    -- a list laid out otherwise (another writer's) fails the check instead of being misread
    if #directory % 8 ~= 0 then error('not a story list: ' .. KEYS[2]) end
    local n = #directory / 8
    local firsts = {byte(directory, 1, 4 * n)}
    for k = 4, 4 * n, 4 do
      local theirs = ((firsts[k - 3] * 256 + firsts[k - 2]) * 256 + firsts[k - 1]) * 256 + firsts[k]
      local shared = band(theirs, first_word)
      if shared == theirs or shared == first_word then
        local a, b, c, d = byte(directory, 4 * n + k - 3, 4 * n + k)
        if not clashes(((a * 256 + b) * 256 + c) * 256 + d) then
          local other = redis.call('LINDEX', KEYS[2], tostring(k / 4))
          if matches(other) then return joined(other) end
        end
      end
    end
    -- this story in the directory's place, then a directory of it and the 31 before it
    local kept = math.min(n, 31)
    redis.call('LSET', KEYS[2], '0', story)
    redis.call('LPUSH', KEYS[2], mine .. sub(directory, 1, 4 * kept) .. word(second_word)
                                 .. sub(directory, 4 * n + 1, 4 * (n + kept)))
    if n == 32 then redis.call('LTRIM', KEYS[2], '0', '32') end
  end
  redis.call('EXPIRE', KEYS[2], near_ttl)
  return first()
end
-- MinHash: the candidate stories are those sharing a band; the one sharing most wins.
local votes, stories = {}, {}
for i = 2, #KEYS do
  local band = redis.call('GET', KEYS[i])
  if band then
    local story_id = named(band)
    votes[story_id], stories[story_id] = (votes[story_id] or 0) + 1, band
  end
end
local best, most = nil, 0
for story_id, count in pairs(votes) do
  if (count > most or (count == most and story_id < best)) and matches(stories[story_id]) then
    best, most = story_id, count
  end
end
if best and most >= tonumber(min_votes) then return joined(stories[best]) end
for i = 2, #KEYS do redis.call('SET', KEYS[i], story, 'NX', 'EX', near_ttl) end
return first()
"""


class Seen(StrEnum):
    FIRST = "first"
    REDELIVERY = "redelivery"
    """This headline was seen before and was the first of its story: process it again."""
    EXACT = "exact"
    NEAR = "near"


@dataclass(frozen=True, slots=True)
class Verdict:
    """One statement's verdict: the story it joined or opened, and that story's first source."""

    seen: Seen
    story_id: str
    first_source: str

    @property
    def duplicate(self) -> bool:
        return self.seen in (Seen.EXACT, Seen.NEAR)


@dataclass(frozen=True, slots=True)
class Verdicts:
    """A headline's verdicts: one per statement it carries, by ``claims.statement_key`` (one
    under "" for a headline without statements)."""

    each: dict[str, Verdict]

    def of(self, detection: Detection) -> Verdict:
        return self.each[statement_key(detection)]

    @property
    def duplicate(self) -> bool:
        """Every statement is a duplicate: the headline says nothing new."""
        return all(verdict.duplicate for verdict in self.each.values())

    @property
    def joined(self) -> bool:
        """A statement joined a story: the headline repeats something already reported."""
        return any(verdict.duplicate for verdict in self.each.values())

    @classmethod
    def unchecked(cls, headline: Headline, detections: Sequence[Detection]) -> Verdicts:
        """Each statement the first of its story: what a check that could not run says."""
        first = Verdict(Seen.FIRST, headline.id, headline.source)
        return cls({key: first for key in {statement_key(d) for d in detections} or {""}})


def fingerprint(text: str) -> str:
    """Fingerprint of a text's words in one spelling (``streams.wording``)."""
    return hashlib.blake2b(" ".join(words(text)).encode(), digest_size=16).hexdigest()


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


LAYOUT = 3
"""The version of a story's layout (its facts and their meaning, and the directory before a
tag's stories): a part of its key."""

CHUNK = 32
"""Checks per write in :meth:`Dedup.check_many`."""


class Dedup:
    """The check, one headline at a time or many in one round trip (a pipeline: the scripts
    run in order, so a copy later in a batch sees the story earlier in it)."""

    def __init__(self, redis: Redis, settings: DedupSettings) -> None:
        self._redis = redis
        self._check = redis.register_script(_CHECK)
        self._settings = " ".join(
            str(value)
            for value in (
                settings.exact_ttl_seconds,
                settings.near_ttl_seconds,
                settings.min_bands,
                settings.window_seconds * 1000,
            )
        )

    async def check(
        self,
        headline: Headline,
        detections: Sequence[Detection],
        detector: Detector | None = None,
    ) -> Verdicts:
        """``detector``: the one that found ``detections`` (its lexicon names the claim's
        governments and speakers; the packaged one by default)."""
        (verdicts,) = await self.check_many([(headline, detections)], detector)
        if isinstance(verdicts, CheckFailed):
            raise verdicts
        return verdicts

    async def check_many(
        self,
        items: Sequence[tuple[Headline, Sequence[Detection]]],
        detector: Detector | None = None,
    ) -> list[Verdicts | CheckFailed]:
        """Checks in order on one connection, which keeps the order, sent in chunks: while
        Redis runs one chunk's scripts the next chunk's claims are read, so the client's
        work and Redis's overlap instead of adding up. The script failing for a statement
        leaves a :class:`CheckFailed` in its headline's place when it was the headline's
        only statement, and that statement unchecked when others were checked (see
        :func:`_verdicts`); Redis failing raises."""
        replies = await self._pipelined(items, detector)
        if any(isinstance(reply, NoScriptError) for item in replies for _, reply in item):
            # A restarted Redis. Checking again is safe: a redelivered headline gets its
            # verdicts again, whichever of them ran.
            await self._redis.script_load(_CHECK)
            replies = await self._pipelined(items, detector)
        return [
            _verdicts(headline, item) for (headline, _), item in zip(items, replies, strict=True)
        ]

    async def _pipelined(
        self, items: Sequence[tuple[Headline, Sequence[Detection]]], detector: Detector | None
    ) -> list[list[tuple[str, object]]]:
        """Each headline's replies, with the statement each one is for."""
        pool = self._redis.connection_pool
        connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            chunks: list[list[list[str]]] = []  # each chunk's headlines' statements
            for start in range(0, len(items), CHUNK):
                requests = [
                    self._requests(headline, detections, detector)
                    for headline, detections in items[start : start + CHUNK]
                ]
                chunks.append([[key for key, _, _ in checks] for checks in requests])
                # hiredis packs in C what the asyncio connection would pack in Python (10 us a
                # command, a tenth of the check); its stub types the argument as a 1-tuple.
                packed = b"".join(
                    hiredis.pack_command(("EVALSHA", self._check.sha, len(keys), *keys, *args))  # type: ignore[arg-type]
                    for checks in requests
                    for _, keys, args in checks
                )
                await connection.send_packed_command(packed)
            replies: list[list[tuple[str, object]]] = []
            for chunk in chunks:
                replies.extend(await _replies(connection, chunk))
            return replies
        except BaseException:
            await connection.disconnect()
            raise
        finally:
            await pool.release(connection)

    def _requests(
        self, headline: Headline, detections: Sequence[Detection], detector: Detector | None
    ) -> list[tuple[str, list[str], list[str]]]:
        """The script's keys and arguments for each statement of the headline (its key, by
        ``claims.statement_key``), or for the headline when it has none (under "")."""
        what = claim(headline.text, detections, detector)
        exact = fingerprint(headline.text)
        published = str(int(headline.published_at.timestamp() * 1000))
        facts = what.facts()
        args = [headline.id, published, headline.source, self._settings, "\t".join(facts)]
        # The layout in the key: a story laid out by another build is never read.
        layout = f"{LAYOUT}.{len(facts)}"
        if not what.statements:
            (tag,) = what.tags
            bands = minhash.signature(headline_sentence(headline.text)).bands()
            keys = [f"sw:dup:{{{tag}}}:exact:{exact}"]
            keys.extend(f"sw:dup:{{{tag}}}:band:{layout}:{band}" for band in bands)
            return [("", keys, args)]
        return [
            (
                statement,
                [f"sw:dup:{{{tag}}}:exact:{exact}", f"sw:dup:{{{tag}}}:stories:{layout}"],
                args,
            )
            for statement, tag in zip(what.statements, what.tags, strict=True)
        ]


async def _replies(
    connection: AbstractConnection, chunk: list[list[str]]
) -> list[list[tuple[str, object]]]:
    """A chunk's replies, every one read, errors too (the connection stays in step). The
    connection's timeout bounds the wait for the chunk's replies, not each reply's: redis-py
    sets a timer for each read, which is two thirds of the cost of reading a reply."""
    timeout = connection.socket_timeout
    replies: list[list[tuple[str, object]]] = []
    try:
        async with asyncio.timeout(timeout):
            for keys in chunk:
                item: list[tuple[str, object]] = []
                for key in keys:
                    try:
                        item.append((key, await connection.read_response(timeout=math.inf)))
                    except ResponseError as exc:
                        item.append((key, exc))
                replies.append(item)
    except TimeoutError as exc:  # asyncio's: redis-py's own is a RedisError, as callers expect
        raise RedisTimeoutError(f"no dedup replies within {timeout} s") from exc
    return replies


class CheckFailed(Exception):
    """The script failed for one headline (a bug, not an outage: Redis answered)."""


# Redis refusing a write or a script, whether the script's call or Redis itself says so:
# out of memory, a read-only replica, loading (redis-py's classes for these drop the code
# from the message), busy with another script, no master, too few replicas.
_OUTAGES = (OutOfMemoryError, ReadOnlyError, BusyLoadingError)
_OUTAGE = re.compile(r"(?:BUSY|MASTERDOWN|NOREPLICAS)\b")


def is_outage(exc: ResponseError) -> bool:
    """Whether an error reply is Redis refusing for now (out of memory, a read-only replica,
    loading, busy: even when raised inside a script) rather than a script's or a key's fault,
    which trying again would not mend."""
    return isinstance(exc, _OUTAGES) or _OUTAGE.match(str(exc)) is not None


def _failed(exc: ResponseError) -> CheckFailed:
    """The script's own error for one headline; Redis failing (out of memory, a read-only
    replica: even when raised inside the script) is raised as it is."""
    message = str(exc)
    if is_outage(exc):
        raise exc
    if "user_script" in message or "Error running script" in message:
        return CheckFailed(message)
    raise exc


def _verdicts(headline: Headline, replies: list[tuple[str, object]]) -> Verdicts | CheckFailed:
    """A headline's verdicts from its statements' replies. A statement whose script failed
    (a bug) passes unchecked, the first of its story, when other statements of the headline
    were checked: they have claimed their stories, so dead-lettering the headline would
    leave stories whose first report was never published. When every statement failed,
    the headline is dead-lettered as before (:class:`CheckFailed`)."""
    verdicts: dict[str, Verdict] = {}
    failed: dict[str, CheckFailed] = {}
    for key, reply in replies:
        if isinstance(reply, ResponseError):
            failed[key] = _failed(reply)
        else:
            verdicts[key] = _verdict(cast(list[str], reply))
    if failed and not verdicts:
        return next(iter(failed.values()))
    for key, exc in failed.items():
        log.error("dedup failed for %s of %s, which passes unchecked: %s", key, headline.id, exc)
        verdicts[key] = Verdict(Seen.FIRST, headline.id, headline.source)
    return Verdicts(verdicts)


def _verdict(reply: list[str]) -> Verdict:
    seen, story_id, layer, first_source = reply
    if seen == "redelivery" and layer != "first":
        seen = layer  # a duplicate redelivered is still a duplicate
    return Verdict(Seen(seen), story_id, first_source)
