"""The webhook dispatcher, as a real process, against real HTTP receivers on loopback.

Headlines go through the real worker (the session ``pipeline``); the dispatcher reads the
alerts from the real broker and keeps its queues in the real Redis. The alerts topic is
shared by the whole session, and a new consumer group starts at its beginning, so receivers
tell this test's alerts (by headline id prefix) from earlier tests' ones and answer those
with a plain 200.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self, cast
from urllib.error import URLError
from urllib.request import urlopen

import pytest
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from consumers import delivery
from consumers.webhooks import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from schemas import Alert
from stancewire.runtime import Child, Stack, free_port, spawn, wait_until
from tests.integration.conftest import Pipeline
from tests.integration.test_pipeline import run
from tests.integration.wire import headline, unique

pytestmark = pytest.mark.integration

OLD_SECRET = "old-secret-0123456789abcdef"
NEW_SECRET = "new-secret-fedcba9876543210"

#: Each line gives one alert (some government and topic twice, so order is checked).
TEXTS = (
    "Japan's holdings of more than $1 trillion in US Treasuries could be a card in trade talks "
    "with Washington, Finance Minister Katsunobu Kato says",
    "Mexico will impose retaliatory tariffs on US goods, President Sheinbaum says",
    "Japan has no intention of using its US Treasury holdings as a negotiating weapon, "
    "Finance Minister Kato said on Sunday, after earlier remarks suggested they could be a "
    "bargaining chip.",
    "China halts purchases of US soybeans in retaliation for tariffs, commerce ministry says",
    "India rules out retaliatory tariffs against the US, trade minister Goyal says",
    "Mexico rules out retaliatory tariffs against the US, President Sheinbaum says",
    "China will not use rare earth export controls against the US, commerce ministry says",
    "Canada will impose retaliatory tariffs on US goods, Prime Minister Carney says",
    "Beijing vows to fight to the end against US tariffs, commerce ministry says",
)


def headlines(prefix: str, texts: tuple[str, ...] = TEXTS, day: int = 1) -> list[bytes]:
    return [
        headline(text, f"2025-05-{day:02d}T{hour:02d}:00:00+00:00", id=f"{prefix}-{hour}")
        for hour, text in enumerate(texts)
    ]


# --- receivers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    idempotency_key: str
    alert: Alert
    signed: bool
    status: int


def serve(port: int, handle: Callable[[dict[str, str], bytes], int]) -> ThreadingHTTPServer:
    """An HTTP server on loopback, in a thread, answering each POST with the status
    ``handle(headers, body)`` returns; ``shutdown()`` and ``server_close()`` stop it."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = handle(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Endpoint:
    """A webhook receiver on loopback: ``start`` serves ``handle`` on ``port``."""

    port: int
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Self:
        self._server = serve(self.port, self.handle)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        raise NotImplementedError


