"""The Faust app: one agent, ``screen``, on the hot path from ``headlines`` to ``alerts``.

Readable on one screen, after faust-streaming's ``examples/withdrawals.py``: the app, its
topics, the agent that hands each message to :class:`streams.screen.Screen`, and the timer
that republishes alerts a crash left in the outbox. No tables and no changelogs: the state
is in Redis, so a new worker serves at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
import time
from collections.abc import Iterable, Sequence
from typing import Any, cast

import faust
from faust.exceptions import NotReady, ProducerSendError
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from faust.types import TP, EventT
from redis.asyncio import Redis

from schemas import (
    ALERTS,
    DEAD_LETTERS,
    HEADLINES,
    STATEMENTS,
    Alert,
    Corroboration,
    DeadLetter,
    Statement,
)
from schemas.settings import WorkerSettings
from streams import metrics
from streams.dedup import Dedup, DedupSettings
from streams.detect import Detector
from streams.failpoints import Failpoints
from streams.history import read_alerts
from streams.reload import LexiconReloader
from streams.screen import Message, ProduceFailed, Screen, Sink
from streams.stance import StanceStore
from streams.stories import Stories
from streams.transport import App

log = logging.getLogger(__name__)

#: Largest record the worker produces: a dead letter carries the whole raw message, base64.
MAX_PRODUCE_BYTES = 8 * 1024 * 1024


class FaustSink:
    """The screen's output, on the Faust producer (not idempotent: tansu refuses InitProducerId)."""

    def __init__(self, app: faust.App) -> None:
        raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "value_serializer": "raw"}
        self._dlq = app.topic(DEAD_LETTERS.name, **raw)
        self._statements = app.topic(STATEMENTS.name, **raw)
        self._alerts = app.topic(ALERTS.name, **raw)

    async def dead_letter(self, key: bytes | None, letter: DeadLetter) -> None:
        # force=True: publish now, not when the source offset is committed (Faust's default).
        sent = await self._dlq.send(key=key, value=letter.model_dump_json().encode(), force=True)
        await sent

    async def statement(self, statement: Statement) -> None:
        value = statement.model_dump_json().encode()
        await _queue(self._statements, statement.stance_key.encode(), value)

    async def alert(self, alert: Alert) -> None:
        key = f"{alert.government}:{alert.topic.value}".encode()
        try:
            sent = await self._alerts.send(key=key, value=alert.to_json().encode(), force=True)
            await sent
        except Exception:  # counted; the outbox keeps the alert for the next sweep
            metrics.KAFKA_ERRORS.labels("produce").inc()
            raise

    async def corroboration(self, corroboration: Corroboration) -> None:
        key = f"{corroboration.government}:{corroboration.topic.value}".encode()
        value = corroboration.model_dump_json().encode()
        await _queue(self._alerts, key, value)


QUEUE_SECONDS = 2.0
"""How long a statement or corroboration may wait for room in the producer's buffer. The
producer waits for room as long as its request timeout (Faust's default: 20 minutes), and
a full buffer means the broker is away: the screen goes on without it rather than hold its
partition (the alert itself waits for the broker, and for the outbox)."""


async def _queue(topic: faust.types.TopicT, key: bytes, value: bytes) -> None:
    """Queue a message without waiting for the broker's acknowledgement, or raise
    :class:`ProduceFailed`: its buffer stayed full (Faust's ``ProducerSendError`` wraps
    aiokafka's timeout), or the producer is stopped (``NotReady``, at shutdown)."""
    try:
        await asyncio.wait_for(topic.send(key=key, value=value, force=True), QUEUE_SECONDS)
    except (ProducerSendError, NotReady, TimeoutError) as exc:
        raise ProduceFailed(f"{type(exc).__name__}: {exc}") from exc


def faust_app(settings: WorkerSettings) -> App:
    """The worker's Faust app with its client settings and no agents: the pipeline's, and
    the benchmark's Faust floor (``bench/_faust_floor.py``), which must match it."""
    return App(
        settings.group_id,
        fetch_wait_ms=round(settings.fetch_wait_seconds * 1000),
        broker=[f"kafka://{server}" for server in settings.bootstrap.split(",")],
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        topic_disable_leader=True,
        topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=settings.heartbeat_interval_seconds,
        broker_commit_interval=settings.commit_interval_seconds,
        broker_request_timeout=max(30.0, settings.session_timeout_seconds),
        broker_rebalance_timeout=max(30.0, settings.session_timeout_seconds),
        consumer_max_fetch_size=MAX_PRODUCE_BYTES,
        producer_max_request_size=MAX_PRODUCE_BYTES,
        producer_acks=-1,
        broker_credentials=_credentials(settings),
    )


