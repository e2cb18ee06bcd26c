"""The topic contracts: strict, closed, versioned, timezone-aware."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import MAX_TEXT_CHARS, TOPICS, Alert, Headline, Stance, Topic
from schemas.desks import private_target

HEADLINE: dict[str, Any] = {
    "id": "h-1",
    "text": "Kato says Japan has no intention of using its Treasury holdings as a card",
    "source": "Wire",
    "published_at": "2025-05-04T03:00:00+00:00",
}


def parse(**changes: Any) -> Headline:
    return Headline.model_validate_json(json.dumps({**HEADLINE, **changes}))


def test_a_headline_needs_only_the_four_documented_fields() -> None:
    headline = parse()
    assert headline.schema_version == 1
    assert headline.published_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"priority": "high"}, "extra_forbidden"),
        ({"published_at": "2025-05-04T03:00:00"}, "timezone_aware"),
        ({"id": 7}, "string_type"),
        ({"text": ""}, "string_too_short"),
        ({"text": "x" * (MAX_TEXT_CHARS + 1)}, "string_too_long"),
        ({"schema_version": 2}, "literal_error"),
    ],
)
def test_a_headline_is_strict(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse(**changes)
    assert problem in {e["type"] for e in error.value.errors()}


def test_a_missing_field_is_named() -> None:
    body = {k: v for k, v in HEADLINE.items() if k != "source"}
    with pytest.raises(ValidationError) as error:
        Headline.model_validate_json(json.dumps(body))
    assert [e["loc"] for e in error.value.errors()] == [("source",)]


def alert(**changes: Any) -> Alert:
    body = {
        "alert_id": "a-1",
        "government": "JP",
        "topic": "treasury_holdings",
        "from": "open",
        "to": "rules_out",
        "headline_id": "h-1",
        "story_id": "h-1",
        "evidence": "Japan has no intention ...",
        "source": "Wire",
        "published_at": "2025-05-04T03:00:00+00:00",
        "detected_at": "2025-05-04T03:00:00.004+00:00",
        "confidence": 0.9,
        "speaker": "government",
        **changes,
    }
    return Alert.model_validate_json(json.dumps(body))


def test_an_alert_says_from_on_the_wire() -> None:
    wire = json.loads(alert().to_json())
    assert wire["from"] == "open" and "from_" not in wire
    assert wire["kind"] == "stance_change"
    assert alert(**{"from": None}).from_ is None
    documented = {
        "alert_id", "kind", "government", "topic", "from", "to", "headline_id", "story_id",
        "evidence", "source", "published_at", "detected_at", "confidence", "speaker",
    }  # fmt: skip
    assert documented <= set(wire)


@pytest.mark.parametrize(
    "changes",
    [{"government": "Japan"}, {"confidence": 1.5}, {"to": "maybe"}, {"kind": "other"}],
)
def test_an_alert_rejects_values_outside_the_taxonomy(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        alert(**changes)


def test_alert_ids_depend_on_the_event_only() -> None:
    one = Alert.derive_id("JP", Topic.TREASURY_HOLDINGS, Stance.RULES_OUT, "h-1")
    assert one == Alert.derive_id("JP", Topic.TREASURY_HOLDINGS, Stance.RULES_OUT, "h-1")
    others = {
        Alert.derive_id("CN", Topic.TREASURY_HOLDINGS, Stance.RULES_OUT, "h-1"),
        Alert.derive_id("JP", Topic.TRADE_LEVERAGE, Stance.RULES_OUT, "h-1"),
        Alert.derive_id("JP", Topic.TREASURY_HOLDINGS, Stance.OPEN, "h-1"),
        Alert.derive_id("JP", Topic.TREASURY_HOLDINGS, Stance.RULES_OUT, "h-2"),
    }
    assert one not in others and len(others) == 4


def test_topic_names_are_unique_and_every_topic_has_a_model() -> None:
    names = [spec.name for spec in TOPICS]
    assert len(set(names)) == len(names)
    assert names == ["headlines", "headlines.dlq", "statements", "alerts"]


@pytest.mark.parametrize(
    ("url", "inside"),
    [
        ("https://hooks.desk.example/stancewire", False),
        ("https://203.0.113.9/hook", True),  # documentation range: reserved
        ("https://8.8.8.8/hook", False),
        ("http://127.0.0.1:9000/hook", True),
        ("http://localhost/hook", True),
        ("http://10.1.2.3/hook", True),
        ("http://169.254.169.254/latest/meta-data", True),
        ("http://[::1]/hook", True),
        ("http://[fd00::1]/hook", True),
    ],
)
def test_webhooks_inside_the_network_are_recognised(url: str, inside: bool) -> None:
    assert (private_target(url) is not None) is inside
