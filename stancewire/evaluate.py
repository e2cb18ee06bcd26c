"""Scoring of the detector against labelled headlines: ``stancewire evaluate WIRE LABELS``.

WIRE is JSONL of headlines (``{"id", "text", ...}``); LABELS is JSONL of the expected
classify output (``{"id", "relevant", "statements": [{"government", "topic", "stance",
"speaker"}]}``). Every labelled item is run through :func:`streams.detect.detect` and scored:

- ``relevant``: binary, per item (an item is predicted relevant when any statement is found);
- ``government``, ``topic``, ``stance``, ``speaker``: the set of that field's values per item,
  micro-averaged over items;
- ``statement``: the set of exact (government, topic, stance, speaker) tuples per item;
- ``stance=<class>``: the statement tuples restricted to one stance class, so a weak class
  (``rules_out``, the hard "disagree" class) shows on its own.

The scoring functions are pure; only :func:`run` reads the two files and writes ``out``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from schemas import Stance

FIELDS = ("government", "topic", "stance", "speaker")

StatementTuple = tuple[str, str, str, str]
"""(government, topic, stance, speaker) of one statement."""


@dataclass(frozen=True, slots=True)
class Labels:
    """What one item says (gold) or what the detector found in it (predicted)."""

    relevant: bool
    statements: frozenset[StatementTuple] = frozenset()


@dataclass(slots=True)
class Counts:
    """True positives, false positives and false negatives of one row of the table.

    An empty side scores as perfect only when the other side is empty too: nothing predicted
    gives precision 1.0 if nothing was missed (else 0.0), nothing expected gives recall 1.0
    if nothing was wrongly predicted (else 0.0), and F1 of an empty row is 1.0."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: Iterable[object], predicted: Iterable[object]) -> None:
        gold_set, predicted_set = set(gold), set(predicted)
        self.tp += len(gold_set & predicted_set)
        self.fp += len(predicted_set - gold_set)
        self.fn += len(gold_set - predicted_set)

    @property
    def support(self) -> int:
        """How many gold positives the row has."""
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        predicted = self.tp + self.fp
        return self.tp / predicted if predicted else (1.0 if self.fn == 0 else 0.0)

    @property
    def recall(self) -> float:
        return self.tp / self.support if self.support else (1.0 if self.fp == 0 else 0.0)

    @property
    def f1(self) -> float:
        total = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / total if total else 1.0


@dataclass(frozen=True, slots=True)
class Mismatch:
    """An item whose predicted statements (or relevance) differ from its labels."""

    id: str
    gold: Labels
    predicted: Labels


@dataclass(slots=True)
class Score:
    """Every row of the table, by name, in print order, and the items that were wrong."""

    rows: dict[str, Counts] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    items: int = 0


def score(gold: Mapping[str, Labels], predicted: Mapping[str, Labels]) -> Score:
    """Score ``predicted`` against ``gold``, item by item (an id missing from ``predicted``
    counts as predicted irrelevant with no statements)."""
    result = Score(items=len(gold))
    rows = result.rows
    rows["relevant"] = Counts()
    for name in FIELDS:
        rows[name] = Counts()
    rows["statement"] = Counts()
    for stance in Stance:
        rows[f"stance={stance.value}"] = Counts()
    for item_id, expected in gold.items():
        found = predicted.get(item_id, Labels(relevant=False))
        rows["relevant"].add(
            [item_id] if expected.relevant else [], [item_id] if found.relevant else []
        )
        for index, name in enumerate(FIELDS):
            rows[name].add(
                (s[index] for s in expected.statements), (s[index] for s in found.statements)
            )
        rows["statement"].add(expected.statements, found.statements)
        for stance in Stance:
            rows[f"stance={stance.value}"].add(
                (s for s in expected.statements if s[2] == stance.value),
                (s for s in found.statements if s[2] == stance.value),
            )
        if expected.statements != found.statements or expected.relevant != found.relevant:
            result.mismatches.append(Mismatch(item_id, expected, found))
    return result


def labels_from_json(item: Mapping[str, Any]) -> Labels:
    """The labels of one LABELS line (or of one ``classify`` output line)."""
    statements = frozenset(
        (str(s["government"]), str(s["topic"]), str(s["stance"]), str(s["speaker"]))
        for s in item.get("statements", [])
    )
    return Labels(relevant=bool(item.get("relevant", bool(statements))), statements=statements)


def predict(text: str, detector: Callable[[str], Iterable[Any]] | None = None) -> Labels:
    """Run the detector (``streams.detect.detect`` by default) on one text."""
    if detector is None:
        from streams.detect import detect

        detector = detect
    statements = frozenset(
        (d.government, d.topic.value, d.stance.value, d.speaker.value) for d in detector(text)
    )
    return Labels(relevant=bool(statements), statements=statements)


def format_score(result: Score) -> str:
    """The table of precision, recall, F1 and support per row, then every mismatch."""
    lines = [
        f"{result.items} items",
        f"{'field':<18} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}",
    ]
    for name, counts in result.rows.items():
        lines.append(
            f"{name:<18} {counts.precision:>9.3f} {counts.recall:>7.3f} {counts.f1:>7.3f} "
            f"{counts.support:>8d}"
        )
    lines.append("")
    lines.append(f"{len(result.mismatches)} items differ from their labels:")
    for mismatch in result.mismatches:
        lines.append(f"{mismatch.id}")
        lines.append(f"  gold:      {_show(mismatch.gold)}")
        lines.append(f"  predicted: {_show(mismatch.predicted)}")
    return "\n".join(lines) + "\n"


def _show(labels: Labels) -> str:
    if not labels.statements:
        return "relevant, no statement" if labels.relevant else "irrelevant"
    return "; ".join("/".join(s) for s in sorted(labels.statements))


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            item = json.loads(line)
            if not isinstance(item, dict) or "id" not in item:
                raise ValueError(f"{path}:{number}: not a JSON object with an 'id'")
            yield item


def run(wire_path: Path, labels_path: Path, out: TextIO) -> Score:
    """Detect on every labelled item of ``wire_path``, score it, and print the table."""
    texts = {str(item["id"]): str(item["text"]) for item in _read_jsonl(wire_path)}
    gold = {str(item["id"]): labels_from_json(item) for item in _read_jsonl(labels_path)}
    missing = sorted(set(gold) - set(texts))
    if missing:
        raise ValueError(f"labelled items missing from {wire_path}: {', '.join(missing)}")
    result = score(gold, {item_id: predict(texts[item_id]) for item_id in gold})
    out.write(format_score(result))
    return result


def main(wire: Path, labels: Path, out: TextIO = sys.stdout) -> int:
    """``stancewire evaluate WIRE LABELS``."""
    run(wire, labels, out)
    return 0
