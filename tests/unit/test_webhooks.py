"""Webhook signing, verification, classification of results, and the backoff."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from typing import cast

import pytest

from consumers.webhooks import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Outcome,
    backoff,
    classify,
    parse_retry_after,
    signature,
    signed_headers,
    verify,
)

OLD = "old-secret-0123456789"
NEW = "new-secret-9876543210"
BODY = b'{"alert_id":"a1","kind":"stance_change","government":"JP","from":"open"}'
DOCS = Path(__file__).parents[2] / "docs" / "webhooks.md"

Verifier = Callable[[list[str], str, str, bytes], bool]


def documented_verifier() -> Verifier:
    """The verification snippet desks paste from docs/webhooks.md, run as it is written."""
    match = re.search(r"### Verifying, in Python.*?```python\n(.*?)```", DOCS.read_text(), re.S)
    assert match, "docs/webhooks.md has no Python verification snippet"
    namespace: dict[str, object] = {}
    exec(match.group(1), namespace)
    return cast(Verifier, namespace["verify_stancewire"])


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(OLD.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(OLD, 1700000000, BODY) == expected


def test_headers_carry_the_idempotency_key_timestamp_and_one_signature_per_secret() -> None:
    headers = signed_headers([OLD, NEW], "a1", BODY, 1700000000)
    assert headers["Content-Type"] == "application/json"
    assert headers[IDEMPOTENCY_HEADER] == "a1"
    assert headers[TIMESTAMP_HEADER] == "1700000000"
    assert headers[SIGNATURE_HEADER] == (
        f"v1={signature(OLD, 1700000000, BODY)},v1={signature(NEW, 1700000000, BODY)}"
    )


@pytest.mark.parametrize("verifier", ["library", "documented"])
def test_verification(verifier: str) -> None:
    check: Verifier = documented_verifier() if verifier == "documented" else verify
    now = int(time.time())
    rotating = signed_headers([OLD, NEW], "a1", BODY, now)
    ts, sig = rotating[TIMESTAMP_HEADER], rotating[SIGNATURE_HEADER]
    # During a rotation either secret verifies (a receiver on the old or the new one).
    assert check([OLD], ts, sig, BODY)
    assert check([NEW], ts, sig, BODY)
    assert check([NEW, OLD], ts, sig, BODY)
    assert not check(["some-other-secret-000"], ts, sig, BODY)
    # A tampered body fails.
    assert not check([OLD], ts, sig, BODY.replace(b"open", b"acting"))
    # The timestamp is signed: a replay under a fresh timestamp fails...
    assert not check([OLD], str(now + 1), sig, BODY)
    # ...and an old request, correctly signed, is refused as stale.
    stale = signed_headers([OLD], "a1", BODY, now - 3600)
    assert not check([OLD], stale[TIMESTAMP_HEADER], stale[SIGNATURE_HEADER], BODY)
    # Garbage headers are refused, not raised on.
    assert not check([OLD], "not-a-number", sig, BODY)
    assert not check([OLD], ts, "", BODY)
    assert not check([OLD], ts, "v0=" + sig.split(",")[0][3:], BODY)


def test_after_the_rotation_only_the_new_secret_signs() -> None:
    now = int(time.time())
    headers = signed_headers([NEW], "a1", BODY, now)
    assert verify([NEW], headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], BODY)
    assert not verify([OLD], headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], BODY)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (500, Outcome.RETRYABLE),
        (502, Outcome.RETRYABLE),
        (503, Outcome.RETRYABLE),
        (504, Outcome.RETRYABLE),
        (408, Outcome.RETRYABLE),
        (429, Outcome.RETRYABLE),
        (301, Outcome.PERMANENT),
        (400, Outcome.PERMANENT),
        (401, Outcome.PERMANENT),
        (403, Outcome.PERMANENT),
        (404, Outcome.PERMANENT),
        (410, Outcome.PERMANENT),
        (422, Outcome.PERMANENT),
    ],
)
def test_classification_by_status(status: int, outcome: Outcome) -> None:
    result = classify(status, {})
    assert result.outcome is outcome
    assert result.status == status


def test_retry_after_in_seconds_and_as_an_http_date() -> None:
    now = 1_700_000_000.0
    assert classify(429, {"retry-after": "7"}, now).retry_after == 7.0
    dated = classify(503, {"retry-after": formatdate(now + 30, usegmt=True)}, now)
    assert dated.retry_after == pytest.approx(30.0)
    assert classify(503, {}, now).retry_after is None
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now) == 0.0
    # A permanent failure does not ask for a retry, whatever the header says.
    assert classify(400, {"retry-after": "7"}, now).retry_after is None


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    highest: Callable[[float, float], float] = lambda low, high: high  # noqa: E731
    lowest: Callable[[float, float], float] = lambda low, high: low  # noqa: E731
    assert [backoff(n, 0.5, 60.0, uniform=highest) for n in range(1, 10)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
        60.0,
        60.0,
    ]
    assert backoff(3, 0.5, 60.0, uniform=lowest) == 0.0
    assert all(0.0 <= backoff(4, 0.5, 60.0) <= 4.0 for _ in range(200))
    # Retry-After is a floor, and capped like the rest.
    assert backoff(1, 0.5, 60.0, retry_after=10.0, uniform=lowest) == 10.0
    assert backoff(1, 0.5, 60.0, retry_after=3600.0, uniform=lowest) == 60.0
    assert backoff(5, 0.5, 60.0, retry_after=1.0, uniform=highest) == 8.0
