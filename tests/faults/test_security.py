"""Security checks on the real processes: a broker, a password-protected redis-server, and the
worker, gateway, webhook dispatcher and HTTP push ingest, started the way a deployment starts
them (every secret in the environment, none on a command line).

- Every gateway route, enumerated from the gateway's own routing table: no token, an unknown
  one, a malformed one, a token in the query string: 401; a desk outside its scope: 403, or
  404 where the scope hides that something exists. The public routes are an exact list.
- Oversized, malformed, mistyped and wrongly declared bodies get 4xx with a clear message,
  and the processes live on.
- The real dispatcher's requests: a retry is never refused as a replay, a replayed request
  is, and so are a wrong secret and a stale timestamp.
- Redis with a password, and over TLS, works end to end; a wrong password is a clear error.
  Kafka SASL and TLS settings reach every process's Kafka client.
- No secret or token is ever in any process's log, after failing requests of every kind.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaConnectionError
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from redis import Redis
from redis.exceptions import RedisError
from starlette.routing import Route

from consumers.auth import COOKIE
from consumers.gateway import MAX_BODY_BYTES
from consumers.gateway import Gateway as GatewayApp
from consumers.webhooks import (
    DEFAULT_TOLERANCE_SECONDS,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ReplayGuard,
    verify,
)
from schemas.desks import Desk, Desks, Producer, Scope
from schemas.settings import GatewaySettings, WorkerSettings
from schemas.state import CURRENT_STANCES_KEY
from stancewire import kafka
from stancewire.runtime import (
    Child,
    Stack,
    free_port,
    http_ok,
    redis_answers,
    redis_server_binary,
    spawn,
    wait_until,
)
from streams.app import faust_app
from tests.faults.test_security_config import documented, self_signed
from tests.integration.test_dispatcher import Endpoint
from tests.integration.wire import headline, unique

pytestmark = pytest.mark.integration


def _secret(kind: str) -> str:
    """A secret no log could contain by chance."""
    return f"{kind}-{secrets.token_hex(12)}"


REDIS_PASSWORD = _secret("redis-pw")
WRONG_REDIS_PASSWORD = _secret("redis-typo")
KAFKA_PASSWORD = _secret("kafka-pw")
MACRO = _secret("macro-desk")
TOKYO = _secret("tokyo-desk")
VENDOR = _secret("vendor-push")
API_WEBHOOK_SECRET = _secret("whsec-api")
FILE_WEBHOOK_SECRET = _secret("whsec-file")
SECRETS = {
    "the Redis password": REDIS_PASSWORD,
    "a mistyped Redis password": WRONG_REDIS_PASSWORD,
    "the Kafka SASL password": KAFKA_PASSWORD,
    "the macro desk's token": MACRO,
    "the tokyo desk's token": TOKYO,
    "the vendor's push token": VENDOR,
    "a webhook secret given to the gateway": API_WEBHOOK_SECRET,
    "a webhook secret from the subscriptions file": FILE_WEBHOOK_SECRET,
}

#: What answers without a token: the board page (its data needs the session cookie), the
#: OpenAPI document, liveness, readiness, and ending a session (it only clears the cookie).
PUBLIC = {
    ("GET", "/"),
    ("GET", "/openapi.json"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("DELETE", "/v1/session"),
}

JP_TEXT = (
    "Japan has no intention of using its US Treasury holdings as a negotiating tool, "
    "Finance Minister Kato says"
)
CN_TEXT = (
    "China imposes export controls on rare earths in retaliation for US tariffs, "
    "commerce ministry says"
)


# --- processes, started as a deployment starts them ----------------------------------------


def launch(stack: Stack, command: str, *args: str, name: str, env: dict[str, str]) -> Child:
    """``stancewire COMMAND`` on ``stack``'s broker, logging into its log directory; the Redis
    URL and every secret come from ``env``, never from the command line."""
    child = spawn(
        name,
        [sys.executable, "-m", "stancewire", *command.split(), "--bootstrap", stack.bootstrap,
         *args],
        stack.log_dir,
        env={**os.environ, **env},
    )  # fmt: skip
    stack.children.append(child)
    return child


def start_redis(stack: Stack, name: str, *args: str) -> Child:
    child = spawn(
        name,
        [redis_server_binary(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(stack.log_dir), *args],
        stack.log_dir,
    )  # fmt: skip
    stack.children.append(child)
    return child


def redis_url(port: int, password: str) -> str:
    return f"redis://:{password}@127.0.0.1:{port}/0"


def desks() -> Desks:
    return Desks(
        desks=(
            Desk(desk="macro", token_sha256=Desk.hash_token(MACRO)),
            Desk(
                desk="tokyo",
                token_sha256=Desk.hash_token(TOKYO),
                scope=Scope(governments=frozenset({"JP"})),
            ),
        ),
        producers=(
            Producer(
                producer="vendor",
                token_sha256=Desk.hash_token(VENDOR),
                rate_per_second=1000,
                burst=100,
            ),
        ),
    )


def start_gateway(stack: Stack, url: str, name: str) -> tuple[Child, str]:
    port = free_port()
    child = launch(
        stack,
        "gateway",
        "--port",
        str(port),
        "--metrics-port",
        "0",
        name=name,
        env={
            "STANCEWIRE_REDIS_URL": url,
            "STANCEWIRE_TOKENS_JSON": desks().model_dump_json(),
            "STANCEWIRE_WEBHOOK_ALLOW_PRIVATE": "true",
        },
    )
    return child, f"http://127.0.0.1:{port}"


def start_worker(stack: Stack, url: str, name: str) -> Child:
    return launch(
        stack,
        "worker",
        "--metrics-port",
        "0",
        name=name,
        env={
            "STANCEWIRE_REDIS_URL": url,
            "STANCEWIRE_FETCH_WAIT_SECONDS": "0.01",
            "STANCEWIRE_GROUP_ID": unique("worker"),
        },
    )


def dispatcher_env(url: str) -> dict[str, str]:
    return {
        "STANCEWIRE_REDIS_URL": url,
        "STANCEWIRE_GROUP_ID": unique("dispatcher"),
        "STANCEWIRE_BACKOFF_SECONDS": "0.05",
        "STANCEWIRE_MAX_BACKOFF_SECONDS": "0.3",
        "STANCEWIRE_MAX_ATTEMPTS": "1000",
        "STANCEWIRE_TIMEOUT_SECONDS": "2",
        "STANCEWIRE_RELOAD_SECONDS": "0.5",
    }


def logs(directory: Path) -> dict[str, str]:
    return {path.name: path.read_text(errors="replace") for path in sorted(directory.glob("*.log"))}


def log_has(child: Child, *needles: str) -> Callable[[], bool]:
    def found() -> bool:
        text = child.log_path.read_text(errors="replace")
        return all(needle in text for needle in needles)

    return found


def assert_no_secrets(found: dict[str, str]) -> None:
    """No secret of ours in any of ``found``, nor any Redis URL that carries a password."""
    leaks = [
        f"{what} in {name}"
        for name, text in found.items()
        for what, secret in SECRETS.items()
        if secret in text
    ]
    leaks += [
        f"a Redis URL with a password in {name}"
        for name, text in found.items()
        if re.search(r"rediss?://[^\s/@]*:[^\s/@]+@", text)
    ]
    assert leaks == [], leaks


# --- a desk's webhook endpoint -------------------------------------------------------------


@dataclass(frozen=True)
class Captured:
    headers: dict[str, str]
    """Names in lower case."""
    body: bytes
    verified: bool
    status: int

    @property
    def alert_id(self) -> str:
        return str(json.loads(self.body)["alert_id"])


@dataclass
class Receiver(Endpoint):
    """A desk's endpoint on loopback, as docs/webhooks.md tells desks to write one: it verifies
    each request with the library's verifier and a :class:`ReplayGuard`, answers 401 to what
    does not verify, and fails the first verified attempt of each alert with 503 (so every
    alert is retried) before taking the retry with 200."""

    secrets: list[str]
    port: int = field(default_factory=free_port)
    guard: ReplayGuard = field(default_factory=ReplayGuard)
    requests: list[Captured] = field(default_factory=list)
    _failed_once: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, sent: dict[str, str], body: bytes) -> int:
        headers = {name.lower(): value for name, value in sent.items()}
        verified = verify(
            self.secrets,
            headers.get(TIMESTAMP_HEADER.lower(), ""),
            headers.get(SIGNATURE_HEADER.lower(), ""),
            body,
            replay_guard=self.guard,
        )
        with self._lock:
            if not verified:
                status = 401
            else:
                alert_id = str(json.loads(body)["alert_id"])
                status = 200 if alert_id in self._failed_once else 503
                self._failed_once.add(alert_id)
            self.requests.append(Captured(headers, body, verified, status))
        return status

    def attempts(self, alert_id: str) -> list[Captured]:
        with self._lock:
            return [r for r in self.requests if r.verified and r.alert_id == alert_id]

    def delivered(self, alert_id: str) -> bool:
        return any(r.status == 200 for r in self.attempts(alert_id))


# --- the secured stack ---------------------------------------------------------------------


@dataclass
class Secured:
    stack: Stack
    redis_port: int
    redis_url: str
    worker: Child
    gateway_child: Child
    gateway: str
    push_child: Child
    push: str
    dispatcher: Child
    hook: Receiver
    macro_subscription: str
    jp_alert: str = ""
    cn_alert: str = ""

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        base: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request; an event stream is closed once its status is in."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        url = f"{base or self.gateway}{path}"
        with (
            httpx.Client(timeout=15) as client,
            client.stream(method, url, headers=headers, **kwargs) as response,
        ):
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                response.read()
            return response


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    port = free_port()
    url = redis_url(port, REDIS_PASSWORD)
    private = tmp_path_factory.mktemp("secrets")  # not a log directory
    with Stack(redis_url=url) as stack:
        redis = start_redis(stack, "redis-protected", "--port", str(port),
                            "--requirepass", REDIS_PASSWORD)  # fmt: skip
        wait_until(lambda: redis_answers(url), 30, "the password-protected Redis", redis)
        worker = start_worker(stack, url, "worker")
        gateway_child, gateway = start_gateway(stack, url, "gateway")
        push_port = free_port()
        push_child = launch(
            stack,
            "ingest http",
            "--port",
            str(push_port),
            "--metrics-port",
            "0",
            name="push",
            env={"STANCEWIRE_REDIS_URL": url, "STANCEWIRE_TOKENS_JSON": desks().model_dump_json()},
        )
        hook = Receiver([API_WEBHOOK_SECRET]).start()
        try:
            wait_until(lambda: http_ok(f"{gateway}/readyz"), 60, "the gateway", gateway_child)
            push = f"http://127.0.0.1:{push_port}"
            wait_until(lambda: http_ok(f"{push}/healthz"), 60, "the push endpoint", push_child)
            # A subscription through the gateway (its secret in Redis), one from a file (its
            # secret on disk) whose endpoint is down, so the dispatcher logs failures.
            created = httpx.post(
                f"{gateway}/v1/subscriptions",
                json={"url": hook.url, "secrets": [API_WEBHOOK_SECRET]},
                headers={"Authorization": f"Bearer {MACRO}"},
                timeout=10,
            )
            assert created.status_code == 201, created.text
            down_port = free_port()
            subscriptions = private / "subscriptions.json"
            subscriptions.write_text(json.dumps({"subscriptions": [{
                "id": "down-hook", "desk": "macro", "url": f"http://127.0.0.1:{down_port}/hook",
                "secrets": [FILE_WEBHOOK_SECRET]}]}))  # fmt: skip
            dispatcher = launch(
                stack,
                "dispatcher",
                "--metrics-port",
                "0",
                "--subscriptions",
                str(subscriptions),
                name="dispatcher",
                env=dispatcher_env(url),
            )
            yield Secured(
                stack, port, url, worker, gateway_child, gateway, push_child, push, dispatcher,
                hook, created.json()["id"],
            )  # fmt: skip
        finally:
            hook.stop()


@pytest.fixture(scope="module")
def alerts(secured: Secured) -> Secured:
    """A Japanese and a Chinese stance change, pushed by the vendor, through the worker, on the
    board and in the gateway's alert history."""
    items = [
        {"id": unique("jp"), "text": JP_TEXT, "source": "Wire",
         "published_at": "2025-05-04T03:00:00+00:00"},
        {"id": unique("cn"), "text": CN_TEXT, "source": "Wire",
         "published_at": "2025-04-04T03:00:00+00:00"},
    ]  # fmt: skip
    pushed = httpx.post(
        f"{secured.push}/v1/headlines",
        json=items,
        headers={"Authorization": f"Bearer {VENDOR}"},
        timeout=15,
    )
    assert pushed.status_code == 202, pushed.text

    def history(government: str, topic: str) -> list[dict[str, Any]]:
        found = secured.call("GET", f"/v1/stances/{government}/{topic}", MACRO)
        return list(found.json()["alerts"]) if found.status_code == 200 else []

    wait_until(
        lambda: bool(history("JP", "treasury_holdings") and history("CN", "trade_leverage")),
        90,
        "both alerts in the gateway's history",
        secured.worker,
    )
    secured.jp_alert = history("JP", "treasury_holdings")[-1]["alert_id"]
    secured.cn_alert = history("CN", "trade_leverage")[-1]["alert_id"]
    return secured


