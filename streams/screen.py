"""The screen: everything the agent does to one message, without Faust.

validate -> dedup -> detect -> statements -> stance compare-and-set -> alerts. Bad input is
dead-lettered with its reason and raw bytes; the screen never raises on a message, so one
bad message can never stop the worker. Redis failures are not bad input: dedup fails open
(the headline passes) while the stance step, which cannot decide a change without its
state, retries with backoff until Redis answers, holding the partition so order is kept.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from pydantic import ValidationError
from redis.exceptions import RedisError

from schemas import Alert, DeadLetter, DeadLetterReason, Headline, Speaker, Statement
from streams import metrics
from streams.dedup import ExactDedup, Seen
from streams.detect import Detection, detect
from streams.stance import Outcome, StanceStore

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], datetime]


class Sink(Protocol):
    """Where the screen's output goes (the Faust topics, in the worker)."""

    async def dead_letter(self, key: bytes | None, letter: DeadLetter) -> None: ...

    async def statement(self, statement: Statement) -> None:
        """Queue a statement for the audit stream; must not wait for the broker."""

    async def alert(self, alert: Alert) -> None:
        """Publish an alert; returns once the broker has acknowledged it."""


class Screen:
    def __init__(
        self,
        dedup: ExactDedup,
        stances: StanceStore,
        sink: Sink,
        *,
        max_message_bytes: int,
        source_topic: str,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._dedup = dedup
        self._stances = stances
        self._sink = sink
        self._max_bytes = max_message_bytes
        self._source_topic = source_topic
        self._clock = clock

    async def handle(
        self, raw: bytes | None, key: bytes | None, partition: int, offset: int
    ) -> str:
        """Screen one message from ``headlines``; returns its outcome (a metrics label)."""
        started = time.perf_counter()
        headline_or_reason = _decode(raw, self._max_bytes)
        if not isinstance(headline_or_reason, Headline):
            reason, detail = headline_or_reason
            await self._dead_letter(
                raw, key=key, partition=partition, offset=offset, reason=reason, detail=detail
            )
            outcome = "invalid"
        else:
            try:
                outcome = await self._screen(headline_or_reason)
            except Exception as exc:  # a bug must not stop the worker: keep the message
                log.exception("screening %s failed", headline_or_reason.id)
                detail = f"{type(exc).__name__}: {exc}"
                reason = DeadLetterReason.PROCESSING_ERROR
                await self._dead_letter(
                    raw, key=key, partition=partition, offset=offset, reason=reason, detail=detail
                )
                outcome = "failed"
        metrics.HEADLINES.labels(outcome).inc()
        metrics.PROCESSING_SECONDS.observe(time.perf_counter() - started)
        return outcome

    async def _screen(self, headline: Headline) -> str:
        seen = await self._check_duplicate(headline)
        if seen is Seen.DUPLICATE:
            metrics.DUPLICATES.labels("exact").inc()
            return "duplicate"
        detections = detect(headline.text)
        if not detections:
            return "irrelevant"
        detected_at = self._clock()
        for detection in detections:
            statement = _statement(headline, detection, detected_at)
            metrics.STATEMENTS.labels(
                statement.topic.value, statement.stance.value, statement.speaker.value
            ).inc()
            await self._sink.statement(statement)
            if statement.speaker is Speaker.GOVERNMENT:
                await self._apply(statement)
        return "relevant"

    async def _check_duplicate(self, headline: Headline) -> Seen:
        try:
            return await self._dedup.check(headline.id, headline.text)
        except RedisError as exc:
            metrics.REDIS_ERRORS.labels("dedup").inc()
            log.warning("dedup skipped for %s, Redis failed: %s", headline.id, exc)
            return Seen.FIRST

    async def _apply(self, statement: Statement) -> None:
        draft = Alert(
            alert_id=Alert.derive_id(
                statement.government, statement.topic, statement.stance, statement.headline_id
            ),
            government=statement.government,
            topic=statement.topic,
            from_=None,
            to=statement.stance,
            headline_id=statement.headline_id,
            story_id=statement.headline_id,
            evidence=statement.evidence,
            source=statement.source,
            published_at=statement.published_at,
            detected_at=statement.detected_at,
            confidence=statement.confidence,
            speaker=statement.speaker,
        )
        transition = await _retrying("stance", lambda: self._stances.apply(statement, draft))
        metrics.STANCE_UPDATES.labels(transition.outcome.value).inc()
        if transition.outcome is not Outcome.CHANGED:
            return
        assert transition.alert is not None and transition.outbox_entry is not None
        await self._sink.alert(transition.alert)
        metrics.ALERTS.labels(transition.alert.topic.value).inc()
        entry = transition.outbox_entry
        await _retrying("stance", lambda: self._stances.acknowledge(entry))

    async def republish_pending(self, older_than_ms: int | None) -> int:
        """Publish outbox entries a crash or failure left unacknowledged; returns how many."""
        published = 0
        while True:
            entries = await self._stances.pending(older_than_ms)
            if not entries:
                return published
            for entry_id, alert in entries:
                await self._sink.alert(alert)
                await self._stances.acknowledge(entry_id)
                metrics.OUTBOX_REPUBLISHED.inc()
                published += 1

    async def _dead_letter(
        self,
        raw: bytes | None,
        *,
        key: bytes | None,
        partition: int,
        offset: int,
        reason: DeadLetterReason,
        detail: str,
    ) -> None:
        body = raw or b""
        letter = DeadLetter(
            reason=reason,
            detail=detail,
            source_topic=self._source_topic,
            partition=partition,
            offset=offset,
            key_b64=None if key is None else base64.b64encode(key).decode(),
            raw_b64=base64.b64encode(body).decode(),
            raw_bytes=len(body),
            raw_sha256=hashlib.sha256(body).hexdigest(),
            received_at=self._clock(),
        )
        metrics.DEAD_LETTERS.labels(reason.value).inc()
        await self._sink.dead_letter(key, letter)


def _decode(raw: bytes | None, max_bytes: int) -> Headline | tuple[DeadLetterReason, str]:
    if raw is None:
        return DeadLetterReason.NOT_JSON, "empty message (no value)"
    if len(raw) > max_bytes:
        return DeadLetterReason.TOO_LARGE, f"{len(raw)} bytes, more than the limit of {max_bytes}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return DeadLetterReason.NOT_UTF8, str(exc)
    try:
        return Headline.model_validate_json(text)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            return DeadLetterReason.NOT_JSON, exc.errors()[0]["msg"]
        return DeadLetterReason.INVALID, _describe(exc)


def _describe(exc: ValidationError) -> str:
    """One line per problem: ``field: message``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '(message)'}: {error['msg']}"
        for error in exc.errors(include_url=False)
    )


def _statement(headline: Headline, detection: Detection, detected_at: datetime) -> Statement:
    return Statement(
        headline_id=headline.id,
        government=detection.government,
        topic=detection.topic,
        stance=detection.stance,
        speaker=detection.speaker,
        confidence=detection.confidence,
        evidence=detection.evidence,
        cue=detection.cue,
        source=headline.source,
        published_at=headline.published_at,
        detected_at=detected_at,
    )


async def _retrying(stage: str, call: Callable[[], Awaitable[T]]) -> T:
    """Retry a Redis call with exponential backoff until it succeeds; one log line per outage."""
    delay = 0.05
    failed = False
    while True:
        try:
            result = await call()
        except RedisError as exc:
            metrics.REDIS_ERRORS.labels(stage).inc()
            if not failed:
                log.error("Redis failed at %s, retrying until it answers: %s", stage, exc)
                failed = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        if failed:
            log.warning("Redis answers again at %s", stage)
        return result
