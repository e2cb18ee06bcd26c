"""Lexicon reload without a restart: on SIGHUP, and when the file changes on disk.

A new detector is built whole from the file and swapped in; if the file is invalid the old
detector stays and the reason (with the file's line) is logged and counted. Changes are
noticed by the file's modification time and size, polled every few seconds: a mounted
Kubernetes ConfigMap changes by a symlink swap, which inotify-style watching misses.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from streams import metrics
from streams.detect import Detector
from streams.lexicon import LexiconError
from streams.screen import Screen

log = logging.getLogger(__name__)


class LexiconReloader:
    def __init__(self, screen: Screen, path: str | None) -> None:
        self._screen = screen
        self._path = path
        self._seen = self._stamp()

    def _stamp(self) -> tuple[float, int] | None:
        if self._path is None:
            return None
        try:
            stat = os.stat(self._path)
        except OSError:
            return None
        return stat.st_mtime, stat.st_size

    def reload(self) -> bool:
        """Build a detector from the file and swap it in; False (old kept) if invalid."""
        self._seen = self._stamp()
        try:
            detector = Detector.from_path(Path(self._path) if self._path else None)
        except (LexiconError, OSError) as exc:
            metrics.LEXICON_RELOADS.labels("rejected").inc()
            log.error("lexicon not reloaded, keeping the one in use: %s", exc)
            return False
        self._screen.detector = detector
        metrics.LEXICON_RELOADS.labels("loaded").inc()
        log.warning("lexicon reloaded from %s", self._path or "the package")
        return True

    def reload_if_changed(self) -> None:
        if self._path is not None and self._stamp() != self._seen:
            self.reload()
