"""The webhook dispatcher (``stancewire dispatcher``): alerts to desks' endpoints, signed.

Two halves, joined by the per-subscription queues in Redis (consumers/delivery.py):

- **Routing.** One Kafka consumer, in a thread, in the group shared by every dispatcher
  replica (so each alert is routed once). For each stance change it enqueues one delivery
  per matching subscription, then commits the offset. The enqueue remembers the alert id
  per subscription, so an alert read twice (a crash before the commit, a rebalance) is
  enqueued once.
- **Delivery.** One courier per subscription, an asyncio task, delivers that queue's head
  until it is delivered or dead, then the next: a desk receives alerts in topic order, and
  a failing desk holds up no one else. A lease in Redis makes one replica the courier of
  each queue. Attempts and the backoff schedule live in Redis with the entry, so a restart
  goes on where it stopped.

SIGTERM and SIGINT stop it gracefully: the consumer commits and leaves the group, couriers
finish the POST in flight (up to its timeout), and leases are released so another replica
takes over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from prometheus_client import Counter, Gauge, Histogram, start_http_server
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from consumers import delivery, webhooks
from consumers.subscriptions import SubscriptionStore, load_file
from schemas import ALERTS, Alert
from schemas.desks import Subscription
from schemas.settings import DispatcherSettings

log = logging.getLogger(__name__)

# --- metrics --------------------------------------------------------------------------------

OUTCOMES = ("delivered", "retry", "dead")

DELIVERIES = Counter(
    "stancewire_webhook_deliveries_total",
    "Webhook delivery attempts, by outcome (delivered, retry: will be tried again, dead)",
    ["outcome"],
)
DELIVERY_SECONDS = Histogram(
    "stancewire_webhook_delivery_seconds",
    "Time from an alert's detection to its delivery to a desk, retries included",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
QUEUE_DEPTH = Gauge(
    "stancewire_webhook_queue_depth",
    "Deliveries pending, all subscriptions whose queue this replica holds (sum the replicas)",
)


def initialise_metrics() -> None:
    for outcome in OUTCOMES:
        DELIVERIES.labels(outcome)


# --- the process ----------------------------------------------------------------------------


def main(settings: DispatcherSettings) -> int:
    log.setLevel(logging.INFO)
    initialise_metrics()
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
    return asyncio.run(Dispatcher(settings).run())


class Dispatcher:
    def __init__(self, settings: DispatcherSettings) -> None:
        self._settings = settings
        # No socket timeout below a courier's blocking read of its queue.
        self._redis = Redis.from_url(
            settings.redis_url,
            decode_responses=True,
            socket_timeout=max(10.0, settings.lease_seconds),
            socket_connect_timeout=5.0,
        )
        self._store = SubscriptionStore(self._redis)
        self._http = httpx.AsyncClient(follow_redirects=False)
        self._holder = f"dispatcher-{uuid.uuid4().hex[:12]}"
        self._couriers: dict[str, Courier] = {}
        self._retired: list[Courier] = []
        self._stopping = asyncio.Event()
        self._halt = threading.Event()
        """Tells the consumer thread to stop."""
        self._consumer_failed: BaseException | None = None
        QUEUE_DEPTH.set_function(lambda: sum(c.depth for c in list(self._couriers.values())))

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stopping.set)
        try:
            try:
                if self._settings.subscriptions_file:
                    for subscription in load_file(Path(self._settings.subscriptions_file)):
                        await self._store.put(subscription)
                await self._sync(await self._store.all())
            except RedisError as exc:  # a wrong password, say: nothing to deliver without it
                log.error("cannot start: Redis: %s", exc)
                return 1
            consumer = threading.Thread(target=self._consume, args=(loop,), name="alerts")
            consumer.start()
            log.info("dispatcher %s started (%d subscriptions)", self._holder, len(self._couriers))
            while not self._stopping.is_set():
                if await _pause(self._stopping, self._settings.reload_seconds):
                    break
                if not consumer.is_alive():
                    break
                try:
                    await self._sync(await self._store.all())
                except RedisError as exc:
                    log.error("reloading subscriptions: %s", exc)
            self._halt.set()
            await asyncio.to_thread(consumer.join)
        finally:
            self._halt.set()
            await self._stop_couriers()
            await self._http.aclose()
            await self._redis.aclose()
        if self._consumer_failed is not None:
            log.error("the alerts consumer failed: %s", self._consumer_failed)
            return 1
        return 0

    async def _sync(self, subscriptions: list[Subscription]) -> None:
        """Start a courier for each new subscription, update changed ones, retire the gone."""
        current = {subscription.id: subscription for subscription in subscriptions}
        for subscription_id, subscription in current.items():
            courier = self._couriers.get(subscription_id)
            if courier is None:
                self._couriers[subscription_id] = Courier(
                    subscription, self._redis, self._http, self._settings, self._holder
                )
            else:
                courier.subscription = subscription  # new secrets apply from the next attempt
        for subscription_id in set(self._couriers) - set(current):
            retired = self._couriers.pop(subscription_id, None)
            if retired is not None:  # it stops after the attempt in flight
                retired.retire()
                self._retired.append(retired)

    async def _stop_couriers(self) -> None:
        couriers = [*self._couriers.values(), *self._retired]
        self._couriers.clear()
        self._retired.clear()
        grace = self._settings.timeout_seconds + 1
        await asyncio.gather(*(courier.stop(grace) for courier in couriers))

    async def _route(self, alert: Alert, body: str) -> int:
        """Enqueue ``alert`` for every subscription whose filter matches; how many were new."""
        subscriptions = await self._store.all()
        await self._sync(subscriptions)
        detected_ms = int(alert.detected_at.timestamp() * 1000)
        enqueued = 0
        for subscription in subscriptions:
            if subscription.filter.matches(alert):
                queue = delivery.Queue(self._redis, subscription.id)
                entry = await queue.enqueue(
                    alert.alert_id, body, detected_ms, self._settings.seen_ttl_seconds
                )
                enqueued += entry is not None
        return enqueued

    def _consume(self, loop: asyncio.AbstractEventLoop) -> None:
        """The consumer thread: poll, route on the event loop, commit; until told to halt."""
        settings = self._settings
        try:
            consumer = Consumer(
                {
                    "bootstrap.servers": settings.bootstrap,
                    **settings.librdkafka(),
                    "group.id": settings.group_id,
                    "client.id": self._holder,
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest",
                    "fetch.wait.max.ms": max(1, round(settings.fetch_wait_seconds * 1000)),
                    "session.timeout.ms": round(settings.session_timeout_seconds * 1000),
                    "heartbeat.interval.ms": max(
                        100, round(settings.session_timeout_seconds * 250)
                    ),
                    "fetch.max.bytes": 16 * 1024 * 1024,
                }
            )
            consumer.subscribe([ALERTS.name])
        except KafkaException as exc:
            self._consumer_failed = exc
            loop.call_soon_threadsafe(self._stopping.set)
            return
        try:
            while not self._halt.is_set():
                message = consumer.poll(0.1)
                if message is None:
                    continue
                if message.error():
                    log.warning("alerts: %s", message.error())
                    continue
                if self._handle(consumer, message, loop):
                    consumer.commit(message=message, asynchronous=True)
        except BaseException as exc:
            self._consumer_failed = exc
            loop.call_soon_threadsafe(self._stopping.set)
        finally:
            with contextlib.suppress(KafkaException):
                consumer.commit(asynchronous=False)
            consumer.close()

    def _handle(
        self, consumer: Consumer, message: Message, loop: asyncio.AbstractEventLoop
    ) -> bool:
        """Route one message; False (and rewound to it) when that failed and must be retried."""
        raw = message.value() or b""
        alert = _parse(raw)
        if alert is None:
            return True
        future = asyncio.run_coroutine_threadsafe(self._route(alert, raw.decode()), loop)
        try:
            future.result()
        except (RedisError, OSError) as exc:
            log.error("could not enqueue alert %s, retrying: %s", alert.alert_id, exc)
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            if topic is not None and partition is not None and offset is not None:
                consumer.seek(TopicPartition(topic, partition, offset))
            self._halt.wait(1.0)
            return False
        return True


def _parse(raw: bytes) -> Alert | None:
    """A stance change, or None for another kind of message (or an unreadable one)."""
    try:
        value = json.loads(raw)
        if not isinstance(value, dict) or value.get("kind") != "stance_change":
            return None
        return Alert.model_validate_json(raw)  # strict models validate JSON, not dicts
    except (ValueError, ValidationError) as exc:
        log.warning("skipping an unreadable message on %s: %s", ALERTS.name, exc)
        return None


async def _pause(event: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` unless ``event`` is set first; whether it was set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), max(0.0, seconds))
    return event.is_set()


# --- one subscription's courier -------------------------------------------------------------


class LeaseLost(Exception):
    """Another replica holds this queue now."""


class Courier:
    """Delivers one subscription's queue, in order, while this replica holds its lease."""

    #: Longest blocking read of an empty queue (how soon a stop is noticed while idle).
    IDLE_BLOCK_MS = 1000

    def __init__(
        self,
        subscription: Subscription,
        redis: Redis,
        http: httpx.AsyncClient,
        settings: DispatcherSettings,
        holder: str,
    ) -> None:
        self.subscription = subscription
        self._redis = redis
        self._http = http
        self._settings = settings
        self._queue = delivery.Queue(redis, subscription.id)
        self._lease = delivery.Lease(redis, subscription.id, holder, settings.lease_seconds)
        self.depth = 0
        """This queue's length, while this replica holds its lease (else 0)."""
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"courier {subscription.id}")

    def retire(self) -> None:
        """Stop after the attempt in flight (its subscription was deleted)."""
        self._stopping.set()

    async def stop(self, grace_seconds: float) -> None:
        """Stop after the attempt in flight (cancelled past ``grace_seconds``)."""
        self._stopping.set()
        done, _ = await asyncio.wait({self._task}, timeout=grace_seconds)
        if not done:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        retry_seconds = self._settings.lease_seconds / 3
        while not self._stopping.is_set():
            try:
                if not await self._lease.acquire():
                    await _pause(self._stopping, retry_seconds)
                    continue
            except RedisError as exc:
                log.error("%s: lease: %s", self.subscription.id, exc)
                await _pause(self._stopping, retry_seconds)
                continue
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(self._keep_lease())
                    group.create_task(self._deliver())
            except* LeaseLost:
                log.warning("%s: lease lost to another replica", self.subscription.id)
            finally:
                self.depth = 0  # reported by the holder only, so replicas' gauges add up
                with contextlib.suppress(RedisError):
                    await self._lease.release()

    async def _keep_lease(self) -> None:
        while not await _pause(self._stopping, self._settings.lease_seconds / 3):
            try:
                held = await self._lease.renew()
            except RedisError as exc:
                log.error("%s: renewing the lease: %s", self.subscription.id, exc)
                continue
            if not held:
                raise LeaseLost

    async def _deliver(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._step()
            except RedisError as exc:
                log.error("%s: Redis: %s", self.subscription.id, exc)
                await _pause(self._stopping, 1.0)
            except Exception:  # a bug must not silently end this desk's deliveries
                log.exception("%s: delivery failed", self.subscription.id)
                await _pause(self._stopping, 1.0)

    async def _step(self) -> None:
        """Attempt the head of the queue once (after its backoff), or wait for one."""
        queue = self._queue
        entry = await queue.head(self.IDLE_BLOCK_MS)
        self.depth = await queue.depth()
        if entry is None:
            return
        progress = await queue.progress(entry)
        if await _pause(self._stopping, progress.next_ms / 1000 - time.time()):
            return
        subscription = self.subscription
        result = await webhooks.attempt(
            self._http,
            str(subscription.url),
            entry.body.encode(),
            alert_id=entry.alert_id,
            secrets=subscription.secrets,
            timeout_seconds=self._settings.timeout_seconds,
        )
        if result.outcome is webhooks.Outcome.DELIVERED:
            self.depth = await queue.ack(entry)
            DELIVERIES.labels("delivered").inc()
            DELIVERY_SECONDS.observe(max(0.0, time.time() - entry.detected_ms / 1000))
            return
        attempts = progress.attempts + 1
        if result.outcome is webhooks.Outcome.PERMANENT or attempts >= self._settings.max_attempts:
            dead = delivery.DeadDelivery(
                subscription=subscription.id,
                url=str(subscription.url),
                alert_id=entry.alert_id,
                attempts=attempts,
                status=result.status,
                error=result.error,
                body=entry.body,
                dead_at_ms=delivery.now_ms(),
            )
            await delivery.dead_letter(self._redis, dead)
            self.depth = await queue.ack(entry)
            DELIVERIES.labels("dead").inc()
            log.warning(
                "%s: alert %s dead after %d attempt(s): %s",
                subscription.id,
                entry.alert_id,
                attempts,
                result.error,
            )
            return
        wait = webhooks.backoff(
            attempts,
            self._settings.backoff_seconds,
            self._settings.max_backoff_seconds,
            result.retry_after,
        )
        # Not before the next second: the retry is signed with a later timestamp, so it is
        # never this request again byte for byte, which a receiver refusing replays (its
        # webhooks.ReplayGuard) would refuse.
        next_ms = max(delivery.now_ms() + round(wait * 1000), (int(time.time()) + 1) * 1000)
        await queue.record(
            entry,
            delivery.Progress(
                attempts=attempts,
                next_ms=next_ms,
                status=result.status,
                error=result.error,
            ),
        )
        DELIVERIES.labels("retry").inc()
        log.info(
            "%s: alert %s attempt %d failed (%s), next in %.2fs",
            subscription.id,
            entry.alert_id,
            attempts,
            result.error,
            max(0, next_ms - delivery.now_ms()) / 1000,
        )
