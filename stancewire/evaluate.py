"""Scoring of the detector against labelled headlines: ``stancewire evaluate FILE [LABELS]``.

FILE is JSONL of headlines. With inline gold labels (the development-set shape: ``{"id",
"text", "relevant", "statements": [{"government", "topic", "stance", "speaker"}], ...}``)
it is all that is needed; with LABELS (JSONL of ``{"id", "relevant", "statements"}``), the
labels come from there and FILE gives the texts (the bundled sample's two-file form).
The headline's date (``published_at``, else the first ISO date in ``cite``) is passed to the
detector, which resolves officials by their term of office.

What is printed:

- the table of precision, recall and F1 per row: ``relevant`` (binary, per item); the set of
  values of each field per item (``government``, ``topic``, ``stance``, ``speaker``),
  micro-averaged; ``statement`` (exact (government, topic, stance, speaker) tuples); and
  ``stance=<class>``: the tuples restricted to one stance. A statement is one stance for one
  slot (government, topic, speaker), so these rows are the per-class stance F1, and their
  mean is the stance macro-F1 (``rules_out``, the "disagree" class, on its own line);
- **government accuracy** and **speaker accuracy on matched statements**: within each item,
  gold and predicted statements are paired one to one, greedily by how many of the four
  fields agree, only pairs with the same topic and at least two agreeing fields; the accuracy
  of a field is the share of pairs that agree on it. It isolates "who" errors from missed
  or invented statements (which the F1 rows count);
- the stance confusion matrix over slots (gold stance by predicted stance, ``none`` for a
  slot one side lacks);
- the reliability table of the confidences: per bin, how many predicted statements, their
  mean confidence and the share that are in the gold labels;
- the worst errors: confident false statements and missed government statements first.

The scoring functions are pure; only :func:`run` and :func:`main` read files and write.
``python -m stancewire.evaluate --calibrate FILE`` prints the calibration entries (JSONL,
``kind: calibration``) to paste into the lexicon.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from schemas import Stance

FIELDS = ("government", "topic", "stance", "speaker")
STANCES = tuple(s.value for s in Stance)
BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

StatementTuple = tuple[str, str, str, str]
"""(government, topic, stance, speaker) of one statement."""


@dataclass(frozen=True, slots=True)
class Labels:
    """What one item says (gold) or what the detector found in it (predicted)."""

    relevant: bool
    statements: frozenset[StatementTuple] = frozenset()
    confidences: tuple[tuple[StatementTuple, float], ...] = field(default=(), compare=False)


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
    text: str = ""

    @property
    def severity(self) -> tuple[int, float]:
        """How bad: wrong or missed government statements (those move a stance), then the
        highest confidence of a false statement."""
        wrong = self.predicted.statements ^ self.gold.statements
        moving = sum(1 for s in wrong if s[3] == "government")
        false_confidence = max(
            (c for s, c in self.predicted.confidences if s not in self.gold.statements),
            default=0.0,
        )
        return moving, false_confidence


@dataclass(slots=True)
class Accuracy:
    """Agreement of one field over matched statement pairs."""

    correct: int = 0
    total: int = 0

    @property
    def value(self) -> float:
        return self.correct / self.total if self.total else 1.0


@dataclass(slots=True)
class Score:
    """Every row of the table, by name, in print order, the matched-pair accuracies, the
    stance confusion, the reliability of confidences and the items that were wrong."""

    rows: dict[str, Counts] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    items: int = 0
    accuracy: dict[str, Accuracy] = field(default_factory=dict)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    reliability: list[tuple[float, float, int, float, float]] = field(default_factory=list)

    @property
    def stance_macro_f1(self) -> float:
        return sum(self.rows[f"stance={s}"].f1 for s in STANCES) / len(STANCES)


def score(
    gold: Mapping[str, Labels],
    predicted: Mapping[str, Labels],
    texts: Mapping[str, str] | None = None,
) -> Score:
    """Score ``predicted`` against ``gold``, item by item (an id missing from ``predicted``
    counts as predicted irrelevant with no statements)."""
    result = Score(items=len(gold))
    rows = result.rows
    rows["relevant"] = Counts()
    for name in FIELDS:
        rows[name] = Counts()
    rows["statement"] = Counts()
    for stance in STANCES:
        rows[f"stance={stance}"] = Counts()
    result.accuracy = {name: Accuracy() for name in ("government", "speaker")}
    confidences: list[tuple[float, bool]] = []
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
        for stance in STANCES:
            rows[f"stance={stance}"].add(
                (s for s in expected.statements if s[2] == stance),
                (s for s in found.statements if s[2] == stance),
            )
        for g, p in match_statements(expected.statements, found.statements):
            for name in result.accuracy:
                index = FIELDS.index(name)
                result.accuracy[name].total += 1
                result.accuracy[name].correct += g[index] == p[index]
        result.confusion.update(_slot_confusion(expected.statements, found.statements))
        confidences.extend((c, s in expected.statements) for s, c in found.confidences)
        if expected.statements != found.statements or expected.relevant != found.relevant:
            text = (texts or {}).get(item_id, "")
            result.mismatches.append(Mismatch(item_id, expected, found, text))
    result.reliability = reliability(confidences)
    return result


def match_statements(
    gold: Iterable[StatementTuple], predicted: Iterable[StatementTuple]
) -> list[tuple[StatementTuple, StatementTuple]]:
    """Pair gold and predicted statements one to one (see the module doc)."""
    candidates = sorted(
        (
            (sum(a == b for a, b in zip(g, p, strict=True)), g, p)
            for g in gold
            for p in predicted
            if g[1] == p[1]
        ),
        reverse=True,
    )
    used_gold: set[StatementTuple] = set()
    used_predicted: set[StatementTuple] = set()
    pairs = []
    for agreement, g, p in candidates:
        if agreement < 2 or g in used_gold or p in used_predicted:
            continue
        used_gold.add(g)
        used_predicted.add(p)
        pairs.append((g, p))
    return pairs


def _slot_confusion(
    gold: Iterable[StatementTuple], predicted: Iterable[StatementTuple]
) -> Counter[tuple[str, str]]:
    def slots(statements: Iterable[StatementTuple]) -> dict[tuple[str, str, str], str]:
        return {(s[0], s[1], s[3]): s[2] for s in statements}

    expected, found = slots(gold), slots(predicted)
    return Counter(
        (expected.get(slot, "none"), found.get(slot, "none")) for slot in {*expected, *found}
    )


def reliability(
    confidences: Sequence[tuple[float, bool]],
) -> list[tuple[float, float, int, float, float]]:
    """Per confidence bin: (low, high, count, mean confidence, accuracy)."""
    table = []
    for low, high in itertools.pairwise(BINS):
        inside = [(c, ok) for c, ok in confidences if low <= c < high or (high == 1.0 and c == 1.0)]
        if not inside:
            table.append((low, high, 0, 0.0, 0.0))
            continue
        mean = sum(c for c, _ in inside) / len(inside)
        table.append((low, high, len(inside), mean, sum(ok for _, ok in inside) / len(inside)))
    return table


def labels_from_json(item: Mapping[str, Any]) -> Labels:
    """The labels of one LABELS line (or of one ``classify`` output line)."""
    statements = frozenset(
        (str(s["government"]), str(s["topic"]), str(s["stance"]), str(s["speaker"]))
        for s in item.get("statements", [])
    )
    return Labels(relevant=bool(item.get("relevant", bool(statements))), statements=statements)


def predict(
    text: str,
    detector: Callable[[str], Iterable[Any]] | None = None,
    at: datetime | date | None = None,
) -> Labels:
    """Run the detector (``streams.detect.detect`` with ``at`` by default) on one text."""
    if detector is None:
        from streams.detect import detect

        found = list(detect(text, at))
    else:
        found = list(detector(text))
    pairs = tuple(
        ((d.government, d.topic.value, d.stance.value, d.speaker.value), float(d.confidence))
        for d in found
    )
    statements = frozenset(s for s, _ in pairs)
    return Labels(relevant=bool(statements), statements=statements, confidences=pairs)


def item_date(item: Mapping[str, Any]) -> date | None:
    """The date of a headline: ``published_at``, else the first ISO date in ``cite``."""
    published = item.get("published_at")
    if isinstance(published, str):
        try:
            return datetime.fromisoformat(published).date()
        except ValueError:
            pass
    found = _ISO_DATE.search(str(item.get("cite", "")))
    if found:
        try:
            return date.fromisoformat(found.group())
        except ValueError:
            return None
    return None


_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def format_score(result: Score, worst: int = 20) -> str:
    """The summary, the table, the confusion matrix, the reliability table and the worst
    errors (``worst`` of them; every mismatch is counted)."""
    lines = [f"{result.items} items", ""]
    relevant = result.rows["relevant"]
    lines.append(
        f"relevance        precision {relevant.precision:.3f}  recall {relevant.recall:.3f}  "
        f"f1 {relevant.f1:.3f}"
    )
    for name, acc in result.accuracy.items():
        lines.append(
            f"{name + ' accuracy':<24} {acc.value:.3f}  ({acc.correct}/{acc.total} matched)"
        )
    lines.append(f"{'stance macro-F1':<24} {result.stance_macro_f1:.3f}")
    lines.append(f"{'rules_out F1':<24} {result.rows['stance=rules_out'].f1:.3f}")
    lines.append(f"{'statement F1':<24} {result.rows['statement'].f1:.3f}")
    lines.append("")
    lines.append(f"{'field':<18} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for name, counts in result.rows.items():
        lines.append(
            f"{name:<18} {counts.precision:>9.3f} {counts.recall:>7.3f} {counts.f1:>7.3f} "
            f"{counts.support:>8d}"
        )
    lines.append("")
    labels = [*STANCES, "none"]
    lines.append("stance confusion (rows gold, columns predicted; per government/topic/speaker)")
    lines.append(f"{'':<10}" + "".join(f"{label:>10}" for label in labels))
    for gold_label in labels:
        lines.append(
            f"{gold_label:<10}"
            + "".join(f"{result.confusion[(gold_label, p)]:>10d}" for p in labels)
        )
    lines.append("")
    lines.append("reliability (predicted statements by confidence)")
    lines.append(f"{'bin':<12} {'count':>6} {'mean conf':>10} {'accuracy':>9}")
    for low, high, count, mean, accuracy in result.reliability:
        shown = f"{accuracy:>9.3f}" if count else f"{'-':>9}"
        bracket = "]" if high == 1.0 else ")"
        lines.append(f"[{low:.1f}, {high:.1f}{bracket}  {count:>6d} {mean:>10.3f} {shown}")
    lines.append("")
    lines.append(f"{len(result.mismatches)} items differ from their labels; the worst {worst}:")
    ranked = sorted(result.mismatches, key=lambda m: m.severity, reverse=True)
    for mismatch in ranked[:worst]:
        lines.append(f"{mismatch.id}" + (f"  {mismatch.text[:160]}" if mismatch.text else ""))
        lines.append(f"  gold:      {_show(mismatch.gold)}")
        lines.append(f"  predicted: {_show(mismatch.predicted)}")
    return "\n".join(lines) + "\n"


def _show(labels: Labels) -> str:
    if not labels.statements:
        return "relevant, no statement" if labels.relevant else "irrelevant"
    confidence = dict(labels.confidences)
    return "; ".join(
        "/".join(s) + (f" ({confidence[s]:.2f})" if s in confidence else "")
        for s in sorted(labels.statements)
    )


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            item = json.loads(line)
            if not isinstance(item, dict) or "id" not in item:
                raise ValueError(f"{path}:{number}: not a JSON object with an 'id'")
            yield item


def load(
    path: Path, labels_path: Path | None = None
) -> tuple[dict[str, Labels], dict[str, dict[str, Any]]]:
    """Gold labels and the items (text, date fields) by id, from one file with inline labels
    or from a wire file and a labels file."""
    items = {str(item["id"]): item for item in _read_jsonl(path)}
    if labels_path is None:
        unlabelled = sorted(i for i, item in items.items() if "statements" not in item)
        if unlabelled:
            raise ValueError(f"items without inline labels in {path}: {', '.join(unlabelled)}")
        return {i: labels_from_json(item) for i, item in items.items()}, items
    gold = {str(item["id"]): labels_from_json(item) for item in _read_jsonl(labels_path)}
    missing = sorted(set(gold) - set(items))
    if missing:
        raise ValueError(f"labelled items missing from {path}: {', '.join(missing)}")
    return gold, items


def run(
    path: Path,
    labels_path: Path | None = None,
    out: TextIO = sys.stdout,
    detector: Callable[[str, date | None], Iterable[Any]] | None = None,
) -> Score:
    """Detect on every labelled item, score it, and print the report to ``out``."""
    gold, items = load(path, labels_path)
    predicted = {item_id: _predict_item(items[item_id], detector) for item_id in gold}
    texts = {item_id: str(items[item_id]["text"]) for item_id in gold}
    result = score(gold, predicted, texts)
    out.write(format_score(result))
    return result


def _predict_item(
    item: Mapping[str, Any], detector: Callable[[str, date | None], Iterable[Any]] | None
) -> Labels:
    at = item_date(item)
    text = str(item["text"])
    if detector is None:
        return predict(text, at=at)
    return predict(text, lambda t: detector(t, at))


def calibrate(
    path: Path,
    labels_path: Path | None = None,
    prior_weight: float = 4.0,
) -> list[dict[str, Any]]:
    """Calibration entries for the lexicon, measured on a labelled file.

    Each predicted statement belongs to a decision class (``stance/speaker evidence/
    government evidence``, see ``streams.detect``); a class's confidence is its share of
    statements that are in the gold labels, shrunk toward its stance's share by
    ``prior_weight`` pseudo-counts so a class seen twice is not called certain. Coarser
    entries (``stance/speaker evidence``, ``stance``, ``*``) serve classes unseen here."""
    from streams.detect import detect

    gold, items = load(path, labels_path)
    outcomes: dict[str, list[bool]] = {}
    for item_id, labels in gold.items():
        item = items[item_id]
        for d in detect(str(item["text"]), item_date(item)):
            statement = (d.government, d.topic.value, d.stance.value, d.speaker.value)
            stance, speaker_basis, _ = d.decision.split("/")
            ok = statement in labels.statements
            for key in (d.decision, f"{stance}/{speaker_basis}", stance, "*"):
                outcomes.setdefault(key, []).append(ok)
    everything = outcomes.get("*", [])
    overall = sum(everything) / len(everything) if everything else 0.5

    def parent(key: str) -> float:
        parts = key.split("/")
        if key == "*":
            return overall
        coarser = "/".join(parts[:-1]) if len(parts) > 1 else "*"
        seen = outcomes.get(coarser, [])
        base = parent(coarser)
        return (sum(seen) + prior_weight * base) / (len(seen) + prior_weight)

    entries = []
    for key in sorted(outcomes, key=lambda k: (k.count("/"), k)):
        seen = outcomes[key]
        value = (sum(seen) + prior_weight * parent(key)) / (len(seen) + prior_weight)
        if key == "*":
            value = overall
        entries.append(
            {
                "kind": "calibration",
                "decision": key,
                "confidence": round(min(max(value, 0.05), 0.99), 3),
                "n": len(seen),
            }
        )
    return entries


def main(path: Path, labels: Path | None = None, out: TextIO = sys.stdout) -> int:
    """``stancewire evaluate FILE [LABELS]``: print the report; 0 on success."""
    run(path, labels, out)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("labels", type=Path, nargs="?")
    parser.add_argument("--calibrate", action="store_true", help="print calibration entries")
    options = parser.parse_args()
    if options.calibrate:
        for entry in calibrate(options.file, options.labels):
            print(json.dumps(entry))
    else:
        main(options.file, options.labels)
