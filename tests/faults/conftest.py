"""Fixtures of the fault suite: a stack of its own per test (faults leave no state behind for
the next test), and desks subscribed to it by SSE and by webhook."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from schemas import Alert, Stance, Topic
from schemas.desks import Desk, Desks
from stancewire import kafka
from stancewire.runtime import Child, Stack, free_port, wait_until
from tests.faults.scenario import Change, Line
from tests.integration.test_dispatcher import (
    OLD_SECRET,
    Dispatcher,
    Receiver,
    start_dispatcher,
    subscription,
)
from tests.integration.test_gateway import Stream

pytestmark = pytest.mark.integration

TOKEN = "fault-desk-token-0001"
PREFIX = "fault"
"""Every test has a stack of its own, so one headline id prefix serves them all."""
#: Outbox entries a crash left are republished within about a second.
FAST_OUTBOX = {"STANCEWIRE_OUTBOX_SWEEP_SECONDS": "0.5", "STANCEWIRE_OUTBOX_MIN_AGE_SECONDS": "1"}


@pytest.fixture
def stack() -> Iterator[Stack]:
    with Stack() as started:
        yield started


def alert_id(change: Change) -> str:
    government, topic, _from, to, headline_id = change
    return Alert.derive_id(government, Topic(topic), Stance(to), headline_id)


@dataclass
class Subscribers:
    """A desk on the gateway's SSE stream and a webhook subscription on the dispatcher."""

    stack: Stack
    prefix: str
    gateway: Child
    dispatcher: Dispatcher
    receiver: Receiver
    stream: Stream

    def sse_counts(self) -> Counter[str]:
        return Counter(
            str(alert["alert_id"])
            for _id, alert in list(self.stream.events)
            if alert.get("kind") == "stance_change"
            and str(alert.get("headline_id", "")).startswith(self.prefix)
        )

    def webhook_counts(self) -> Counter[str]:
        return Counter(r.idempotency_key for r in self.receiver.delivered())

    def assert_each_once(
        self, sentinel: Line, sentinel_change: Change, expected: list[Change]
    ) -> None:
        """Send the sentinel (one more change, after everything else is on ``alerts``): once
        both subscribers have it, everything before it has reached them too (one partition,
        delivered in order), so the counts are final."""
        kafka.produce_headlines(self.stack.bootstrap, [(sentinel.key, sentinel.value)])
        last = alert_id(sentinel_change)
        wait_until(
            lambda: last in self.sse_counts() and last in self.webhook_counts(),
            120,
            "both subscribers to receive the sentinel alert",
        )
        want = Counter(alert_id(change) for change in [*expected, sentinel_change])
        assert self.sse_counts() == want, "SSE: an alert missing or sent twice"
        assert self.webhook_counts() == want, "webhook: an alert missing or delivered twice"


@pytest.fixture
def subscribers(stack: Stack, tmp_path: Path) -> Iterator[Subscribers]:
    desks = Desks(desks=(Desk(desk="faults", token_sha256=Desk.hash_token(TOKEN)),))
    port = free_port()
    gateway = stack.start_gateway(port, desks.model_dump_json(), name="gateway")
    receiver = Receiver(PREFIX, [OLD_SECRET]).start()
    dispatcher = start_dispatcher(
        stack, tmp_path, [subscription("faults", receiver)], group="faults-dispatcher"
    )
    with Stream(f"http://127.0.0.1:{port}/v1/alerts/stream", TOKEN) as stream:
        try:
            yield Subscribers(stack, PREFIX, gateway, dispatcher, receiver, stream)
        finally:
            receiver.stop()