class Receiver(Endpoint):
    """A webhook endpoint on loopback that verifies signatures and records what it got.

    ``respond(n)`` gives the status of the n-th request (from 0) for this test's alerts;
    requests for other tests' alerts are answered 200 and not recorded.
    """

    def __init__(
        self,
        prefix: str,
        secrets: list[str],
        respond: Callable[[int], int] = lambda _: 200,
        port: int | None = None,
    ) -> None:
        self.prefix = prefix
        self.secrets = secrets
        self.respond = respond
        self.port = port or free_port()
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        alert = Alert.model_validate_json(body)
        if not alert.headline_id.startswith(self.prefix):
            return 200
        signed = verify(self.secrets, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], body)
        assert headers["Content-Type"] == "application/json"
        with self._lock:
            status = self.respond(len(self.requests))
            self.requests.append(Request(headers[IDEMPOTENCY_HEADER], alert, signed, status))
        return status

    def delivered(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    def has(self, alerts: list[Alert]) -> bool:
        got = {r.idempotency_key for r in self.delivered()}
        return all(alert.alert_id in got for alert in alerts)


@contextmanager
def receivers(*started: Receiver) -> Iterator[None]:
    try:
        yield
    finally:
        for receiver in started:
            receiver.stop()


def subscription(sub_id: str, receiver: Receiver, **fields: Any) -> dict[str, Any]:
    return {"id": sub_id, "desk": "test", "url": receiver.url, "secrets": [OLD_SECRET], **fields}


# --- the dispatcher process -----------------------------------------------------------------


@dataclass
class Dispatcher:
    child: Child
    metrics_port: int

    def metrics(self) -> dict[str, float]:
        body = urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()
        return {
            line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in body.splitlines()
            if line and not line.startswith("#")
        }

    def stop(self) -> None:
        self.child.stop()
        assert self.child.process.returncode == 0, self.child.log_tail()


def start_dispatcher(
    stack: Stack,
    tmp_path: Path,
    subscriptions: list[dict[str, Any]],
    group: str,
    name: str = "dispatcher",
    **settings: str,
) -> Dispatcher:
    file = tmp_path / f"{name}-subscriptions.json"
    file.write_text(json.dumps({"subscriptions": subscriptions}))
    metrics_port = free_port()
    env = {
        **os.environ,
        "STANCEWIRE_GROUP_ID": group,
        "STANCEWIRE_BACKOFF_SECONDS": "0.05",
        "STANCEWIRE_MAX_BACKOFF_SECONDS": "0.3",
        "STANCEWIRE_MAX_ATTEMPTS": "1000",
        "STANCEWIRE_TIMEOUT_SECONDS": "2",
        **{f"STANCEWIRE_{key.upper()}": value for key, value in settings.items()},
    }
    child = spawn(
        name,
        [
            sys.executable,
            "-m",
            "stancewire",
            "dispatcher",
            "--bootstrap",
            stack.bootstrap,
            "--redis",
            stack.redis_url,
            "--subscriptions",
            str(file),
            "--metrics-port",
            str(metrics_port),
        ],
        tmp_path,
        env=env,
    )
    dispatcher = Dispatcher(child, metrics_port)

    def serving() -> bool:
        try:
            dispatcher.metrics()
        except (URLError, OSError):
            return False
        return True

    wait_until(serving, 30, "the dispatcher to serve metrics", child)
    return dispatcher


@contextmanager
def running(dispatcher: Dispatcher) -> Iterator[Dispatcher]:
    try:
        yield dispatcher
    finally:
        if dispatcher.child.alive():
            dispatcher.child.stop()


# --- checks ---------------------------------------------------------------------------------


def assert_exactly_once_in_order(receiver: Receiver, expected: list[Alert]) -> None:
    delivered = receiver.delivered()
    assert Counter(r.idempotency_key for r in delivered) == Counter(a.alert_id for a in expected)
    assert all(r.idempotency_key == r.alert.alert_id for r in delivered)
    assert all(r.signed for r in receiver.requests), "a signature did not verify"
    by_key: dict[tuple[str, str], list[str]] = {}
    for alert in expected:
        by_key.setdefault((alert.government, alert.topic.value), []).append(alert.alert_id)
    for (government, topic), order in by_key.items():
        arrived = [
            r.alert.alert_id
            for r in delivered
            if (r.alert.government, r.alert.topic.value) == (government, topic)
        ]
        assert arrived == order, f"{government}/{topic} out of order"


def queues_empty(redis: Redis, *subscription_ids: str) -> Callable[[], bool]:
    return lambda: all(redis.xlen(delivery.queue_key(sub_id)) == 0 for sub_id in subscription_ids)


def head_attempts(redis: Redis, subscription_id: str) -> int:
    raw = redis.hgetall(delivery.attempts_key(subscription_id))
    return max((json.loads(value)["attempts"] for value in raw.values()), default=0)


def dead_records(redis: Redis) -> list[delivery.DeadDelivery]:
    entries = cast(list[tuple[str, dict[str, str]]], redis.xrange(delivery.DEAD_KEY))
    return [delivery.DeadDelivery.from_fields(fields) for _id, fields in entries]


# --- tests ----------------------------------------------------------------------------------


def test_every_alert_arrives_once_per_subscription_signed_and_in_order(
    pipeline: Pipeline, redis: Redis, tmp_path: Path
) -> None:
    prefix = unique("wh")
    # The desk rotates: the subscription signs with both secrets, the receiver holds the new.
    verifying = Receiver(prefix, [NEW_SECRET]).start()
    flaky = Receiver(prefix, [OLD_SECRET], respond=lambda n: 503 if n < 3 else 200).start()
    down = Receiver(prefix, [OLD_SECRET])  # its port is closed until started below
    refusing = Receiver(prefix, [OLD_SECRET], respond=lambda _: 422).start()
    subscriptions = [
        subscription("verifying", verifying, secrets=[OLD_SECRET, NEW_SECRET]),
        subscription("flaky", flaky),
        subscription("down", down),
        subscription("refusing", refusing, filter={"governments": ["CN"]}),
    ]
    with (
        receivers(verifying, flaky, down, refusing),
        running(
            start_dispatcher(pipeline.stack, tmp_path, subscriptions, group=unique("dispatch"))
        ) as dispatcher,
    ):
        expected = run(pipeline, headlines(prefix))
        assert len(expected) == len(TEXTS)
        chinese = [alert for alert in expected if alert.government == "CN"]

        wait_until(
            lambda: verifying.has(expected), 30, "the verifying receiver's alerts", dispatcher.child
        )
        wait_until(lambda: flaky.has(expected), 30, "the flaky receiver's alerts", dispatcher.child)
        # The down receiver comes up once the dispatcher has failed on it, twice.
        wait_until(
            lambda: head_attempts(redis, "down") >= 2,
            30,
            "retries to the down receiver",
            dispatcher.child,
        )
        down.start()
        wait_until(
            lambda: down.has(expected), 30, "the down receiver's alerts, once up", dispatcher.child
        )
        wait_until(
            queues_empty(redis, "verifying", "flaky", "down", "refusing"),
            30,
            "every queue to drain",
            dispatcher.child,
        )
        # Nothing is pending, so nothing more can arrive: count what did.
        for receiver in (verifying, flaky, down):
            assert_exactly_once_in_order(receiver, expected)
        assert [r.status for r in flaky.requests[:4]] == [503, 503, 503, 200]
        assert len(flaky.requests) == len(expected) + 3

        # A 4xx is permanent: one attempt per alert, then a dead letter.
        assert [r.idempotency_key for r in refusing.requests] == [a.alert_id for a in chinese]
        dead = {d.alert_id: d for d in dead_records(redis) if d.subscription == "refusing"}
        for alert in chinese:
            record = dead[alert.alert_id]
            assert (record.attempts, record.status, record.url) == (1, 422, refusing.url)
            assert Alert.model_validate_json(record.body) == alert

        samples = dispatcher.metrics()
        assert samples['stancewire_webhook_deliveries_total{outcome="delivered"}'] >= 3 * len(
            expected
        )
        assert samples['stancewire_webhook_deliveries_total{outcome="retry"}'] >= 3 + 2
        assert samples['stancewire_webhook_deliveries_total{outcome="dead"}'] >= len(chinese)
        assert samples["stancewire_webhook_delivery_seconds_count"] >= 3 * len(expected)
        wait_until(
            lambda: dispatcher.metrics()["stancewire_webhook_queue_depth"] == 0,
            10,
            "the queue depth gauge to show the drained queue",
            dispatcher.child,
        )
        dispatcher.stop()


def test_a_restart_while_the_receiver_is_down_loses_nothing(
    pipeline: Pipeline, redis: Redis, tmp_path: Path
) -> None:
    prefix = unique("restart")
    down = Receiver(prefix, [OLD_SECRET])
    subscriptions = [subscription("down", down)]
    group = unique("dispatch")
    before, after = headlines(prefix)[:4], headlines(prefix)[4:]
    with receivers(down):
        with running(
            start_dispatcher(pipeline.stack, tmp_path, subscriptions, group, name="first")
        ) as first:
            fired = run(pipeline, before)
            wait_until(
                lambda: all(redis.exists(delivery.seen_key("down", a.alert_id)) for a in fired),
                30,
                "the alerts to be queued",
                first.child,
            )
            wait_until(lambda: head_attempts(redis, "down") >= 2, 30, "failed attempts")
            first.stop()
        attempts_at_stop = head_attempts(redis, "down")
        # Alerts keep firing while no dispatcher runs.
        fired += run(pipeline, after)
        assert len(fired) == len(TEXTS)
        with running(
            start_dispatcher(pipeline.stack, tmp_path, subscriptions, group, name="second")
        ) as second:
            # The attempt count survived the restart: it goes on from where it stopped.
            wait_until(
                lambda: head_attempts(redis, "down") > attempts_at_stop,
                30,
                "the restarted dispatcher to retry",
                second.child,
            )
            down.start()
            wait_until(lambda: down.has(fired), 30, "every alert, once the receiver is up")
            wait_until(queues_empty(redis, "down"), 30, "the queue to drain", second.child)
            assert_exactly_once_in_order(down, fired)
            second.stop()


def test_a_delivery_is_dead_lettered_after_the_last_attempt(
    stack: Stack, redis: Redis, tmp_path: Path
) -> None:
    prefix = unique("dead")
    failing = Receiver(prefix, [OLD_SECRET], respond=lambda _: 500).start()
    # Matches no alert on the topic: the only delivery is the one queued below.
    subscriptions = [subscription("failing", failing, filter={"governments": ["ZZ"]})]
    alert = Alert.model_validate_json(
        json.dumps(
            {
                "alert_id": unique("alert"),
                "government": "KR",
                "topic": "trade_leverage",
                "from": None,
                "to": "threatens",
                "headline_id": f"{prefix}-1",
                "story_id": f"{prefix}-1",
                "evidence": "Seoul warns of countermeasures",
                "source": "Test Wire",
                "published_at": "2025-04-01T00:00:00+00:00",
                "detected_at": "2025-04-01T00:00:01+00:00",
                "confidence": 0.9,
                "speaker": "government",
            }
        )
    )

    async def enqueue() -> None:
        async with AsyncRedis.from_url(stack.redis_url, decode_responses=True) as client:
            queue = delivery.Queue(client, "failing")
            assert await queue.enqueue(alert.alert_id, alert.to_json(), 0, 60)
            assert await queue.enqueue(alert.alert_id, alert.to_json(), 0, 60) is None

    with (
        receivers(failing),
        running(
            start_dispatcher(stack, tmp_path, subscriptions, unique("dispatch"), MAX_ATTEMPTS="3")
        ) as dispatcher,
    ):
        asyncio.run(enqueue())
        wait_until(lambda: bool(dead_records(redis)), 30, "a dead letter", dispatcher.child)
        [record] = dead_records(redis)
        assert (record.subscription, record.alert_id) == ("failing", alert.alert_id)
        assert (record.attempts, record.status) == (3, 500)
        assert "HTTP 500" in record.error
        assert record.body == alert.to_json()
        assert [r.status for r in failing.requests] == [500, 500, 500]
        assert redis.xlen(delivery.queue_key("failing")) == 0
        dispatcher.stop()
