"""The Faust floor of bench/pipeline.py: one agent that forwards each message unchanged
(key and value) to an output topic, with the worker's client settings.

The app is the worker's own (``streams.app.faust_app``: the same transport and short fetch
wait, the same broker, consumer and producer settings from the same ``STANCEWIRE_*``
environment), and it sends with ``force=True`` as the worker's sink does.

    python -m bench._faust_floor IN_TOPIC OUT_TOPIC   (STANCEWIRE_BOOTSTRAP, _GROUP_ID, ...)
"""

from __future__ import annotations

import sys
from typing import Any

import faust

from schemas.settings import WorkerSettings
from streams.app import faust_app


def create_app(settings: WorkerSettings, source: str, target: str) -> faust.App:
    app = faust_app(settings)
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
