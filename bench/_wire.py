"""A realistic wire for bench/pipeline.py, and a lexicon grown to ~200 governments.

The wire is built from the texts of the sample wire and the detection development set, each
sent as a variant (a figure added to its headline sentence, so neither exact nor near
duplicate suppression eats it) with a fresh id and an increasing ``published_at``:

- mostly irrelevant items (yields, "UK Treasury", financial leverage, talks with no lever);
- some relevant ones, chosen so that every government keeps one stance per lever: they
  produce statements and compare-and-sets but change no stance after their first (stance
  changes are rare on a real wire);
- syndicated duplicates: a recent item again from another outlet, copied or rewritten
  with a wire prefix or a dateline (suppressed exactly or as near duplicates);
- stance changes, the probes: Japan's finance minister alternately keeping its Treasury
  holdings on the table and ruling them out, each on partition 0 (so they are screened in
  order) with its alert matched by ``headline_id``. No other item touches that stance.
"""

from __future__ import annotations

import json
import random
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas import Speaker
from streams.claims import headline_sentence
from streams.detect import Detector
from streams.lexicon import load_lexicon

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "data" / "detection" / "dev.jsonl"
SAMPLE = ROOT / "stancewire" / "sample"
PACKAGED_LEXICON = ROOT / "streams" / "data" / "lexicon.jsonl"

PROBE_KEY = ("JP", "treasury_holdings")
PROBES = (
    "Japan's Treasury holdings could be a card in trade talks, Finance Minister Kato says "
    "(remark {n})",
    "Japan has no intention of using its Treasury holdings as a negotiating weapon, "
    "Finance Minister Kato says (remark {n})",
)
PROBE_STANCES = ("open", "rules_out")
OUTLETS = ("Reuters", "AP", "AFP", "Bloomberg", "Kyodo", "Nikkei", "Xinhua", "Yonhap", "CNBC")
PREFIXES = ("UPDATE 1-", "REFILE-", "TOKYO (Reuters) - ", "WASHINGTON, May 4 (AP) - ")
T0 = datetime(2025, 5, 1, tzinfo=UTC)
STEP = timedelta(milliseconds=100)
"""Event time between two headlines: 100,000 of them span under 3 h, inside every window."""


@dataclass(frozen=True)
class Item:
    id: str
    value: bytes
    probe: bool
    """A stance change whose alert is expected (always on partition 0)."""


