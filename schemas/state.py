"""Shared state in Redis that more than one process reads: its keys and its shape.

The worker writes the current stance of every ``GOVERNMENT:topic`` (``streams.stance``);
the gateway reads it for the stance board. Keys carry hash tags for Redis Cluster.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.messages import Stance

CURRENT_STANCES_KEY = "sw:{sw:stance}:current"
"""Hash: ``GOVERNMENT:topic`` -> StanceState JSON."""
OUTBOX_KEY = "sw:{sw:stance}:outbox"
"""Stream of alerts written with a stance change and deleted once published."""
SEQUENCE_KEY = "sw:{sw:stance}:seq"
"""Hash: ``GOVERNMENT:topic`` -> how many times its stance has changed."""
STATE_COMPLETE_KEY = "sw:{sw:stance}:complete"
"""String: present when the stance state is complete, i.e. was rebuilt from the ``alerts``
topic or deliberately reset. Redis restarted empty (or flushed) lacks it, and the worker
then rebuilds the state before deciding any change. A deliberate reset of every stance
(tests; a new deployment that must ignore old alerts) flushes the keys and sets this one."""


class StanceState(BaseModel):
    """A government's current stance on one lever, with the statement that set it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stance: Stance
    since_ms: int
    since: AwareDatetime
    headline_id: str
    alert_id: str
    evidence: str
    source: str
    confidence: float = Field(ge=0.0, le=1.0)
    seq: int = 0
    """The key's change number: the alert that set this state carries the same ``seq``."""
