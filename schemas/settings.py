"""Process settings: one object per process, fed by ``STANCEWIRE_*`` environment variables.

Command-line flags override the environment by passing keyword arguments to the
constructor (pydantic-settings gives init arguments precedence over the environment).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConnectionSettings(BaseSettings):
    """Where the Kafka cluster and Redis are: what every process needs."""

    model_config = SettingsConfigDict(env_prefix="STANCEWIRE_", extra="ignore", frozen=True)

    bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, HOST:PORT[,...]")
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description="Redis URL (it may carry a password, so it is left out of the repr)",
        repr=False,
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = Field(None, description="CA bundle for TLS to the brokers")
    topic_replication_factor: int = Field(
        1, ge=1, description="Replication of the topics stancewire creates (3 on a cluster)"
    )

    def librdkafka(self) -> dict[str, str]:
        """The security part of a librdkafka (confluent-kafka) client's configuration."""
        config: dict[str, str] = {"security.protocol": self.kafka_security_protocol}
        if self.kafka_security_protocol.startswith("SASL"):
            config["sasl.mechanism"] = self.kafka_sasl_mechanism
            config["sasl.username"] = self.kafka_sasl_username or ""
            password = self.kafka_sasl_password
            config["sasl.password"] = password.get_secret_value() if password else ""
        if self.kafka_ssl_cafile:
            config["ssl.ca.location"] = self.kafka_ssl_cafile
        return config


def kafka_security() -> dict[str, str]:
    """The security configuration of this process's Kafka clients, from ``STANCEWIRE_KAFKA_*``
    (the only place it comes from: no command-line flag carries a password)."""
    return ConnectionSettings().librdkafka()


class GatewaySettings(ConnectionSettings):
    """The HTTP gateway (``stancewire gateway``): SSE, REST, the stance board."""

    host: str = Field("127.0.0.1", description="Address the gateway listens on")
    port: int = Field(8000, ge=0, le=65535)
    metrics_port: int = Field(9101, ge=0, le=65535, description="0 disables /metrics")
    metrics_host: str = Field("127.0.0.1", description="Address /metrics listens on")
    tokens_file: str | None = Field(
        None, description='Desks and their hashed tokens, JSON {"desks": [...]}'
    )
    tokens_json: str | None = Field(
        None, description="The same as tokens_file, inline (STANCEWIRE_TOKENS_JSON)"
    )
    fetch_wait_seconds: float = Field(
        0.01, gt=0, le=1.0, description="Fetch wait of the alert readers (see the worker's)"
    )
    webhook_allow_private: bool = Field(
        False,
        description="Let desks subscribe webhooks on private or loopback addresses (one "
        "machine, tests); off, such a subscription is refused",
    )
    max_streams_per_desk: int = Field(
        20, ge=1, description="SSE streams one desk may hold open at once on a replica"
    )
    keepalive_seconds: float = Field(
        15.0, gt=0, description="Comment lines sent on an idle SSE stream, so proxies keep it"
    )


class DispatcherSettings(ConnectionSettings):
    """The webhook dispatcher (``stancewire dispatcher``)."""

    metrics_port: int = Field(9102, ge=0, le=65535, description="0 disables /metrics")
    metrics_host: str = Field("127.0.0.1", description="Address /metrics listens on")
    subscriptions_file: str | None = Field(
        None, description='Subscriptions loaded at start, JSON {"subscriptions": [...]}'
    )
    group_id: str = Field("stancewire-dispatcher", description="Kafka consumer group")
    timeout_seconds: float = Field(5.0, gt=0, description="Per POST")
    max_attempts: int = Field(8, ge=1, description="Then the delivery is dead-lettered")
    backoff_seconds: float = Field(0.5, gt=0, description="First retry delay; doubles, jittered")
    max_backoff_seconds: float = Field(
        60.0, gt=0, description="Longest wait between two attempts (Retry-After included)"
    )
    fetch_wait_seconds: float = Field(
        0.01, gt=0, le=1.0, description="Fetch wait of the alerts consumer (see the worker's)"
    )
    session_timeout_seconds: float = Field(
        6.0, gt=0, description="Consumer session timeout; a group join takes about half of it"
    )
    lease_seconds: float = Field(
        10.0, gt=0, description="Lease on a subscription's queue: one replica delivers it"
    )
    reload_seconds: float = Field(
        2.0, gt=0, description="How often subscriptions are reloaded from Redis"
    )
    seen_ttl_seconds: int = Field(
        7 * 24 * 3600,
        gt=0,
        description="How long an alert id is remembered per subscription (no second enqueue)",
    )


class PushSettings(ConnectionSettings):
    """HTTP push of headlines (``stancewire ingest http``)."""

    host: str = Field("127.0.0.1", description="Address the endpoint listens on")
    port: int = Field(8001, ge=0, le=65535)
    metrics_port: int = Field(9104, ge=0, le=65535, description="0 disables /metrics")
    metrics_host: str = Field("127.0.0.1", description="Address /metrics listens on")
    tokens_file: str | None = Field(None, description="Producers and hashed tokens, JSON")
    tokens_json: str | None = Field(None, description="The same, inline")
    max_body_bytes: int = Field(1024 * 1024, gt=0, description="Larger requests get 413")
    max_batch: int = Field(1000, ge=1, description="Headlines in one request at most")


