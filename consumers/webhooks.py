"""One webhook delivery: the signature, the POST, and what its result means for a retry.

The signature follows the scheme desks know from Stripe and Slack: HMAC-SHA256 over
``{timestamp}.{body}``, so a captured request cannot be replayed later with a new
timestamp, and one ``v1=`` entry per signing secret, so during a secret rotation a desk
can verify with either the old or the new secret (docs/webhooks.md). Within the tolerance
window, a receiver refuses a replay of the very same request with a :class:`ReplayGuard`.

A result is classified the way Alertmanager's notifiers do it: a 2xx is delivered; what
may succeed later (a timeout, a refused or reset connection, a 5xx, 408 and 429) is
retried; anything else (other 4xx, 3xx: the desk's endpoint refuses this request and will
refuse it again) is permanent. Signing, verification, classification and the backoff are
pure functions, unit-tested alone; :func:`attempt` is the only I/O here.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import hmac
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum

import httpx

SIGNATURE_HEADER = "X-Stancewire-Signature"
TIMESTAMP_HEADER = "X-Stancewire-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SCHEME = "v1"

#: How far a verifier accepts a timestamp from its own clock, by default (replay window).
DEFAULT_TOLERANCE_SECONDS = 300

#: Bytes of a failed response's body kept for the dead-letter record.
_ERROR_BODY_BYTES = 300


# --- signing --------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``{timestamp}.{body}`` with ``secret``."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """``v1=<hex>`` per secret, comma-separated (two during a rotation)."""
    return ",".join(f"{SCHEME}={signature(secret, timestamp, body)}" for secret in secrets)


def signed_headers(
    secrets: Sequence[str], alert_id: str, body: bytes, timestamp: int
) -> dict[str, str]:
    """Every header of a webhook POST."""
    return {
        "Content-Type": "application/json",
        IDEMPOTENCY_HEADER: alert_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature_header(secrets, timestamp, body),
    }


class ReplayGuard:
    """What a receiver remembers to refuse a replay: each request it accepted (its timestamp
    and body, which the signature covers), until the timestamp leaves the tolerance window,
    after which the timestamp check refuses it anyway. So it holds at most the requests of
    one window, and a captured request cannot be played again inside the window either.

    A genuine retry is signed anew with a later timestamp (the dispatcher never signs two
    attempts of one delivery in the same second), so it passes; it carries the same
    ``Idempotency-Key`` as before, which the receiver's own deduplication handles. In memory
    and thread-safe: a receiver with several replicas keeps the set in shared storage instead
    (docs/webhooks.md, "Rejecting replays").
    """

    def __init__(self) -> None:
        self._until: dict[bytes, float] = {}
        self._expiry: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._until)

    def first_time(self, timestamp: int, body: bytes, until: float, now: float) -> bool:
        """Remember this request until ``until``; False if it was already remembered."""
        key = hashlib.sha256(str(timestamp).encode() + b"." + body).digest()
        with self._lock:
            while self._expiry and self._expiry[0][0] < now:
                expired, old = heapq.heappop(self._expiry)
                if self._until.get(old) == expired:
                    del self._until[old]
            if key in self._until:
                return False
            self._until[key] = until
            heapq.heappush(self._expiry, (until, key))
            return True


def verify(
    secrets: Sequence[str],
    timestamp_header: str,
    signature_header_value: str,
    body: bytes,
    *,
    now: float | None = None,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    replay_guard: ReplayGuard | None = None,
) -> bool:
    """What a receiver checks: a fresh timestamp and a ``v1`` signature by one of its secrets,
    and, given a ``replay_guard``, that this signed request was not accepted before.

    The same algorithm as the snippets in docs/webhooks.md (which need no stancewire import).
    """
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    offered = [
        value.strip()
        for scheme, _, value in (
            part.strip().partition("=") for part in signature_header_value.split(",")
        )
        if scheme == SCHEME
    ]
    expected = [signature(secret, timestamp, body) for secret in secrets]
    if not any(hmac.compare_digest(e, o) for e in expected for o in offered):
        return False
    # Remembered only once signed: a forger cannot fill the guard, nor block a request.
    return replay_guard is None or replay_guard.first_time(
        timestamp, body, until=timestamp + tolerance_seconds, now=current
    )


# --- classification and backoff -------------------------------------------------------------


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRYABLE = "retryable"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Result:
    """What one attempt came to."""

    outcome: Outcome
    status: int | None = None
    """The HTTP status, when a response came back."""
    error: str = ""
    """Why it failed, for logs and the dead-letter record."""
    retry_after: float | None = None
    """Seconds the receiver asked us to wait (``Retry-After``), if it did."""


_RETRYABLE_4XX = frozenset({408, 429})


def classify(status: int, headers: Mapping[str, str], now: float | None = None) -> Result:
    """Classify an HTTP response by status (and ``Retry-After`` on a retryable one)."""
    if 200 <= status < 300:
        return Result(Outcome.DELIVERED, status)
    if status >= 500 or status in _RETRYABLE_4XX:
        retry_after = parse_retry_after(headers.get("retry-after"), now)
        return Result(Outcome.RETRYABLE, status, f"HTTP {status}", retry_after)
    return Result(Outcome.PERMANENT, status, f"HTTP {status}")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff(
    attempts: int,
    base_seconds: float,
    cap_seconds: float,
    retry_after: float | None = None,
    uniform: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait after ``attempts`` failed attempts: exponential with full jitter.

    Full jitter (a uniform draw up to ``base * 2**(attempts-1)``, capped) spreads retries of
    many subscriptions after a shared outage. A ``Retry-After`` is honoured as a floor, but
    capped too, so a bad header cannot stall a desk's queue for hours.
    """
    ceiling = min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1))
    wait = uniform(0.0, ceiling)
    if retry_after is not None:
        wait = max(wait, min(retry_after, cap_seconds))
    return wait


# --- one attempt ----------------------------------------------------------------------------


async def attempt(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    *,
    alert_id: str,
    secrets: Sequence[str],
    timeout_seconds: float,
) -> Result:
    """POST ``body`` once, signed now, and classify the result. Never raises for the network."""
    headers = signed_headers(secrets, alert_id, body, int(time.time()))
    try:
        # httpx's timeout is per phase (connect, each read...); the deadline bounds the whole.
        async with asyncio.timeout(timeout_seconds):
            async with client.stream(
                "POST", url, content=body, headers=headers, timeout=timeout_seconds
            ) as response:
                result = classify(response.status_code, response.headers)
                if result.outcome is Outcome.DELIVERED:
                    return result
                detail = await _first_bytes(response)
                return Result(
                    result.outcome, result.status, result.error + detail, result.retry_after
                )
    except (TimeoutError, httpx.TimeoutException):
        return Result(Outcome.RETRYABLE, error=f"timed out after {timeout_seconds:g}s")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        return Result(Outcome.PERMANENT, error=f"{type(exc).__name__}: {exc}")
    except httpx.TransportError as exc:  # refused, reset, DNS, TLS, protocol errors
        return Result(Outcome.RETRYABLE, error=f"{type(exc).__name__}: {exc}")


async def _first_bytes(response: httpx.Response) -> str:
    """A short piece of an error response's body, for the record; the rest is not read."""
    kept = b""
    try:
        async for chunk in response.aiter_bytes():
            kept += chunk
            if len(kept) >= _ERROR_BODY_BYTES:
                break
    except httpx.HTTPError:
        pass
    text = kept[:_ERROR_BODY_BYTES].decode("utf-8", errors="replace").strip()
    return f": {text}" if text else ""
