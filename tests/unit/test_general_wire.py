"""The rest of a newswire says nothing: 400 general headlines (companies, markets, politics,
sport; some name a tariff, the Treasury, a trade deficit or a holding in passing), written
from real reported events, on which no statement may be found. A false alert costs a desk
money; this is the wire most of them would come from."""

from __future__ import annotations

import json
from pathlib import Path

from streams.detect import detect

GENERAL = Path(__file__).parents[1] / "data" / "general_wire.jsonl"


def test_general_news_carries_no_statement() -> None:
    items = [json.loads(line) for line in GENERAL.read_text(encoding="utf-8").splitlines()]
    assert len(items) == 400
    found = {item["id"]: detect(item["text"]) for item in items}
    assert {id_: d for id_, d in found.items() if d} == {}
