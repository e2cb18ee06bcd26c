"""Story chains in Redis: which headlines and outlets carried one story, and its alerts.

A story's id is the id of its first headline; every duplicate (exact or near) is linked to
it. A chain is kept per statement (``claims.statement_key``): a headline that opens stories
for two statements opens two chains under its id, and a report is linked to the chain of
each statement it repeats, so an alert's corroborations count the outlets that carried the
statement that raised it. Keys share the ``{story id}`` hash tag, and live ``ttl`` seconds
after the last link.
Linking is idempotent (sets of headline ids and sources), so a redelivery counts once.
Novelty follows the chain position the way desks know it from news analytics: 100 for the
first report, then 75, 56, 42, ... (x0.75 per further report).
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

# KEYS: headlines, sources, alerts (sets). ARGV: story id, headline id, first source, source, ttl
_LINK = """
redis.call('SADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
local new_source = redis.call('SADD', KEYS[2], ARGV[4])
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[5]) end
return {redis.call('SCARD', KEYS[1]), redis.call('SCARD', KEYS[2]), new_source,
        redis.call('SMEMBERS', KEYS[3])}
"""


def novelty(reports: int) -> float:
    """Novelty of the ``reports``-th report of a story (1 = the first)."""
    return round(100 * 0.75 ** max(reports - 1, 0), 1)


def _keys(story_id: str, statement: str) -> list[str]:
    parts = ("headlines", "sources", "alerts")
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


class Stories:
    def __init__(self, redis: Redis, ttl_seconds: int) -> None:
        self._redis = redis
        self._link = redis.register_script(_LINK)
        self._ttl = ttl_seconds

    async def link(
        self, story_id: str, statement: str, headline_id: str, source: str, first_source: str
    ) -> Link:
        """Add a duplicate to the chain of a statement it repeats (with the first report,
        which the id names)."""
        reports, outlets, new, alerts = await self._link(
            keys=_keys(story_id, statement),
            args=[story_id, headline_id, first_source, source, self._ttl],
        )
        return Link(int(reports), int(outlets), bool(new), tuple(sorted(alerts)))

    async def raised(self, story_id: str, statement: str, alert_id: str) -> None:
        """Remember that the statement's story raised an alert, for the corroborations that
        follow."""
        key = _keys(story_id, statement)[2]
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sadd(key, alert_id)
            pipe.expire(key, self._ttl)
            await pipe.execute()
