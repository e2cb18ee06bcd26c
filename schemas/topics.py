"""The topic contracts, in one place: name, key, partitions and value model of each topic."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from schemas.messages import Alert, DeadLetter, Headline, Statement


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    partitions: int
    value: type[BaseModel]


HEADLINES = TopicSpec("headlines", "headline id (any key is accepted)", 4, Headline)
DEAD_LETTERS = TopicSpec("headlines.dlq", "the original message's key", 1, DeadLetter)
STATEMENTS = TopicSpec("statements", "GOVERNMENT:topic", 1, Statement)
ALERTS = TopicSpec(
    "alerts",
    "GOVERNMENT:topic (so one stance's alerts, and their corroborations, stay in order)",
    1,
    Alert,
)
"""Alerts (``kind: stance_change``) and their corroborations (``kind: corroboration``)."""

TOPICS: tuple[TopicSpec, ...] = (HEADLINES, DEAD_LETTERS, STATEMENTS, ALERTS)
