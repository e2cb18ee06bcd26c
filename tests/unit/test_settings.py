"""Settings come from STANCEWIRE_* variables; Kafka security maps to each client's form."""

from __future__ import annotations

import faust
import pytest

from schemas.settings import ConnectionSettings, WorkerSettings, kafka_security
from streams.app import _credentials


def test_plaintext_by_default() -> None:
    assert ConnectionSettings().librdkafka() == {"security.protocol": "PLAINTEXT"}
    assert _credentials(WorkerSettings()) is None


def test_sasl_over_tls_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWIRE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("STANCEWIRE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("STANCEWIRE_KAFKA_SASL_USERNAME", "desk")
    monkeypatch.setenv("STANCEWIRE_KAFKA_SASL_PASSWORD", "s3cret")
    assert kafka_security() == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "desk",
        "sasl.password": "s3cret",
    }
    credentials = _credentials(WorkerSettings())
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.ssl_context is not None) == ("desk", True)


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWIRE_BOOTSTRAP", "kafka:9092")
    assert ConnectionSettings().bootstrap == "kafka:9092"
    assert ConnectionSettings(bootstrap="other:9092").bootstrap == "other:9092"


def test_an_unknown_protocol_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWIRE_KAFKA_SECURITY_PROTOCOL", "TLS")
    with pytest.raises(ValueError, match="kafka_security_protocol"):
        ConnectionSettings()


def test_no_password_in_the_settings_repr() -> None:
    """Settings end up in tracebacks and debug prints: the Kafka password is a secret and the
    Redis URL (which may carry one) is left out, while the clients still get both."""
    settings = ConnectionSettings(
        redis_url="redis://:redis-pass-0123@10.0.0.5:6379/0",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="worker",
        kafka_sasl_password="kafka-pass-4567",
    )
    assert "pass-" not in repr(settings) and "pass-" not in str(settings)
    assert settings.librdkafka()["sasl.password"] == "kafka-pass-4567"
    assert settings.redis_url.startswith("redis://:redis-pass-0123@")