# --- the routes ----------------------------------------------------------------------------


def gateway_routes() -> set[tuple[str, str]]:
    """Every (method, path template) the gateway serves, from its own routing table."""
    app = GatewayApp(GatewaySettings(metrics_port=0), Desks()).app()
    return {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }


def concrete(template: str) -> str:
    return (
        template.replace("{alert_id}", "no-such-alert")
        .replace("{government}", "JP")
        .replace("{topic}", "treasury_holdings")
        .replace("{subscription_id}", "sub-0000")
    )


def test_every_route_needs_a_valid_desk_token_but_the_public_ones(secured: Secured) -> None:
    routes = gateway_routes()
    assert routes >= PUBLIC
    protected = routes - PUBLIC
    unauthenticated = {
        "no token": {},
        "an unknown token": {"Authorization": "Bearer not-a-desk-token"},
        "a bearer without a token": {"Authorization": "Bearer"},
        "basic auth": {"Authorization": "Basic bWFjcm86eA=="},
        "a producer's token": {"Authorization": f"Bearer {VENDOR}"},
        "an unknown session cookie": {"Cookie": f"{COOKIE}=not-a-session"},
    }
    answered_without_token = set()
    for method, template in sorted(routes):
        path = concrete(template)
        if secured.call(method, path).status_code != 401:
            answered_without_token.add((method, template))
        if (method, template) in PUBLIC:
            continue
        for what, headers in unauthenticated.items():
            response = secured.call(method, path, headers=headers)
            assert response.status_code == 401, (method, template, what, response.text)
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert response.json()["error"]["status"] == 401
            assert response.json()["error"]["message"]
        # A token never travels in a URL: one there is not taken.
        in_query = secured.call(method, path, params={"token": MACRO, "access_token": MACRO})
        assert in_query.status_code == 401, (method, template)
        # The control: the desk's token gets past authentication on the same request.
        assert secured.call(method, path, MACRO).status_code != 401, (method, template)
    assert answered_without_token == PUBLIC

    # The OpenAPI document describes every route but the page and itself, and declares
    # security on exactly the protected ones.
    document = secured.call("GET", "/openapi.json").json()["paths"]
    described = {(m.upper(), p) for p, ops in document.items() for m in ops}
    assert described == routes - {("GET", "/"), ("GET", "/openapi.json")}
    secured_in_doc = {
        (m.upper(), p) for p, ops in document.items() for m, op in ops.items() if op.get("security")
    }
    assert secured_in_doc == protected


