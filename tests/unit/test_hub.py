"""The gateway's hub: a client that falls too far behind is cut off, and resumes without a gap."""

from __future__ import annotations

import asyncio
import json

from consumers.hub import Hub


def alert(n: int) -> bytes:
    return json.dumps(
        {
            "alert_id": f"a{n}", "kind": "stance_change", "government": "JP",
            "topic": "treasury_holdings", "from": None, "to": "open", "headline_id": f"h{n}",
            "story_id": f"h{n}", "evidence": "e", "source": "s",
            "published_at": "2025-05-02T06:00:00+00:00",
            "detected_at": "2025-05-02T06:00:01+00:00", "confidence": 0.9,
            "speaker": "government",
        }
    ).encode()  # fmt: skip


def test_a_slow_client_is_cut_off_after_what_it_holds_and_misses_nothing() -> None:
    async def run() -> tuple[list[bool], list[int], list[int]]:
        hub = Hub("unused:9092", client_queue=2)
        slow, fast = hub.subscribe(), hub.subscribe()
        for offset in range(3):
            hub._receive(offset, alert(offset))
            await fast.get()
        states = [hub.was_cut_off(slow)]  # full, cut off, but still holds two alerts
        held = [(await slow.get()).offset, (await slow.get()).offset]
        states.append(hub.was_cut_off(slow))  # drained: its stream ends here
        states.append(hub.was_cut_off(fast))
        resumed = [d.offset for d in hub.after(held[-1])]  # what Last-Event-ID brings back
        return states, held, resumed

    states, held, resumed = asyncio.run(run())
    assert states == [False, True, False]
    assert held == [0, 1]
    assert resumed == [2]
