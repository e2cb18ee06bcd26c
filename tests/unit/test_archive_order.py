"""Archives are put in event-time order by instant, whatever the offsets."""

from __future__ import annotations

import json

from stancewire.backtest import event_time_order


def line(hid: str, published_at: str | None) -> bytes:
    body = {"id": hid, "text": "t", "source": "s"}
    if published_at is not None:
        body["published_at"] = published_at
    return json.dumps(body).encode()


def test_instants_not_strings_decide_the_order() -> None:
    lines = [
        line("utc-3am", "2025-05-04T03:00:00Z"),
        line("tokyo-11am", "2025-05-04T11:00:00+09:00"),  # 02:00 UTC
        line("undated", None),
        line("naive", "2025-05-04T01:00:00"),
        line("utc-1am", "2025-05-04T01:00:00+00:00"),
    ]
    order = [json.loads(raw)["id"] for raw in event_time_order(lines)]
    assert order == ["utc-1am", "tokyo-11am", "utc-3am", "undated", "naive"]
