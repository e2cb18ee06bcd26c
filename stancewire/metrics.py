"""What every long-running process serves besides its own metrics: ``stancewire_build_info``."""

from __future__ import annotations

import platform

from prometheus_client import Gauge, start_http_server

from stancewire import __version__

BUILD_INFO = Gauge(
    "stancewire_build_info", "What is running (always 1)", ["version", "python", "process"]
)


def mark_build(process: str) -> None:
    BUILD_INFO.labels(__version__, platform.python_version(), process).set(1)


def serve(process: str, port: int, host: str) -> None:
    """Mark the build and serve /metrics on ``host:port`` (0: not at all)."""
    mark_build(process)
    if port:
        start_http_server(port, addr=host)
