"""``stancewire gateway``: alerts to desks over HTTP — SSE, REST, and the live stance board.

Every gateway replica reads every alert (``consumers.hub``); state comes from Redis (the
current stances) and from the alerts topic (history, lookups, resume). Desks authenticate
with bearer tokens (``consumers.auth``) and see only their scope: asking for more is 403,
and streams and lists are cut to the scope. Errors are JSON: ``{"error": {"status",
"message"}}``. The OpenAPI document is at ``/openapi.json``. A request body is JSON
(``Content-Type: application/json``, else 415) of at most ``MAX_BODY_BYTES`` (else 413,
read no further).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any, cast

import uvicorn
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from consumers import gateway_metrics as metrics
from consumers.auth import COOKIE, AuthError, authenticate, load_desks
from consumers.hub import Delivered, Hub, parse_event_id
from consumers.openapi import document
from consumers.subscriptions import SubscriptionStore
from schemas import Alert, Stance, Topic
from schemas.desks import AlertFilter, Desk, Desks, SubscriptionRequest, private_target
from schemas.settings import GatewaySettings
from schemas.state import CURRENT_STANCES_KEY, StanceState

Handler = Callable[[Request], Awaitable[Response]]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
"""The largest request body the gateway reads (a subscription is well under 1 KiB)."""


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


class Forbidden(Exception):
    """403: the request asks for more than the desk's scope."""


class TooLarge(Exception):
    """413: the body is over ``MAX_BODY_BYTES``."""


class NotJson(Exception):
    """415: a body that is not declared as JSON."""


def declared_too_large(request: Request) -> None:
    """413 at once when the declared length is over the cap (nothing is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise TooLarge(f"the body is over {MAX_BODY_BYTES} bytes")


async def json_body(request: Request) -> bytes:
    """The body of a JSON request, read up to the cap (a chunked one too)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise NotJson("the body must be JSON (Content-Type: application/json)")
    declared_too_large(request)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise TooLarge(f"the body is over {MAX_BODY_BYTES} bytes")
    return bytes(body)


def parse_filter(request: Request) -> AlertFilter:
    """Filters from the query: ``government``, ``topic``, ``stance`` (repeatable or
    comma-separated) and ``min_confidence``."""

    def values(name: str) -> list[str]:
        return [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]

    return AlertFilter(
        governments=frozenset(g.upper() for g in values("government")),
        topics=frozenset(Topic(t) for t in values("topic")),
        stances=frozenset(Stance(s) for s in values("stance")),
        min_confidence=float(request.query_params.get("min_confidence", 0.0)),
    )


def within_scope(desk: Desk, wanted: AlertFilter) -> None:
    """403 when a request names what the desk may not see; what it leaves open is cut to
    the desk's scope by the handlers instead."""
    outside = desk.scope.outside(wanted.governments, wanted.topics)
    if outside:
        raise Forbidden(f"desk {desk.desk} may not see {', '.join(outside)}")


def visible(desk: Desk, wanted: AlertFilter, alert: Alert) -> bool:
    return desk.scope.allows(alert.government, alert.topic) and wanted.matches(alert)


