"""Failpoints: named places on the hot path where the fault suite kills the worker.

A crash between two writes is the case an outbox exists for, and a test cannot hit that
gap by timing a ``kill -9`` from outside. So the worker can be told, in its settings
(``STANCEWIRE_FAILPOINTS="after_cas=3"``), to SIGKILL itself the N-th time it reaches a
point. Unset (always, outside the fault suite) it costs one empty-dict check per call.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from enum import StrEnum


class Point(StrEnum):
    BEFORE_CAS = "before_cas"
    """A government statement is about to be applied to the stance state."""
    AFTER_CAS = "after_cas"
    """The stance changed and the alert is in the outbox, not yet published."""
    AFTER_PUBLISH = "after_publish"
    """The broker acknowledged the alert; its outbox entry is not yet deleted."""


class Failpoints:
    def __init__(self, armed: dict[Point, int]) -> None:
        self._armed = armed
        self._reached: Counter[Point] = Counter()

    @classmethod
    def parse(cls, spec: str) -> Failpoints:
        """``"point=N,point=N"``; empty disarms. Raises ValueError on an unknown point."""
        armed: dict[Point, int] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, count = item.partition("=")
            armed[Point(name.strip())] = int(count or "1")
        return cls(armed)

    def reach(self, point: Point) -> None:
        if not self._armed:
            return
        self._reached[point] += 1
        if self._reached[point] == self._armed.get(point):
            os.kill(os.getpid(), signal.SIGKILL)
