"""Reading alerts from Kafka.

The reader assigns itself every partition of ``alerts`` instead of joining a consumer
group: each reader sees every alert, and it starts at once (a group join takes seconds).
Messages of other kinds on the topic are skipped; ones that fail validation are reported,
not fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from schemas import ALERTS, Alert
from schemas.settings import kafka_security

log = logging.getLogger(__name__)


class AlertReader:
    """Iterate alerts from ``alerts``; a context manager. Yields ``None`` after an idle poll."""

    def __init__(self, bootstrap: str, from_beginning: bool, poll_seconds: float = 0.2) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                **kafka_security(),
                "group.id": "stancewire-reader",  # required by librdkafka; never joined
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 10,
                "fetch.max.bytes": 16 * 1024 * 1024,
            }
        )
        metadata = self._consumer.list_topics(ALERTS.name, timeout=10).topics[ALERTS.name]
        assignment = []
        for partition in sorted(metadata.partitions):
            offset = OFFSET_BEGINNING
            if not from_beginning:
                # An explicit offset, resolved now: OFFSET_END would be resolved lazily, after
                # alerts produced in the meantime.
                _low, offset = self._consumer.get_watermark_offsets(
                    TopicPartition(ALERTS.name, partition), timeout=10
                )
            assignment.append(TopicPartition(ALERTS.name, partition, offset))
        self._consumer.assign(assignment)
        self._poll_seconds = poll_seconds

    def __enter__(self) -> AlertReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._consumer.close()

    def __iter__(self) -> Iterator[Alert | None]:
        while True:
            message = self._consumer.poll(self._poll_seconds)
            if message is None:
                yield None
                continue
            if message.error():
                log.warning("alerts: %s", message.error())
                continue
            alert = _parse(message.value())
            if alert is not None:
                yield alert


def _parse(value: bytes | None) -> Alert | None:
    try:
        return Alert.from_topic(value)
    except ValueError as exc:
        log.warning("skipping an unreadable message on %s: %s", ALERTS.name, exc)
        return None
