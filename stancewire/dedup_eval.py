"""``stancewire evaluate-dedup PAIRS``: precision and recall of duplicate suppression.

Each pair is run through the worker's own dedup step (the Lua script on a real Redis, the
detector, the same settings), from empty state: headline ``a`` first, then ``b``; the pair
is predicted a duplicate when ``b`` joins ``a``'s story: a statement of ``b`` is suppressed
as a report of one in ``a`` (each statement is checked on its own), or, without statements,
``b`` as a whole. Suppressing a pair that is not one (a
negation, another government) is the expensive error, so precision is the number to watch.

The pairs carry the dates their events were reported, and most different stories that share
their words were reported days apart, so the window tells them apart. A second run puts
``b`` at ``a``'s instant: a stress test of what the texts alone tell apart, as on a day when
both stories break.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

from pydantic import BaseModel, ConfigDict
from redis.asyncio import Redis

from schemas import Headline
from schemas.settings import WorkerSettings
from streams.dedup import Dedup, DedupSettings, Verdicts
from streams.detect import detect


class Pair(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    a: dict[str, str]
    b: dict[str, str]
    duplicate: bool
    kind: str


def load(path: Path) -> list[Pair]:
    return [
        Pair.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()
    ]


def _headline(pair: Pair, side: str, fields: dict[str, str]) -> Headline:
    return Headline.model_validate_json(json.dumps({"id": f"{pair.id}-{side}", **fields}))


def at_once(pair: Pair) -> Pair:
    """The pair with ``b`` published at ``a``'s instant."""
    b = {**pair.b, "published_at": pair.a["published_at"]}
    return pair.model_copy(update={"b": b})


def said(text: str) -> set[tuple[str, str, str, str]]:
    """The statements the detector finds in a text."""
    return {(d.government, d.topic, d.stance, d.speaker) for d in detect(text)}


def _checked(pair: Pair) -> bool:
    """Whether the worker checks a side of the pair: a headline that says nothing is not
    checked (so it cannot be merged either)."""
    return bool(said(pair.a["text"]) or said(pair.b["text"]))


def shares(pair: Pair) -> bool:
    """Whether the detector finds a statement in both texts, or none in either: only then
    may ``b`` join ``a``'s story at all (a statement is suppressed only by the same one)."""
    a, b = said(pair.a["text"]), said(pair.b["text"])
    return bool(a & b) or not (a or b)


async def predict(redis_url: str, pairs: list[Pair], settings: WorkerSettings) -> list[Verdicts]:
    """``b``'s verdicts, after ``a``, for each pair."""
    client = Redis.from_url(redis_url, decode_responses=True)
    dedup = Dedup(
        client,
        DedupSettings.of(settings),
    )
    predicted: list[Verdicts] = []
    try:
        for pair in pairs:
            await client.flushdb()
            first, second = _headline(pair, "a", pair.a), _headline(pair, "b", pair.b)
            await dedup.check(first, detect(first.text, first.published_at))
            verdicts = await dedup.check(second, detect(second.text, second.published_at))
            predicted.append(verdicts)
    finally:
        await client.aclose()
    return predicted


