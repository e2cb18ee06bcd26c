"""Kafka plumbing for the command line: topic creation, producing headlines, group progress."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from schemas import DEAD_LETTERS, HEADLINES, TOPICS
from schemas.settings import ConnectionSettings, kafka_security

#: A dead letter carries a whole raw message; allow the 1 MB messages Kafka allows, base64'd.
_TOPIC_CONFIG = {DEAD_LETTERS.name: {"max.message.bytes": str(8 * 1024 * 1024)}}


_ANY_PARTITION = -1
"""librdkafka's RD_KAFKA_PARTITION_UA: let the partitioner choose."""


def broker_answers(bootstrap: str) -> bool:
    """The broker accepts connections and answers a metadata request."""
    host, _, port = bootstrap.split(",", maxsplit=1)[0].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:  # probed first: librdkafka would log every refused connection
        return False
    try:
        AdminClient({"bootstrap.servers": bootstrap, **kafka_security()}).list_topics(timeout=1)
    except KafkaException:
        return False
    return True


def ensure_topics(bootstrap: str, timeout: float = 30.0) -> None:
    """Create stancewire's topics (``schemas.TOPICS``) where missing; leave existing ones."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **kafka_security()})
    replication = ConnectionSettings().topic_replication_factor
    existing = admin.list_topics(timeout=timeout).topics
    missing = [
        NewTopic(spec.name, spec.partitions, replication, config=_TOPIC_CONFIG.get(spec.name, {}))
        for spec in TOPICS
        if spec.name not in existing
    ]
    if not missing:
        return
    for future in admin.create_topics(missing, request_timeout=timeout).values():
        try:
            future.result(timeout)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise


def producer(bootstrap: str) -> Producer:
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            **kafka_security(),
            "linger.ms": 5,
            "message.max.bytes": 8 * 1024 * 1024,
            "enable.idempotence": False,
        }
    )


def produce_headlines(
    bootstrap: str,
    messages: Iterable[tuple[bytes | None, bytes]],
    partition: int | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> list[tuple[int, int]]:
    """Produce raw (key, value) pairs to ``headlines`` in order; returns (partition, offset)s.

    With ``partition`` set, every message goes to that partition, so one worker processes
    them in input order. Raises if any message is not acknowledged.
    """
    client = producer(bootstrap)
    offsets: list[tuple[int, int]] = []
    errors: list[str] = []

    def delivered(error: KafkaError | None, message: object) -> None:
        if error is not None:
            errors.append(str(error))
        else:
            offsets.append((message.partition(), message.offset()))  # type: ignore[attr-defined]

    for key, value in messages:
        client.produce(
            HEADLINES.name,
            value=value,
            key=key,
            partition=_ANY_PARTITION if partition is None else partition,
            on_delivery=delivered,
        )
        client.poll(0)
        if len(offsets) % 1000 == 0:
            progress(len(offsets))
    remaining = client.flush(60)
    progress(len(offsets))
    if errors or remaining:
        raise RuntimeError(f"headlines not acknowledged by the broker: {errors or remaining}")
    return offsets


class GroupProgress:
    """How far a consumer group has committed on ``headlines``; one client for many looks."""

    def __init__(self, bootstrap: str, group_id: str) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group_id,
                "enable.auto.commit": False,
                **kafka_security(),
            }
        )

    def passed(self, offsets: Iterable[tuple[int, int]]) -> bool:
        """Whether the group has committed past every (partition, offset)."""
        last: dict[int, int] = {}
        for partition, offset in offsets:
            last[partition] = max(offset, last.get(partition, -1))
        wanted = [TopicPartition(HEADLINES.name, partition) for partition in sorted(last)]
        committed = self._consumer.committed(wanted, timeout=10)
        return all(tp.offset > last[tp.partition] for tp in committed)

    def close(self) -> None:
        self._consumer.close()
