"""Replicas: no alert lost, none doubled (outages are in tests/faults)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.error import URLError
from urllib.request import urlopen

import pytest

from schemas import ALERTS, Corroboration
from stancewire.replay import replay
from stancewire.runtime import (
    Child,
    Stack,
    free_port,
    wait_until,
)
from tests.integration.test_stories import OUTLETS, REWORDED
from tests.integration.wire import headline, read_topic, unique


def metric(port: int, name: str) -> float:
    """Sum of a metric's samples on a process's /metrics (0 when it does not answer yet)."""
    try:
        body = urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except (URLError, OSError):
        return 0.0
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


@pytest.fixture(scope="module")
def replicas() -> Iterator[tuple[Stack, list[tuple[Child, int]]]]:
    with Stack() as stack:
        ports = [free_port(), free_port()]
        workers = [
            (stack.start_worker(metrics_port=port, name=f"worker-{i}"), port)
            for i, port in enumerate(ports)
        ]
        yield stack, workers


def test_two_replicas_dedup_one_wire_without_double_alerts(
    replicas: tuple[Stack, list[tuple[Child, int]]],
) -> None:
    stack, workers = replicas
    ports = [port for _, port in workers]
    wait_until(
        lambda: (
            [metric(p, "stancewire_assigned_partitions") for p in ports] in ([2, 2], [1, 3], [3, 1])
        ),
        60,
        "both replicas to share the four partitions of headlines",
    )
    story = [
        headline(text, f"2025-05-04T03:{10 + i:02d}:00+00:00", id=unique("jp"), source=source)
        for i, (text, source) in enumerate(zip(REWORDED, OUTLETS, strict=True))
    ]
    copies = [  # the first report, syndicated word for word by three more outlets
        headline(
            REWORDED[0],
            f"2025-05-04T03:{20 + i:02d}:00+00:00",
            id=unique("jp"),
            source=f"Syndicator {i}",
        )
        for i in range(3)
    ]
    china = [
        headline(
            "China imposes export controls on seven rare earth elements "
            "in retaliation for US tariffs",
            f"2025-04-04T10:{i:02d}:00+00:00",
            id=unique("cn"),
            source=source,
        )
        for i, source in enumerate(["Reuters", "AP", "AFP", "Xinhua"])
    ]
    lines = story + copies + china
    alerts = replay(
        stack, lines, lambda _: None, worker=workers[0][0], embedded=True, partition=None
    )
    assert sorted((a.government, a.to.value) for a in alerts) == [
        ("CN", "acting"),
        ("JP", "rules_out"),
    ]
    assert all(metric(port, "stancewire_headlines_total") > 0 for port in ports), (
        "a replica sat idle"
    )
    assert (
        sum(metric(port, 'stancewire_duplicates_total{layer="exact"}') for port in ports) >= 3 + 3
    )
    # every outlet is told to desks, each count once, whichever replica linked it
    outlets = {"JP": len(OUTLETS) + len(copies), "CN": len(china)}
    told: dict[str, list[int]] = {}

    def all_told() -> bool:
        told.clear()
        for _, value in read_topic(stack.bootstrap, ALERTS.name):
            if json.loads(value)["kind"] == "corroboration":
                corroboration = Corroboration.model_validate_json(value)
                told.setdefault(corroboration.government, []).append(corroboration.outlets)
        return {government: max(counts) for government, counts in told.items()} == outlets

    wait_until(all_told, 30, f"corroborations up to {outlets} outlets")
    assert all(len(set(counts)) == len(counts) for counts in told.values()), told
