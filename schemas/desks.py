"""Desks and what they may see: bearer tokens (stored hashed), scopes, webhook subscriptions."""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

from schemas.messages import Alert, Stance, Topic


class Scope(BaseModel):
    """Which governments and topics a desk may see; empty means all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    governments: frozenset[str] = frozenset()
    topics: frozenset[Topic] = frozenset()

    def allows(self, government: str, topic: Topic) -> bool:
        return (not self.governments or government in self.governments) and (
            not self.topics or topic in self.topics
        )

    def outside(self, governments: frozenset[str], topics: frozenset[Topic]) -> list[str]:
        """Which of the named governments and topics this scope does not allow."""
        return sorted(
            [*(governments - self.governments if self.governments else ()),
             *(t.value for t in (topics - self.topics if self.topics else ()))]
        )  # fmt: skip


class Desk(BaseModel):
    """One desk's entry in the tokens file: its name, the SHA-256 of its token, its scope."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    desk: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    token_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    scope: Scope = Scope()

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class Producer(BaseModel):
    """A source allowed to push headlines over HTTP, with its token's digest and rate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    producer: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    token_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    rate_per_second: float = Field(50.0, gt=0, description="Headlines per second, sustained")
    burst: int = Field(200, ge=1, description="Headlines accepted at once above the rate")


class Desks(BaseModel):
    """The tokens file (JSON, ``{"desks": [...]}``); in a cluster, a mounted Secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    desks: tuple[Desk, ...] = ()
    producers: tuple[Producer, ...] = ()
    """Who may push headlines (``stancewire ingest http``); desk tokens may not."""

    def by_token(self, token: str) -> Desk | None:
        digest = Desk.hash_token(token)
        return next((desk for desk in self.desks if desk.token_sha256 == digest), None)

    def producer_by_token(self, token: str) -> Producer | None:
        digest = Desk.hash_token(token)
        return next((p for p in self.producers if p.token_sha256 == digest), None)


class AlertFilter(BaseModel):
    """Which alerts a desk wants (a stream, a tail, a subscription); an empty set means any."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    governments: frozenset[str] = frozenset()
    topics: frozenset[Topic] = frozenset()
    stances: frozenset[Stance] = frozenset()
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)

    def matches(self, alert: Alert) -> bool:
        return (
            (not self.governments or alert.government in self.governments)
            and (not self.topics or alert.topic in self.topics)
            and (not self.stances or alert.to in self.stances)
            and alert.confidence >= self.min_confidence
        )


Secret = Annotated[str, StringConstraints(min_length=16, max_length=256)]


class SubscriptionRequest(BaseModel):
    """What a desk sends to create a webhook subscription."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: AnyHttpUrl
    secrets: Annotated[tuple[Secret, ...], Field(min_length=1, max_length=2)]
    """Signing secrets: two during a rollover (each POST is signed with every one)."""
    filter: AlertFilter = AlertFilter()
    description: str = ""


def private_target(url: str) -> str | None:
    """Why a webhook URL points inside the network (a loopback, private, link-local or
    reserved address, or localhost), or None. Hostnames are not resolved here."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this machine"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    ):
        return f"{address} is not a public address"
    return None


class Subscription(SubscriptionRequest):
    """A webhook subscription: where to POST which alerts, signed with which secrets."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    desk: str
