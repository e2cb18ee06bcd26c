"""Faust's aiokafka transport with a fetch wait of our choosing.

Faust's worker consumer hard-codes ``fetch_max_wait_ms=1500``. On Kafka a waiting fetch
wakes when records arrive, so that costs nothing; on the embedded broker (tansu) it does not
wake, so every headline waited ~750 ms on average before the worker saw it (measured, see
bench/RESULTS.md). A short wait makes the worker fast on both; it is kept well below the
heartbeat interval, since a held fetch also delays heartbeats on the same connection.
"""

from __future__ import annotations

from typing import Any, cast

import aiokafka
import faust
from faust.transport.drivers import aiokafka as faust_aiokafka


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = cast(aiokafka.AIOKafkaConsumer, super()._create_worker_consumer(transport))
        # Read by AIOKafkaConsumer.start() when it builds its fetcher, which comes later.
        consumer._fetch_max_wait_ms = cast(App, self.app).fetch_wait_ms
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class App(faust.App):
    """A Faust app whose worker consumer waits at most ``fetch_wait_ms`` for records."""

    def __init__(self, *args: Any, fetch_wait_ms: int, **kwargs: Any) -> None:
        self.fetch_wait_ms = fetch_wait_ms
        super().__init__(*args, **kwargs)

    def _new_transport(self) -> _Transport:
        return _Transport(self.conf.broker_consumer, self)