def _texts(detector: Detector) -> tuple[list[str], list[str]]:
    """(irrelevant, relevant) texts; relevant ones keep one stance per government and lever
    and never touch the probes' stance."""
    labelled: list[tuple[str, bool]] = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        labelled.append((item["text"], bool(item["relevant"])))
    labels = {
        json.loads(line)["id"]: bool(json.loads(line)["relevant"])
        for line in (SAMPLE / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    }
    for line in (SAMPLE / "wire.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        labelled.append((item["text"], labels[item["id"]]))
    irrelevant: list[str] = []
    relevant: list[str] = []
    stance_of: dict[tuple[str, str], str] = {}
    for text, is_relevant in labelled:
        detections = detector.detect(text, T0)
        if not is_relevant:
            if not any(d.speaker is Speaker.GOVERNMENT for d in detections):
                irrelevant.append(text)
            continue
        moves = {
            (d.government, d.topic.value): d.stance.value
            for d in detections
            if d.speaker is Speaker.GOVERNMENT
        }
        if PROBE_KEY in moves or any(stance_of.get(k, v) != v for k, v in moves.items()):
            continue
        stance_of.update(moves)
        relevant.append(text)
    return irrelevant, relevant


def variant(text: str, n: int) -> str:
    """``text`` with a figure in its headline sentence: a new event to dedup."""
    sentence = headline_sentence(text)
    at = text.find(sentence)
    if at < 0:
        return f"{text} ({n})"
    end = at + len(sentence)
    if end > at and text[end - 1] in ".!?":
        end -= 1
    return f"{text[:end]} (item {n}){text[end:]}"


@dataclass
class Wire:
    """An endless realistic wire; ``next_item(probe=...)`` gives the next headline."""

    relevant_share: float = 0.12
    duplicate_share: float = 0.08
    seed: int = 8
    irrelevant: list[str] = field(default_factory=list)
    relevant: list[str] = field(default_factory=list)
    _rng: random.Random = field(init=False)
    _seq: int = 0
    _probes: int = 0
    _recent: deque[str] = field(default_factory=lambda: deque(maxlen=200))
    _detector: Detector = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        detector = self._detector = Detector.from_path(None)
        self.irrelevant, self.relevant = _texts(detector)
        for stance, template in zip(PROBE_STANCES, PROBES, strict=True):
            found = {
                (d.government, d.topic.value, d.stance.value, d.speaker.value)
                for d in detector.detect(template.format(n=1), T0)
            }
            assert found == {(*PROBE_KEY, stance, "government")}, (template, found)

    def _headline(self, hid: str, text: str, source: str, probe: bool) -> Item:
        published = (T0 + self._seq * STEP).isoformat()
        self._seq += 1
        body = {"id": hid, "text": text, "source": source, "published_at": published}
        return Item(hid, json.dumps(body).encode(), probe)

    def next_item(self, probe: bool = False) -> Item:
        n = self._seq
        if probe:
            text = PROBES[self._probes % 2].format(n=n)
            self._probes += 1
            return self._headline(f"probe-{n}", text, "Kyodo", probe=True)
        roll = self._rng.random()
        source = self._rng.choice(OUTLETS)
        if roll < self.duplicate_share and self._recent:
            text = self._rng.choice(self._recent)
            if self._rng.random() < 0.5:  # rewritten by the syndicating outlet
                rewritten = self._rng.choice(PREFIXES) + re.sub(r"^[A-Z ]+-\s*", "", text)
                # Only the probes may move the probes' key: a rewrite read as a statement
                # about it (once, a dateline's city read as Japan) would make probes stale.
                if not self._touches_probe_key(rewritten):
                    text = rewritten
            return self._headline(f"h-{n}", text, source, probe=False)
        relevant = roll < self.duplicate_share + self.relevant_share
        pool = self.relevant if relevant else self.irrelevant
        text = variant(self._rng.choice(pool), n)
        self._recent.append(text)
        return self._headline(f"h-{n}", text, source, probe=False)

    def _touches_probe_key(self, text: str) -> bool:
        return any(
            (d.government, d.topic.value) == PROBE_KEY and d.speaker is Speaker.GOVERNMENT
            for d in self._detector.detect(text, T0)
        )


def big_lexicon(path: Path, governments: int = 200, seed: int = 200) -> int:
    """Write the packaged lexicon grown to ``governments`` governments, each new one with a
    central bank and three officials (the packaged ratio); returns the count written."""
    lines = PACKAGED_LEXICON.read_text(encoding="utf-8").splitlines()
    codes = {json.loads(line)["code"] for line in lines if '"kind": "government"' in line}
    rng = random.Random(seed)
    syllables = ("ka", "lo", "ver", "na", "sti", "mor", "dal", "ri", "quen", "bar", "tho", "ze")
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    free = [a + b for a in letters for b in letters if a + b not in codes]
    rng.shuffle(free)
    extra: list[str] = []
    names: set[str] = set()
    while len(codes) < governments:
        code = free.pop()
        stem = "".join(rng.choice(syllables) for _ in range(3)).capitalize()
        if stem in names:
            continue
        names.add(stem)
        codes.add(code)
        country, capital = f"{stem}ia", f"{stem}port"
        extra.append(
            json.dumps(
                {
                    "kind": "government",
                    "code": code,
                    "names": [country],
                    "demonyms": [f"{stem}ian"],
                    "metonyms": [capital],
                }
            )
        )
        extra.append(
            json.dumps(
                {
                    "kind": "institution",
                    "name": f"Bank of {country}",
                    "aliases": [f"B{code}"],
                    "government": code,
                    "role": "central_bank",
                }
            )
        )
        for i, role in enumerate(("head_of_government", "finance_minister", "trade_minister")):
            surname = "".join(rng.choice(syllables) for _ in range(2 + i % 2)).capitalize()
            extra.append(
                json.dumps(
                    {
                        "kind": "official",
                        "name": f"{rng.choice(('Ana', 'Ivo', 'Lena', 'Omar'))} {surname}",
                        "aliases": [surname],
                        "government": code,
                        "role": role,
                        "from": "2020-01-01",
                    }
                )
            )
    # New governments go right after the packaged ones: other entries may refer to them.
    last_government = max(i for i, line in enumerate(lines) if '"kind": "government"' in line)
    merged = lines[: last_government + 1] + extra + lines[last_government + 1 :]
    path.write_text("\n".join(merged) + "\n", encoding="utf-8")
    load_lexicon(path)  # refuse to benchmark a lexicon the worker would refuse
    return len(codes)
