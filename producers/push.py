"""``stancewire ingest http``: vendors push headlines over HTTP.

``POST /v1/headlines`` takes one Headline JSON or a list of them, with a producer's bearer
token (hashed in the tokens file, like desks'). A request is all or nothing: every headline
is validated with the strict schema first, and only a request whose headlines are all
valid is produced to ``headlines``; the answer says which ones are wrong and why.

- 202 ``{"accepted": [ids]}`` once the broker has acknowledged every headline;
- 400 not JSON; 401 no or unknown token; 413 body or batch too large; 422 invalid
  headlines, each with its index, id and problems; 429 over the producer's rate, with
  ``Retry-After``; 503 the broker did not acknowledge (nothing to resend but the request).

The rate is a token bucket per producer in this process: replicas each allow the rate.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from confluent_kafka import KafkaError, Producer
from prometheus_client import Counter
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from schemas import HEADLINES, Headline
from schemas.desks import Desks
from schemas.settings import PushSettings, kafka_security

REQUESTS = Counter(
    "stancewire_push_requests_total", "Push requests answered, by status", ["status"]
)
PUSHED = Counter("stancewire_push_headlines_total", "Headlines accepted over HTTP", ["producer"])


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    body = {"error": {"status": status, "message": message, **extra}}
    REQUESTS.labels(str(status)).inc()
    return JSONResponse(body, status_code=status)


@dataclass
class Bucket:
    """A token bucket: ``rate`` tokens a second, ``burst`` at most."""

    rate: float
    burst: int
    tokens: float = -1.0
    updated: float = field(default_factory=time.monotonic)

    def take(self, count: int) -> float:
        """Take ``count`` tokens; 0.0 if granted, else the seconds to wait for them."""
        now = time.monotonic()
        if self.tokens < 0:
            self.tokens = float(self.burst)
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if count <= self.tokens:
            self.tokens -= count
            return 0.0
        return (count - self.tokens) / self.rate


class Push:
    def __init__(self, settings: PushSettings, desks: Desks) -> None:
        self.settings = settings
        self.desks = desks
        self.buckets = {p.producer: Bucket(p.rate_per_second, p.burst) for p in desks.producers}
        self.producer = Producer(
            {
                "bootstrap.servers": settings.bootstrap,
                "linger.ms": 2,
                "enable.idempotence": False,
                **kafka_security(),
            }
        )

    async def headlines(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        who = self.desks.producer_by_token(token.strip()) if scheme.lower() == "bearer" else None
        if who is None:
            return error(401, "a producer's bearer token is required")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            return error(413, f"the body is over {self.settings.max_body_bytes} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.settings.max_body_bytes:
                return error(413, f"the body is over {self.settings.max_body_bytes} bytes")
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            return error(400, f"not JSON: {exc}")
        except RecursionError:  # nesting deeper than the parser's stack, well under the cap
            return error(400, "not JSON: nested too deep")
        items = parsed if isinstance(parsed, list) else [parsed]
        if len(items) > self.settings.max_batch:
            return error(413, f"more than {self.settings.max_batch} headlines in one request")
        if len(items) > who.burst:
            return error(413, f"{who.producer} may send at most {who.burst} headlines at once")
        headlines, problems = _validate(items)
        if problems:
            return error(422, "invalid headlines; nothing was accepted", headlines=problems)
        wait = self.buckets[who.producer].take(len(headlines))
        if wait:
            response = error(429, f"over {who.rate_per_second}/s for {who.producer}")
            response.headers["Retry-After"] = str(math.ceil(wait))
            return response
        failures = await asyncio.to_thread(self._produce, headlines)
        if failures:
            return error(503, f"the broker did not acknowledge: {failures[0]}")
        PUSHED.labels(who.producer).inc(len(headlines))
        REQUESTS.labels("202").inc()
        return JSONResponse({"accepted": [h.id for h in headlines]}, status_code=202)

    def _produce(self, headlines: list[Headline]) -> list[str]:
        """Produce and wait for this request's own acknowledgements (not a flush of the
        shared producer, which other requests' threads are using too)."""
        failures: list[str] = []
        done = threading.Semaphore(0)

        def delivered(err: KafkaError | None, _message: object) -> None:
            if err is not None:
                failures.append(str(err))
            done.release()

        for headline in headlines:
            self.producer.produce(
                HEADLINES.name,
                key=headline.id.encode(),
                value=headline.model_dump_json().encode(),
                on_delivery=delivered,
            )
        deadline = time.monotonic() + 10
        for _ in headlines:
            while not done.acquire(timeout=0.01):
                self.producer.poll(0)
                if time.monotonic() > deadline:
                    return [*failures, "timed out"]
        return failures

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/headlines", self.headlines, methods=["POST"]),
                Route("/healthz", self.healthz),
            ]
        )


def _validate(items: list[Any]) -> tuple[list[Headline], list[dict[str, Any]]]:
    headlines, problems = [], []
    for index, item in enumerate(items):
        try:
            headlines.append(Headline.model_validate_json(json.dumps(item)))
        except ValidationError as exc:
            reasons = [
                f"{'.'.join(str(p) for p in e['loc']) or '(headline)'}: {e['msg']}"
                for e in exc.errors(include_url=False)
            ]
            found_id = item.get("id") if isinstance(item, dict) else None
            problems.append({"index": index, "id": found_id, "problems": reasons})
    return headlines, problems


def load_producers(settings: PushSettings) -> Desks:
    if settings.tokens_json:
        return Desks.model_validate_json(settings.tokens_json)
    if settings.tokens_file:
        return Desks.model_validate_json(Path(settings.tokens_file).read_text())
    return Desks()


def main(settings: PushSettings) -> int:
    """Serve until stopped; /metrics is served by the caller (``stancewire ingest http``)."""
    for status in ("202", "400", "401", "413", "422", "429", "503"):
        REQUESTS.labels(status)
    push = Push(settings, load_producers(settings))
    config = uvicorn.Config(
        push.app(), host=settings.host, port=settings.port, log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()
    push.producer.flush(10)
    return 0
