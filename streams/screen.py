"""The screen: everything the agent does to one message, without Faust.

validate -> detect -> dedup (exact and near, one round trip) -> story chain -> statements
-> stance compare-and-set -> alerts. Detection comes before dedup because a near duplicate
is only one if it says the same thing (see ``streams.dedup``), and a headline that says
nothing (most of a wire) stops there: it cannot alert, so it has nothing to deduplicate.

Bad input is dead-lettered with its reason and raw bytes; the screen never raises on a
message, so one bad message can never stop the worker. Redis failures are not bad input:
dedup and story chains fail open (the headline passes; a short timeout bounds the wait),
while the stance step, which cannot decide a change without its state, retries with
backoff until Redis answers, holding the partition so order is kept. Each outage is logged
once when it starts and once when it ends.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from pydantic import ValidationError
from redis.exceptions import RedisError, ResponseError

from schemas import (
    Alert,
    Corroboration,
    DeadLetter,
    DeadLetterReason,
    Headline,
    Speaker,
    Statement,
    Topic,
)
from streams import metrics
from streams.claims import raised_by
from streams.dedup import Dedup, Seen, Verdicts, is_outage
from streams.detect import Detection, Detector
from streams.failpoints import Failpoints, Point
from streams.stance import StanceStore, StateUnavailable
from streams.stories import Chain, Link, Report, Stories, novelty

log = logging.getLogger(__name__)

T = TypeVar("T")

DEAD_LETTER_RAW_BYTES = 4 * 1024 * 1024
"""Most raw bytes a dead letter carries: its base64 (4/3 larger) stays under the 8 MiB the
worker produces, so every letter is accepted and a huge message cannot stall its partition
behind a letter the broker will always refuse (see ``DeadLetter.raw_truncated``)."""
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Message:
    """A message from ``headlines``; ``timestamp`` is its time on Kafka (epoch seconds)."""

    raw: bytes | None
    key: bytes | None
    partition: int
    offset: int
    timestamp: float | None = None


class _Reading:
    """A message decoded and read: its headline and statements, or why it is dead-lettered."""

    __slots__ = ("detail", "detections", "headline", "reason")

    def __init__(
        self,
        headline: Headline | None,
        detections: list[Detection],
        reason: DeadLetterReason | None = None,
        detail: str | Exception | None = None,
    ) -> None:
        self.headline = headline
        self.detections = detections
        self.reason = reason
        self.detail = (
            f"{type(detail).__name__}: {detail}"
            if isinstance(detail, Exception)
            else (detail or "")
        )


class _NotRecorded(Exception):
    """Redis answered recording an alert with an error that is not an outage."""


class ProduceFailed(Exception):
    """The producer refused a message (its buffer full while the broker is away): what a
    sink raises for it, rather than the client's own error, so that the screen can tell an
    outage from a bug."""


class Sink(Protocol):
    """Where the screen's output goes (the Faust topics, in the worker). ``statement`` and
    ``corroboration`` raise :class:`ProduceFailed` when the producer refuses the message."""

    async def dead_letter(self, key: bytes | None, letter: DeadLetter) -> None: ...

    async def statement(self, statement: Statement) -> None:
        """Queue a statement for the audit stream; must not wait for the broker."""

    async def alert(self, alert: Alert) -> None:
        """Publish an alert; returns once the broker has acknowledged it."""

    async def corroboration(self, corroboration: Corroboration) -> None:
        """Queue a corroboration of an alert (on the alert's topic and key)."""


Later = Callable[[float, Callable[[], None]], object]
"""Run a callback after a delay in seconds (the event loop's ``call_later``)."""


def _call_later(delay: float, callback: Callable[[], None]) -> object:
    return asyncio.get_running_loop().call_later(delay, callback)


class Outage:
    """One log line when a stage starts failing, and one when it answers again: once it has
    answered and ``QUIET_SECONDS`` have passed since its last failure. A stage can fail for
    some calls and answer others (Redis out of memory refuses writes and answers reads; a
    broker's buffer fills and drains): that is one outage, not one per call. Every failure
    is counted. The clock and the timer are injected."""

    QUIET_SECONDS = 10.0

    def __init__(
        self,
        service: str,
        stage: str,
        consequence: str,
        errors: Callable[[], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        later: Later = _call_later,
    ) -> None:
        self._service = service
        self._stage = stage
        self._consequence = consequence
        self._errors = errors
        self._clock = clock
        self._later = later
        self._down = False
        self._settling = False
        self._last_failure = self._last_answer = 0.0

    def failed(self, exc: Exception) -> None:
        self._errors()
        self._last_failure = self._clock()
        if not self._down:
            self._down = True
            log.error(
                "%s failed at %s (%s): %s", self._service, self._stage, self._consequence, exc
            )

    def answered(self) -> None:
        self._last_answer = self._clock()
        if self._down and not self._settling:
            self._wait_for_quiet()

    def _wait_for_quiet(self) -> None:
        self._settling = True
        wait = self._last_failure + self.QUIET_SECONDS - self._clock()
        self._later(max(wait, 0.0), self._settle)

    def _settle(self) -> None:
        """The outage is over if nothing failed for ``QUIET_SECONDS``. If something did and
        the stage has answered since, wait again; if it has not, the next answer will."""
        self._settling = False
        if not self._down:
            return
        if self._clock() - self._last_failure >= self.QUIET_SECONDS:
            self._down = False
            log.warning("%s answers again at %s", self._service, self._stage)
        elif self._last_answer >= self._last_failure:
            self._wait_for_quiet()


def _redis_outage(stage: str, consequence: str) -> Outage:
    return Outage("Redis", stage, consequence, metrics.REDIS_ERRORS.labels(stage).inc)


class Screen:
    def __init__(
        self,
        detector: Detector,
        dedup: Dedup,
        stories: Stories,
        stances: StanceStore,
        sink: Sink,
        *,
        max_message_bytes: int,
        source_topic: str,
        clock: Clock = lambda: datetime.now(UTC),
        failpoints: Failpoints | None = None,
    ) -> None:
        self.detector = detector
        """Swapped whole by a lexicon reload; a headline sees one lexicon or the other."""
        self._dedup = dedup
        self._stories = stories
        self._stances = stances
        self._dedup_outage = _redis_outage("dedup", "duplicates pass until it answers")
        self._stories_outage = _redis_outage(
            "stories", "copies are not counted in their stories until it answers"
        )
        self._stance_outage = _redis_outage("stance", "retrying; alerts wait, none is lost")
        self._produce_outage = Outage(
            "Kafka",
            "statements and corroborations",
            "those not queued are lost; a later corroboration carries the whole count, "
            "and alerts wait in the outbox",
            metrics.KAFKA_ERRORS.labels("produce").inc,
        )
        self._sink = sink
        self._max_bytes = max_message_bytes
        self._source_topic = source_topic
        self._clock = clock
        self._failpoints = failpoints or Failpoints({})

    @property
    def stances(self) -> StanceStore:
        """The stance store, which the worker rebuilds a lost state with."""
        return self._stances

    async def handle(self, messages: Sequence[Message]) -> list[str]:
        """Screen messages from ``headlines`` in order, with one dedup round trip for all of
        them; everything after dedup (chains, statements, the stance step) runs message by
        message. Returns their outcomes (metrics labels)."""
        started = time.perf_counter()
        read = [self._read(message) for message in messages]
        relevant = [(r.headline, r.detections) for r in read if r.headline and r.detections]
        verdicts = iter(await self._check_duplicates(relevant))
        outcomes = []
        for message, reading in zip(messages, read, strict=True):
            headline, failure = reading.headline, reading
            if reading.detections and headline is not None:
                verdict = next(verdicts)
                try:
                    if isinstance(verdict, Exception):
                        raise verdict
                    outcome = await self._screen(headline, reading.detections, verdict, message)
                except Exception as exc:  # a bug must not stop the worker: keep the message
                    log.exception("screening %s failed", headline.id)
                    failure = _Reading(headline, [], DeadLetterReason.PROCESSING_ERROR, exc)
            if failure.reason is not None:
                await self._dead_letter(message, failure.reason, failure.detail)
                outcome = "failed" if headline is not None else "invalid"
            elif not reading.detections:
                outcome = "irrelevant"
            outcomes.append(outcome)
            metrics.HEADLINES.labels(outcome).inc()
        # One figure per message: its share of the batch (all of it, for a batch of one).
        share = (time.perf_counter() - started) / max(len(messages), 1)
        for _ in messages:
            metrics.PROCESSING_SECONDS.observe(share)
        return outcomes

    def _read(self, message: Message) -> _Reading:
        """Decode and detect: what can be done for a message before any round trip."""
        headline_or_reason = _decode(message.raw, self._max_bytes)
        if not isinstance(headline_or_reason, Headline):
            return _Reading(None, [], *headline_or_reason)
        metrics.count_source(headline_or_reason.source)
        try:
            detections = self.detector.detect(
                headline_or_reason.text, headline_or_reason.published_at
            )
        except Exception as exc:  # a bug must not stop the worker: keep the message
            log.exception("detecting in %s failed", headline_or_reason.id)
            return _Reading(headline_or_reason, [], DeadLetterReason.PROCESSING_ERROR, exc)
        return _Reading(headline_or_reason, detections)

    async def _screen(
        self,
        headline: Headline,
        detections: list[Detection],
        verdicts: Verdicts,
        message: Message,
    ) -> str:
        if verdicts.duplicate:
            seen = {verdict.seen for verdict in verdicts.each.values()}
            metrics.DUPLICATES.labels(
                (Seen.EXACT if seen == {Seen.EXACT} else Seen.NEAR).value
            ).inc()
        await self._corroborate(headline, verdicts)
        detected_at = self._clock()
        for detection in detections:
            verdict = verdicts.of(detection)
            statement = _statement(headline, detection, verdict.story_id, detected_at)
            if not verdict.duplicate:
                metrics.STATEMENTS.labels(
                    statement.topic.value, statement.stance.value, statement.speaker.value
                ).inc()
                await self._produced(self._sink.statement(statement))
            if statement.speaker is Speaker.GOVERNMENT:
                # A duplicate goes to the compare-and-set too: it is "unchanged" unless the
                # stance moved since its story's first report (a reversal and a return within
                # the window), and then the return is a change that must alert.
                await self._apply(statement, message.timestamp)
        return "duplicate" if verdicts.duplicate else "relevant"

    async def _check_duplicates(
        self, relevant: list[tuple[Headline, list[Detection]]]
    ) -> list[Verdicts | Exception]:
        """Only headlines with statements are checked: one that says nothing can neither
        alert nor corroborate an alert, so a round trip and a window of Redis memory for it
        would buy nothing. A bug that fails the check of one headline fails only that one
        (its exception in its place): the script's own errors come back in place, and a bug
        in the client has the batch checked again one at a time."""
        if not relevant:
            return []
        try:
            verdicts: list[Verdicts | Exception] = list(
                await self._dedup.check_many(relevant, self.detector)
            )
        except RedisError as exc:
            self._dedup_outage.failed(exc)
            metrics.DEDUP_SKIPPED.inc(len(relevant))
            return [Verdicts.unchecked(h, detections) for h, detections in relevant]
        except Exception as exc:
            if len(relevant) == 1:
                return [exc]
            return [
                verdict for item in relevant for verdict in await self._check_duplicates([item])
            ]
        self._dedup_outage.answered()
        return verdicts

    async def _corroborate(self, headline: Headline, verdicts: Verdicts) -> None:
        """Link each statement that is a duplicate to its story's chain; tell desks when a
        new outlet carried a statement that raised an alert."""
        report = Report(headline.id, headline.source, headline.published_at)
        for statement, verdict in verdicts.each.items():
            if not verdict.duplicate:
                continue
            try:
                link = await self._stories.link(
                    verdict.story_id, statement, verdict.first_source, report
                )
            except RedisError as exc:
                self._stories_outage.failed(exc)
                continue
            self._stories_outage.answered()
            if link.new_outlet:
                for raised in link.alert_ids:
                    await self._corroboration(verdict.story_id, raised, link, report, link.reports)

    async def _corroboration(
        self, story_id: str, raised: str, chain: Link | Chain, report: Report, position: int
    ) -> None:
        """Tell desks that ``raised`` ("GOV:topic|alert id") is carried by ``chain``'s
        outlets, the latest ``report``'s among them, which was the ``position``-th report of
        the chain (its novelty). A corroboration the producer refuses is not sent again: the
        next one carries the whole count."""
        stance_key, alert_id = raised.split("|", 1)
        government, topic = stance_key.split(":", 1)
        corroboration = Corroboration(
            corroboration_id=Corroboration.derive_id(alert_id, chain.outlets),
            alert_id=alert_id,
            story_id=story_id,
            government=government,
            topic=Topic(topic),
            outlets=chain.outlets,
            reports=chain.reports,
            novelty=novelty(position),
            headline_id=report.headline_id,
            source=report.source,
            published_at=report.published_at,
            detected_at=self._clock(),
        )
        if await self._produced(self._sink.corroboration(corroboration)):
            metrics.CORROBORATIONS.inc()

    async def _produced(self, queued: Awaitable[None]) -> bool:
        """Whether a statement or corroboration was queued. One the producer refuses (its
        buffer full while the broker is away) is counted and logged, and the headline goes
        on to its stance step: an audit record or a count is not worth an alert. (Any other
        error is a bug, and fails the headline as it would anywhere.)"""
        try:
            await queued
        except ProduceFailed as exc:
            self._produce_outage.failed(exc)
            return False
        self._produce_outage.answered()
        return True

    async def _apply(self, statement: Statement, timestamp: float | None) -> None:
        draft = Alert(
            alert_id=Alert.derive_id(
                statement.government, statement.topic, statement.stance, statement.headline_id
            ),
            government=statement.government,
            topic=statement.topic,
            from_=None,
            to=statement.stance,
            headline_id=statement.headline_id,
            story_id=statement.story_id,
            evidence=statement.evidence,
            source=statement.source,
            published_at=statement.published_at,
            detected_at=statement.detected_at,
            confidence=statement.confidence,
            speaker=statement.speaker,
        )
        self._failpoints.reach(Point.BEFORE_CAS)
        transition = await self._retrying(lambda: self._stances.apply(statement, draft))
        metrics.STANCE_UPDATES.labels(transition.outcome.value).inc()
        alert, entry = transition.alert, transition.outbox_entry
        if alert is None or entry is None:  # unchanged or stale
            return
        self._failpoints.reach(Point.AFTER_CAS)
        try:
            await self._sink.alert(alert)
        except Exception:  # the outbox keeps it and the sweep publishes it; go on
            log.exception("alert %s not published now; the outbox sweep will", alert.alert_id)
            return
        self._failpoints.reach(Point.AFTER_PUBLISH)
        now = time.time()
        metrics.ALERTS.labels(alert.government, alert.topic.value).inc()
        metrics.PUBLICATION_TO_ALERT_SECONDS.observe(max(0.0, now - alert.published_at.timestamp()))
        if timestamp is not None:
            metrics.KAFKA_TO_ALERT_SECONDS.observe(max(0.0, now - timestamp))
        await self._remember(alert)
        await self._retrying(lambda: self._stances.acknowledge(entry))

    async def _remember(self, alert: Alert) -> None:
        """Record a published alert in its statement's story chain, for the corroborations
        that follow: part of the stance step, retried on its client until Redis answers, and
        done before the outbox entry is acknowledged (so that a crash before it leaves the
        alert to the sweep, which records it). An error that trying again would not mend (a
        story key of another type) is logged, and the alert goes unrecorded. Outlets that
        joined the chain before (on another replica, while the alert was being published, or
        while it waited in the outbox) corroborate it now, when this call is the one that
        records it (a reply lost to a timeout leaves that to the next outlet, whose count is
        the whole)."""
        raised = f"{alert.government}:{alert.topic.value}|{alert.alert_id}"

        async def record() -> Chain | None:
            try:
                return await self._stories.raised(alert.story_id, raised_by(alert), raised)
            except ResponseError as exc:
                if is_outage(exc):
                    raise
                raise _NotRecorded(str(exc)) from exc

        try:
            chain = await self._retrying(record)
        except _NotRecorded as exc:
            log.error(
                "alert %s not recorded in its story, so not corroborated: %s", alert.alert_id, exc
            )
            return
        if chain is not None and chain.outlets > 1 and chain.latest is not None:
            await self._corroboration(
                alert.story_id, raised, chain, chain.latest, chain.latest_position
            )

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """Retry a stance call with exponential backoff until Redis (and, to rebuild a lost
        state, the broker) answers."""
        delay = 0.05
        while True:
            try:
                result = await call()
            except (RedisError, StateUnavailable) as exc:
                self._stance_outage.failed(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._stance_outage.answered()
            return result

    async def republish_pending(self, older_than_ms: int | None) -> int:
        """Publish outbox entries a crash or failure left unacknowledged; returns how many."""
        published = 0
        while True:
            entries = await self._stances.pending(older_than_ms)
            if not entries:
                return published
            for entry_id, alert in entries:
                await self._sink.alert(alert)
                await self._remember(alert)
                await self._stances.acknowledge(entry_id)
                metrics.OUTBOX_REPUBLISHED.inc()
                published += 1

    async def _dead_letter(self, message: Message, reason: DeadLetterReason, detail: str) -> None:
        raw, key = message.raw, message.key
        body = raw or b""
        kept = body[:DEAD_LETTER_RAW_BYTES]
        letter = DeadLetter(
            reason=reason,
            detail=detail,
            source_topic=self._source_topic,
            partition=message.partition,
            offset=message.offset,
            key_b64=None if key is None else base64.b64encode(key).decode(),
            raw_b64=base64.b64encode(kept).decode(),
            raw_bytes=len(body),
            raw_sha256=hashlib.sha256(body).hexdigest(),
            received_at=self._clock(),
            raw_truncated=len(kept) < len(body),
        )
        metrics.DEAD_LETTERS.labels(reason.value).inc()
        delay = 0.05
        while True:  # a message is committed once handled: it must be somewhere first
            try:
                await self._sink.dead_letter(key, letter)
                return
            except Exception as exc:
                log.error("dead letter not accepted by the broker, retrying: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


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


def _statement(
    headline: Headline, detection: Detection, story_id: str, detected_at: datetime
) -> Statement:
    return Statement(
        headline_id=headline.id,
        story_id=story_id,
        government=detection.government,
        topic=detection.topic,
        stance=detection.stance,
        speaker=detection.speaker,
        confidence=detection.confidence,
        evidence=detection.evidence,
        cue=detection.cue,
        speaker_phrase=detection.speaker_phrase,
        source=headline.source,
        published_at=headline.published_at,
        detected_at=detected_at,
    )
