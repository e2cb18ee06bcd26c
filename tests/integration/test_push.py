"""HTTP push of headlines: a real endpoint process, the real broker and worker behind it."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx
import pytest
from redis import Redis

from schemas import ALERTS
from schemas.desks import Desk, Desks, Producer
from stancewire.runtime import free_port, http_ok, wait_until
from tests.integration.conftest import Pipeline
from tests.integration.wire import read_topic, unique

VENDOR = "vendor-push-token-0001"


@dataclass(frozen=True)
class Push:
    url: str

    def post(
        self, body: object, token: str | None = VENDOR, raw: bytes | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        content = raw if raw is not None else json.dumps(body).encode()
        return httpx.post(f"{self.url}/v1/headlines", content=content, headers=headers, timeout=15)


@pytest.fixture(scope="module")
def push(pipeline: Pipeline) -> Push:
    tokens = Desks(
        producers=(
            Producer(
                producer="vendor", token_sha256=Desk.hash_token(VENDOR), rate_per_second=1, burst=8
            ),
        )
    )
    port = free_port()
    child = pipeline.stack.start(
        "ingest http",
        "--port",
        str(port),
        "--metrics-port",
        "0",
        name="push",
        env={"STANCEWIRE_TOKENS_JSON": tokens.model_dump_json()},
    )
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 60, "the push endpoint", child)
    return Push(f"http://127.0.0.1:{port}")


def item(text: str, **changes: object) -> dict[str, object]:
    return {
        "id": unique("push"),
        "text": text,
        "source": "Vendor",
        "published_at": "2025-03-04T05:00:00+00:00",
        **changes,
    }


def test_pushed_headlines_reach_the_pipeline(push: Push, pipeline: Pipeline, redis: Redis) -> None:
    one = item("Canada slaps retaliatory tariffs on US goods, Prime Minister Trudeau says")
    accepted = push.post(one)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json() == {"accepted": [one["id"]]}

    def alerted() -> bool:
        return any(
            json.loads(value).get("headline_id") == one["id"]
            for _, value in read_topic(pipeline.stack.bootstrap, ALERTS.name, idle_seconds=0.3)
        )

    wait_until(alerted, 60, "the pushed headline's alert", pipeline.worker)
    batch = [
        item("Mexico will impose retaliatory tariffs on US goods, Sheinbaum says"),
        item("Markets calm"),
    ]
    assert push.post(batch).json() == {"accepted": [batch[0]["id"], batch[1]["id"]]}


def test_bad_requests_get_clear_answers_and_nothing_is_accepted(push: Push) -> None:
    assert push.post(item("x"), token=None).status_code == 401
    assert push.post(item("x"), token="a-desk-not-a-producer").status_code == 401
    assert push.post(None, raw=b"{not json").status_code == 400
    mixed = [item("fine"), item("naive", published_at="2025-03-04T05:00:00"), {"id": "x"}]
    invalid = push.post(mixed)
    assert invalid.status_code == 422
    problems = invalid.json()["error"]["headlines"]
    assert [p["index"] for p in problems] == [1, 2]
    assert any("timezone" in reason for reason in problems[0]["problems"])
    assert any(reason.startswith("text:") for reason in problems[1]["problems"])
    assert push.post(None, raw=b"[" + b" " * (2 * 1024 * 1024) + b"]").status_code == 413


def test_a_producer_over_its_rate_is_told_when_to_retry(push: Push) -> None:
    answers = [push.post([item("Treasury auction draws steady demand")] * 1) for _ in range(12)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert int(limited[0].headers["Retry-After"]) >= 1
