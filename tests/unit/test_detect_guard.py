"""streams.guard: a guarded regex, or one tried only where its triggers begin, finds exactly
what the pattern finds, only faster."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from streams.detect import Detector
from streams.guard import begins_with, compile_guarded
from streams.lexicon import load_lexicon

DATA = Path(__file__).parents[1] / "data" / "detection"
TEXTS = [
    json.loads(line)["text"]
    for path in sorted(DATA.glob("*.jsonl"))
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def _spans(regex: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], ...]]:
    return [tuple(m.span(g) for g in range(regex.groups + 1)) for m in regex.finditer(text)]


@pytest.mark.parametrize(
    ("pattern", "flags", "guard"),
    [
        (r"\b(?:will|would)\s+retaliate", re.IGNORECASE, "[w]"),
        (r"(?<!the\s)(?:rais|hik)(?:e|es)?", re.IGNORECASE, "[hr]"),
        (r"(?:\w+\s+)?(?:could|(?-i:may))", re.IGNORECASE, r"[\wcm]"),
        (r"[A-C]x|(d)+", 0, "[A-Cd]"),
        (r"(?:['\u2019]s|its)\s", re.IGNORECASE, "['i\u2019]"),
    ],
)
def test_guard_names_the_first_characters(pattern: str, flags: int, guard: str) -> None:
    regex = compile_guarded(pattern, flags)
    assert regex.pattern == f"(?={guard})(?:{pattern})"
    assert regex.flags == re.compile(pattern, flags).flags


@pytest.mark.parametrize(
    "pattern",
    [
        r"x*",  # may match empty: a match may start anywhere
        r"$|,",
        r".x",  # any character
        r"[^a]x",  # a negated class
        r"(a)?\1b",  # a back-reference
        r"(a)?(?(1)b|c)",  # a conditional group
        r"(?i:a)b",  # a group turning a flag on matches more than it spells
    ],
)
def test_patterns_whose_start_cannot_be_named_compile_as_they_are(pattern: str) -> None:
    assert compile_guarded(pattern).pattern == pattern


def test_case_folding_is_the_patterns() -> None:
    """A guard read case-insensitively admits what the literal admits (Kelvin sign, long s)."""
    for pattern, text in ((r"\bkato", "\u212aATO"), (r"\bsells", "\u017fELLS")):
        assert compile_guarded(pattern, re.IGNORECASE).search(text)
        assert not compile_guarded(pattern).search(text)


def test_every_lexicon_pattern_finds_what_it_found_unguarded() -> None:
    lexicon = load_lexicon()
    patterns = [
        *((rf"\b(?:{t.pattern})\b", re.IGNORECASE) for t in lexicon.topic_terms),
        *((n.pattern, re.IGNORECASE) for n in lexicon.not_levers),
        *((rf"\b(?:{c.pattern})", re.IGNORECASE) for c in lexicon.lever_cues),
        *((rf"\b(?:{c.pattern})", re.IGNORECASE) for c in lexicon.stance_cues),
        *(
            (rf"\b(?:{c.pattern})\b", 0 if c.case_sensitive else re.IGNORECASE)
            for c in lexicon.speaker_cues
        ),
    ]
    texts = [*TEXTS, *(t.upper() for t in TEXTS)]
    guarded = 0
    for pattern, flags in patterns:
        plain, fast = re.compile(pattern, flags), compile_guarded(pattern, flags)
        guarded += fast.pattern != pattern
        for text in texts:
            assert _spans(fast, text) == _spans(plain, text), (pattern, text)
    assert guarded > len(patterns) * 0.9


@pytest.mark.parametrize(
    ("pattern", "flags", "literals", "expected"),
    [
        (r"\b(?:tariffs?(?!\s+talks))\b", re.IGNORECASE, ("tariff",), True),
        (r"\b(?:retaliat\w*|reprisals?)", re.IGNORECASE, ("retaliat", "reprisal"), True),
        (r"(?<!the\s)(?:Kato|(?-i:May))\s", re.IGNORECASE, ("kato", "may"), True),
        (r"retaliat\w*|reprisals?", re.IGNORECASE, ("retaliat",), False),  # one way not
        (r"(?:special\s+)?port\s+fees", re.IGNORECASE, ("port",), False),  # may begin "special"
        (r"counter-?measures?", re.IGNORECASE, ("measure",), False),  # holds it, later
        (r"ab*", 0, ("ab",), False),  # "a" alone matches
        (r"\u0131s", re.IGNORECASE, ("\u0131s",), False),  # a dotless i matches "i": closed
        (r"tariffs", 0, (), False),
    ],
)
def test_begins_with(pattern: str, flags: int, literals: tuple[str, ...], expected: bool) -> None:
    assert begins_with(pattern, flags, literals) is expected


def test_an_anchored_pattern_is_found_where_its_triggers_begin() -> None:
    """Tried only where a trigger begins (in ASCII text), a topic term or market mention
    whose matches all begin with one finds what ``finditer`` finds."""
    detector = Detector(load_lexicon())
    compiled = [*detector._topics, *detector._not_levers]
    triggers = [
        *(t.triggers for t in detector.lexicon.topic_terms),
        *(n.triggers for n in detector.lexicon.not_levers),
    ]
    anchored = [(c, t) for c, t in zip(compiled, triggers, strict=True) if c.anchored]
    assert len(anchored) >= 10
    texts = [t for t in (*TEXTS, *(t.upper() for t in TEXTS)) if t.isascii()]
    for c, literals in anchored:
        for text in texts:
            lower = text.lower()
            starts = [i for t in literals for i in range(len(lower)) if lower.startswith(t, i)]
            assert c.spans(text, starts) == c.spans(text, None), (c.regex.pattern, text)
