"""The feed poller (``stancewire ingest feeds CONFIG``): RSS and Atom feeds into ``headlines``.

Every feed of the config is polled on its own schedule, many at once (``concurrency``), with
conditional GETs (ETag, Last-Modified). A body is streamed and refused past
``max_body_bytes``; it is parsed by feedparser from bytes, so the encoding declared in the
XML prolog (or the HTTP charset) is honoured. Each entry becomes a Headline whose id is
derived from the feed name and the entry's own id (guid, link), published on ``headlines``
keyed by that id. Ids are marked sent in Redis only once the broker has acknowledged them,
and a feed's validators are stored only once every entry of that response is marked, so a
failure on the way is retried by the next poll and nothing is sent twice across restarts
(at least once: a crash between the acknowledgement and the mark resends those entries, and
the worker drops them as exact duplicates).

A failing feed (HTTP error, timeout, oversized body, not a feed, truncated XML) is counted,
logged once per failure streak, and retried with capped, jittered exponential backoff; it
never stops the others. A feed that parses with errors but still yields entries ("bozo") is
used, counted and logged.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import hashlib
import io
import json
import logging
import random
import re
import signal
import sys
import threading
import time
import tomllib
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from html.parser import HTMLParser
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar
from urllib.parse import urljoin, urlsplit
from xml.parsers.expat import errors as expat_errors
from xml.sax import SAXParseException

import feedparser
import httpx
from confluent_kafka import KafkaError, Producer
from prometheus_client import Counter, Gauge, Histogram, start_http_server
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from redis.asyncio import Redis
from redis.exceptions import RedisError

from producers.feed_state import FeedStore
from schemas import HEADLINES, MAX_TEXT_CHARS, Headline
from schemas.settings import FeedsSettings

log = logging.getLogger("stancewire.feeds")

# --- configuration ------------------------------------------------------------------------

FeedName = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=100,
        # No control characters or braces (the name is a Redis hash tag), no outer spaces.
        pattern=r"^[^\s{}\x00-\x1f\x7f](?:[^{}\x00-\x1f\x7f]*[^\s{}\x00-\x1f\x7f])?$",
    ),
]

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_CONDITIONAL = {"if-none-match", "if-modified-since"}


class Feed(BaseModel):
    """One feed: where it is, how often to poll it, and the name its headlines carry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: FeedName
    """The ``source`` of its headlines, part of their ids and of its Redis keys: renaming a
    feed makes its entries new again."""
    url: str
    interval_seconds: float = Field(300.0, gt=0, le=7 * 24 * 3600)
    timeout_seconds: float = Field(20.0, gt=0, le=600)
    """For the whole fetch, body included (a server trickling bytes is cut off too)."""
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http:// or https:// URL")
        return url

    @field_validator("headers")
    @classmethod
    def _valid_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid HTTP header name")
            if name.lower() in _CONDITIONAL:
                raise ValueError(f"{name!r} is set by the poller (conditional GET)")
            if any(ch in value for ch in "\r\n\x00"):
                raise ValueError(f"the value of {name!r} contains a line break or NUL")
        return headers


_DEFAULTABLE = ("interval_seconds", "timeout_seconds", "headers")


class Defaults(BaseModel):
    """Values every feed takes unless it sets its own (headers are merged, the feed's win)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    interval_seconds: float | None = Field(None, gt=0, le=7 * 24 * 3600)
    timeout_seconds: float | None = Field(None, gt=0, le=600)
    headers: dict[str, str] = Field(default_factory=dict)


class FeedsConfig(BaseModel):
    """The config file: ``feeds`` (at least one), and optional ``defaults`` for all of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: Defaults = Field(default_factory=Defaults)
    feeds: tuple[Feed, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("defaults"), dict):
            return data
        defaults = {k: v for k, v in data["defaults"].items() if k in _DEFAULTABLE}
        feeds = data.get("feeds")
        if not isinstance(feeds, list):
            return data
        merged = []
        for given in feeds:
            feed = given
            if isinstance(given, dict):
                feed = {**{k: v for k, v in defaults.items() if v is not None}, **given}
                if isinstance(defaults.get("headers"), dict) and isinstance(
                    given.get("headers"), dict
                ):
                    feed["headers"] = {**defaults["headers"], **given["headers"]}
            merged.append(feed)
        return {**data, "feeds": merged}

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        seen: set[str] = set()
        for index, feed in enumerate(self.feeds):
            if feed.name in seen:
                raise ValueError(f"feeds[{index}].name: {feed.name!r} is used by another feed")
            seen.add(feed.name)
        return self


