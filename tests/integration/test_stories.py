"""Story chains through the real pipeline: one alert per statement, however many outlets."""

from __future__ import annotations

import json

from redis import Redis

from schemas import ALERTS, Corroboration
from stancewire.runtime import wait_until
from tests.integration.test_pipeline import run, statements_for
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


def corroborations_of(pipeline: object, alert_ids: set[str], count: int) -> list[Corroboration]:
    """The corroborations of ``alert_ids`` once ``count`` of them are on the topic: the worker
    queues them without waiting for the broker, so they may land after it commits its input."""
    found: list[Corroboration] = []

    def arrived() -> bool:
        found[:] = [
            Corroboration.model_validate_json(value)
            for _, value in read_topic(pipeline.stack.bootstrap, ALERTS.name)  # type: ignore[attr-defined]
            if json.loads(value)["kind"] == "corroboration"
            and json.loads(value)["alert_id"] in alert_ids
        ]
        return len(found) >= count

    wait_until(arrived, 30, f"{count} corroborations")
    return found


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
    chain = f"sw:story:{{{ids[0]}}}:JP:treasury_holdings:rules_out:government"
    assert redis.smembers(f"{chain}:headlines") == set(ids)
    assert redis.smembers(f"{chain}:sources") == set(OUTLETS)

    corroborations = sorted(
        corroborations_of(pipeline, {alert.alert_id}, 4), key=lambda c: c.outlets
    )
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


def test_a_statement_is_corroborated_only_by_reports_that_carry_it(
    redis: Redis, pipeline: object
) -> None:
    """Two alerts from one headline (a lead adds Japan's statement to Brazil's); a copy
    without the lead repeats only Brazil's: it corroborates Brazil's alert, not Japan's, and
    publishes no statement. A copy of the whole headline corroborates both."""
    lula = "Lula says Brazil will respond to US 50% tariff under reciprocity law"
    kato = (
        "Separately, Finance Minister Kato said Japan has no intention of using its US "
        "Treasury holdings as a negotiating tool"
    )
    ids = [unique("lead") for _ in range(3)]
    lines = [
        headline(f"{lula}. {kato}", "2025-07-10T12:00:00+00:00", id=ids[0], source="Reuters"),
        headline(lula, "2025-07-10T12:05:00+00:00", id=ids[1], source="Kyodo"),
        headline(f"UPDATE 1-{lula}. {kato}", "2025-07-10T12:09:00+00:00", id=ids[2], source="Jiji"),
    ]
    alerts = run(pipeline, lines)  # type: ignore[arg-type]
    assert sorted((a.government, a.headline_id, a.story_id) for a in alerts) == [
        ("BR", ids[0], ids[0]),
        ("JP", ids[0], ids[0]),
    ]
    by_government = {a.government: a.alert_id for a in alerts}
    corroborations = corroborations_of(pipeline, set(by_government.values()), 3)
    assert sorted((c.government, c.outlets, c.headline_id) for c in corroborations) == [
        ("BR", 2, ids[1]),
        ("BR", 3, ids[2]),
        ("JP", 2, ids[2]),  # Kyodo carried Brazil's statement, not Japan's
    ]
    chains = {
        key: redis.smembers(key) for key in redis.scan_iter(f"sw:story:{{{ids[0]}}}:*:headlines")
    }
    assert sorted(chains.values(), key=len) == [{ids[0], ids[2]}, set(ids)]
    assert all(c.alert_id == by_government[c.government] for c in corroborations)
    published = statements_for(pipeline, set(ids))  # type: ignore[arg-type]
    assert sorted((s.headline_id, s.government) for s in published) == [
        (ids[0], "BR"),
        (ids[0], "JP"),
    ]
