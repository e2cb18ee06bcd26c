"""Story chains in Redis: which headlines and outlets carried one story, and its alerts.

A story's id is the id of its first headline; every duplicate (exact or near) is linked to
it. A chain is kept per statement (``claims.statement_key``): a headline that opens stories
for two statements opens two chains under its id, and a report is linked to the chain of
each statement it repeats, so an alert's corroborations count the outlets that carried the
statement that raised it. Keys share the ``{story id}`` hash tag, and live ``ttl`` seconds
after the last link.
Linking is idempotent (sets of headline ids and sources), so a redelivery counts once.

A new outlet corroborates the alerts its statement's story has raised so far. An alert is
recorded in the chain once it is published, which on another replica may be after a copy
was linked: so recording it also reads the chain, and when other outlets are in it already
the alert is corroborated then, once (only the call that records it reads the chain: the
outbox sweep may record an alert its publisher records too). Both steps are atomic
scripts, so one of the two sees the other, and no count is told twice.
Novelty follows the chain position the way desks know it from news analytics: 100 for the
first report, then 75, 56, 42, ... (x0.75 per further report).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis

# KEYS: headlines, sources, alerts (sets), the latest outlet's report (a string). ARGV: story
# id, headline id, first source, source, published, ttl
_LINK = """
redis.call('SADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
local new_source = redis.call('SADD', KEYS[2], ARGV[4])
local reports = redis.call('SCARD', KEYS[1])
if new_source == 1 then
  redis.call('SET', KEYS[4], ARGV[2] .. '\\t' .. reports .. '\\t' .. ARGV[5] .. '\\t' .. ARGV[4])
end
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[6]) end
return {reports, redis.call('SCARD', KEYS[2]), new_source, redis.call('SMEMBERS', KEYS[3])}
"""
# KEYS as _LINK's. ARGV: the alert (its "GOV:topic|alert id"), ttl. The chain is read only
# by the call that records the alert.
_RAISED = """
local new = redis.call('SADD', KEYS[3], ARGV[1])
redis.call('EXPIRE', KEYS[3], ARGV[2])
if new == 0 then return {} end
return {redis.call('SCARD', KEYS[1]), redis.call('SCARD', KEYS[2]),
        redis.call('GET', KEYS[4]) or ''}
"""


def novelty(reports: int) -> float:
    """Novelty of the ``reports``-th report of a story (1 = the first)."""
    return round(100 * 0.75 ** max(reports - 1, 0), 1)


def _keys(story_id: str, statement: str) -> list[str]:
    parts = ("headlines", "sources", "alerts", "latest")
    return [f"sw:story:{{{story_id}}}:{statement}:{part}" for part in parts]


@dataclass(frozen=True, slots=True)
class Link:
    reports: int
    """Headlines in the chain, the first included."""
    outlets: int
    """Distinct sources in the chain."""
    new_outlet: bool
    alert_ids: tuple[str, ...]
    """Alerts the story raised, which a new outlet corroborates."""


@dataclass(frozen=True, slots=True)
class Report:
    """A headline of a chain: its id, its outlet and when it was published."""

    headline_id: str
    source: str
    published_at: datetime


@dataclass(frozen=True, slots=True)
class Chain:
    """A statement's chain in a story, as it stood when an alert of it was recorded."""

    reports: int
    outlets: int
    latest: Report | None
    """The report of the latest outlet to join (None: no copy has joined, or only copies
    that a build before this one linked, which did not record it)."""
    latest_position: int
    """How many reports the chain held when the latest outlet joined (its novelty's)."""


class Stories:
    def __init__(self, redis: Redis, ttl_seconds: int, recorder: Redis | None = None) -> None:
        """``recorder``: the client that records alerts (the stance step's, which waits for
        Redis; links are made on ``redis``, which fails open)."""
        self._link = redis.register_script(_LINK)
        self._raised = (recorder or redis).register_script(_RAISED)
        self._ttl = ttl_seconds

    async def link(self, story_id: str, statement: str, first_source: str, report: Report) -> Link:
        """Add a duplicate to the chain of a statement it repeats (with the first report,
        which the id names)."""
        reports, outlets, new, alerts = await self._link(
            keys=_keys(story_id, statement),
            args=[
                story_id,
                report.headline_id,
                first_source,
                report.source,
                report.published_at.isoformat(),
                self._ttl,
            ],
        )
        return Link(int(reports), int(outlets), bool(new), tuple(sorted(alerts)))

    async def raised(self, story_id: str, statement: str, alert: str) -> Chain | None:
        """Remember that the statement's story raised ``alert`` ("GOV:topic|alert id"), for
        the corroborations that follow; and the chain as it stands, for those that came
        before (None when the alert was recorded already)."""
        recorded = await self._raised(keys=_keys(story_id, statement), args=[alert, self._ttl])
        if not recorded:
            return None
        reports, outlets, latest = recorded
        report, position = None, 1
        if latest:
            headline_id, joined_at, published, source = str(latest).split("\t", 3)
            report = Report(headline_id, source, datetime.fromisoformat(published))
            position = int(joined_at)
        return Chain(max(int(reports), 1), max(int(outlets), 1), report, position)
