"""The alerts topic read back whole: the durable record the stance state is rebuilt from.

Read without a consumer group (every partition assigned, from the beginning) and until
idle rather than up to an end offset, which the embedded broker reports wrongly for
multi-record batches (DESIGN.md). Corroborations share the topic and are skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas import ALERTS, Alert

log = logging.getLogger(__name__)


async def read_alerts(
    bootstrap: str, idle_seconds: float, auth: Mapping[str, Any], timeout_seconds: float = 120.0
) -> list[Alert]:
    """Every stance-change alert on ``alerts``, in topic order."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
        request_timeout_ms=30_000,
        **auth,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(ALERTS.name)
        if partitions is None:
            await consumer.topics()  # metadata not fetched yet
            partitions = consumer.partitions_for_topic(ALERTS.name) or set()
        consumer.assign([TopicPartition(ALERTS.name, p) for p in sorted(partitions)])
        await consumer.seek_to_beginning()
        alerts: list[Alert] = []
        started = last_record = time.monotonic()
        while time.monotonic() - last_record < idle_seconds:
            if time.monotonic() - started > timeout_seconds:
                raise TimeoutError(f"{ALERTS.name} still not idle after {timeout_seconds:.0f}s")
            batches = await consumer.getmany(timeout_ms=100)
            for records in batches.values():
                last_record = time.monotonic()
                alerts.extend(a for r in records if (a := _alert(r.value)) is not None)
        return alerts
    finally:
        await consumer.stop()


def _alert(value: bytes | None) -> Alert | None:
    try:
        return Alert.from_topic(value)
    except ValueError as exc:
        log.warning("skipping an unreadable message on %s: %s", ALERTS.name, exc)
        return None
