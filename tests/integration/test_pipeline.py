"""Headlines through the real broker, the real worker and the real Redis, alerts back out."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.request import urlopen

from redis import Redis

from schemas import ALERTS, DEAD_LETTERS, STATEMENTS, Alert, DeadLetter, Statement
from schemas.state import OUTBOX_KEY
from stancewire.replay import replay
from stancewire.runtime import wait_until
from tests.integration.conftest import Pipeline, reset
from tests.integration.wire import headline, read_topic, transitions, unique

SEED = Path(__file__).parents[1] / "data" / "seed_story.jsonl"


def run(pipeline: Pipeline, lines: list[bytes]) -> list[Alert]:
    return replay(pipeline.stack, lines, lambda _: None, worker=pipeline.worker, embedded=True)


def statements_for(pipeline: Pipeline, ids: set[str]) -> list[Statement]:
    found = [
        Statement.model_validate_json(v)
        for _, v in read_topic(pipeline.stack.bootstrap, STATEMENTS.name)
    ]
    return [s for s in found if s.headline_id in ids]


def test_seed_story_gives_exactly_the_two_japan_alerts(pipeline: Pipeline, redis: Redis) -> None:
    lines = SEED.read_bytes().splitlines()
    alerts = run(pipeline, lines)
    assert transitions(alerts) == [
        ("JP", "treasury_holdings", None, "open", "seed-1"),
        ("JP", "treasury_holdings", "open", "rules_out", "seed-2"),
    ]
    assert all(
        a.kind == "stance_change" and a.evidence and a.speaker.value == "government" for a in alerts
    )
    # The analysts' speculation is reported as a statement but moved nothing.
    speculation = statements_for(pipeline, {"seed-4"})
    assert [(s.government, s.speaker.value, s.stance.value) for s in speculation] == [
        ("JP", "analyst", "open")
    ]
    assert redis.xlen(OUTBOX_KEY) == 0


def test_alert_ids_are_derived_from_content(pipeline: Pipeline, redis: Redis) -> None:
    text = "Canada will impose retaliatory tariffs on US goods, Prime Minister Carney says"
    line = headline(text, "2025-03-01T10:00:00+00:00", id="ca-1")
    [first] = run(pipeline, [line])
    reset(redis)
    [again] = run(pipeline, [line])
    assert first.alert_id == again.alert_id
    assert first.alert_id == Alert.derive_id("CA", first.topic, first.to, "ca-1")


def test_exact_duplicate_from_another_outlet_is_suppressed(
    pipeline: Pipeline, redis: Redis
) -> None:
    text = "China halts purchases of US soybeans in retaliation for tariffs, commerce ministry says"
    first, second = unique("dup"), unique("dup")
    lines = [
        headline(text, "2025-04-05T01:00:00+00:00", id=first, source="Wire A"),
        headline(
            " " + text.replace(",", " -") + "!",
            "2025-04-05T01:02:00+00:00",
            id=second,
            source="Wire B",
        ),
    ]
    alerts = run(pipeline, lines)
    assert [a.headline_id for a in alerts] == [first]
    assert {s.headline_id for s in statements_for(pipeline, {first, second})} == {first}
    chain = f"sw:story:{{{first}}}:CN:trade_leverage:acting:government:headlines"
    assert redis.smembers(chain) == {first, second}


def test_a_statement_older_than_the_stance_is_ignored(pipeline: Pipeline, redis: Redis) -> None:
    newer = headline(
        "India rules out retaliatory tariffs against the US, trade minister Goyal says",
        "2025-04-10T08:00:00+00:00",
    )
    older = headline(
        "India's trade minister Goyal says retaliatory tariffs on US goods remain an option",
        "2025-04-09T08:00:00+00:00",
    )
    alerts = run(pipeline, [newer, older])
    assert [(a.government, a.from_, a.to.value) for a in alerts] == [("IN", None, "rules_out")]


def test_bad_input_is_dead_lettered_and_the_worker_goes_on(
    pipeline: Pipeline, redis: Redis
) -> None:
    valid_before = headline(
        "Beijing vows to fight to the end against US tariffs, commerce ministry says",
        "2025-04-04T08:00:00+00:00",
    )
    valid_after = headline(
        "Mexico will impose retaliatory tariffs on US goods, President Sheinbaum says",
        "2025-03-04T08:00:00+00:00",
    )
    good = json.loads(valid_before)
    bad: dict[str, tuple[bytes, str]] = {
        "not json": (b"{this is not json", "not_json"),
        "not utf-8": (b'{"id": "\xff\xfe", "text": "x"}', "not_utf8"),
        "missing field": (
            json.dumps({k: v for k, v in good.items() if k != "text"}).encode(),
            "invalid",
        ),
        "mistyped id": (json.dumps({**good, "id": 12345}).encode(), "invalid"),
        "control character in id": (json.dumps({**good, "id": "a\tb"}).encode(), "invalid"),
        "naive timestamp": (
            json.dumps({**good, "published_at": "2025-04-04T08:00:00"}).encode(),
            "invalid",
        ),
        "unknown field": (json.dumps({**good, "priority": "high"}).encode(), "invalid"),
        "oversized text": (json.dumps({**good, "text": "tariffs " * 1000}).encode(), "invalid"),
        "json array": (b"[1, 2, 3]", "invalid"),
        "1 MB message": (json.dumps({**good, "text": "x" * (1024 * 1024)}).encode(), "too_large"),
    }
    lines = [valid_before, *(raw for raw, _ in bad.values()), valid_after]
    alerts = run(pipeline, lines)

    assert [(a.government, a.to.value) for a in alerts] == [
        ("CN", "threatens"),
        ("MX", "threatens"),
    ]
    letters = [
        DeadLetter.model_validate_json(v)
        for _, v in read_topic(pipeline.stack.bootstrap, DEAD_LETTERS.name)
    ]
    by_raw = {base64.b64decode(letter.raw_b64): letter for letter in letters}
    for name, (raw, reason) in bad.items():
        assert raw in by_raw, f"{name} was not dead-lettered"
        letter = by_raw[raw]
        assert letter.reason.value == reason, name
        assert letter.detail, name
        assert letter.raw_bytes == len(raw)
    assert "text" in by_raw[bad["missing field"][0]].detail
    assert "timezone" in by_raw[bad["naive timestamp"][0]].detail
    assert pipeline.worker.alive()


def test_an_alert_left_in_the_outbox_by_a_crash_is_published(
    pipeline: Pipeline, redis: Redis
) -> None:
    """A worker that died after the compare-and-set but before publishing left this entry."""
    orphan = Alert.model_validate_json(
        json.dumps(
            {
                "alert_id": unique("orphan"),
                "government": "KR",
                "topic": "trade_leverage",
                "from": None,
                "to": "threatens",
                "headline_id": unique("h"),
                "story_id": "s",
                "evidence": "Seoul warns of countermeasures",
                "source": "Test Wire",
                "published_at": "2025-04-01T00:00:00+00:00",
                "detected_at": "2025-04-01T00:00:01+00:00",
                "confidence": 0.9,
                "speaker": "government",
            }
        )
    )
    redis.xadd(OUTBOX_KEY, {"alert": orphan.to_json(), "from": "open"})

    def published() -> bool:
        return any(
            json.loads(v).get("alert_id") == orphan.alert_id
            for _, v in read_topic(pipeline.stack.bootstrap, ALERTS.name, idle_seconds=0.3)
        )

    wait_until(published, 30, "the orphaned alert to be republished", pipeline.worker)
    assert redis.xlen(OUTBOX_KEY) == 0


def test_the_worker_serves_metrics(pipeline: Pipeline, redis: Redis) -> None:
    run(pipeline, SEED.read_bytes().splitlines())
    body = urlopen(f"http://127.0.0.1:{pipeline.metrics_port}/metrics", timeout=5).read().decode()
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line and not line.startswith("#")
    }
    assert samples['stancewire_headlines_total{outcome="relevant"}'] >= 4
    assert samples['stancewire_alerts_total{government="JP",topic="treasury_holdings"}'] >= 2
    assert (
        samples[
            'stancewire_statements_total{speaker="analyst",stance="open",topic="treasury_holdings"}'
        ]
        >= 1
    )
    assert samples["stancewire_processing_seconds_count"] >= 4
    assert 'stancewire_dead_letters_total{reason="too_large"}' in samples
