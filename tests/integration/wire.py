"""Helpers for integration tests: headlines in, topics read back."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from schemas import Alert


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def headline(text: str, published_at: str, source: str = "Test Wire", **fields: Any) -> bytes:
    body = {"id": fields.pop("id", unique("h")), "text": text, "source": source}
    body["published_at"] = published_at
    body.update(fields)
    return json.dumps(body).encode()


def read_topic(
    bootstrap: str, topic: str, idle_seconds: float = 1.0
) -> list[tuple[bytes | None, bytes]]:
    """Every (key, value) on ``topic`` from the beginning, read until idle.

    Callers first wait for the worker to commit past their input (see replay), so everything
    they expect is already on the broker when this runs.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "tests",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 10,
            "fetch.max.bytes": 32 * 1024 * 1024,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        found: list[tuple[bytes | None, bytes]] = []
        last_seen = time.monotonic()
        while time.monotonic() - last_seen < idle_seconds:
            message = consumer.poll(0.1)
            if message is None or message.error():
                continue
            found.append((message.key(), message.value() or b""))
            last_seen = time.monotonic()
        return found
    finally:
        consumer.close()


def transitions(alerts: list[Alert]) -> list[tuple[str, str, str | None, str, str]]:
    return [
        (a.government, a.topic.value, a.from_.value if a.from_ else None, a.to.value, a.headline_id)
        for a in alerts
    ]