class ConfigError(ValueError):
    """The config file cannot be read or is not valid; the message names the bad field."""


def load_config(path: Path) -> FeedsConfig:
    """Read a TOML (or, for a ``.json`` file, JSON) feed config."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, TOMLDecodeError
        raise ConfigError(f"{path}: not valid {_format_name(path)}: {exc}") from exc
    try:
        return FeedsConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_errors(exc, data)}") from exc


def _format_name(path: Path) -> str:
    return "JSON" if path.suffix.lower() == ".json" else "TOML"


def describe_errors(error: ValidationError, data: object) -> str:
    """One line per problem: ``feeds[2] ("Wire").interval_seconds: Input should be ...``."""
    lines = []
    problems = error.errors()
    item_errors = any(p["loc"][:1] == ("feeds",) and len(p["loc"]) > 1 for p in problems)
    for problem in problems:
        if item_errors and problem["loc"] == ("feeds",) and problem["type"] == "too_short":
            continue  # pydantic counts only the valid feeds: the real errors are listed
        where = ""
        loc = problem["loc"]
        for index, part in enumerate(loc):
            if isinstance(part, int):
                where += f"[{part}]"
                name = _feed_name(data, loc[: index + 1])
                if name:
                    where += f" ({name!r})"
            else:
                where += f".{part}" if where else str(part)
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)


def _feed_name(data: object, loc: tuple[int | str, ...]) -> str | None:
    if loc[:1] != ("feeds",) or len(loc) != 2 or not isinstance(data, dict):
        return None
    feeds = data.get("feeds")
    index = loc[1]
    if isinstance(feeds, list) and isinstance(index, int) and index < len(feeds):
        entry = feeds[index]
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            return str(entry["name"])
    return None


# --- metrics ------------------------------------------------------------------------------


class Outcome(StrEnum):
    """How one fetch of a feed ended."""

    NEW = "new"
    """A feed body was fetched and parsed (whether or not it held unseen entries)."""
    NOT_MODIFIED = "not_modified"
    HTTP_ERROR = "http_error"
    """A status other than 2xx or 304, or the connection failed."""
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    PARSE_ERROR = "parse_error"
    """Not a feed (HTML, empty), or truncated XML, or XML with errors and no entries."""


FETCHES = Counter("stancewire_feed_fetches_total", "Feed fetches by outcome", ["feed", "outcome"])
ITEMS = Counter(
    "stancewire_feed_items_total", "Feed items sent to headlines (acknowledged)", ["feed"]
)
BOZO = Counter(
    "stancewire_feed_bozo_total",
    "Feed bodies parsed with errors (malformed XML, wrong encoding) whose entries were used",
    ["feed"],
)
SKIPPED = Counter(
    "stancewire_feed_entries_skipped_total",
    "Feed entries with neither an id, link nor title, or with no text",
    ["feed"],
)
ERRORS = Counter(
    "stancewire_feed_errors_total",
    "Polls that failed after the fetch, by stage (redis, kafka, internal)",
    ["stage"],
)
FETCH_SECONDS = Histogram(
    "stancewire_feed_fetch_seconds",
    "One feed fetch, from the request to the whole body read (or the failure)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
LAST_SUCCESS = Gauge(
    "stancewire_feed_last_success_timestamp_seconds",
    "When a feed last answered with a feed or 304 (Unix time; 0: not yet)",
    ["feed"],
)

_STAGES = ("redis", "kafka", "internal")


def initialise_metrics(config: FeedsConfig) -> None:
    """Create every label set at zero, so rates exist before the first event."""
    for stage in _STAGES:
        ERRORS.labels(stage)
    for feed in config.feeds:
        for outcome in Outcome:
            FETCHES.labels(feed.name, outcome.value)
        ITEMS.labels(feed.name)
        BOZO.labels(feed.name)
        SKIPPED.labels(feed.name)
        LAST_SUCCESS.labels(feed.name)


# --- entries to headlines -----------------------------------------------------------------


def headline_id(feed: str, entry_key: str) -> str:
    """``feed:NAME:<16 hex>``: stable for one entry of one feed, whatever its text becomes."""
    digest = hashlib.sha1(entry_key.encode(), usedforsecurity=False).hexdigest()  # an id, not a MAC
    return f"feed:{feed}:{digest[:16]}"


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "template", "noscript"})
    _BREAKS = frozenset(
        {"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5",
         "h6", "blockquote", "section", "article", "header", "footer", "figure", "hr"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def collapse(text: str) -> str:
    """Whitespace (no-break spaces included) collapsed to single spaces, ends trimmed."""
    return " ".join(text.split())


def strip_html(markup: str) -> str:
    """The text of an HTML fragment: tags and scripts dropped, entities decoded, spaces
    collapsed."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    return collapse("".join(extractor.parts))


