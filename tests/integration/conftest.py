"""Session fixtures: the real broker (tansu) and a real redis-server, and one real worker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from redis import Redis

from schemas.desks import Desk, Desks, Scope
from schemas.state import STATE_COMPLETE_KEY
from stancewire.runtime import Child, Stack, free_port, http_ok, wait_until

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Pipeline:
    stack: Stack
    worker: Child
    metrics_port: int


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with Stack() as started:
        yield started


@pytest.fixture(scope="session")
def pipeline(stack: Stack) -> Pipeline:
    metrics_port = free_port()
    worker = stack.start_worker(
        metrics_port=metrics_port,
        # A fast outbox sweep, so the crash-recovery test need not wait long.
        env={"STANCEWIRE_OUTBOX_SWEEP_SECONDS": "0.5", "STANCEWIRE_OUTBOX_MIN_AGE_SECONDS": "1"},
    )
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    wait_until(lambda: http_ok(url), 60, "the worker's /metrics", worker)
    return Pipeline(stack, worker, metrics_port)


def reset(client: Redis) -> None:
    """Empty Redis and mark the stance state complete: no stance at all, on purpose (without
    the marker the worker would rebuild the stances earlier tests' alerts left on the topic)."""
    client.flushdb()
    client.set(STATE_COMPLETE_KEY, "reset by the tests")


@pytest.fixture
def redis(stack: Stack) -> Iterator[Redis]:
    """A client on the stack's Redis, reset before the test: every test starts from no state."""
    client = Redis.from_url(stack.redis_url, decode_responses=True)
    reset(client)
    yield client
    client.close()


MACRO, TOKYO = "macro-desk-token-0001", "tokyo-desk-token-0001"


@dataclass(frozen=True)
class Gateway:
    url: str
    pipeline: Pipeline
    metrics_port: int

    def get(self, path: str, token: str | None = MACRO, **kwargs: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def gateway(pipeline: Pipeline) -> Gateway:
    desks = Desks(
        desks=(
            Desk(desk="macro", token_sha256=Desk.hash_token(MACRO)),
            Desk(
                desk="tokyo",
                token_sha256=Desk.hash_token(TOKYO),
                scope=Scope(governments=frozenset({"JP"})),
            ),
        )
    )
    port, metrics_port = free_port(), free_port()
    pipeline.stack.start_gateway(port, desks.model_dump_json(), metrics_port=metrics_port)
    return Gateway(f"http://127.0.0.1:{port}", pipeline, metrics_port)
