"""Detection speed on one core: headlines per second on wires of three kinds of text, and the
time to load the lexicon and build a detector. Prints one JSON line.

The three kinds, each also timed alone:

- relevant: the relevant items of the development set and the sample wire;
- hard negatives: their irrelevant items (yields, "UK Treasury", "leverage", holdings data,
  talks), which name a lever or a government and so go past the prefilter;
- general: ``tests/data/general_wire.jsonl``, 400 headlines of everything else a newswire
  carries (companies, markets, politics, sport...), written from real reported events.

``wire``: 90% general, 5% hard negatives, 5% relevant; ``busy_wire``: 80%, 10%, 10%. These
mixes are assumptions, not measurements of a real feed: a general and business newswire
carries mostly news that names no lever, with trade-war stories in the hundreds a day at the
height of one, but no share has been counted here. The per-kind rates give any other mix:
1 / sum(share / rate). ``hard_wire``: the pessimistic wire the earlier figures used (named
``realistic`` before 2026-11-21), 90% hard negatives and 10% relevant. Targets (issue 3):
>= 50,000/s on a realistic wire, >= 5,000/s relevant only, lexicon load < 1 s.

Run by hand from the project's .venv:  python bench/detect.py [--rounds N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path

from streams.detect import Detector
from streams.lexicon import load_lexicon

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "data" / "detection" / "dev.jsonl"
SAMPLE = ROOT / "stancewire" / "sample"
GENERAL = ROOT / "tests" / "data" / "general_wire.jsonl"
WIRE_MIX = {"general": 0.90, "hard_negative": 0.05, "relevant": 0.05}
BUSY_WIRE_MIX = {"general": 0.80, "hard_negative": 0.10, "relevant": 0.10}


def _texts() -> tuple[list[str], list[str]]:
    relevant: list[str] = []
    irrelevant: list[str] = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        (relevant if item["relevant"] else irrelevant).append(item["text"])
    labels = {
        json.loads(line)["id"]: json.loads(line)["relevant"]
        for line in (SAMPLE / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    }
    for line in (SAMPLE / "wire.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        (relevant if labels[item["id"]] else irrelevant).append(item["text"])
    return relevant, irrelevant


def _general() -> list[str]:
    return [json.loads(line)["text"] for line in GENERAL.read_text(encoding="utf-8").splitlines()]


def _mixed(kinds: dict[str, list[str]], mix: dict[str, float], size: int) -> list[str]:
    """``size`` texts, each kind's share as in ``mix``, cycling through each kind's texts and
    spread evenly (the relevant ones are not bunched)."""
    cycles = {kind: itertools.cycle(texts) for kind, texts in kinds.items()}
    owed = dict.fromkeys(mix, 0.0)
    out = []
    for _ in range(size):
        for kind, share in mix.items():
            owed[kind] += share
        kind = max(owed, key=owed.__getitem__)
        owed[kind] -= 1
        out.append(next(cycles[kind]))
    return out


def _rate(detector: Detector, texts: Sequence[str], rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            detector.detect(text)
    return rounds * len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    started = time.perf_counter()
    lexicon = load_lexicon()
    loaded = time.perf_counter()
    detector = Detector(lexicon)
    built = time.perf_counter()
    relevant, irrelevant = _texts()
    kinds = {"general": _general(), "hard_negative": irrelevant, "relevant": relevant}
    # sized so that each relevant text is in each wire once
    wire = _mixed(kinds, WIRE_MIX, round(len(relevant) / WIRE_MIX["relevant"]))
    busy_wire = _mixed(kinds, BUSY_WIRE_MIX, round(len(relevant) / BUSY_WIRE_MIX["relevant"]))
    hard_wire = _mixed(kinds, {"hard_negative": 0.9, "relevant": 0.1}, 10 * len(relevant))
    _rate(detector, wire + busy_wire + hard_wire, 1)  # warm up
    print(
        json.dumps(
            {
                "wire_headlines_per_second": round(_rate(detector, wire, args.rounds)),
                "wire_mix": WIRE_MIX,
                "busy_wire_headlines_per_second": round(_rate(detector, busy_wire, args.rounds)),
                "busy_wire_mix": BUSY_WIRE_MIX,
                "hard_wire_headlines_per_second": round(_rate(detector, hard_wire, args.rounds)),
                "relevant_headlines_per_second": round(_rate(detector, relevant, args.rounds)),
                "hard_negative_headlines_per_second": round(
                    _rate(detector, irrelevant, args.rounds)
                ),
                "general_headlines_per_second": round(
                    _rate(detector, kinds["general"], args.rounds)
                ),
                "lexicon_load_seconds": round(loaded - started, 4),
                "detector_build_seconds": round(built - loaded, 4),
                "lexicon_entries": sum(
                    len(kind)
                    for kind in (
                        lexicon.governments,
                        lexicon.institutions,
                        lexicon.officials,
                        lexicon.topic_terms,
                        lexicon.stance_cues,
                        lexicon.speaker_cues,
                    )
                ),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
