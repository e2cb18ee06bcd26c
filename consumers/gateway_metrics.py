"""The gateway's Prometheus metrics (base units, ``_total``/``_seconds``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SSE_CLIENTS = Gauge("stancewire_sse_clients", "Server-sent-event streams open now")
SSE_EVENTS = Counter("stancewire_sse_events_total", "Alerts sent on server-sent-event streams")
SSE_DELIVERY_SECONDS = Histogram(
    "stancewire_sse_delivery_seconds",
    "From an alert's detection to its sending on a stream",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_REQUESTS = Counter(
    "stancewire_http_requests_total",
    "HTTP requests answered, by route template and status",
    ["route", "status"],
)