_SENTENCE_END = re.compile(
    r"[.!?\u2026][\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9\u00c0-\u00de])"
)
_ABBREVIATION = re.compile(
    r"(?:\b(?:[A-Za-z]\.)+|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Sr|Jr|Gen|Gov|Sen|Rep|Lt|Col|Capt|"
    r"Sgt|Mt|No|Nos|vs|etc|approx|Inc|Corp|Co|Ltd|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|"
    r"Nov|Dec)\.)$"
)


def first_sentence(text: str) -> str:
    """The first sentence of plain text (not cut after abbreviations such as "U.S.")."""
    for match in _SENTENCE_END.finditer(text):
        head = text[: match.start() + 1]
        if _ABBREVIATION.search(head):
            continue
        return text[: match.end()].rstrip()
    return text


def _plain(value: object, detail: object, html_by_default: bool) -> str:
    if not isinstance(value, str) or not value:
        return ""
    kind = detail.get("type") if isinstance(detail, Mapping) else None
    is_html = "html" in kind if isinstance(kind, str) else html_by_default
    return strip_html(value) if is_html else collapse(value)


def _cap(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def entry_text(entry: Mapping[str, Any]) -> str:
    """Title, then the first sentence of the summary (HTML stripped), capped to the limit."""
    title = _plain(entry.get("title"), entry.get("title_detail"), html_by_default=False)
    summary = _plain(entry.get("summary"), entry.get("summary_detail"), html_by_default=True)
    lead = first_sentence(summary) if summary else ""
    if title and lead:
        folded_title, folded_lead = title.casefold().rstrip(".!?… "), lead.casefold()
        if folded_lead.startswith(folded_title) or folded_title.startswith(
            folded_lead.rstrip(".!?… ")
        ):
            lead = ""  # the summary only repeats the title
    if title and lead:
        separator = " " if title[-1] in ".!?…:" else ". "
        return _cap(f"{title}{separator}{lead}")
    return _cap(title or lead)


def entry_key(entry: Mapping[str, Any]) -> str | None:
    """What identifies an entry within its feed: its id (guid), else its link, else its
    title with its date."""
    for name in ("id", "link"):
        value = entry.get(name)
        if isinstance(value, str) and value.strip():
            return f"{name}:{value.strip()}"
    title = entry.get("title")
    if isinstance(title, str) and title.strip():
        date = entry.get("published") or entry.get("updated") or ""
        return f"title:{collapse(title)}|{date}"
    return None


def entry_time(entry: Mapping[str, Any]) -> datetime | None:
    """The entry's published time, else its updated time, in UTC."""
    for name in ("published_parsed", "updated_parsed"):
        parsed = entry.get(name)
        if isinstance(parsed, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (TypeError, ValueError, OverflowError, OSError):
                continue
    return None


def entry_headline(feed: str, entry: Mapping[str, Any], fetched_at: datetime) -> Headline | None:
    """The headline an entry becomes (None when it has no identity or no text)."""
    key = entry_key(entry)
    text = entry_text(entry)
    if key is None or not text:
        return None
    return Headline(
        id=headline_id(feed, key),
        text=text,
        source=feed,
        published_at=entry_time(entry) or fetched_at,
    )


# --- parsing ------------------------------------------------------------------------------

#: Expat's errors that only occur when the document ends early.
_TRUNCATION = frozenset(
    {
        expat_errors.XML_ERROR_NO_ELEMENTS,
        expat_errors.XML_ERROR_UNCLOSED_TOKEN,
        expat_errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
        expat_errors.XML_ERROR_PARTIAL_CHAR,
    }
)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S)


@dataclass(frozen=True)
class ParsedFeed:
    entries: list[Mapping[str, Any]]
    error: str | None = None
    """Why the body cannot be used at all (nothing is sent)."""
    bozo: str | None = None
    """What was wrong with a body whose entries are used anyway."""


def parse_feed(body: bytes, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed body. The HTTP charset is passed on only when the server names one: a bare
    ``text/xml`` would otherwise make feedparser ignore the encoding in the XML prolog."""
    if not body.strip():
        return ParsedFeed([], error="empty body")
    headers = {"content-type": content_type} if content_type and "charset=" in content_type else {}
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    entries: list[Mapping[str, Any]] = list(parsed.get("entries") or [])
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(problem, feedparser.NonXMLContentType):
        problem = None  # a feed served as text/plain or text/html is still a feed
    if isinstance(problem, SAXParseException) and problem.getMessage() in _TRUNCATION:
        return ParsedFeed([], error=f"truncated XML ({problem.getMessage()})")
    if not parsed.get("version") and not entries:
        what = "HTML instead of a feed" if _HTML_START.match(body[:4096]) else "not a feed"
        detail = f" ({_describe(problem)})" if problem is not None else ""
        return ParsedFeed([], error=f"{what}{detail}")
    if problem is not None and not entries:
        return ParsedFeed([], error=_describe(problem))
    return ParsedFeed(entries, bozo=_describe(problem) if problem is not None else None)


def _describe(problem: object) -> str:
    if isinstance(problem, SAXParseException):
        return f"XML error at line {problem.getLineNumber()}: {problem.getMessage()}"
    return f"{type(problem).__name__}: {problem}"


# --- Kafka --------------------------------------------------------------------------------


class KafkaSink:
    """Produces headlines and tells which ones the broker acknowledged.

    librdkafka delivers its reports from ``poll``; a thread polls, and each report settles
    an asyncio future on the poller's loop.
    """

    def __init__(self, settings: FeedsSettings) -> None:
        delivery_timeout_seconds = settings.delivery_timeout_seconds
        self._timeout = delivery_timeout_seconds
        self._producer = Producer(
            {
                "bootstrap.servers": settings.bootstrap,
                **settings.librdkafka(),  # SASL and TLS, from STANCEWIRE_KAFKA_*
                "client.id": "stancewire-feeds",
                "linger.ms": 5,
                "enable.idempotence": False,
                "message.timeout.ms": int(delivery_timeout_seconds * 1000),
            }
        )
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="kafka-reports", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(0.05)

    async def send(self, headlines: Sequence[Headline], links: Sequence[str | None]) -> list[str]:
        """Produce in order; returns the ids the broker acknowledged."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[bool]] = []

        def settle(future: asyncio.Future[bool], ok: bool) -> None:
            if not future.done():
                future.set_result(ok)

        for headline, link in zip(headlines, links, strict=True):
            future: asyncio.Future[bool] = loop.create_future()

            def delivered(
                error: KafkaError | None,
                _message: object,
                future: asyncio.Future[bool] = future,
                id_: str = headline.id,
            ) -> None:
                if error is not None:
                    log.warning("headline %s not acknowledged: %s", id_, error)
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(settle, future, error is None)

            headers: list[tuple[str, str | bytes | None]] | None = (
                [("link", link.encode())] if link else None
            )
            while True:
                try:
                    self._producer.produce(
                        HEADLINES.name,
                        key=headline.id.encode(),
                        value=headline.model_dump_json().encode(),
                        headers=headers,
                        on_delivery=delivered,
                    )
                    break
                except BufferError:  # the local queue is full: let it drain
                    await asyncio.sleep(0.05)
            futures.append(future)
        try:
            async with asyncio.timeout(self._timeout + 5):
                acked = await asyncio.gather(*futures)
        except TimeoutError:
            acked = [f.done() and f.result() for f in futures]
        return [h.id for h, ok in zip(headlines, acked, strict=True) if ok]

    def close(self) -> None:
        self._producer.flush(self._timeout)
        self._closing.set()
        self._thread.join(5)


# --- the poller ---------------------------------------------------------------------------


class FetchFailure(Exception):
    def __init__(self, outcome: Outcome, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Fetched:
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    url: str
    """Where the body came from, after redirects (relative links resolve against it)."""


@dataclass
class FeedHealth:
    """A feed's failure streak, for backoff and for logging once per streak."""

    failures: int = 0
    failing: str | None = None
    bozo: bool = False


T = TypeVar("T")


@dataclass
class Poller:
    config: FeedsConfig
    settings: FeedsSettings
    store: FeedStore
    sink: KafkaSink
    client: httpx.AsyncClient
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    health: dict[str, FeedHealth] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._gate = asyncio.Semaphore(self.settings.concurrency)
        self.health = {feed.name: FeedHealth() for feed in self.config.feeds}

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(self._run_feed(feed), name=f"feed {feed.name}")
            for feed in self.config.feeds
        ]
        await self.stop.wait()
        # Each feed finishes what it is publishing (a fetch in flight is abandoned).
        _, pending = await asyncio.wait(tasks, timeout=self.settings.delivery_timeout_seconds + 5)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _run_feed(self, feed: Feed) -> None:
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            started = loop.time()
            delay = await self.poll(feed)
            if delay is None:
                return
            delay = max(0.0, delay - (loop.time() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), delay)

    async def poll(self, feed: Feed) -> float | None:
        """One poll of a feed; the seconds until the next one (None: stopping)."""
        health = self.health[feed.name]
        fetched_at = datetime.now(UTC)
        try:
            validators = await self.store.validators(feed.name, feed.url)
            headers = {**feed.headers, **(validators.request_headers() if validators else {})}
            async with self._gate:
                fetched = await self._unless_stopped(self._fetch(feed, headers))
                if fetched is None:
                    FETCHES.labels(feed.name, Outcome.NOT_MODIFIED.value).inc()
                    LAST_SUCCESS.labels(feed.name).set(time.time())
                    await self.store.touch(feed.name)
                    return self._succeeded(feed, health)
                parsed = await asyncio.to_thread(parse_feed, fetched.body, fetched.content_type)
            if parsed.error is not None:
                raise FetchFailure(Outcome.PARSE_ERROR, parsed.error)
            FETCHES.labels(feed.name, Outcome.NEW.value).inc()
            LAST_SUCCESS.labels(feed.name).set(time.time())
            self._note_bozo(feed, health, parsed.bozo)
            await self._publish(feed, fetched, parsed, fetched_at)
        except _Stopped:
            return None
        except FetchFailure as failure:
            FETCHES.labels(feed.name, failure.outcome.value).inc()
            return self._failed(feed, health, failure.outcome.value, failure.reason,
                                failure.retry_after)  # fmt: skip
        except RedisError as exc:
            ERRORS.labels("redis").inc()
            return self._failed(feed, health, "redis", f"Redis: {exc}")
        except _PublishFailure as exc:
            ERRORS.labels("kafka").inc()
            return self._failed(feed, health, "kafka", str(exc))
        except Exception as exc:  # a bug must not stop the other feeds, nor this one
            ERRORS.labels("internal").inc()
            log.exception("feed %s: unexpected error", feed.name)
            return self._failed(feed, health, "internal", repr(exc))
        return self._succeeded(feed, health)

    async def _unless_stopped(self, work: Awaitable[T]) -> T:
        """``work``'s result; _Stopped if the poller is told to stop first (work cancelled)."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            raise _Stopped
        return task.result()

    async def _fetch(self, feed: Feed, headers: dict[str, str]) -> Fetched | None:
        """The body of a feed, or None when it is not modified; FetchFailure otherwise."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(feed.timeout_seconds):
                return await self._get(feed, headers)
        except TimeoutError as exc:
            raise FetchFailure(
                Outcome.TIMEOUT, f"no complete answer within {feed.timeout_seconds:g}s"
            ) from exc
        except httpx.TimeoutException as exc:
            raise FetchFailure(Outcome.TIMEOUT, f"{type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise FetchFailure(
                Outcome.HTTP_ERROR, f"{type(exc).__name__}: {exc or 'connection failed'}"
            ) from exc
        finally:
            FETCH_SECONDS.observe(time.perf_counter() - started)

    async def _get(self, feed: Feed, headers: dict[str, str]) -> Fetched | None:
        limit = self.settings.max_body_bytes
        request = self.client.stream("GET", feed.url, headers=headers, timeout=feed.timeout_seconds)
        async with request as response:
            if response.status_code == 304:
                return None
            if not 200 <= response.status_code < 300:
                raise FetchFailure(
                    Outcome.HTTP_ERROR,
                    f"HTTP {response.status_code} {response.reason_phrase}".rstrip(),
                    _retry_after(response.headers.get("retry-after")),
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchFailure(Outcome.TOO_LARGE, f"Content-Length {declared} > {limit} bytes")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise FetchFailure(Outcome.TOO_LARGE, f"body over {limit} bytes")
            return Fetched(
                bytes(body),
                response.headers.get("content-type"),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
                str(response.url),
            )

    async def _publish(
        self, feed: Feed, fetched: Fetched, parsed: ParsedFeed, fetched_at: datetime
    ) -> None:
        found: dict[str, tuple[Headline, str | None]] = {}
        for entry in parsed.entries:
            try:
                headline = entry_headline(feed.name, entry, fetched_at)
            except ValidationError:
                headline = None
            if headline is None:
                SKIPPED.labels(feed.name).inc()
                continue
            link = entry.get("link")
            url = urljoin(fetched.url, link) if isinstance(link, str) and link else None
            found.setdefault(headline.id, (headline.model_copy(update={"url": url}), url))
        present = list(found)
        unsent = await self.store.unsent(feed.name, present)
        # Oldest first, so the worker sees a feed's stories in event-time order.
        batch = sorted((found[id_] for id_ in unsent), key=lambda item: item[0].published_at)
        acked: list[str] = []
        if batch:
            acked = await self.sink.send([h for h, _ in batch], [url for _, url in batch])
            ITEMS.labels(feed.name).inc(len(acked))
        await self.store.mark_sent(feed.name, acked, present, time.time())
        if len(acked) < len(batch):
            raise _PublishFailure(
                f"{len(batch) - len(acked)} of {len(batch)} headline(s) not acknowledged"
            )
        # Only now is this version of the feed wholly sent: a 304 may stand for it.
        await self.store.save_validators(feed.name, feed.url, fetched.etag, fetched.last_modified)

    def _note_bozo(self, feed: Feed, health: FeedHealth, bozo: str | None) -> None:
        if bozo is None:
            health.bozo = False
            return
        BOZO.labels(feed.name).inc()
        if not health.bozo:
            log.warning("feed %s: malformed feed, entries used anyway: %s", feed.name, bozo)
        health.bozo = True

    def _succeeded(self, feed: Feed, health: FeedHealth) -> float:
        if health.failures:
            log.info("feed %s: recovered after %d failed poll(s)", feed.name, health.failures)
        health.failures, health.failing = 0, None
        return feed.interval_seconds

    def _failed(
        self,
        feed: Feed,
        health: FeedHealth,
        kind: str,
        reason: str,
        retry_after: float | None = None,
    ) -> float:
        health.failures += 1
        delay = backoff(feed.interval_seconds, health.failures, self.settings.max_backoff_seconds)
        if retry_after is not None:
            ceiling = max(self.settings.max_backoff_seconds, feed.interval_seconds)
            delay = max(delay, min(retry_after, ceiling))
        if health.failing != kind:  # once per failure streak (and when its cause changes)
            log.warning(
                "feed %s (%s): %s: %s; retrying with backoff (next in %.1fs)",
                feed.name, feed.url, kind, reason, delay,
            )  # fmt: skip
        else:
            log.debug("feed %s: still failing (%s), next in %.1fs", feed.name, reason, delay)
        health.failing = kind
        return delay


class _PublishFailure(Exception):
    pass


class _Stopped(Exception):
    pass


def backoff(interval: float, failures: int, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before retrying after ``failures`` consecutive failures: twice the interval,
    doubling each time, capped at ``max(cap, interval)``, jittered down by up to half."""
    ceiling = max(cap, interval)
    delay = min(ceiling, interval * 2.0 ** min(failures, 32))
    return delay * (rng or random).uniform(0.5, 1.0)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# --- entry point --------------------------------------------------------------------------


def _accept() -> str:
    return (
        "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
        "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
    )


async def run(config: FeedsConfig, settings: FeedsSettings) -> None:
    """Poll every feed until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    redis = Redis.from_url(
        settings.redis_url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5
    )
    sink = KafkaSink(settings)
    client = httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": settings.user_agent, "Accept": _accept()},
        limits=httpx.Limits(
            max_connections=settings.concurrency,
            max_keepalive_connections=settings.concurrency,
        ),
    )
    poller = Poller(
        config,
        settings,
        FeedStore(redis, settings.sent_ttl_seconds, settings.sent_cap),
        sink,
        client,
        stop,
    )
    log.info("polling %d feed(s)", len(config.feeds))
    try:
        await poller.run()
    finally:
        await client.aclose()
        await asyncio.to_thread(sink.close)
        await redis.aclose()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def main(config_path: Path, settings: FeedsSettings) -> int:
    """``stancewire ingest feeds CONFIG``: poll until SIGTERM or SIGINT. 2: a bad config."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"stancewire ingest feeds: {exc}", file=sys.stderr)
        return 2
    initialise_metrics(config)
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
    asyncio.run(run(config, settings))
    return 0
