"""A Redis that stops answering mid-check: the dedup step gives up within its timeout with
redis-py's own error (which the screen catches to let headlines pass), and the next check
after Redis answers again works on a fresh connection. On a real redis-server, stopped with
SIGSTOP (a hung server, not a closed port)."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from redis.exceptions import TimeoutError as RedisTimeoutError

from schemas import Headline
from stancewire.runtime import Stack
from streams.dedup import Dedup, DedupSettings, Seen
from streams.detect import detect

TEXT = "Japan will not use its US Treasury holdings as a negotiating tool, Kato says"


def _headline(n: int) -> Headline:
    return Headline(
        id=f"timeout-{n}",
        text=TEXT.replace("tool", f"tool ({n})"),
        source="Reuters",
        published_at=datetime(2025, 5, 4, 3, tzinfo=UTC) + timedelta(minutes=n),
    )


async def _run(stack: Stack) -> None:
    redis = Redis.from_url(stack.redis_url, decode_responses=True, socket_timeout=0.2)
    dedup = Dedup(redis, DedupSettings(3600, 3600, 3600, 4))
    first = _headline(1)
    assert detect(first.text), "the check needs a headline with a statement"
    (verdicts,) = await dedup.check_many([(first, detect(first.text))])
    assert not isinstance(verdicts, Exception)
    assert verdicts.of(detect(first.text)[0]).seen is Seen.FIRST

    server = stack.child("redis").process
    os.kill(server.pid, signal.SIGSTOP)
    try:
        batch = [(_headline(n), detect(_headline(n).text)) for n in range(2, 80)]
        with pytest.raises(RedisTimeoutError):
            await dedup.check_many(batch)
    finally:
        os.kill(server.pid, signal.SIGCONT)

    later = _headline(90)
    (verdicts,) = await dedup.check_many([(later, detect(later.text))])
    assert not isinstance(verdicts, Exception)
    assert verdicts.of(detect(later.text)[0]).seen is Seen.FIRST
    await redis.aclose()


def test_a_hung_redis_times_out_as_a_redis_error_and_the_next_check_works() -> None:
    with Stack(with_broker=False) as stack:
        asyncio.run(_run(stack))
