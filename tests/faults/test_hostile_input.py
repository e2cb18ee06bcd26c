"""Hostile input: ten thousand generated messages, valid and bad, through one real worker.

Why: the worker's promise (streams/screen.py) is that no message can stop it and that each
message is accounted for exactly once: a valid headline is screened (relevant, irrelevant or
a duplicate), a bad one is dead-lettered whole, with a reason. Hand-picked bad inputs only
show the cases someone thought of; here Hypothesis generates them (random bytes, deep JSON,
huge messages, wrong types, near-valid headlines with one defect, control characters, other
encodings, null values) mixed with valid headlines that are hostile in their own way (control
characters in the text, fields at their length limits, a message exactly at the size limit,
the years 1 and 9999). Each message's label comes from the contract by construction
(tests/faults/hostile.py), never from the project's validator, so the validator is checked
rather than trusted: first message by message at unit level, then as a run of more than ten
thousand through the real broker, Redis and worker, where every count must match exactly.

Generation is seeded, so every run sends the same messages.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from urllib.error import URLError
from urllib.request import urlopen

import pytest
from confluent_kafka import KafkaError, Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import DEAD_LETTERS, HEADLINES, DeadLetter, Headline
from schemas.settings import WorkerSettings
from stancewire import kafka
from stancewire.runtime import Child, Stack, free_port, wait_until
from streams.screen import _decode
from tests.faults.hostile import (
    MAX_MESSAGE_BYTES,
    RELEVANT,
    Corpus,
    Draft,
    Sample,
    corpus,
    drafts,
    edge_times,
)
from tests.integration.wire import read_topic

VALID_OUTCOMES = ("relevant", "irrelevant", "duplicate")


@settings(
    database=None,
    derandomize=True,
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(draft=st.one_of(drafts, st.sampled_from(edge_times())), serial=st.integers(0, 10**9))
def test_decoding_gives_every_generated_message_its_label(draft: Draft, serial: int) -> None:
    """The worker's decoding never raises: a valid headline decodes, a bad message gets one
    of the dead-letter reasons its construction allows, with a detail."""
    sample = draft.render(serial)
    decoded = _decode(sample.value, MAX_MESSAGE_BYTES)
    if sample.valid:
        assert isinstance(decoded, Headline), (sample.category, decoded)
        return
    assert not isinstance(decoded, Headline), (sample.category, sample.value)
    reason, detail = decoded
    assert reason.value in sample.reasons, (sample.category, reason.value, detail)
    assert detail


# --- the run through the real pipeline ---------------------------------------------------

_SAMPLE = re.compile(r'^(?P<name>\w+)\{\w+="(?P<label>[^"]*)"\} (?P<value>\S+)$')


def by_label(port: int, name: str) -> dict[str, float]:
    """A labelled counter's samples on a process's /metrics (empty when it does not answer)."""
    try:
        body = urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except (URLError, OSError):
        return {}
    found: dict[str, float] = {}
    for line in body.splitlines():
        match = _SAMPLE.match(line)
        if match and match["name"] == name:
            found[match["label"]] = float(match["value"])
    return found


def gauge(port: int, name: str) -> float:
    """An unlabelled metric's value (0 when the process does not answer)."""
    try:
        body = urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except (URLError, OSError):
        return 0.0
    values = [float(line.split()[1]) for line in body.splitlines() if line.startswith(f"{name} ")]
    return values[0] if values else 0.0


def outcomes(port: int) -> Counter[str]:
    return Counter({k: int(v) for k, v in by_label(port, "stancewire_headlines_total").items()})


