"""Detection speed on one core: headlines per second on a realistic wire and on relevant-only
text, and the time to load the lexicon and build a detector. Prints one JSON line.

The realistic wire is ~90% irrelevant: the irrelevant items of the development set and the
sample wire (hard negatives: yields, "UK Treasury", "leverage", holdings data, talks), mixed
with the relevant ones at one in ten. Real wire is easier still (most of it names no lever
and stops at the prefilter). Targets (issue 3): >= 50,000/s realistic, >= 5,000/s relevant
only, lexicon load < 1 s.

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
    # nine irrelevant headlines to one relevant, cycling through both lists
    filler = itertools.cycle(irrelevant)
    realistic = [text for extra in relevant for text in (*itertools.islice(filler, 9), extra)]
    _rate(detector, realistic, 1)  # warm up
    print(
        json.dumps(
            {
                "realistic_headlines_per_second": round(_rate(detector, realistic, args.rounds)),
                "realistic_irrelevant_share": 0.9,
                "relevant_headlines_per_second": round(_rate(detector, relevant, args.rounds)),
                "irrelevant_headlines_per_second": round(_rate(detector, irrelevant, args.rounds)),
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
