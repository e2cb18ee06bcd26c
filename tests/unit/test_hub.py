"""The gateway's hub: a client that falls too far behind is cut off, and resumes without a gap."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from consumers.hub import Hub
from schemas import Corroboration, Topic


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


def corroboration(outlets: int) -> bytes:
    return Corroboration(
        corroboration_id=Corroboration.derive_id("a1", outlets), alert_id="a1", story_id="h1",
        government="JP", topic=Topic.TREASURY_HOLDINGS, outlets=outlets, reports=outlets + 1,
        novelty=50.0, headline_id=f"h{outlets}", source=f"S{outlets}",
        published_at=datetime(2025, 5, 4, tzinfo=UTC),
        detected_at=datetime(2025, 5, 4, tzinfo=UTC),
    ).model_dump_json().encode()  # fmt: skip


def test_an_alert_s_outlet_count_never_goes_down() -> None:
    # two replicas' producers: the corroboration of the 4th outlet may land before the 3rd's
    hub = Hub("unused:9092")
    hub._receive(0, alert(1))
    hub._receive(1, corroboration(4))
    hub._receive(2, corroboration(3))
    assert (hub.outlets["a1"].outlets, hub.outlets["a1"].reports) == (4, 5)