def produce(bootstrap: str, samples: Sequence[Sample]) -> list[tuple[int, int]]:
    """Send every sample's key and value (a null value too) to ``headlines``; returns the
    (partition, offset) of each, in the samples' order, once the broker has them all."""
    client = kafka.producer(bootstrap)
    positions: dict[int, tuple[int, int]] = {}
    errors: list[str] = []

    def delivered(index: int, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            errors.append(str(error))
            return
        partition, offset = message.partition(), message.offset()
        assert partition is not None and offset is not None
        positions[index] = (partition, offset)

    for index, sample in enumerate(samples):
        client.produce(
            HEADLINES.name,
            value=sample.value,
            key=sample.key,
            on_delivery=partial(delivered, index),
        )
        client.poll(0)
    remaining = client.flush(120)
    assert not errors and not remaining, f"not acknowledged: {errors[:3]}, {remaining} queued"
    assert len(positions) == len(samples)
    return [positions[index] for index in range(len(samples))]


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@dataclass(frozen=True)
class Run:
    stack: Stack
    worker: Child
    metrics_port: int
    sent: Corpus


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    """A stack and worker of its own (counts are exact only if nothing else feeds them);
    the messages are generated while the worker joins its group."""
    with Stack() as stack:
        port = free_port()
        worker = stack.start_worker(
            metrics_port=port,
            name="hostile-worker",
            env={"STANCEWIRE_MAX_MESSAGE_BYTES": str(MAX_MESSAGE_BYTES)},
        )
        sent = corpus()
        wait_until(
            lambda: gauge(port, "stancewire_assigned_partitions") == HEADLINES.partitions,
            90,
            "the worker to take every partition of headlines",
            worker,
        )
        yield Run(stack, worker, port, sent)


@pytest.mark.integration
def test_ten_thousand_hostile_messages_are_each_counted_once(run: Run) -> None:
    samples = run.sent.samples
    valid = [s for s in samples if s.valid]
    bad = [s for s in samples if not s.valid]
    assert len(samples) >= 10_000 and len(valid) > 4_000 and len(bad) > 4_000

    started = time.monotonic()
    offsets = produce(run.stack.bootstrap, samples)
    produced_after = time.monotonic() - started
    settings_ = WorkerSettings(bootstrap=run.stack.bootstrap, redis_url=run.stack.redis_url)
    group = kafka.GroupProgress(run.stack.bootstrap, settings_.group_id)
    try:
        wait_until(
            lambda: group.passed(offsets),
            300,
            "the worker to commit past every message",
            run.worker,
        )
    finally:
        group.close()
    drained_after = time.monotonic() - started
    counts = outcomes(run.metrics_port)
    tail = run.worker.log_tail(40)

    assert run.worker.alive(), tail
    assert counts["failed"] == 0, tail
    assert sum(counts[o] for o in VALID_OUTCOMES) == len(valid), (counts, len(valid))
    assert counts["invalid"] == len(bad), (counts, len(bad))
    assert counts["relevant"] > 0

    # Copies under new ids make duplicates. How many is dedup's business (tests/integration/
    # test_stories, the pair set): only headlines that say something are checked, against
    # the last claimant of the text within a window of event time, and this corpus repeats
    # a few texts over weeks in shuffled order.
    assert counts["duplicate"] > 0, counts

    letters = [
        DeadLetter.model_validate_json(value)
        for _, value in read_topic(run.stack.bootstrap, DEAD_LETTERS.name, idle_seconds=2.0)
    ]
    assert len(letters) == len(bad)
    # Each bad message is dead-lettered once, whole, with its key, and a reason its
    # construction allows; each dead letter points at the record it came from.
    by_position = {(letter.partition, letter.offset): letter for letter in letters}
    assert len(by_position) == len(letters)
    wrong = []
    for sample, position in zip(samples, offsets, strict=True):
        if sample.valid:
            assert position not in by_position, (sample.category, sample.value)
            continue
        letter = by_position[position]
        raw = base64.b64decode(letter.raw_b64)
        assert raw == sample.raw, sample.category
        assert (letter.raw_sha256, letter.raw_bytes) == (sha(raw), len(raw))
        assert letter.key_b64 == (None if sample.key is None else b64(sample.key))
        assert letter.source_topic == HEADLINES.name and letter.detail
        if letter.reason.value not in sample.reasons:
            wrong.append((sample.category, letter.reason.value, letter.detail[:100], raw[:60]))
    assert not wrong, wrong[:10]
    dead_letter_metric = by_label(run.metrics_port, "stancewire_dead_letters_total")
    assert Counter(letter.reason.value for letter in letters) == Counter(
        {k: int(v) for k, v in dead_letter_metric.items() if v}
    )

    # And the worker goes on: one more headline is screened.
    after = json.dumps(
        {
            "id": "after-the-storm",
            "text": RELEVANT[0],
            "source": "Reuters",
            "published_at": "2031-01-01T00:00:00+00:00",
        }
    ).encode()
    kafka.produce_headlines(run.stack.bootstrap, [(b"after-the-storm", after)])
    wait_until(
        lambda: sum(outcomes(run.metrics_port)[o] for o in VALID_OUTCOMES) == len(valid) + 1,
        60,
        "the worker to screen a headline after the hostile run",
        run.worker,
    )
    final = outcomes(run.metrics_port)
    assert final["failed"] == 0 and final["invalid"] == len(bad)
    assert run.worker.alive()
    print(  # the summary, for -s and for CI logs of a failure
        f"\n{len(samples)} messages ({len(valid)} valid, {len(bad)} bad, "
        f"{sum(len(s.raw) for s in samples) / 1e6:.0f} MB) produced in {produced_after:.1f}s, "
        f"drained in {drained_after:.1f}s; outcomes {dict(final)}; "
        f"dead letters {dict(Counter(letter.reason.value for letter in letters))}"
    )


BIGGEST_FETCH = 8 * 1024 * 1024
"""What the worker fetches and produces at most (``streams.app.MAX_PRODUCE_BYTES``)."""


@pytest.mark.integration
def test_a_message_too_large_to_dead_letter_whole_does_not_stall_its_partition(run: Run) -> None:
    """A 7 MB message: the embedded broker takes it (so does Kafka, for a topic whose limit
    was raised) and the worker fetches up to 8 MB, but a letter carrying it whole in base64
    would be over 9 MB, which the broker always refuses. Its letter carries the first 4 MiB,
    flagged, with the size and sha256 of the whole; the message behind it is screened. Runs
    after the big run, on its worker, and watches the worker's log so that a regression
    shows in seconds instead of at a deadline."""
    port = run.metrics_port
    before = outcomes(port)
    log_start = run.worker.log_path.stat().st_size
    size = 7_000_000
    assert MAX_MESSAGE_BYTES < size < BIGGEST_FETCH
    huge = b'{"id": "huge", "source": "x", "text": "' + b"x" * size + b'"}'
    after = json.dumps(
        {
            "id": "after-huge",
            "text": RELEVANT[2],
            "source": "Reuters",
            "published_at": "2031-01-02T00:00:00+00:00",
        }
    ).encode()
    kafka.produce_headlines(run.stack.bootstrap, [(b"huge", huge), (b"after-huge", after)], 0)

    def refused() -> bool:
        with run.worker.log_path.open("rb") as log:
            log.seek(log_start)
            return b"dead letter not accepted" in log.read()

    def both_counted() -> bool:
        return sum(outcomes(port).values()) >= sum(before.values()) + 2

    wait_until(
        lambda: both_counted() or refused(),
        120,
        "the worker to screen the huge message and the one after it",
        run.worker,
    )
    assert not refused(), run.worker.log_tail(5)
    counts = outcomes(port)
    assert counts["invalid"] == before["invalid"] + 1, run.worker.log_tail(2)
    assert sum(counts[o] for o in VALID_OUTCOMES) == sum(before[o] for o in VALID_OUTCOMES) + 1
    assert counts["failed"] == 0
    [letter] = [
        letter
        for _, value in read_topic(run.stack.bootstrap, DEAD_LETTERS.name, idle_seconds=2.0)
        if (letter := DeadLetter.model_validate_json(value)).raw_bytes == len(huge)
    ]
    kept = base64.b64decode(letter.raw_b64)
    assert letter.raw_truncated and letter.reason.value == "too_large"
    assert huge.startswith(kept) and len(kept) == 4 * 1024 * 1024
    assert letter.raw_sha256 == sha(huge)
