"""The Redis scripts on a real redis-server: stance compare-and-set with outbox, exact dedup."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from redis import Redis as SyncRedis
from redis.asyncio import Redis

from schemas import Alert, Speaker, Stance, Statement, Topic
from stancewire.runtime import Stack
from streams.dedup import ExactDedup, Seen, fingerprint
from streams.stance import OUTBOX_KEY, Outcome, StanceStore

T = TypeVar("T")
T0 = datetime(2025, 5, 2, 6, 0, tzinfo=UTC)


def with_redis(stack: Stack, work: Callable[[Redis], Awaitable[T]]) -> T:
    async def run() -> T:
        client = Redis.from_url(stack.redis_url, decode_responses=True)
        try:
            return await work(client)
        finally:
            await client.aclose()

    return asyncio.run(run())


def statement(stance: Stance, minutes: int, headline_id: str) -> tuple[Statement, Alert]:
    at = T0 + timedelta(minutes=minutes)
    said = Statement(
        headline_id=headline_id,
        government="JP",
        topic=Topic.TREASURY_HOLDINGS,
        stance=stance,
        speaker=Speaker.GOVERNMENT,
        confidence=0.9,
        evidence=f"{stance.value} at {minutes}",
        cue="test",
        source="Wire",
        published_at=at,
        detected_at=at,
    )
    draft = Alert(
        alert_id=Alert.derive_id("JP", said.topic, stance, headline_id),
        government="JP",
        topic=said.topic,
        from_=None,
        to=stance,
        headline_id=headline_id,
        story_id=headline_id,
        evidence=said.evidence,
        source="Wire",
        published_at=at,
        detected_at=at,
        confidence=0.9,
        speaker=Speaker.GOVERNMENT,
    )
    return said, draft


def test_stance_transitions(stack: Stack, redis: SyncRedis) -> None:
    async def work(client: Redis) -> list[tuple[Outcome, Stance | None, Stance | None]]:
        store = StanceStore(client)
        seen = []
        for stance, minutes, hid in [
            (Stance.OPEN, 0, "h1"),  # first stance: null -> open
            (Stance.OPEN, 5, "h2"),  # same stance again: no alert
            (Stance.RULES_OUT, 10, "h3"),  # open -> rules_out
            (Stance.OPEN, 7, "h4"),  # older than the current stance: ignored
            (Stance.RULES_OUT, 10, "h3"),  # the same headline redelivered: no second alert
            (Stance.THREATENS, 20, "h5"),  # rules_out -> threatens
        ]:
            transition = await store.apply(*statement(stance, minutes, hid))
            alert = transition.alert
            seen.append(
                (transition.outcome, alert.from_ if alert else None, alert.to if alert else None)
            )
        return seen

    assert with_redis(stack, work) == [
        (Outcome.CHANGED, None, Stance.OPEN),
        (Outcome.UNCHANGED, None, None),
        (Outcome.CHANGED, Stance.OPEN, Stance.RULES_OUT),
        (Outcome.STALE, None, None),
        (Outcome.UNCHANGED, None, None),
        (Outcome.CHANGED, Stance.RULES_OUT, Stance.THREATENS),
    ]
    assert redis.xlen(OUTBOX_KEY) == 3  # one entry per change, until acknowledged


def test_outbox_entries_wait_until_acknowledged(stack: Stack, redis: SyncRedis) -> None:
    async def work(client: Redis) -> tuple[list[str], list[str], int]:
        store = StanceStore(client)
        await store.apply(*statement(Stance.OPEN, 0, "h1"))
        await store.apply(*statement(Stance.RULES_OUT, 10, "h2"))
        pending = await store.pending()
        before_bound = await store.pending(older_than_ms=0)
        await store.acknowledge(pending[0][0])
        left = len(await store.pending())
        return [a.headline_id for _, a in pending], [a.headline_id for _, a in before_bound], left

    pending, before_bound, left = with_redis(stack, work)
    assert pending == ["h1", "h2"]  # oldest first, with from filled in
    assert before_bound == []
    assert left == 1


def test_the_board_holds_the_current_stance_with_its_evidence(
    stack: Stack, redis: SyncRedis
) -> None:
    async def work(client: Redis) -> dict[str, dict[str, object]]:
        store = StanceStore(client)
        await store.apply(*statement(Stance.OPEN, 0, "h1"))
        await store.apply(*statement(Stance.RULES_OUT, 10, "h2"))
        return await store.current()

    board = with_redis(stack, work)
    assert board["JP:treasury_holdings"]["stance"] == "rules_out"
    assert board["JP:treasury_holdings"]["headline_id"] == "h2"
    assert board["JP:treasury_holdings"]["evidence"] == "rules_out at 10"


def test_exact_dedup_claims_a_text_once(stack: Stack, redis: SyncRedis) -> None:
    async def work(client: Redis) -> list[Seen]:
        dedup = ExactDedup(client, ttl_seconds=60)
        text = "Japan won't use its Treasury holdings as a card"
        return [
            await dedup.check("a", text),
            await dedup.check("b", "  JAPAN won't use its treasury holdings, as a card! "),
            await dedup.check("a", text),  # the same headline redelivered is not its own duplicate
            await dedup.check("c", "Japan will use its Treasury holdings as a card"),
        ]

    assert with_redis(stack, work) == [Seen.FIRST, Seen.DUPLICATE, Seen.REDELIVERY, Seen.FIRST]
    ttl = redis.ttl(
        f"sw:dup:exact:{{{fingerprint('japan won t use its treasury holdings as a card')}}}"
    )
    assert 0 < ttl <= 60