def create_app(settings: WorkerSettings) -> faust.App:
    app = faust_app(settings)
    screen = worker_screen(settings, FaustSink(app))
    stances = screen.stances
    metrics.initialise_governments(g.code for g in screen.detector.lexicon.governments)
    reloader = LexiconReloader(screen, settings.lexicon_path)

    progress = _Progress()

    @app.agent(app.topic(HEADLINES.name, key_type=bytes, value_type=bytes, value_serializer="raw"))
    async def screen_headlines(stream: faust.StreamT[bytes]) -> None:
        if settings.screen_batch_max == 1:
            async for event in stream.events():
                await screen.handle([_message(event)])
                progress.screened([event])
        else:  # Faust acks a batch's events once the batch is screened
            # take_events is on faust.Stream, the agent's stream, not on its StreamT type
            batches = cast(faust.Stream[bytes], stream).take_events(
                settings.screen_batch_max, within=settings.screen_batch_wait_seconds
            )
            async for events in batches:
                await screen.handle([_message(event) for event in events])
                progress.screened(events)

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def on_assigned(_app: faust.App, assignment: set[Any], **_: Any) -> None:
        progress.assigned(tp.partition for tp in assignment if tp.topic == HEADLINES.name)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def on_revoked(_app: faust.App, revoked: set[Any], **_: Any) -> None:
        progress.revoked(tp.partition for tp in revoked if tp.topic == HEADLINES.name)

    async def republish(older_than_ms: int | None) -> None:
        try:
            count = await screen.republish_pending(older_than_ms)
        except Exception as exc:  # Redis or Kafka: the next sweep tries again; never crash
            log.error("outbox sweep failed, will retry: %s", exc)
            return
        if count:
            log.warning("republished %d alert(s) left in the outbox", count)

    @app.task  # type: ignore[untyped-decorator]
    async def republish_at_start() -> None:
        await republish(None)

    @app.task  # type: ignore[untyped-decorator]
    async def reload_on_sighup() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reloader.reload)

    @app.timer(interval=5.0)  # type: ignore[untyped-decorator]
    async def reload_on_change() -> None:
        reloader.reload_if_changed()

    @app.timer(interval=5.0)  # type: ignore[untyped-decorator]
    async def measure_lag() -> None:
        progress.measure(app)

    @app.timer(interval=settings.outbox_sweep_seconds)  # type: ignore[untyped-decorator]
    async def sweep() -> None:
        """Alerts a crash left in the outbox; and a stance state Redis lost, rebuilt now so
        the board is whole again before the next statement would ask for it."""
        await republish(int((time.time() - settings.outbox_min_age_seconds) * 1000))
        try:
            await stances.rebuild()
        except Exception as exc:  # Redis or the broker: the next sweep tries again
            log.error("rebuilding the stance state failed, will retry: %s", exc)

    return app


def _message(event: EventT[bytes]) -> Message:
    m = event.message
    return Message(m.value, m.key, m.partition, m.offset, m.timestamp)


class _Progress:
    """The partitions of ``headlines`` this worker holds and the last offset it screened in
    each, for the lag."""

    def __init__(self) -> None:
        self._assigned: set[int] = set()
        self._processed: dict[int, int] = {}

    def assigned(self, partitions: Iterable[int]) -> None:
        self._assigned.update(partitions)
        metrics.ASSIGNED_PARTITIONS.set(len(self._assigned))

    def revoked(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self._assigned.discard(partition)
            self._processed.pop(partition, None)
            with contextlib.suppress(KeyError):
                metrics.CONSUMER_LAG.remove(HEADLINES.name, str(partition))
        metrics.ASSIGNED_PARTITIONS.set(len(self._assigned))

    def screened(self, events: Sequence[EventT[bytes]]) -> None:
        for event in events:
            self._processed[event.message.partition] = event.message.offset

    def measure(self, app: faust.App) -> None:
        """Lag from the high watermark of the last fetch, not from ListOffsets, which the
        embedded broker answers wrongly (DESIGN.md); unknown until a partition is fetched."""
        for partition in sorted(self._assigned):
            highwater = app.consumer.highwater(TP(HEADLINES.name, partition))
            if highwater is None or partition not in self._processed:
                continue
            lag = max(0, highwater - self._processed[partition] - 1)
            metrics.CONSUMER_LAG.labels(HEADLINES.name, str(partition)).set(lag)


def worker_screen(settings: WorkerSettings, sink: Sink) -> Screen:
    """The worker's screen and its Redis clients: dedup's gives up within milliseconds (it
    fails open), the stance step's waits (it records alerts in their stories too)."""
    fast = _redis(settings.redis_url, settings.dedup_timeout_seconds)
    slow = _redis(settings.redis_url, settings.redis_timeout_seconds)
    return Screen(
        Detector.from_path(settings.lexicon_path),
        Dedup(fast, DedupSettings.of(settings)),
        Stories(fast, settings.story_ttl_seconds, recorder=slow),
        _stances(settings, slow),
        sink,
        max_message_bytes=settings.max_message_bytes,
        source_topic=HEADLINES.name,
        failpoints=Failpoints.parse(settings.failpoints),
    )


def _stances(settings: WorkerSettings, redis: Redis) -> StanceStore:
    """The stance store, which rebuilds a lost state from the alerts topic."""
    auth = credentials_to_aiokafka_auth(_credentials(settings))

    async def history() -> list[Alert]:
        return await read_alerts(settings.bootstrap, settings.history_idle_seconds, auth)

    return StanceStore(redis, history)


def _credentials(settings: WorkerSettings) -> faust.auth.Credentials | None:
    """Faust's (aiokafka's) form of the ``STANCEWIRE_KAFKA_*`` security settings."""
    protocol = settings.kafka_security_protocol
    context = None
    if protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=(
                settings.kafka_sasl_password.get_secret_value()
                if settings.kafka_sasl_password
                else None
            ),
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def _redis(url: str, timeout_seconds: float) -> Redis:
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
    )
