"""Duplicate suppression in Redis: exact and near duplicates, in one round trip per headline.

Both layers run in one Lua script, atomic, so replicas that see the same story at once
cannot both let it through. Every key of a headline carries one hash tag, the digest of what
must be *equal* for two reports to be one story: the statements detected in it (government,
topic, stance, speaker), the levers its headline sentence names (tariffs, export controls,
purchases, Treasuries, lists) and its polarity (an odd or even count of negations and
denials: "will not use" and "rules out using" agree, "declines to rule out" does not).
"Japan will use" and "Japan will not use", another government, stance or speaker, levies
versus export controls, never share a tag, so they are never compared.

Within a tag:

- exact: the normalised text's fingerprint;
- near, for a headline that carries statements: the event. The tag's recent stories are kept
  with the *facts* of their headline sentence, and a report joins a story whose facts are
  compatible with its own, because rewrites add and drop detail but do not contradict it:
  the figures one states must include or be included in the other's ("100% on canola and
  25% on pork" and "100% on canola"; not 34% and 84%, not "90 days" and "six months"), and
  so must the governments it names and the kinds of speaker in it ("Mexico has no plans to
  retaliate" and "Sheinbaum rules out tit-for-tat tariffs on the US"; not "on Canada" and
  "on Colombia");
- near, for a headline without statements: MinHash bands of its headline sentence
  (``streams.minhash``), under a tag that also holds its facts; the candidate sharing the
  most bands wins if it shares at least ``min_bands``.

Either way the match must be published within ``window_seconds`` of this headline, in
event time, exact copies included (a statement repeated days later is a new event, and an
archive replays the same as the live wire). A merge never costs an alert: a duplicate still
goes to the stance compare-and-set (``streams.screen``); what it changes is the story chain.

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

# KEYS[1] exact key; KEYS[2] the tag's events (a list), or KEYS[2..] the MinHash band keys.
# ARGV: headline id, published (ms), source, exact ttl, near ttl, min votes, window (ms),
# then for events: the headline's facts (figures, governments, kinds of speaker, goods).
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
local function near(story, first_source)
  redis.call('SET', KEYS[1], table.concat({id, ARGV[2], story, 'near', first_source}, '\\t'),
             'EX', ARGV[4])
  return {'near', story, 'near', first_source}
end
local function first()
  redis.call('SET', KEYS[1], table.concat({id, ARGV[2], id, 'first', source}, '\\t'),
             'EX', ARGV[4])
  return {'first', id, 'first', source}
end
if ARGV[8] then
  -- A fact is a list like ",10,2007," ("," when empty): membership is a plain find, and one
  -- list is within the other when all my members are in it, or all of its in mine.
  local function probes(list)
    local out = {}
    for member in string.gmatch(list, '[^,]+') do out[#out + 1] = ',' .. member .. ',' end
    return out
  end
  local function size(list)
    local n, at = -1, 0
    repeat n, at = n + 1, string.find(list, ',', at + 1, true) until not at
    return n - 1
  end
  local mine = {probes(ARGV[8]), probes(ARGV[9]), probes(ARGV[10]), probes(ARGV[11])}
  local function compatible(i, theirs)
    if theirs == ARGV[7 + i] then return true end
    -- figures must be stated on both sides to be compared; the rest may be absent
    if i == 1 and (theirs == ',' or ARGV[8] == ',') then return false end
    local found = 0
    for _, probe in ipairs(mine[i]) do
      if string.find(theirs, probe, 1, true) then found = found + 1 end
    end
    return found == #mine[i] or found == size(theirs)
  end
  -- The list holds each story as seven items (published, four facts, id, source), newest
  -- first: no string to parse per entry.
  local items = redis.call('LRANGE', KEYS[2], 0, -1)
  for i = 1, #items - 6, 7 do
    if math.abs(tonumber(items[i]) - published) <= window and compatible(1, items[i + 1])
       and compatible(2, items[i + 2]) and compatible(3, items[i + 3])
       and compatible(4, items[i + 4]) then
      return near(items[i + 5], items[i + 6])
    end
  end
  redis.call('LPUSH', KEYS[2], source, id, ARGV[11], ARGV[10], ARGV[9], ARGV[8], ARGV[2])
  redis.call('LTRIM', KEYS[2], 0, 7 * 32 - 1)
  redis.call('EXPIRE', KEYS[2], ARGV[5])
  return first()
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
if best and most >= tonumber(ARGV[6]) then return near(best, source_of[best]) end
local band = id .. '\\t' .. ARGV[2] .. '\\t' .. source
for i = 2, #KEYS do redis.call('SET', KEYS[i], band, 'NX', 'EX', ARGV[5]) end
return first()
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


# Negations and denials: their count's parity is a headline's polarity.
_DENIAL = re.compile(
    r"\b(?:not|no|never|without|\w+n't|rul(?:e|es|ed|ing) out|"
    r"(?:den(?:y|ies|ied|ying)|dismiss(?:es|ed|ing)?|declin(?:e|es|ed|ing)|"
    r"refus(?:e|es|ed|ing)|reject(?:s|ed|ing)?)\b)",
    re.IGNORECASE,
)
_LEVERS = {
    "tariffs": r"tariff|levy|levies|dut(?:y|ies)|reciprocity|countermeasure|counter-measure",
    "exports": r"export|rare.earth|gallium|germanium|graphite|tungsten|antimony|chip",
    "purchases": r"purchas|buy|soybean|farm|agricultur|lng\b|energy",
    "treasuries": r"treasur|bonds?\b|debt",
    "lists": r"entity list|unreliable|sanction|white list|blacklist",
}
# The goods a measure falls on, by class: rewrites name them differently ("steel and
# aluminium", "metals") but do not swap one class for another.
_GOODS = {
    "metals": r"steel|alumin|metal|copper",
    "autos": r"\bautos?\b|vehicle|\bcars?\b|\bevs?\b|motorcycle",
    "energy": r"energy|\blng\b|\bcoal\b|crude|natural gas|\boil and gas|petroleum",
    "farm": r"farm|agricultur|soybean|pork|canola|\bpeas\b|beef|chicken|wheat|barley|corn|"
    r"\bwine|brandy|whisk|bourbon|seafood|lobster",
    "minerals": r"rare.earth|gallium|germanium|graphite|tungsten|antimony|mineral|magnet",
    "chips": r"\bchips?\b|semiconductor|lithograph",
    "aircraft": r"aircraft|boeing|airbus|\bjets?\b",
    "pharma": r"pharma|drug|medicine",
    "lumber": r"lumber|timber|softwood",
}
# One search per lever on the lowered sentence, each stopping at its first hit: a fifth of
# the time of one case-blind alternation scanned to the end.
_LEVER_PATTERNS = {lever: re.compile(pattern) for lever, pattern in _LEVERS.items()}
_GOODS_PATTERNS = {goods: re.compile(pattern) for goods, pattern in _GOODS.items()}


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


@dataclass(frozen=True, slots=True)
class Claim:
    """What a headline claims (see the module's doc): the parts that must be equal for two
    reports to be one story, and the facts that must be compatible."""

    statements: tuple[str, ...]
    levers: tuple[str, ...]
    polarity: int
    figures: tuple[str, ...]
    governments: tuple[str, ...]
    speakers: tuple[str, ...]
    goods: tuple[str, ...]

    @property
    def tag(self) -> str:
        """The hash tag of the headline's keys. Without statements the facts are in it too:
        words alike are all MinHash can compare, so names and figures must be equal."""
        parts = [*self.statements, "#", *self.levers, "#", str(self.polarity)]
        if not self.statements:
            parts += ["#", *self.facts()]
        return hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest()

    def facts(self) -> list[str]:
        """The facts as the script reads them: ",a,b," (and "," for none)."""
        facts = (self.figures, self.governments, self.speakers, self.goods)
        return [",".join(("", *fact, "")) if fact else "," for fact in facts]


def claim(text: str, detections: Sequence[Detection]) -> Claim:
    headline = headline_sentence(text)
    lowered = headline.lower()
    governments, speakers = entities(headline)
    return Claim(
        statements=tuple(
            sorted({f"{d.government}:{d.topic}:{d.stance}:{d.speaker}" for d in detections})
        ),
        levers=tuple(
            lever for lever, pattern in _LEVER_PATTERNS.items() if pattern.search(lowered)
        ),
        polarity=len(_DENIAL.findall(headline)) % 2,
        figures=minhash.numbers(headline),
        governments=tuple(sorted(governments)),
        speakers=tuple(sorted(speakers)),
        goods=tuple(goods for goods, found in _GOODS_PATTERNS.items() if found.search(lowered)),
    )


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
        what = claim(headline.text, detections)
        tag = what.tag
        keys = [f"sw:dup:{{{tag}}}:exact:{fingerprint(headline.text)}"]
        s = self._settings
        args: list[str | int] = [
            headline.id,
            int(headline.published_at.timestamp() * 1000),
            headline.source,
            s.exact_ttl_seconds,
            s.near_ttl_seconds,
            s.min_bands,
            s.window_seconds * 1000,
        ]
        if what.statements:
            keys.append(f"sw:dup:{{{tag}}}:events")
            args.extend(what.facts())
        else:
            bands = minhash.signature(headline_sentence(headline.text)).bands()
            keys.extend(f"sw:dup:{{{tag}}}:band:{band}" for band in bands)
        seen, story_id, layer, first_source = await self._check(keys=keys, args=args)
        if seen == "redelivery" and layer != "first":
            seen = layer  # a duplicate redelivered is still a duplicate
        return Verdict(Seen(seen), story_id, first_source)
