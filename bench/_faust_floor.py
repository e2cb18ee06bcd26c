"""The Faust floor of bench/pipeline.py: one agent that forwards each message unchanged
(key and value) to an output topic, with the worker's client settings.

The app is built as ``streams.app.create_app`` builds the worker's: the same transport
(``streams.transport.App``, the short fetch wait), the same broker, consumer and producer
settings read from the same ``STANCEWIRE_*`` environment (``WorkerSettings``), and a send
with ``force=True`` as the worker's sink does. Keep the two in step.

    python -m bench._faust_floor IN_TOPIC OUT_TOPIC   (STANCEWIRE_BOOTSTRAP, _GROUP_ID, ...)
"""

from __future__ import annotations

import sys
from typing import Any

import faust

from schemas.settings import WorkerSettings
from streams.app import MAX_PRODUCE_BYTES, _credentials
from streams.transport import App


def create_app(settings: WorkerSettings, source: str, target: str) -> faust.App:
    app = App(
        settings.group_id,
        fetch_wait_ms=round(settings.fetch_wait_seconds * 1000),
        broker=[f"kafka://{server}" for server in settings.bootstrap.split(",")],
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        topic_disable_leader=True,
        topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=settings.heartbeat_interval_seconds,
        broker_commit_interval=settings.commit_interval_seconds,
        broker_request_timeout=max(30.0, settings.session_timeout_seconds),
        broker_rebalance_timeout=max(30.0, settings.session_timeout_seconds),
        consumer_max_fetch_size=MAX_PRODUCE_BYTES,
        producer_max_request_size=MAX_PRODUCE_BYTES,
        producer_acks=-1,
        broker_credentials=_credentials(settings),
    )
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "value_serializer": "raw"}
    inbox = app.topic(source, **raw)
    outbox = app.topic(target, **raw)

    @app.agent(inbox)
    async def forward(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            await outbox.send(key=message.key, value=message.value, force=True)

    return app


def main() -> None:
    source, target = sys.argv[1:3]
    app = create_app(WorkerSettings(), source, target)
    faust.Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
