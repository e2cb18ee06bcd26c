"""The worker's Prometheus metrics: base units, ``_total``/``_seconds``, labels set at zero."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

from schemas import DeadLetterReason, Speaker, Stance, Topic

HEADLINE_OUTCOMES = ("invalid", "duplicate", "irrelevant", "relevant", "failed")

HEADLINES = Counter("stancewire_headlines_total", "Headlines screened, by outcome", ["outcome"])
HEADLINES_BY_SOURCE = Counter(
    "stancewire_headlines_by_source_total",
    "Valid headlines screened, by source (the first MAX_SOURCES sources; then 'other')",
    ["source"],
)
MAX_SOURCES = 200
"""Sources get their own label up to this many, so a flood of new names cannot grow the
series without bound."""
_sources: set[str] = set()


def count_source(source: str) -> None:
    if source not in _sources and len(_sources) < MAX_SOURCES:
        _sources.add(source)
    HEADLINES_BY_SOURCE.labels(source if source in _sources else "other").inc()


DEAD_LETTERS = Counter(
    "stancewire_dead_letters_total", "Messages sent to headlines.dlq, by reason", ["reason"]
)
DUPLICATES = Counter(
    "stancewire_duplicates_total", "Headlines suppressed as duplicates, by layer", ["layer"]
)
DEDUP_SKIPPED = Counter(
    "stancewire_dedup_skipped_total",
    "Headlines let through unchecked because Redis failed at dedup (failing open)",
)
CORROBORATIONS = Counter(
    "stancewire_corroborations_total", "Corroborations of alerts published (a new outlet)"
)
STATEMENTS = Counter(
    "stancewire_statements_total",
    "Statements detected, by topic, stance and speaker",
    ["topic", "stance", "speaker"],
)
STANCE_UPDATES = Counter(
    "stancewire_stance_updates_total",
    "Government statements applied to the stance state, by outcome (changed, unchanged, stale)",
    ["outcome"],
)
ALERTS = Counter(
    "stancewire_alerts_total", "Alerts published (stance changes)", ["government", "topic"]
)
OUTBOX_REPUBLISHED = Counter(
    "stancewire_outbox_republished_total",
    "Alerts republished from the outbox after a crash or failure",
)
STATE_REBUILDS = Counter(
    "stancewire_state_rebuilds_total",
    "Stance state rebuilt from the alerts topic because Redis came back without it",
)
REDIS_ERRORS = Counter(
    "stancewire_redis_errors_total", "Redis calls that failed, by stage", ["stage"]
)
ASSIGNED_PARTITIONS = Gauge(
    "stancewire_assigned_partitions",
    "Partitions of headlines this worker consumes (0: idle replica or not yet joined)",
)
KAFKA_ERRORS = Counter(
    "stancewire_kafka_errors_total", "Kafka operations that failed", ["operation"]
)
KAFKA_TO_ALERT_SECONDS = Histogram(
    "stancewire_kafka_to_alert_seconds",
    "From the headline's timestamp on Kafka to its alert acknowledged on Kafka",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PUBLICATION_TO_ALERT_SECONDS = Histogram(
    "stancewire_publication_to_alert_seconds",
    "From the headline's published_at to its alert on Kafka (news travel included)",
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600),
)
CONSUMER_LAG = Gauge(
    "stancewire_consumer_lag",
    "Records of a topic partition not yet processed, from the last fetch's high watermark",
    ["topic", "partition"],
)
LEXICON_RELOADS = Counter(
    "stancewire_lexicon_reloads_total",
    "Lexicon reloads, by outcome (loaded, or rejected: invalid, the old one kept)",
    ["outcome"],
)
PROCESSING_SECONDS = Histogram(
    "stancewire_processing_seconds",
    "Time to screen one headline, from receipt by the agent to its alerts acknowledged "
    "(screened in batches: its share of its batch)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


def initialise() -> None:
    """Create every label combination at zero, so rates exist before the first event."""
    for outcome in HEADLINE_OUTCOMES:
        HEADLINES.labels(outcome)
    for reason in DeadLetterReason:
        DEAD_LETTERS.labels(reason.value)
    for layer in ("exact", "near"):
        DUPLICATES.labels(layer)
    for topic in Topic:
        for stance in Stance:
            for speaker in Speaker:
                STATEMENTS.labels(topic.value, stance.value, speaker.value)
    for outcome in ("changed", "unchanged", "stale"):
        STANCE_UPDATES.labels(outcome)
    for stage in ("dedup", "stories", "stance"):
        REDIS_ERRORS.labels(stage)
    KAFKA_ERRORS.labels("produce")
    for outcome in ("loaded", "rejected"):
        LEXICON_RELOADS.labels(outcome)


def initialise_governments(governments: Iterable[str]) -> None:
    """Alert counters at zero for every government the lexicon knows."""
    for government in governments:
        for topic in Topic:
            ALERTS.labels(government, topic.value)
