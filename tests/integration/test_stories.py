"""Story chains through the real pipeline: one alert per statement, however many outlets."""

from __future__ import annotations

import json

from redis import Redis

from schemas import ALERTS, Corroboration
from tests.integration.test_pipeline import run
from tests.integration.wire import headline, read_topic, transitions, unique

OUTLETS = ["Reuters", "Kyodo", "Nikkei Asia", "Jiji", "Bloomberg"]
REWORDED = [
    "Japan has no intention of using its US Treasury holdings as a negotiating tool, "
    "Finance Minister Kato said on Sunday",
    "Kato says Japan has no intention of using its U.S. Treasury holdings as a negotiating tool",
    "Japan's Kato: no intention of using US Treasury holdings as a negotiating tool",
    "UPDATE 1-Japan has no intention of using its US Treasury holdings as a negotiating tool, "
    "says finance minister Kato",
    "Finance Minister Kato said Japan has no intention of using its Treasury holdings "
    "as a negotiating tool in talks with the US",
]


def test_five_outlets_make_one_alert_and_a_chain_of_five(redis: Redis, pipeline: object) -> None:
    ids = [unique("story") for _ in OUTLETS]
    lines = [
        headline(text, f"2025-05-04T03:{10 + i:02d}:00+00:00", id=hid, source=source)
        for i, (text, source, hid) in enumerate(zip(REWORDED, OUTLETS, ids, strict=True))
    ]
    alerts = run(pipeline, lines)  # type: ignore[arg-type]
    assert transitions(alerts) == [("JP", "treasury_holdings", None, "rules_out", ids[0])]
    [alert] = alerts
    assert alert.story_id == ids[0] and alert.source == "Reuters"
    assert redis.smembers(f"sw:story:{{{ids[0]}}}:headlines") == set(ids)
    assert redis.smembers(f"sw:story:{{{ids[0]}}}:sources") == set(OUTLETS)

    corroborations = [
        Corroboration.model_validate_json(value)
        for _, value in read_topic(pipeline.stack.bootstrap, ALERTS.name)  # type: ignore[attr-defined]
        if json.loads(value)["kind"] == "corroboration"
        and json.loads(value)["alert_id"] == alert.alert_id
    ]
    assert [(c.outlets, c.reports, c.novelty) for c in corroborations] == [
        (2, 2, 75.0),
        (3, 3, 56.2),
        (4, 4, 42.2),
        (5, 5, 31.6),
    ]
    assert [c.source for c in corroborations] == OUTLETS[1:]


def test_will_use_and_will_not_use_are_two_alerts(redis: Redis, pipeline: object) -> None:
    first, second = unique("use"), unique("use")
    lines = [
        headline(
            "China will use its US Treasury holdings as a weapon in the trade war, "
            "a foreign ministry spokesperson said",
            "2025-04-09T08:00:00+00:00",
            id=first,
        ),
        headline(
            "China will not use its US Treasury holdings as a weapon in the trade war, "
            "a foreign ministry spokesperson said",
            "2025-04-09T09:00:00+00:00",
            id=second,
        ),
    ]
    alerts = run(pipeline, lines)  # type: ignore[arg-type]
    assert [a.headline_id for a in alerts] == [first, second]
    assert alerts[0].to.value != "rules_out"
    assert (alerts[1].from_, alerts[1].to.value) == (alerts[0].to, "rules_out")


def test_a_return_to_an_earlier_stance_within_the_window_alerts(
    redis: Redis, pipeline: object
) -> None:
    """Rules out, then "does not rule out", then a reworded rules-out the same day: the last
    one matches the first story but the stance moved in between, so it must alert."""
    ids = [unique("flip") for _ in range(3)]
    lines = [
        headline("Japan has no intention of using its US Treasury holdings as a negotiating tool, "
                 "Finance Minister Kato says", "2025-05-04T03:00:00+00:00", id=ids[0], source="A"),
        headline("Japan does not rule out using its US Treasury holdings in trade talks, "
                 "Finance Minister Kato says", "2025-05-04T09:00:00+00:00", id=ids[1], source="B"),
        headline("Kato says Japan has no intention of using its U.S. Treasury holdings as a "
                 "negotiating tool", "2025-05-04T15:00:00+00:00", id=ids[2], source="C"),
    ]  # fmt: skip
    alerts = run(pipeline, lines)  # type: ignore[arg-type]
    assert [(a.headline_id, a.from_ and a.from_.value, a.to.value) for a in alerts] == [
        (ids[0], None, "rules_out"),
        (ids[1], "rules_out", "open"),
        (ids[2], "open", "rules_out"),
    ]
