"""Security without processes: the static checks are on, Kafka's SASL and TLS settings reach
both Kafka clients (librdkafka and Faust's aiokafka), and the replay guard of the webhook
verifier holds what it should and no more.

What tests/unit/test_settings.py and tests/unit/test_webhooks.py already check (SASL over
TLS from the environment, a wrong secret, a stale timestamp, a tampered body) is not
repeated here.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, cast

import faust
import pytest
from confluent_kafka import KafkaException, Producer
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from consumers.webhooks import TIMESTAMP_HEADER, ReplayGuard, signature_header, verify
from schemas.settings import ConnectionSettings, WorkerSettings, kafka_security
from streams.app import _credentials, faust_app

ROOT = Path(__file__).parents[2]
USER = "stancewire-svc"
PASSWORD = f"kafka-pw-{secrets.token_hex(8)}"
SECRET = "whsec-0123456789abcdef"
BODY = b'{"alert_id":"a1","kind":"stance_change","government":"JP","to":"rules_out"}'

# --- a certificate of our own --------------------------------------------------------------


def self_signed(directory: Path, name: str = "127.0.0.1") -> tuple[Path, Path, str]:
    """A fresh self-signed certificate for ``name`` (its own CA) and its key, made with the
    openssl command; the certificate's unique common name is returned too."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a test certificate")
    common_name = f"stancewire-test-{secrets.token_hex(4)}"
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", f"/CN={common_name}",
         "-addext", f"subjectAltName=IP:{name},DNS:localhost",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key, common_name


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    cert, _key, common_name = self_signed(tmp_path_factory.mktemp("tls"))
    return cert, common_name


def loaded_names(context: Any) -> set[str]:
    """Common names of the CA certificates an ``ssl.SSLContext`` loaded from its CA file."""
    return {
        value
        for ca in context.get_ca_certs()
        for rdn in ca["subject"]
        for key, value in rdn
        if key == "commonName"
    }


# --- static checks ---------------------------------------------------------------------------


def test_the_security_rules_are_on_and_product_code_passes_them() -> None:
    """``make lint`` (so ``make test``) runs ruff with flake8-bandit's rules: product code has
    no finding, and no product module silences the whole family."""
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    assert not any(code == "S" or code.startswith("S") for code in lint.get("ignore", []))
    for path, codes in lint.get("per-file-ignores", {}).items():
        assert "S" not in codes, f"{path} ignores every security rule"
        if not path.startswith(("tests/", "bench/")):
            assert all(re.fullmatch(r"S\d{3}", code) for code in codes if code.startswith("S"))
    ruff = Path(sys.executable).parent / "ruff"
    found = subprocess.run(
        [str(ruff), "check", "--select", "S", "--output-format", "json",
         "schemas", "streams", "consumers", "producers", "stancewire"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    findings = [f"{f['filename']}:{f['code']}" for f in json.loads(found.stdout or "[]")]
    assert findings == [], findings


# --- Kafka: SASL and TLS reach librdkafka ----------------------------------------------------


def test_tls_alone_reaches_librdkafka_without_sasl_keys(certificate: tuple[Path, str]) -> None:
    cert, _ = certificate
    config = ConnectionSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(cert))
    assert config.librdkafka() == {"security.protocol": "SSL", "ssl.ca.location": str(cert)}
    # librdkafka itself takes it, and reads the CA file: a missing one is refused.
    Producer({"bootstrap.servers": "127.0.0.1:9", "log_level": 0, **config.librdkafka()})
    missing = ConnectionSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=f"{cert}.gone")
    with pytest.raises(KafkaException, match=r"ssl\.ca\.location"):
        Producer({"bootstrap.servers": "127.0.0.1:9", "log_level": 0, **missing.librdkafka()})


def test_sasl_without_tls_reaches_librdkafka(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCEWIRE_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("STANCEWIRE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("STANCEWIRE_KAFKA_SASL_USERNAME", USER)
    monkeypatch.setenv("STANCEWIRE_KAFKA_SASL_PASSWORD", PASSWORD)
    config = kafka_security()
    assert config == {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-256",
        "sasl.username": USER,
        "sasl.password": PASSWORD,
    }
    Producer({"bootstrap.servers": "127.0.0.1:9", "log_level": 0, **config})


def test_the_ca_file_from_the_environment_reaches_librdkafka(
    monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, str]
) -> None:
    cert, _ = certificate
    monkeypatch.setenv("STANCEWIRE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("STANCEWIRE_KAFKA_SSL_CAFILE", str(cert))
    assert kafka_security()["ssl.ca.location"] == str(cert)


# --- Kafka: SASL and TLS reach Faust's aiokafka clients --------------------------------------


def aiokafka_auth(settings: WorkerSettings) -> dict[str, Any]:
    """The keyword arguments Faust gives its aiokafka consumers and producer, taken from the
    worker's own Faust app as it is built."""
    app = faust_app(settings)
    return dict(credentials_to_aiokafka_auth(app.conf.broker_credentials))


def test_tls_alone_reaches_aiokafka_with_our_ca(certificate: tuple[Path, str]) -> None:
    cert, common_name = certificate
    settings = WorkerSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(cert))
    auth = aiokafka_auth(settings)
    assert auth["security_protocol"] == "SSL"
    assert "sasl_plain_password" not in auth
    context = auth["ssl_context"]
    assert common_name in loaded_names(context)
    assert context.check_hostname and context.verify_mode.name == "CERT_REQUIRED"


def test_sasl_reaches_aiokafka_with_and_without_tls(certificate: tuple[Path, str]) -> None:
    cert, common_name = certificate

    def sasl(protocol: Literal["SASL_PLAINTEXT", "SASL_SSL"], ca: str | None) -> WorkerSettings:
        return WorkerSettings(
            kafka_security_protocol=protocol,
            kafka_sasl_mechanism="SCRAM-SHA-256",
            kafka_sasl_username=USER,
            kafka_sasl_password=PASSWORD,
            kafka_ssl_cafile=ca,
        )

    plain = aiokafka_auth(sasl("SASL_PLAINTEXT", None))
    assert plain == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": USER,
        "sasl_plain_password": PASSWORD,
        "ssl_context": None,
    }
    over_tls = aiokafka_auth(sasl("SASL_SSL", str(cert)))
    assert over_tls["security_protocol"] == "SASL_SSL"
    assert over_tls["sasl_plain_password"] == PASSWORD
    assert common_name in loaded_names(over_tls["ssl_context"])