def scores(pairs: list[Pair], predicted: list[bool]) -> tuple[float, float]:
    """Precision and recall of suppression."""
    tp = sum(1 for p, guess in zip(pairs, predicted, strict=True) if p.duplicate and guess)
    fp = sum(1 for p, guess in zip(pairs, predicted, strict=True) if not p.duplicate and guess)
    fn = sum(1 for p, guess in zip(pairs, predicted, strict=True) if p.duplicate and not guess)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def report(pairs: list[Pair], verdicts: list[Verdicts], out: TextIO) -> tuple[float, float]:
    """Print precision and recall overall, and the share right per kind; return (P, R)."""
    predicted = [v.joined for v in verdicts]
    precision, recall = scores(pairs, predicted)
    tp = sum(1 for p, guess in zip(pairs, predicted, strict=True) if p.duplicate and guess)
    fp = sum(1 for p, guess in zip(pairs, predicted, strict=True) if not p.duplicate and guess)
    print(f"{len(pairs)} pairs: precision {precision:.3f}, recall {recall:.3f}", file=out)
    whole = sum(1 for v in verdicts if v.duplicate)
    print(
        f"  b joined a's story in {tp + fp}: {tp} duplicates, {fp} wrongly (different "
        f"statements); in {whole} b said nothing new (every statement a duplicate), in the "
        f"others b repeats a statement of a and adds one of its own",
        file=out,
    )
    seen = [(p, guess) for p, guess in zip(pairs, predicted, strict=True) if _checked(p)]
    seen_precision, seen_recall = scores([p for p, _ in seen], [guess for _, guess in seen])
    print(
        f"  on the {len(seen)} pairs of which the worker checks a side (one with a statement; "
        f"{sum(p.duplicate for p, _ in seen)} duplicates): precision {seen_precision:.3f}, "
        f"recall {seen_recall:.3f}",
        file=out,
    )
    eligible = [
        (guess, said(p.a["text"]))
        for p, guess in zip(pairs, predicted, strict=True)
        if p.duplicate and shares(p)
    ]
    agreeing = [guess for guess, _ in eligible]
    print(
        f"  recall {sum(agreeing) / max(len(agreeing), 1):.3f} on the {len(agreeing)} duplicate "
        f"pairs that share a detected statement or have none (the others may not be joined)",
        file=out,
    )
    checked = [guess for guess, statements in eligible if statements]
    print(
        f"  recall {sum(checked) / max(len(checked), 1):.3f} on the {len(checked)} of those with "
        f"statements: what the worker checks (a headline that says nothing can neither alert nor "
        f"corroborate, so it is not checked)",
        file=out,
    )
    total, right = Counter[str](), Counter[str]()
    for pair, guess in zip(pairs, predicted, strict=True):
        total[pair.kind] += 1
        right[pair.kind] += guess == pair.duplicate
    for kind in sorted(total):
        print(f"  {kind:<18} {right[kind]:>4}/{total[kind]:<4} right", file=out)
    wrong = [p for p, guess in zip(pairs, predicted, strict=True) if guess != p.duplicate]
    for pair in wrong:
        verdict = "missed" if pair.duplicate else "merged"
        texts = f"{pair.a['text'][:70]!r} / {pair.b['text'][:70]!r}"
        print(f"  {verdict} {pair.id} ({pair.kind}): {texts}", file=out)
    return precision, recall


def report_at_once(pairs: list[Pair], verdicts: list[Verdicts], out: TextIO) -> tuple[float, float]:
    """Print the stress test's figures and the pairs it merges; return (P, R)."""
    predicted = [v.joined for v in verdicts]
    precision, recall = scores(pairs, predicted)
    print(
        f"each b published at a's instant: precision {precision:.3f}, recall {recall:.3f}",
        file=out,
    )
    for pair, guess in zip(pairs, predicted, strict=True):
        if guess and not pair.duplicate:
            texts = f"{pair.a['text'][:70]!r} / {pair.b['text'][:70]!r}"
            print(f"  merged {pair.id} ({pair.kind}): {texts}", file=out)
    return precision, recall


def evaluate(
    pairs: list[Pair], redis_url: str, out: TextIO
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both runs, printed; their (precision, recall)."""
    settings = WorkerSettings(redis_url=redis_url)
    dated = report(pairs, asyncio.run(predict(redis_url, pairs, settings)), out)
    moved = [at_once(pair) for pair in pairs]
    print(file=out)
    return dated, report_at_once(moved, asyncio.run(predict(redis_url, moved, settings)), out)


def main(pairs_path: Path, redis_url: str, out: TextIO = sys.stdout) -> int:
    evaluate(load(pairs_path), redis_url, out)
    return 0