class FeedsSettings(ConnectionSettings):
    """The feed poller (``stancewire ingest feeds CONFIG``)."""

    metrics_port: int = Field(9103, ge=0, le=65535, description="0 disables /metrics")
    metrics_host: str = Field("127.0.0.1", description="Address /metrics listens on")
    max_body_bytes: int = Field(
        10 * 1024 * 1024, gt=0, description="A larger feed body is refused (and counted)"
    )
    concurrency: int = Field(32, ge=1, description="Feeds fetched at once")
    max_backoff_seconds: float = Field(
        1800.0,
        gt=0,
        description="Longest wait before retrying a failing feed (or its interval, if longer); "
        "the wait doubles from twice the interval on each consecutive failure, jittered",
    )
    sent_ttl_seconds: int = Field(
        30 * 24 * 3600,
        gt=0,
        description="How long a sent item is remembered after its feed last carried it",
    )
    sent_cap: int = Field(
        10_000, ge=1, description="Most sent item ids remembered per feed (least recently seen go)"
    )
    delivery_timeout_seconds: float = Field(
        30.0, gt=0, description="Longest wait for the broker to acknowledge a produced headline"
    )
    user_agent: str = Field(
        "stancewire-feeds/0.1",
        min_length=1,
        description="User-Agent of every feed request (a feed's own headers may override it)",
    )


class WorkerSettings(ConnectionSettings):
    """The stream worker (``stancewire worker``)."""

    metrics_port: int = Field(9100, ge=0, le=65535, description="0 disables /metrics")
    metrics_host: str = Field("127.0.0.1", description="Address /metrics listens on")
    group_id: str = Field("stancewire-worker", description="Kafka consumer group of the workers")
    session_timeout_seconds: float = Field(
        6.0,
        gt=0,
        description="Consumer session timeout; a group join takes about half of it on tansu",
    )
    heartbeat_interval_seconds: float = Field(1.5, gt=0)
    commit_interval_seconds: float = Field(1.0, gt=0)
    fetch_wait_seconds: float = Field(
        0.5,
        ge=0,
        le=1.0,
        description="Longest a fetch waits for records. Kafka wakes a waiting fetch when "
        "records arrive, so any wait is fast there; the embedded broker does not, so the "
        "embedded runtime sets 0.01 (see DESIGN.md)",
    )
    max_message_bytes: int = Field(
        64 * 1024, gt=0, description="Larger messages are dead-lettered without being parsed"
    )
    dedup_ttl_seconds: int = Field(
        24 * 3600, gt=0, description="How long an exact duplicate is remembered"
    )
    near_dup_ttl_seconds: int = Field(
        24 * 3600, gt=0, description="How long a headline stays a near-duplicate candidate"
    )
    near_dup_window_seconds: int = Field(
        24 * 3600,
        gt=0,
        description="Most time between two headlines' publication for them to be one story",
    )
    near_dup_min_bands: int = Field(
        4, ge=1, le=16, description="MinHash bands two headlines must share to be one story"
    )
    story_ttl_seconds: int = Field(
        48 * 3600, gt=0, description="How long a story chain is kept after its last report"
    )
    screen_batch_max: int = Field(
        1,
        ge=1,
        le=1024,
        description="Most headlines screened together, with one dedup round trip for all: "
        "more throughput from a backlog, at the cost of up to screen_batch_wait_seconds of "
        "latency per headline when the wire is quiet (1: each headline as it comes)",
    )
    screen_batch_wait_seconds: float = Field(
        0.005,
        gt=0,
        le=1,
        description="Longest a batch waits to fill before it is screened (screen_batch_max > 1)",
    )
    dedup_timeout_seconds: float = Field(
        0.05,
        gt=0,
        description="Redis timeout of the dedup step (of each read, and of the replies to "
        "each 32 checks of a batch); past it dedup is skipped (fails open)",
    )
    outbox_sweep_seconds: float = Field(
        5.0, gt=0, description="How often unacknowledged outbox entries are republished"
    )
    outbox_min_age_seconds: float = Field(
        10.0,
        ge=0,
        description="An outbox entry younger than this is left to the worker publishing it",
    )
    redis_timeout_seconds: float = Field(2.0, gt=0)
    history_idle_seconds: float = Field(
        1.0,
        gt=0,
        description="Rebuilding the stance state, the alerts topic is read until it has "
        "been idle this long (the embedded broker's end offsets cannot be trusted)",
    )
    failpoints: str = Field(
        "",
        pattern=r"^([a-z_]+(=[0-9]+)?(,[a-z_]+(=[0-9]+)?)*)?$",
        description="For the fault suite only: 'point=N,...' makes the worker SIGKILL "
        "itself the N-th time it reaches a point (before_cas, after_cas, after_publish)",
    )
    lexicon_path: str | None = Field(
        None,
        description="Detection lexicon (JSON Lines); the packaged one when unset. Reloaded "
        "on SIGHUP and when the file changes; an invalid file is refused and the old kept",
    )