def test_a_bad_ca_file_stops_the_worker_rather_than_trusting_anything(tmp_path: Path) -> None:
    not_a_certificate = tmp_path / "ca.pem"
    not_a_certificate.write_text("not a certificate\n")
    with pytest.raises(ssl.SSLError, match=r"(?i)certificate"):
        _credentials(
            WorkerSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(not_a_certificate))
        )
    with pytest.raises(FileNotFoundError):
        _credentials(
            WorkerSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(tmp_path / "x"))
        )


def test_the_worker_credentials_never_show_the_password() -> None:
    """What a log line or a traceback would print of them."""
    credentials = _credentials(
        WorkerSettings(
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_username=USER,
            kafka_sasl_password=PASSWORD,
        )
    )
    assert isinstance(credentials, faust.SASLCredentials)
    assert PASSWORD not in repr(credentials) and PASSWORD not in str(credentials)


# --- the webhook replay guard ----------------------------------------------------------------


def signed(timestamp: int, body: bytes = BODY) -> tuple[str, str]:
    return str(timestamp), signature_header([SECRET], timestamp, body)


def test_the_same_signed_request_is_accepted_once() -> None:
    guard = ReplayGuard()
    now = int(time.time())
    ts, sig = signed(now)
    assert verify([SECRET], ts, sig, BODY, replay_guard=guard)
    assert not verify([SECRET], ts, sig, BODY, replay_guard=guard)  # the replay
    # The same request with its timestamp written differently is the same request.
    assert not verify([SECRET], f"0{ts}", sig, BODY, replay_guard=guard)
    assert not verify([SECRET], f" {ts} ", sig, BODY, replay_guard=guard)
    # A retry is signed anew, with a later timestamp: accepted.
    ts2, sig2 = signed(now + 1)
    assert verify([SECRET], ts2, sig2, BODY, replay_guard=guard)
    # Another alert at the same second: accepted.
    other = BODY.replace(b"a1", b"a2")
    assert verify([SECRET], *signed(now, other), other, replay_guard=guard)
    # Without a guard, verification alone cannot tell (what the guard is for).
    assert verify([SECRET], ts, sig, BODY)


def test_a_forged_request_neither_enters_the_guard_nor_blocks_the_genuine_one() -> None:
    guard = ReplayGuard()
    now = int(time.time())
    ts, sig = signed(now)
    forged = signature_header(["not-the-secret-0000"], now, BODY)
    assert not verify([SECRET], ts, forged, BODY, replay_guard=guard)
    assert len(guard) == 0
    assert verify([SECRET], ts, sig, BODY, replay_guard=guard)


def test_the_guard_forgets_what_the_timestamp_check_refuses_anyway() -> None:
    guard = ReplayGuard()
    start = 1_800_000_000
    for i in range(50):
        body = BODY.replace(b"a1", f"a-{i}".encode())
        assert verify([SECRET], *signed(start + i, body), body, now=start + i, replay_guard=guard)
    assert len(guard) == 50
    # Ten minutes on, the window holds none of them: one new request, and the rest are gone.
    later = start + 600
    assert verify([SECRET], *signed(later), BODY, now=later, replay_guard=guard)
    assert len(guard) == 1
    # And the first request, replayed now, is refused as stale.
    first = BODY.replace(b"a1", b"a-0")
    assert not verify([SECRET], *signed(start, first), first, now=later, replay_guard=guard)


def test_a_replay_raced_against_the_original_wins_once() -> None:
    guard = ReplayGuard()
    ts, sig = signed(int(time.time()))
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def deliver() -> None:
        barrier.wait()
        results.append(verify([SECRET], ts, sig, BODY, replay_guard=guard))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def documented(heading: str, name: str) -> Callable[..., bool]:
    """A function from a Python snippet of docs/webhooks.md, run as it is written."""
    text = (ROOT / "docs" / "webhooks.md").read_text()
    match = re.search(rf"### {re.escape(heading)}.*?```python\n(.*?)```", text, re.S)
    assert match, f"docs/webhooks.md has no Python snippet under {heading!r}"
    namespace: dict[str, object] = {}
    exec(match.group(1), namespace)
    return cast(Callable[..., bool], namespace[name])


def test_the_documented_replay_check_agrees_with_the_library() -> None:
    verify_stancewire = documented("Verifying, in Python", "verify_stancewire")
    first_time = documented("Rejecting replays", "first_time")
    now = int(time.time())
    ts, sig = signed(now)
    headers = {TIMESTAMP_HEADER: ts}
    assert verify_stancewire([SECRET], headers[TIMESTAMP_HEADER], sig, BODY)
    assert first_time(ts, BODY)
    assert not first_time(ts, BODY)
    assert first_time(str(now + 1), BODY)