def test_a_desk_sees_nothing_outside_its_scope(alerts: Secured) -> None:
    """Tokyo's desk may see Japan only. Asking for more is 403; an alert or a subscription it
    may not see is 404, as if it did not exist; lists are cut to the scope."""
    s = alerts
    sub = s.macro_subscription

    def stream() -> None:
        assert (
            s.call("GET", "/v1/alerts/stream", TOKYO, params={"government": "CN"}).status_code
            == 403
        )

    def alert() -> None:
        assert s.call("GET", f"/v1/alerts/{s.cn_alert}", MACRO).status_code == 200
        hidden = s.call("GET", f"/v1/alerts/{s.cn_alert}", TOKYO)
        assert hidden.status_code == 404
        assert s.call("GET", "/v1/alerts/no-such-alert", TOKYO).json() == hidden.json()
        assert s.call("GET", f"/v1/alerts/{s.jp_alert}", TOKYO).status_code == 200

    def stances() -> None:
        assert s.call("GET", "/v1/stances", TOKYO, params={"government": "CN"}).status_code == 403
        board = s.call("GET", "/v1/stances", TOKYO).json()["stances"]
        assert {row["government"] for row in board} == {"JP"}

    def stance() -> None:
        assert s.call("GET", "/v1/stances/CN/trade_leverage", TOKYO).status_code == 403
        assert s.call("GET", "/v1/stances/cn/trade_leverage", TOKYO).status_code == 403

    def subscriptions() -> None:
        assert s.call("GET", "/v1/subscriptions", TOKYO).json() == {"subscriptions": []}

    def subscribe() -> None:
        body = {
            "url": "http://127.0.0.1:9/x",
            "secrets": ["t" * 20],
            "filter": {"governments": ["JP", "CN"]},
        }
        assert s.call("POST", "/v1/subscriptions", TOKYO, json=body).status_code == 403

    def subscription() -> None:
        assert s.call("GET", f"/v1/subscriptions/{sub}", MACRO).status_code == 200
        assert s.call("GET", f"/v1/subscriptions/{sub}", TOKYO).status_code == 404

    def unsubscribe() -> None:
        assert s.call("DELETE", f"/v1/subscriptions/{sub}", TOKYO).status_code == 404
        assert s.call("GET", f"/v1/subscriptions/{sub}", MACRO).status_code == 200  # still there

    def session() -> None:
        """A session is the desk's own, scope included: the cookie gets no more than the token."""
        opened = s.call("POST", "/v1/session", TOKYO)
        assert opened.json() == {"desk": "tokyo", "scope": {"governments": ["JP"], "topics": []}}
        cookie = opened.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        session = {"Cookie": f"{COOKIE}={opened.cookies[COOKIE]}"}
        assert s.call("GET", "/v1/stances", headers=session).status_code == 200
        assert s.call("GET", "/v1/stances/CN/trade_leverage", headers=session).status_code == 403

    probes: dict[tuple[str, str], Callable[[], None]] = {
        ("GET", "/v1/alerts/stream"): stream,
        ("GET", "/v1/alerts/{alert_id}"): alert,
        ("GET", "/v1/stances"): stances,
        ("GET", "/v1/stances/{government}/{topic}"): stance,
        ("GET", "/v1/subscriptions"): subscriptions,
        ("POST", "/v1/subscriptions"): subscribe,
        ("GET", "/v1/subscriptions/{subscription_id}"): subscription,
        ("DELETE", "/v1/subscriptions/{subscription_id}"): unsubscribe,
        ("POST", "/v1/session"): session,
    }
    # A route added later fails here until its scope is probed too.
    assert set(probes) == gateway_routes() - PUBLIC
    for probe in probes.values():
        probe()


