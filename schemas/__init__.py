"""Message and configuration contracts shared by every stancewire process.

This package imports nothing else of stancewire: ``streams`` and ``consumers`` depend on it,
never the other way round. Every model here is pydantic v2 and carries ``schema_version``.
"""

from schemas.messages import (
    MAX_TEXT_CHARS,
    SCHEMA_VERSION,
    Alert,
    Corroboration,
    DeadLetter,
    DeadLetterReason,
    Headline,
    Speaker,
    Stance,
    Statement,
    Topic,
)
from schemas.topics import ALERTS, DEAD_LETTERS, HEADLINES, STATEMENTS, TOPICS, TopicSpec

__all__ = [
    "ALERTS",
    "DEAD_LETTERS",
    "HEADLINES",
    "MAX_TEXT_CHARS",
    "SCHEMA_VERSION",
    "STATEMENTS",
    "TOPICS",
    "Alert",
    "Corroboration",
    "DeadLetter",
    "DeadLetterReason",
    "Headline",
    "Speaker",
    "Stance",
    "Statement",
    "Topic",
    "TopicSpec",
]
