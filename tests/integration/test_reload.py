"""A worker picks up a changed lexicon without a restart, and refuses an invalid one."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from stancewire.replay import replay
from stancewire.runtime import Child, Stack, free_port, wait_until
from streams.lexicon import default_path
from tests.integration.test_resilience import metric
from tests.integration.wire import headline, unique


@pytest.fixture(scope="module")
def own_stack() -> Iterator[Stack]:
    with Stack() as stack:
        yield stack


def nippon(stance_words: str, minute: int) -> bytes:
    return headline(
        f"Nippon {stance_words} its Treasury holdings as a bargaining card, finance minister says",
        f"2025-05-04T03:{minute:02d}:00+00:00",
        id=unique("nippon"),
    )


def test_sighup_reloads_the_lexicon_and_an_invalid_one_is_refused(
    own_stack: Stack, tmp_path: Path
) -> None:
    lexicon = tmp_path / "lexicon.jsonl"
    original = default_path().read_text()
    lexicon.write_text(original)
    port = free_port()
    worker = own_stack.start_worker(
        metrics_port=port, env={"STANCEWIRE_LEXICON_PATH": str(lexicon)}
    )

    def alerts(line: bytes, child: Child = worker) -> list[str]:
        found = replay(own_stack, [line], lambda _: None, worker=child, embedded=True)
        return [f"{a.government}:{a.to.value}" for a in found]

    assert alerts(nippon("rules out using", 1)) == []  # "Nippon" is no government yet

    lines = original.splitlines()
    japan = json.loads(lines[0])
    assert japan["code"] == "JP"
    japan["names"].append("Nippon")
    lexicon.write_text("\n".join([json.dumps(japan), *lines[1:]]) + "\n")
    worker.process.send_signal(signal.SIGHUP)
    wait_until(
        lambda: metric(port, 'stancewire_lexicon_reloads_total{outcome="loaded"}') >= 1,
        30,
        "the reload",
        worker,
    )
    assert alerts(nippon("rules out using", 2)) == ["JP:rules_out"]

    lexicon.write_text(lexicon.read_text() + '{"kind": "government", "code": "not a code"}\n')
    worker.process.send_signal(signal.SIGHUP)
    wait_until(
        lambda: metric(port, 'stancewire_lexicon_reloads_total{outcome="rejected"}') >= 1,
        30,
        "the refusal",
        worker,
    )
    assert worker.alive()
    assert alerts(nippon("says it could use", 3)) == ["JP:open"]  # the reloaded one still serves
    assert "lexicon.jsonl:" in worker.log_tail(200)  # the bad line is named