class Gateway:
    def __init__(self, settings: GatewaySettings, desks: Desks) -> None:
        self.settings = settings
        self.desks = desks
        self.hub = Hub(settings.bootstrap, fetch_wait_ms=round(settings.fetch_wait_seconds * 1000))
        self.redis = Redis.from_url(
            settings.redis_url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2
        )
        self.subscriptions = SubscriptionStore(self.redis)
        self.streams: dict[str, int] = {}
        """Streams open per desk (capped)."""
        self.reported: list[str] = []
        """What keeps the gateway from being ready, as last logged."""

    # --- plumbing -----------------------------------------------------------------------

    def guarded(self, handler: Callable[[Request, Desk], Awaitable[Response]]) -> Handler:
        """Authenticate, then map the errors a handler may raise to JSON responses."""

        async def run(request: Request) -> Response:
            try:
                desk = authenticate(self.desks, request)
                declared_too_large(request)
                return await handler(request, desk)
            except AuthError as exc:
                response = error(401, str(exc))
                response.headers["WWW-Authenticate"] = "Bearer"
                return response
            except Forbidden as exc:
                return error(403, str(exc))
            except TooLarge as exc:
                return error(413, str(exc))
            except NotJson as exc:
                return error(415, str(exc))
            except (ValueError, ValidationError) as exc:
                return error(400, f"bad request: {exc}")
            except RedisError as exc:
                return error(503, f"state unavailable, retry: {exc}")

        return run

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self.hub.start(asyncio.get_running_loop())
        try:
            await self.redis.ping()
        except RedisError as exc:  # serve anyway: /readyz says so until Redis answers
            log.error("Redis does not answer: %s", exc)
        try:
            yield
        finally:
            self.hub.stop()
            await self.redis.aclose()

    # --- endpoints ------------------------------------------------------------------------

    async def board_page(self, _request: Request) -> Response:
        page = resources.files("consumers") / "static" / "board.html"
        return HTMLResponse(page.read_text())

    async def openapi(self, _request: Request) -> Response:
        return JSONResponse(document())

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, _request: Request) -> Response:
        problems = []
        try:
            await self.redis.ping()
        except RedisError as exc:
            problems.append(f"redis: {exc}")
        if not self.hub.alive:
            problems.append("alerts reader stopped")
        elif not self.hub.caught_up.is_set():
            problems.append("alerts reader still reading history")
        # Logged once per change; reading the history at start is no failure.
        failing = [p for p in problems if not p.endswith("still reading history")]
        if failing != self.reported:
            if failing:
                log.error("not ready: %s", "; ".join(failing))
            else:
                log.warning("recovered from: %s", "; ".join(self.reported))
            self.reported = failing
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def open_session(self, request: Request, desk: Desk) -> Response:
        response = JSONResponse({"desk": desk.desk, "scope": desk.scope.model_dump(mode="json")})
        token = request.headers.get("authorization", "").partition(" ")[2].strip()
        if token:
            response.set_cookie(
                COOKIE,
                token,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        return response

    async def close_session(self, _request: Request) -> Response:
        response = Response(status_code=204)
        response.delete_cookie(COOKIE)
        return response

    async def stances(self, request: Request, desk: Desk) -> Response:
        wanted = parse_filter(request)
        within_scope(desk, wanted)
        raw = cast(dict[str, str], await self.redis.hgetall(CURRENT_STANCES_KEY))
        board = []
        for key, value in sorted(raw.items()):
            government, _, topic = key.partition(":")
            state = StanceState.model_validate_json(value)
            if not desk.scope.allows(government, Topic(topic)):
                continue
            if wanted.governments and government not in wanted.governments:
                continue
            if wanted.topics and Topic(topic) not in wanted.topics:
                continue
            board.append(
                {"government": government, "topic": topic, **state.model_dump(mode="json")}
            )
        return JSONResponse({"stances": board})

    async def stance_history(self, request: Request, desk: Desk) -> Response:
        government = request.path_params["government"].upper()
        topic = Topic(request.path_params["topic"])
        within_scope(
            desk, AlertFilter(governments=frozenset({government}), topics=frozenset({topic}))
        )
        raw = cast(
            str | None, await self.redis.hget(CURRENT_STANCES_KEY, f"{government}:{topic.value}")
        )
        current = (
            None if raw is None else StanceState.model_validate_json(raw).model_dump(mode="json")
        )
        history = [_alert_json(d.alert) for d in self.hub.history(government, topic.value)]
        return JSONResponse(
            {"government": government, "topic": topic.value, "current": current, "alerts": history}
        )

    async def alert(self, request: Request, desk: Desk) -> Response:
        found = self.hub.buffer.get(request.path_params["alert_id"])
        if found is None or not desk.scope.allows(found.alert.government, found.alert.topic):
            return error(404, "no such alert (or not in this desk's scope)")
        outlets = self.hub.outlets.get(found.alert.alert_id)
        return JSONResponse(
            {
                "alert": _alert_json(found.alert),
                "event_id": found.event_id,
                "outlets": outlets.outlets if outlets else 1,
                "reports": outlets.reports if outlets else 1,
            }
        )

    async def stream(self, request: Request, desk: Desk) -> Response:
        wanted = parse_filter(request)
        within_scope(desk, wanted)
        if self.streams.get(desk.desk, 0) >= self.settings.max_streams_per_desk:
            return error(
                429, f"desk {desk.desk} has {self.settings.max_streams_per_desk} streams open"
            )
        resume = parse_event_id(request.headers.get("last-event-id"))
        return StreamingResponse(
            self._events(desk, wanted, resume),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _events(
        self, desk: Desk, wanted: AlertFilter, resume: int | None
    ) -> AsyncIterator[str]:
        queue = self.hub.subscribe()  # first, so nothing falls between catch-up and live
        metrics.SSE_CLIENTS.inc()
        self.streams[desk.desk] = self.streams.get(desk.desk, 0) + 1
        try:
            last = -1 if resume is None else resume
            yield ": connected\n\n"
            if resume is not None:
                for delivered in await self._catch_up(desk, wanted, resume):
                    last = delivered.offset
                    yield _event(delivered)
            while not self.hub.was_cut_off(queue):
                try:
                    delivered = await asyncio.wait_for(queue.get(), self.settings.keepalive_seconds)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if delivered.offset <= last or not visible(desk, wanted, delivered.alert):
                    continue
                last = delivered.offset
                metrics.SSE_EVENTS.inc()
                metrics.SSE_DELIVERY_SECONDS.observe(
                    max(0.0, time.time() - delivered.alert.detected_at.timestamp())
                )
                yield _event(delivered)
        finally:
            self.hub.unsubscribe(queue)
            metrics.SSE_CLIENTS.dec()
            self.streams[desk.desk] -= 1

    async def _catch_up(self, desk: Desk, wanted: AlertFilter, resume: int) -> list[Delivered]:
        oldest = self.hub.oldest_offset()
        missed: list[Delivered] = []
        if oldest is not None and resume + 1 < oldest:
            missed = await asyncio.to_thread(
                self.hub.older, resume, oldest, lambda alert: visible(desk, wanted, alert)
            )
        missed += [d for d in self.hub.after(resume) if visible(desk, wanted, d.alert)]
        return missed

    async def list_subscriptions(self, _request: Request, desk: Desk) -> Response:
        mine = [s for s in await self.subscriptions.all() if s.desk == desk.desk]
        return JSONResponse({"subscriptions": [_subscription_json(s) for s in mine]})

    async def add_subscription(self, request: Request, desk: Desk) -> Response:
        wanted = SubscriptionRequest.model_validate_json(await json_body(request))
        within_scope(desk, wanted.filter)
        inside = private_target(str(wanted.url))
        if inside and not self.settings.webhook_allow_private:
            return error(422, f"webhook refused: {inside}")
        if not wanted.filter.governments and desk.scope.governments:
            wanted = wanted.model_copy(
                update={
                    "filter": wanted.filter.model_copy(
                        update={"governments": desk.scope.governments}
                    )
                }
            )
        if not wanted.filter.topics and desk.scope.topics:
            wanted = wanted.model_copy(
                update={"filter": wanted.filter.model_copy(update={"topics": desk.scope.topics})}
            )
        created = await self.subscriptions.add(desk.desk, wanted)
        return JSONResponse(_subscription_json(created), status_code=201)

    async def get_subscription(self, request: Request, desk: Desk) -> Response:
        found = await self.subscriptions.get(request.path_params["subscription_id"])
        if found is None or found.desk != desk.desk:
            return error(404, "no such subscription")
        return JSONResponse(_subscription_json(found))

    async def delete_subscription(self, request: Request, desk: Desk) -> Response:
        found = await self.subscriptions.get(request.path_params["subscription_id"])
        if found is None or found.desk != desk.desk:
            return error(404, "no such subscription")
        await self.subscriptions.delete(found.id)
        return Response(status_code=204)

    def app(self) -> Starlette:
        g = self.guarded
        get, post, delete = ["GET"], ["POST"], ["DELETE"]
        table: list[tuple[str, Handler, list[str]]] = [
            ("/", self.board_page, get),
            ("/openapi.json", self.openapi, get),
            ("/healthz", self.healthz, get),
            ("/readyz", self.readyz, get),
            ("/v1/session", g(self.open_session), post),
            ("/v1/session", self.close_session, delete),
            ("/v1/alerts/stream", g(self.stream), get),
            ("/v1/alerts/{alert_id}", g(self.alert), get),
            ("/v1/stances", g(self.stances), get),
            ("/v1/stances/{government}/{topic}", g(self.stance_history), get),
            ("/v1/subscriptions", g(self.list_subscriptions), get),
            ("/v1/subscriptions", g(self.add_subscription), post),
            ("/v1/subscriptions/{subscription_id}", g(self.get_subscription), get),
            ("/v1/subscriptions/{subscription_id}", g(self.delete_subscription), delete),
        ]
        routes = [
            Route(path, _counted(path, handler), methods=methods)
            for path, handler, methods in table
        ]
        return Starlette(routes=routes, lifespan=self.lifespan)


def _counted(route: str, handler: Handler) -> Handler:
    """Count answers by route template (bounded), never by the path a client sent."""

    async def run(request: Request) -> Response:
        response = await handler(request)
        metrics.HTTP_REQUESTS.labels(route, str(response.status_code)).inc()
        return response

    return run


def _alert_json(alert: Alert) -> Any:
    return alert.model_dump(mode="json", by_alias=True)


def _subscription_json(subscription: Any) -> Any:
    """A subscription as its desk sees it: the secrets are never shown back."""
    body = subscription.model_dump(mode="json")
    body["secrets"] = [f"...{secret[-4:]}" for secret in subscription.secrets]
    return body


def _event(delivered: Delivered) -> str:
    return f"id: {delivered.event_id}\nevent: alert\ndata: {delivered.alert.to_json()}\n\n"


def main(settings: GatewaySettings) -> int:
    """Serve until stopped; /metrics is served by the caller (``stancewire gateway``)."""
    gateway = Gateway(settings, load_desks(settings))
    config = uvicorn.Config(
        gateway.app(),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,  # never log what a desk sent
        lifespan="on",
    )
    uvicorn.Server(config).run()
    return 0
