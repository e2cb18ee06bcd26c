"""The command line as users run it: real processes, real broker and Redis."""

from __future__ import annotations

import codecs
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from redis import Redis

from schemas import MAX_TEXT_CHARS
from stancewire.runtime import free_port, wait_until
from tests.integration.conftest import Pipeline
from tests.integration.wire import headline, unique

SEED = Path(__file__).parents[1] / "data" / "seed_story.jsonl"
STANCEWIRE = [sys.executable, "-m", "stancewire"]


def stancewire(
    *args: str, stdin: bytes | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*STANCEWIRE, *args], input=stdin, capture_output=True, timeout=timeout, check=False
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def test_replay_embedded_prints_exactly_the_two_japan_alerts() -> None:
    done = stancewire("replay", str(SEED))
    assert done.returncode == 0, done.stderr
    alerts = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(a["government"], a["topic"], a["from"], a["to"]) for a in alerts] == [
        ("JP", "treasury_holdings", None, "open"),
        ("JP", "treasury_holdings", "open", "rules_out"),
    ]
    assert alerts[1]["evidence"].startswith("Japan has no intention")


def test_classify_keeps_order_and_reports_malformed_lines() -> None:
    lines = b"\n".join(
        [
            b'{"id": "a", "text": "Kato says Japan has no intention of using its US Treasury '
            b'holdings as a card"}',
            b"not json",
            b'{"id": "\xff", "text": "not UTF-8"}',
            b'{"id": "b", "text": "Treasury yields rise after strong jobs data"}',
            b'{"text": "no id"}',
            b"",
            json.dumps({"id": "long", "text": "x" * (MAX_TEXT_CHARS + 1)}).encode(),
            json.dumps({"id": "longest", "text": "x" * MAX_TEXT_CHARS}).encode(),
            b'{"id": "c", "text": "China imposes 34% tariffs on all US goods"}',
        ]
    )
    done = stancewire("classify", "-", stdin=codecs.BOM_UTF8 + lines)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", None, None, "b", None, None, "long", "longest", "c"]
    assert out[5]["error"] == "empty line"
    assert "longer than" in out[6]["error"]
    assert out[7] == {"id": "longest", "relevant": False, "statements": []}
    assert out[0]["relevant"] is True
    assert [(s["government"], s["stance"], s["speaker"]) for s in out[0]["statements"]] == [
        ("JP", "rules_out", "government")
    ]
    assert out[0]["statements"][0]["evidence"]
    assert out[1]["error"] and out[4]["error"]
    assert "UTF-8" in out[2]["error"]
    assert out[3] == {"id": "b", "relevant": False, "statements": []}


def test_ingest_and_tail_against_a_running_pipeline(pipeline: Pipeline, tmp_path: Path) -> None:
    hid = unique("ingest")
    wire = tmp_path / "wire.jsonl"
    wire.write_bytes(
        headline(
            "Brazil's Lula says the country will respond with reciprocity measures to US tariffs",
            "2025-07-10T12:00:00+00:00",
            id=hid,
        )
        + b"\n"
    )
    bootstrap = pipeline.stack.bootstrap
    ingested = stancewire("ingest", "jsonl", str(wire), "--bootstrap", bootstrap)
    assert ingested.returncode == 0, ingested.stderr
    assert "1 headline(s)" in ingested.stderr

    tailed = stancewire(
        "tail",
        "--bootstrap",
        bootstrap,
        "--from-beginning",
        "--json",
        "--government",
        "BR",
        "--limit",
        "1",
    )
    assert tailed.returncode == 0, tailed.stderr
    [alert] = [json.loads(line) for line in tailed.stdout.splitlines()]
    assert (alert["government"], alert["headline_id"], alert["to"]) == ("BR", hid, "threatens")

    human = stancewire(
        "tail", "--bootstrap", bootstrap, "--from-beginning", "--government", "BR", "--limit", "1"
    )
    assert "BR / trade_leverage: (none) -> threatens" in human.stdout


def test_demo_once_shows_the_japan_alert() -> None:
    done = stancewire(
        "demo",
        "--once",
        "--pace",
        "0",
        "--metrics-port",
        str(free_port()),
        "--port",
        str(free_port()),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "JP / treasury_holdings: open -> rules_out" in done.stdout


def _demo_with_children() -> tuple[subprocess.Popen[str], list[psutil.Process]]:
    demo = subprocess.Popen(
        [
            *STANCEWIRE,
            "demo",
            "--pace",
            "0",
            "--metrics-port",
            str(free_port()),
            "--port",
            str(free_port()),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    for line in demo.stdout:  # ends at EOF, if the demo died
        if "keeps running" in line:
            break
    children = psutil.Process(demo.pid).children(recursive=True)
    assert {c.name() for c in children} >= {"redis-server"}, children
    assert len(children) >= 3  # broker, Redis, worker
    return demo, children


def _all_gone(processes: list[psutil.Process]) -> bool:
    return not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes)


@pytest.mark.parametrize("how", ["ctrl-c", "kill -9"])
def test_demo_leaves_no_child_process_behind(how: str) -> None:
    demo, children = _demo_with_children()
    if how == "ctrl-c":
        demo.send_signal(signal.SIGINT)
        assert demo.wait(60) == 128 + signal.SIGINT
    else:
        os.kill(demo.pid, signal.SIGKILL)
        demo.wait(60)
    wait_until(lambda: _all_gone(children), 30, f"the demo's children to exit after {how}")


def test_replay_against_a_given_broker_and_redis(
    pipeline: Pipeline, redis: Redis, tmp_path: Path
) -> None:
    run_id = unique("ext")
    story = tmp_path / "story.jsonl"
    story.write_text(SEED.read_text().replace('"seed-', f'"{run_id}-'))
    done = stancewire(
        "replay",
        str(story),
        "--bootstrap",
        pipeline.stack.bootstrap,
        "--redis",
        pipeline.stack.redis_url,
        "--no-worker",
    )
    assert done.returncode == 0, done.stderr
    alerts = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(a["headline_id"], a["from"], a["to"]) for a in alerts] == [
        (f"{run_id}-1", None, "open"),
        (f"{run_id}-2", "open", "rules_out"),
    ]
