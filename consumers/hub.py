"""The gateway's alert hub: one Kafka reader per gateway, fanned out to every SSE client.

A thread reads ``alerts`` from the beginning (alerts are rare: the whole topic is small)
and hands each message to the event loop, which keeps the newest ``capacity`` alerts in
order of offset (for resume, one key's history and lookups by id) and puts it on the queue
of every connected client. Corroborations update the outlet count of the alert they
corroborate. Event ids are ``partition:offset`` on the single-partition ``alerts`` topic.

Resume without a gap: a client that sends ``Last-Event-ID`` subscribes first, then gets
the buffered alerts after that id, then its queue, skipping what it already had. An id
older than the buffer is served from Kafka by a reader that stops at the first buffered
offset (a known offset, not the broker's end offset, which the embedded broker gets wrong).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from confluent_kafka import Consumer, TopicPartition
from pydantic import ValidationError

from schemas import ALERTS, Alert, Corroboration
from schemas.settings import kafka_security

log = logging.getLogger(__name__)

PARTITION = 0


@dataclass(frozen=True, slots=True)
class Delivered:
    """An alert as it was read: with its offset, the SSE event id."""

    offset: int
    alert: Alert

    @property
    def event_id(self) -> str:
        return f"{PARTITION}:{self.offset}"


def parse_event_id(value: str | None) -> int | None:
    """The offset in a ``Last-Event-ID``; None when absent or not ours."""
    if not value:
        return None
    partition, _, offset = value.partition(":")
    if partition != str(PARTITION) or not offset.isdigit():
        return None
    return int(offset)


@dataclass
class Outlets:
    outlets: int = 1
    reports: int = 1


@dataclass
class Hub:
    bootstrap: str
    fetch_wait_ms: int = 10
    capacity: int = 10_000
    buffer: OrderedDict[str, Delivered] = field(default_factory=OrderedDict)
    outlets: dict[str, Outlets] = field(default_factory=dict)
    client_queue: int = 1_000
    """Alerts a client may fall behind by before it is cut off (it resumes by Last-Event-ID)."""
    clients: set[asyncio.Queue[Delivered]] = field(default_factory=set)
    cut_off: set[asyncio.Queue[Delivered]] = field(default_factory=set)
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._thread = threading.Thread(
            target=self._read, args=(loop,), name="alert-hub", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _consumer(self) -> Consumer:
        return Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                **kafka_security(),
                "group.id": "stancewire-gateway",  # required by librdkafka; never joined
                "enable.auto.commit": False,
                "fetch.wait.max.ms": self.fetch_wait_ms,
            }
        )

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        consumer = self._consumer()
        consumer.assign([TopicPartition(ALERTS.name, PARTITION, 0)])
        idle = 0
        try:
            while not self._stop.is_set():
                message = consumer.poll(0.1)
                if message is None:
                    idle += 1
                    if idle == 3:  # the history is in: readiness
                        loop.call_soon_threadsafe(self.caught_up.set)
                    continue
                if message.error():
                    log.warning("alerts: %s", message.error())
                    continue
                idle = 0
                offset, value = message.offset() or 0, message.value() or b""
                loop.call_soon_threadsafe(self._receive, offset, value)
        finally:
            consumer.close()

    def _receive(self, offset: int, value: bytes) -> None:
        """On the event loop: buffer one message and hand it to every client."""
        try:
            kind = json.loads(value).get("kind")
            if kind == "corroboration":
                corroboration = Corroboration.model_validate_json(value)
                held = self.outlets.get(corroboration.alert_id, Outlets())
                # counts only grow: corroborations from two replicas may land out of order
                self.outlets[corroboration.alert_id] = Outlets(
                    max(held.outlets, corroboration.outlets),
                    max(held.reports, corroboration.reports),
                )
                return
            if kind != "stance_change":
                return
            delivered = Delivered(offset, Alert.model_validate_json(value))
        except (ValueError, AttributeError, ValidationError) as exc:
            log.warning("skipping an unreadable message on %s: %s", ALERTS.name, exc)
            return
        if delivered.alert.alert_id in self.buffer:
            return  # a redelivery: same content, same id
        self.buffer[delivered.alert.alert_id] = delivered
        while len(self.buffer) > self.capacity:
            self.buffer.popitem(last=False)
        for queue in list(self.clients):
            try:
                queue.put_nowait(delivered)
            except asyncio.QueueFull:  # a client this far behind costs memory, not us
                self.clients.discard(queue)
                self.cut_off.add(queue)

    def subscribe(self) -> asyncio.Queue[Delivered]:
        queue: asyncio.Queue[Delivered] = asyncio.Queue(self.client_queue)
        self.clients.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Delivered]) -> None:
        self.clients.discard(queue)
        self.cut_off.discard(queue)

    def was_cut_off(self, queue: asyncio.Queue[Delivered]) -> bool:
        """Whether the client fell too far behind: after what it holds, its stream ends, and
        it resumes from its last event id without a gap."""
        return queue in self.cut_off and queue.empty()

    def after(self, offset: int) -> Iterator[Delivered]:
        """Buffered alerts after ``offset``, in order."""
        return (d for d in list(self.buffer.values()) if d.offset > offset)

    def oldest_offset(self) -> int | None:
        return next(iter(self.buffer.values())).offset if self.buffer else None

    def history(self, government: str, topic: str) -> list[Delivered]:
        return [
            d
            for d in self.buffer.values()
            if d.alert.government == government and d.alert.topic.value == topic
        ]

    def older(self, after: int, before: int, keep: Callable[[Alert], bool]) -> list[Delivered]:
        """Alerts with ``after < offset < before`` read from Kafka (for a resume older than
        the buffer). Blocking: run it in a thread."""
        consumer = self._consumer()
        consumer.assign([TopicPartition(ALERTS.name, PARTITION, after + 1)])
        found: list[Delivered] = []
        try:
            while True:
                message = consumer.poll(5.0)
                if message is None or message.error():
                    return found
                offset = message.offset() or 0
                if offset >= before:
                    return found
                try:
                    alert = Alert.model_validate_json(message.value() or b"")
                except ValidationError:
                    continue  # another kind of message
                if keep(alert):
                    found.append(Delivered(offset, alert))
        finally:
            consumer.close()