# --- hostile bodies ------------------------------------------------------------------------


def chunked(size: int) -> Iterator[bytes]:
    """A body with no Content-Length (sent chunked), ``size`` bytes of a JSON string."""
    yield b'{"url": "http://127.0.0.1:9/x", "description": "'
    sent = 0
    while sent < size:
        yield b"x" * 65536
        sent += 65536
    yield b'"}'


def test_oversized_and_malformed_requests_get_clear_answers(secured: Secured) -> None:
    s = secured
    big = MAX_BODY_BYTES * 32
    as_json = {"Content-Type": "application/json"}

    def post(path: str, **kwargs: Any) -> httpx.Response:
        return s.call("POST", path, MACRO, **kwargs)

    def message(response: httpx.Response) -> str:
        return str(response.json()["error"]["message"])

    # The gateway: a body over the cap, declared or streamed, is refused before it is read.
    declared = post("/v1/subscriptions", content=b"{" + b" " * big + b"}", headers=as_json)
    assert declared.status_code == 413 and f"{MAX_BODY_BYTES} bytes" in message(declared)
    streamed = post("/v1/subscriptions", content=chunked(big), headers=as_json)
    assert streamed.status_code == 413, streamed.text
    assert post("/v1/session", content=b" " * big).status_code == 413
    # A body that is not declared as JSON (what a cross-site form could send).
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        body = json.dumps({"url": "http://127.0.0.1:9/x", "secrets": ["t" * 20]}).encode()
        refused = post("/v1/subscriptions", content=body, headers=headers)
        assert refused.status_code == 415 and "application/json" in message(refused)
    # Malformed JSON, and JSON nested past the parser's limit.
    assert "Invalid JSON" in message(
        post("/v1/subscriptions", content=b"{not json", headers=as_json)
    )
    nested = post("/v1/subscriptions", content=b'{"url":' + b"[" * 50_000, headers=as_json)
    assert nested.status_code == 400 and "recursion" in message(nested)
    # Fields of the wrong type, and fields that do not exist.
    for wrong, field_name in (
        ({"url": 123, "secrets": ["t" * 20]}, "url"),
        ({"url": "http://127.0.0.1:9/x", "secrets": "t" * 20}, "secrets"),
        (
            {
                "url": "http://127.0.0.1:9/x",
                "secrets": ["t" * 20],
                "filter": {"min_confidence": "high"},
            },
            "min_confidence",
        ),
        ({"url": "http://127.0.0.1:9/x", "secrets": ["t" * 20], "admin": True}, "admin"),
        ({"url": "javascript:alert(1)", "secrets": ["t" * 20]}, "url"),
    ):
        answer = post("/v1/subscriptions", json=wrong)
        assert answer.status_code == 400, (wrong, answer.text)
        assert field_name in message(answer)
    bad_query = s.call("GET", "/v1/stances", MACRO, params={"min_confidence": "high"})
    assert bad_query.status_code == 400
    assert s.call("GET", "/v1/stances/JP/nope", MACRO).status_code == 400
    # A header far over what the server keeps: refused, or the connection dropped; not served.
    try:
        huge = s.call("GET", "/v1/stances", headers={"Authorization": "Bearer " + "x" * 200_000})
        assert 400 <= huge.status_code < 500
    except (httpx.RemoteProtocolError, httpx.ReadError):
        pass

    # The push endpoint.
    def push(content: bytes | Iterator[bytes], **headers: str) -> httpx.Response:
        return s.call(
            "POST", "/v1/headlines", VENDOR, base=s.push, content=content, headers=headers
        )

    assert push(chunked(2 * 1024 * 1024)).status_code == 413
    deep = push(b"[" * 200_000 + b"]" * 200_000)
    assert deep.status_code == 400 and "not JSON" in message(deep)
    form = push(b"id=1&text=x", **{"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 400 and "not JSON" in message(form)
    mistyped = push(
        json.dumps({"id": 5, "text": ["x"], "source": "W", "published_at": "yesterday"}).encode()
    )
    assert mistyped.status_code == 422
    [problem] = mistyped.json()["error"]["headlines"]
    assert {reason.split(":")[0] for reason in problem["problems"]} >= {
        "id",
        "text",
        "published_at",
    }

    # Both processes live on and still serve.
    for child, url in (
        (s.gateway_child, f"{s.gateway}/readyz"),
        (s.push_child, f"{s.push}/healthz"),
    ):
        assert child.alive(), child.log_tail()
        assert http_ok(url)


# --- webhooks ------------------------------------------------------------------------------


def test_retries_pass_the_replay_guard_and_replays_do_not(alerts: Secured) -> None:
    s, hook = alerts, alerts.hook
    for alert_id in (s.jp_alert, s.cn_alert):
        wait_until(partial(hook.delivered, alert_id), 60, f"delivery of {alert_id}", s.dispatcher)
        first, retry = hook.attempts(alert_id)[:2]
        # Retried after a backoff of 0.05 to 0.3 s, yet signed in a later second: a new request.
        assert (first.status, retry.status) == (503, 200)
        assert int(retry.headers["x-stancewire-timestamp"]) > int(
            first.headers["x-stancewire-timestamp"]
        )
        assert retry.headers[IDEMPOTENCY_HEADER.lower()] == alert_id
    assert not [r for r in hook.requests if not r.verified], "a genuine request was refused"

    captured = hook.attempts(s.jp_alert)[-1]
    ts = captured.headers[TIMESTAMP_HEADER.lower()]
    sig = captured.headers[SIGNATURE_HEADER.lower()]
    headers = {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sig, "Content-Type": "application/json"}

    def replay(extra: dict[str, str]) -> int:
        return httpx.post(hook.url, content=captured.body, headers={**headers, **extra}).status_code

    # Played again to the endpoint: refused, whatever Idempotency-Key it carries (unsigned).
    assert replay({IDEMPOTENCY_HEADER: s.jp_alert}) == 401
    assert replay({IDEMPOTENCY_HEADER: "something-else"}) == 401
    # The captured request itself is genuine; with a wrong secret, or late, it is not.
    assert verify([API_WEBHOOK_SECRET], ts, sig, captured.body)
    assert not verify([FILE_WEBHOOK_SECRET], ts, sig, captured.body)
    assert not verify(
        [API_WEBHOOK_SECRET], ts, sig, captured.body, now=int(ts) + DEFAULT_TOLERANCE_SECONDS + 1
    )
    # The documented receiver snippets reach the same verdicts on the real request.
    verify_stancewire = documented("Verifying, in Python", "verify_stancewire")
    first_time = documented("Rejecting replays", "first_time")
    assert verify_stancewire([API_WEBHOOK_SECRET], ts, sig, captured.body)
    assert not verify_stancewire(["wrong-secret-0000000"], ts, sig, captured.body)
    assert first_time(ts, captured.body) and not first_time(ts, captured.body)
    # Nothing dead-lettered for this endpoint: no genuine attempt was refused as a replay.
    with Redis.from_url(s.redis_url, decode_responses=True) as redis:
        dead = redis.xrange("sw:{sw:webhooks}:dead")
    assert not [f for _id, f in dead if f["subscription"] == s.macro_subscription]


# --- Redis: a password, TLS ----------------------------------------------------------------


def test_everything_runs_on_a_password_protected_redis(alerts: Secured) -> None:
    """The worker wrote the stances, the gateway serves them, the dispatcher delivered: all
    through a Redis that refuses a client without the password."""
    s = alerts
    with (
        pytest.raises(RedisError, match=r"(?i)auth"),
        Redis(host="127.0.0.1", port=s.redis_port, socket_timeout=5) as anonymous,
    ):
        anonymous.ping()
    with Redis.from_url(s.redis_url, decode_responses=True) as redis:
        assert {"JP:treasury_holdings", "CN:trade_leverage"} <= set(
            redis.hkeys(CURRENT_STANCES_KEY)
        )
    board = s.call("GET", "/v1/stances", MACRO).json()["stances"]
    assert {row["government"] for row in board} >= {"JP", "CN"}
    wait_until(lambda: s.hook.delivered(s.jp_alert), 60, "a delivery", s.dispatcher)


def test_a_wrong_redis_password_is_a_clear_error_and_is_never_shown(secured: Secured) -> None:
    s = secured
    wrong = redis_url(s.redis_port, WRONG_REDIS_PASSWORD)
    gateway, url = start_gateway(s.stack, wrong, "gateway-wrong-password")
    worker = start_worker(s.stack, wrong, "worker-wrong-password")
    dispatcher = launch(
        s.stack,
        "dispatcher",
        "--metrics-port",
        "0",
        name="dispatcher-wrong-password",
        env=dispatcher_env(wrong),
    )
    refused = "invalid username-password pair"
    try:
        # The gateway serves, logs the refusal at start, and is not ready, saying why.
        wait_until(lambda: http_ok(f"{url}/healthz"), 60, "the gateway to serve", gateway)
        wait_until(log_has(gateway, "ERROR", refused), 30, "the gateway's error", gateway)
        ready = httpx.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 503
        [problem] = [p for p in ready.json()["problems"] if p.startswith("redis:")]
        assert refused in problem
        # The worker logs it as an error and carries on (its sweeps retry).
        wait_until(log_has(worker, "ERROR", refused), 60, "the worker's error", worker)
        # The dispatcher refuses to start on it, and says why.
        assert dispatcher.process.wait(60) == 1
        assert f"ERROR consumers.dispatcher: cannot start: Redis: {refused}" in (
            dispatcher.log_path.read_text()
        )
        for text in (ready.text, *logs(s.stack.log_dir).values()):
            assert REDIS_PASSWORD not in text and WRONG_REDIS_PASSWORD not in text
    finally:
        for child in (gateway, worker, dispatcher):
            child.stop(5)


def test_redis_over_tls_reaches_the_worker_and_the_gateway(tmp_path: Path) -> None:
    cert, key, _ = self_signed(tmp_path)
    port = free_port()
    url = f"rediss://:{REDIS_PASSWORD}@127.0.0.1:{port}/0?ssl_ca_certs={cert}"
    with Stack(redis_url=url) as stack:
        redis = start_redis(stack, "redis-tls", "--port", "0", "--tls-port", str(port),
                            "--tls-cert-file", str(cert), "--tls-key-file", str(key),
                            "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no",
                            "--requirepass", REDIS_PASSWORD)  # fmt: skip
        wait_until(lambda: redis_answers(url) or not redis.alive(), 30, "Redis over TLS")
        if not redis.alive() and "TLS" in redis.log_tail():
            pytest.skip(f"this redis-server does not serve TLS: {redis.log_tail(3)}")
        wait_until(lambda: redis_answers(url), 30, "Redis over TLS", redis)
        worker = start_worker(stack, url, "worker-tls")
        gateway, gateway_url = start_gateway(stack, url, "gateway-tls")
        # The same server, without our CA: the certificate is checked, not taken on trust.
        untrusting, untrusting_url = start_gateway(
            stack, f"rediss://:{REDIS_PASSWORD}@127.0.0.1:{port}/0", "gateway-tls-no-ca"
        )
        kafka.produce_headlines(
            stack.bootstrap, [(None, headline(JP_TEXT, "2025-05-04T03:00:00+00:00"))]
        )
        with Redis.from_url(url, decode_responses=True) as client:
            wait_until(
                lambda: client.hexists(CURRENT_STANCES_KEY, "JP:treasury_holdings"),
                90,
                "the worker's stance over TLS",
                worker,
            )
        wait_until(lambda: http_ok(f"{gateway_url}/readyz"), 60, "the TLS gateway", gateway)
        board = httpx.get(
            f"{gateway_url}/v1/stances", headers={"Authorization": f"Bearer {MACRO}"}
        ).json()
        assert [row["government"] for row in board["stances"]] == ["JP"]
        wait_until(lambda: http_ok(f"{untrusting_url}/healthz"), 60, "the gateway", untrusting)
        refused = httpx.get(f"{untrusting_url}/readyz", timeout=10)
        assert refused.status_code == 503 and "certificate verify failed" in refused.text
        assert_no_secrets(logs(stack.log_dir))


# --- Kafka: SASL and TLS reach every process -------------------------------------------------


def test_kafka_sasl_and_tls_settings_reach_every_process(
    secured: Secured, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The embedded broker takes no SASL, so a client that uses it is refused at the SASL
    handshake, naming the mechanism it tried: proof the settings reached it. The same for the
    TLS settings, with a CA file the client must read. The password is never logged."""
    s = secured
    sasl = {
        "STANCEWIRE_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "STANCEWIRE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "STANCEWIRE_KAFKA_SASL_USERNAME": "stancewire-svc",
        "STANCEWIRE_KAFKA_SASL_PASSWORD": KAFKA_PASSWORD,
    }
    # A CA file that holds no certificate: the client reads it, and refuses to go on.
    not_a_ca = tmp_path / "ca.pem"
    not_a_ca.write_text("not a certificate\n")
    tls = {
        "STANCEWIRE_KAFKA_SECURITY_PROTOCOL": "SSL",
        "STANCEWIRE_KAFKA_SSL_CAFILE": str(not_a_ca),
    }
    env = {"STANCEWIRE_REDIS_URL": s.redis_url, "STANCEWIRE_TOKENS_JSON": desks().model_dump_json()}
    started = [
        (launch(s.stack, "gateway", "--port", str(free_port()), "--metrics-port", "0",
                name="gateway-sasl", env={**env, **sasl}), "SCRAM-SHA-512"),
        (launch(s.stack, "dispatcher", "--metrics-port", "0", name="dispatcher-sasl",
                env={**dispatcher_env(s.redis_url), **sasl}), "SCRAM-SHA-512"),
        (launch(s.stack, "ingest http", "--port", str(free_port()), "--metrics-port", "0",
                name="push-sasl", env={**env, **sasl}), "SCRAM-SHA-512"),
        (launch(s.stack, "worker", "--metrics-port", "0", name="worker-sasl",
                env={**env, **sasl}), "SCRAM-SHA-512"),
        (launch(s.stack, "gateway", "--port", str(free_port()), "--metrics-port", "0",
                name="gateway-tls-kafka", env={**env, **tls}), "ssl.ca.location failed"),
    ]  # fmt: skip
    try:
        for child, evidence in started:
            wait_until(log_has(child, evidence), 60, f"{child.name} to try {evidence}")
    finally:
        for child, _ in started:
            child.stop(1)
    for child, _ in started:
        assert KAFKA_PASSWORD not in child.log_path.read_text(errors="replace")

    # Faust's aiokafka clients in the worker get them too (the worker's librdkafka topic check
    # fails first in a process, so this one is checked in this process).
    settings = WorkerSettings(
        bootstrap=s.stack.bootstrap,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="stancewire-svc",
        kafka_sasl_password=KAFKA_PASSWORD,
    )
    auth = credentials_to_aiokafka_auth(faust_app(settings).conf.broker_credentials)

    async def connect() -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=s.stack.bootstrap, request_timeout_ms=5000, **auth
        )
        try:
            with pytest.raises(KafkaConnectionError):
                await consumer.start()
        finally:
            await consumer.stop()

    with caplog.at_level("DEBUG", logger="aiokafka"):
        asyncio.run(connect())
    assert "UnsupportedSaslMechanism" in caplog.text
    assert KAFKA_PASSWORD not in caplog.text


# --- logs ----------------------------------------------------------------------------------


def test_no_secret_or_token_in_any_log(alerts: Secured) -> None:
    """After failing requests of every kind (the other tests' too, when the module runs in
    order), every log of every process started here is read whole: no secret in any."""
    s = alerts
    for token in (None, "wrong-token", VENDOR, MACRO[:-1], MACRO + "x"):
        assert s.call("GET", "/v1/stances", token).status_code == 401
    for token in (None, MACRO, TOKYO, VENDOR[:-1]):
        assert s.call("POST", "/v1/headlines", token, base=s.push, json=[]).status_code == 401
    short = {"url": "http://127.0.0.1:9/x", "secrets": [API_WEBHOOK_SECRET[:10]]}
    assert s.call("POST", "/v1/subscriptions", MACRO, json=short).status_code == 400
    assert s.call("POST", "/v1/session", MACRO).status_code == 200
    assert s.call("GET", "/v1/stances", TOKYO, params={"government": "CN"}).status_code == 403
    # The endpoint of the subscription from the file is down: the dispatcher logs failures.
    wait_until(
        log_has(s.dispatcher, "down-hook", "failed"), 60, "a failed delivery logged", s.dispatcher
    )
    found = logs(s.stack.log_dir)
    for child in s.stack.children:
        assert child.log_path.name in found, f"no log for {child.name}"
    assert {
        "worker.log",
        "gateway.log",
        "push.log",
        "dispatcher.log",
        "redis-protected.log",
        "broker.log",
    } <= set(found)
    assert_no_secrets(found)
