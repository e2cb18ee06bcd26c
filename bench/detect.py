"""Detection speed on the bundled sample wire: headlines per second and microseconds each.

Run by hand from the project's .venv:  python bench/detect.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from stancewire.demo import sample_wire
from streams.detect import detect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    texts = [json.loads(line)["text"] for line in sample_wire()]
    relevant = sum(1 for text in texts if detect(text))
    started = time.perf_counter()
    for _ in range(args.rounds):
        for text in texts:
            detect(text)
    elapsed = time.perf_counter() - started
    count = args.rounds * len(texts)
    print(
        json.dumps(
            {
                "headlines": count,
                "relevant_share": round(relevant / len(texts), 3),
                "headlines_per_second": round(count / elapsed),
                "microseconds_per_headline": round(elapsed / count * 1e6, 1),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
