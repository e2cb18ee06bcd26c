"""The messages on stancewire's topics: Headline in, Statement and Alert out, DeadLetter aside.

Models are strict and closed: an unknown field, a wrong type, a naive timestamp or an
oversized text is a validation error, and on the worker that error dead-letters the message.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

SCHEMA_VERSION = 1

#: Longest headline text accepted (headline plus lead paragraph; wire stories are far shorter).
MAX_TEXT_CHARS = 4_000

GovernmentCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2 code of a government, or ``EU`` for the European Union."""

NonEmpty = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")
]
"""A short name or id: no control characters (they would cut the fields of Redis values)."""


class Topic(StrEnum):
    """Which lever a statement is about."""

    TREASURY_HOLDINGS = "treasury_holdings"
    TRADE_LEVERAGE = "trade_leverage"


class Stance(StrEnum):
    """A government's stance on using a lever."""

    THREATENS = "threatens"
    OPEN = "open"
    RULES_OUT = "rules_out"
    ACTING = "acting"


class Speaker(StrEnum):
    """Who made a statement; only ``government`` statements move a government's stance."""

    GOVERNMENT = "government"
    ANALYST = "analyst"
    MEDIA = "media"
    OTHER = "other"


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Headline(_Message):
    """A story on topic ``headlines``: what any producer sends."""

    schema_version: Literal[1] = 1
    id: NonEmpty
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]
    source: NonEmpty
    published_at: AwareDatetime
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    """Where the story can be read, when the producer knows (a feed entry's link)."""


class Statement(_Message):
    """One detected statement: who said what about which lever, with its evidence.

    Published on topic ``statements`` for every statement, relevant to a stance or not
    (speculation by analysts included), as the audit stream.
    """

    schema_version: Literal[1] = 1
    headline_id: NonEmpty
    story_id: NonEmpty
    """The first headline of this one's story (its own id when it is the first)."""
    government: GovernmentCode
    topic: Topic
    stance: Stance
    speaker: Speaker
    confidence: Annotated[float, Field(ge=0.0, le=1.0)]
    evidence: str
    cue: str
    """The id of the rule that decided the stance."""
    speaker_phrase: str = ""
    """The words that name the speaker ("Finance Minister Katsunobu Kato", "analysts")."""
    source: NonEmpty
    published_at: AwareDatetime
    detected_at: AwareDatetime

    @property
    def stance_key(self) -> str:
        """The state key this statement may move, ``GOVERNMENT:topic``."""
        return f"{self.government}:{self.topic.value}"


class Alert(_Message):
    """A change of a government's stance, on topic ``alerts``.

    ``from`` is a Python keyword, so the field is ``from_`` in code and ``from`` on the wire;
    always serialise with ``by_alias=True`` (``to_json`` does).
    """

    model_config = ConfigDict(populate_by_name=True)

    schema_version: Literal[1] = 1
    alert_id: NonEmpty
    kind: Literal["stance_change"] = "stance_change"
    government: GovernmentCode
    topic: Topic
    from_: Stance | None = Field(alias="from")
    to: Stance
    headline_id: NonEmpty
    story_id: NonEmpty
    evidence: str
    source: NonEmpty
    published_at: AwareDatetime
    detected_at: AwareDatetime
    confidence: Annotated[float, Field(ge=0.0, le=1.0)]
    speaker: Speaker
    seq: int | None = None
    """This key's change number (1, 2, ...): alerts can reach a desk out of order (another
    partition's worker, a republish after a crash); the one with the larger ``seq`` is the
    newer stance. Not part of ``alert_id``."""

    @staticmethod
    def derive_id(government: str, topic: Topic, to: Stance, headline_id: str) -> str:
        """Derive the id from what makes the event unique, so every redelivery shares it.

        One headline moves one government's stance on one topic to one stance at most once,
        so these four identify the event; ``from`` is left out because it is decided inside
        the atomic compare-and-set, after the id is needed.
        """
        digest = hashlib.sha256(f"{government}|{topic.value}|{to.value}|{headline_id}".encode())
        return digest.hexdigest()[:32]

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)

    @classmethod
    def from_topic(cls, value: bytes | None) -> Alert | None:
        """An alert from a message on ``alerts``; None for another kind (a corroboration).
        Raises ValueError (pydantic's ValidationError is one) when it cannot be read."""
        decoded = json.loads(value or b"null")
        if not isinstance(decoded, dict) or decoded.get("kind") != "stance_change":
            return None
        return cls.model_validate_json(value or b"")  # strict models: JSON mode for enums


class Corroboration(_Message):
    """More outlets carried the story behind an alert: the alert stands, better sourced.

    Shares topic ``alerts`` (and the alert's key, so it follows the alert) with its own
    ``kind``; never a second alert. ``corroboration_id`` is derived from the alert and the
    outlet count, so a redelivery repeats the same id.
    """

    schema_version: Literal[1] = 1
    corroboration_id: NonEmpty
    kind: Literal["corroboration"] = "corroboration"
    alert_id: NonEmpty
    story_id: NonEmpty
    government: GovernmentCode
    topic: Topic
    outlets: Annotated[int, Field(ge=1)]
    """Distinct sources that carried the alert's statement in its story so far."""
    reports: Annotated[int, Field(ge=1)]
    """Headlines that carried it so far (its chain in the story)."""
    novelty: Annotated[float, Field(ge=0.0, le=100.0)]
    """Novelty of this report: 100 for the first, x0.75 for each one after it."""
    headline_id: NonEmpty
    source: NonEmpty
    published_at: AwareDatetime
    detected_at: AwareDatetime

    @staticmethod
    def derive_id(alert_id: str, outlets: int) -> str:
        return hashlib.sha256(f"{alert_id}|{outlets}".encode()).hexdigest()[:32]


class DeadLetterReason(StrEnum):
    """Why a message on ``headlines`` could not be processed."""

    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    INVALID = "invalid"
    PROCESSING_ERROR = "processing_error"
    """A valid headline the worker failed on (a bug): kept whole so it can be replayed."""


class DeadLetter(_Message):
    """A message that could not be processed, on ``headlines.dlq``: the reason and the raw bytes.

    ``raw_b64`` holds the original value, whole, so nothing is lost; ``raw_sha256`` lets an
    operator match it against the source topic. A value too large for a letter the broker
    would take (over 4 MiB: its base64 is a third larger) is cut to its first 4 MiB and
    ``raw_truncated`` is true; ``raw_bytes`` and ``raw_sha256`` are still those of the whole
    value, which stays on the source topic at ``partition``/``offset``.
    """

    schema_version: Literal[1] = 1
    reason: DeadLetterReason
    detail: str
    source_topic: str
    partition: int
    offset: int
    key_b64: str | None
    raw_b64: str
    raw_bytes: int
    raw_sha256: str
    received_at: AwareDatetime
    raw_truncated: bool = False
