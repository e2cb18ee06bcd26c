"""streams.lexicon: the packaged lexicon loads, and a bad file fails fast naming its line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from streams.detect import Detector
from streams.lexicon import LexiconError, default_path, load_lexicon

REQUIRED = {"JP", "CN", "US", "CA", "MX", "EU", "GB", "KR", "IN", "BR", "DE", "FR", "AU", "SA"}
REQUIRED |= {"CH", "TW"}

GOVERNMENT = {"kind": "government", "code": "JP", "names": ["Japan"], "metonyms": ["Tokyo"]}


def _write(path: Path, *entries: object) -> Path:
    path.write_text(
        "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in entries),
        encoding="utf-8",
    )
    return path


def test_default_lexicon_loads() -> None:
    lexicon = load_lexicon()
    codes = {g.code for g in lexicon.governments}
    assert len(codes) >= 20
    assert codes >= REQUIRED
    assert lexicon.stance_cues and lexicon.speaker_cues and lexicon.topic_terms
    assert {c.stance.value for c in lexicon.stance_cues} == {
        "threatens",
        "open",
        "rules_out",
        "acting",
    }
    assert lexicon.calibration, "the calibration table ships with the lexicon"
    assert all(0.0 < v <= 1.0 for v in lexicon.calibration.values())
    assert Path(lexicon.source) == default_path()


def test_metonyms_and_institutions() -> None:
    lexicon = load_lexicon()
    metonyms = {m: g.code for g in lexicon.governments for m in g.metonyms}
    assert metonyms["Tokyo"] == "JP"
    assert metonyms["Beijing"] == "CN"
    assert metonyms["Brussels"] == "EU"
    roles = {(i.government, i.role) for i in lexicon.institutions}
    assert ("JP", "central_bank") in roles
    assert ("SA", "state_fund") in roles


@pytest.mark.parametrize(
    ("name", "on", "expected"),
    [
        ("Kato", date(2025, 5, 4), {"JP"}),  # finance minister from 2024-10
        ("Kato", date(2019, 5, 4), set()),  # out of office
        ("Bessent", date(2025, 4, 3), {"US"}),
        ("Bessent", date(2024, 4, 3), set()),
        ("Carney", date(2025, 4, 3), {"CA"}),
        ("Carney", date(2024, 4, 3), set()),
        ("He Lifeng", date(2025, 5, 10), {"CN"}),
        ("Trump", date(2019, 5, 10), {"US"}),
        ("Trump", date(2022, 5, 10), set()),  # between terms
        ("Kato", None, {"JP"}),  # no date: any term
    ],
)
def test_official_resolves_by_date(name: str, on: date | None, expected: set[str]) -> None:
    lexicon = load_lexicon()
    assert {o.government for o in lexicon.officials_named(name, on)} == expected


def test_bad_json_names_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "lex.jsonl", GOVERNMENT, "{not json")
    with pytest.raises(LexiconError, match=r"lex\.jsonl:2: not JSON"):
        load_lexicon(path)


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path / "lex.jsonl", GOVERNMENT, {**GOVERNMENT, "colour": "red"})
    with pytest.raises(LexiconError, match=r"lex\.jsonl:2: .*colour.*[Ee]xtra"):
        load_lexicon(path)


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"kind": "planet", "name": "Mars"}, "kind"),
        ({"kind": "government", "code": "Japan", "names": ["Japan"]}, "code"),
        (
            {"kind": "stance_cue", "rule": "open.x", "stance": "open", "pattern": "(unclosed"},
            "bad pattern",
        ),
        (
            {"kind": "stance_cue", "rule": "open.x", "stance": "maybe", "pattern": "x"},
            "stance",
        ),
        (
            {"kind": "stance_cue", "rule": "open.x", "stance": "open", "pattern": "{NOPE}"},
            "unknown macro",
        ),
        (
            {
                "kind": "official",
                "name": "A B",
                "government": "ZZ",
                "role": "minister",
                "from": "2025-01-01",
            },
            "unknown government",
        ),
        (
            {
                "kind": "official",
                "name": "A B",
                "government": "JP",
                "role": "minister",
                "from": "2025-01-01",
                "to": "2024-01-01",
            },
            "ends before",
        ),
        (
            {
                "kind": "topic_term",
                "topic": "trade_leverage",
                "pattern": "tariffs?",
                "triggers": ["Tariff"],
            },
            "lowercase",
        ),
    ],
)
def test_bad_entry_fails_with_line_and_reason(
    tmp_path: Path, entry: dict[str, object], reason: str
) -> None:
    path = _write(tmp_path / "lex.jsonl", GOVERNMENT, "", entry)
    with pytest.raises(LexiconError) as failure:
        load_lexicon(path)
    message = str(failure.value)
    assert f"{path}:3:" in message
    assert reason in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="cannot read"):
        load_lexicon(tmp_path / "absent.jsonl")


def test_macros_expand_in_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "lex.jsonl",
        GOVERNMENT,
        {"kind": "macro", "name": "NEG", "pattern": "(?:not|never)"},
        {
            "kind": "stance_cue",
            "rule": "rules_out.x",
            "stance": "rules_out",
            "pattern": "{NEG} sell",
        },
    )
    assert load_lexicon(path).stance_cues[0].pattern == "(?:not|never) sell"


def test_reload_builds_a_new_detector_and_a_bad_file_keeps_the_old(tmp_path: Path) -> None:
    """What a worker does on SIGHUP: build from the file, swap only on success."""
    path = tmp_path / "lex.jsonl"
    path.write_text(default_path().read_text(encoding="utf-8"), encoding="utf-8")
    detector = Detector.from_path(path)
    text = "Japan rules out selling its Treasury holdings."
    assert detector.detect(text)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"kind": "speaker_cue", "speaker": "analyst", "pattern": "x", "oops": 1}\n')
    with pytest.raises(LexiconError, match=r":\d+: "):
        detector = Detector.from_path(path)
    assert detector.detect(text), "the old detector is still in use"


def test_every_match_holds_one_of_its_triggers() -> None:
    """The prefilter runs a pattern only where one of its triggers occurs: over the
    development texts, every match of every pattern with triggers holds one."""
    import re

    lexicon = load_lexicon()
    data = Path(__file__).parents[1] / "data" / "detection"
    texts = [
        json.loads(line)["text"]
        for path in sorted(data.glob("dev*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    groups = (
        (lexicon.topic_terms, r"\b(?:{})\b", re.IGNORECASE),
        (lexicon.not_levers, "{}", re.IGNORECASE),
        (lexicon.lever_cues, r"\b(?:{})", re.IGNORECASE),
        (lexicon.stance_cues, r"\b(?:{})", re.IGNORECASE),
    )
    missing = []
    for entries, wrap, flags in groups:
        for entry in entries:
            if not entry.triggers:
                continue
            regex = re.compile(wrap.format(entry.pattern), flags)
            for text in texts:
                for m in regex.finditer(text):
                    if m.end() > m.start() and not any(
                        t in m.group().lower() for t in entry.triggers
                    ):
                        missing.append((entry.pattern[:40], m.group()))
    for cue in lexicon.speaker_cues:
        regex = re.compile(rf"\b(?:{cue.pattern})\b", 0 if cue.case_sensitive else re.IGNORECASE)
        for text in texts:
            for m in regex.finditer(text):
                if not any(t in m.group().lower() for t in cue.triggers):
                    missing.append((cue.pattern[:40], m.group()))
    assert not missing, missing[:10]
