"""Duplicate suppression on the labelled pairs (``stancewire evaluate-dedup``), on a Redis of
its own: the floors are the figures measured when the rules last changed, so a change that
merges a different story or loses rewrites fails here."""

from __future__ import annotations

import io
from pathlib import Path

from stancewire.dedup_eval import evaluate, load
from stancewire.runtime import Stack

PAIRS = Path(__file__).parents[1] / "data" / "dedup" / "pairs.jsonl"


def test_the_pair_set_keeps_its_precision_and_recall() -> None:
    out = io.StringIO()
    with Stack(with_broker=False) as stack:
        (precision, recall), (precision_at_once, _) = evaluate(load(PAIRS), stack.redis_url, out)
    assert precision >= 0.99, out.getvalue()
    assert recall >= 0.83, out.getvalue()
    # With every pair published at one instant only the texts tell stories apart.
    assert precision_at_once >= 0.91, out.getvalue()
