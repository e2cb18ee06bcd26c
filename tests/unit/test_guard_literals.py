"""``guard.leading_literals``: what every match of a pattern begins with, read from the
pattern, so the detector tries a cue only where one of them occurs. Pure: no I/O."""

from __future__ import annotations

import re

import pytest

from streams.guard import leading_literals

CASES = [
    (r"(?:special\s+)?port\s+fees", ("port", "special")),
    (r"(?:|foo)bar", ("bar", "foobar")),
    (r"\bimpos\w*|slap\w*", ("impos", "slap")),
    (r"[ab]cd", ("acd", "bcd")),
    (r"(?<=x)abc", ("abc",)),
    (r"U\.?S\.? goods", ("u.s goods", "u.s. goods", "us goods", "us. goods")),
    (r"retaliat\w*|retaliation", ("retaliat",)),  # a literal that begins another stands for both
    (r"ab|", None),  # a match may be empty
    (r"\w+ing", None),  # a match may begin with any letter
    (r"x|longer", None),  # a way shorter than the shortest literal asked for
]
TEXTS = [
    "Special port fees and PORT FEES; foobar, bar",
    "China IMPOSES and slaps duties; acd bcd; xabc",
    "U.S goods, US. goods, u.s. goods and us goods",
    "retaliation, retaliates",
]


@pytest.mark.parametrize(("pattern", "expected"), CASES)
def test_leading_literals(pattern: str, expected: tuple[str, ...] | None) -> None:
    assert leading_literals(pattern, re.IGNORECASE, 3) == expected


@pytest.mark.parametrize(("pattern", "literals"), [(p, e) for p, e in CASES if e])
def test_every_match_begins_with_a_literal(pattern: str, literals: tuple[str, ...]) -> None:
    matches = [m for text in TEXTS for m in re.finditer(pattern, text, re.IGNORECASE)]
    assert matches
    for match in matches:
        assert match.string.lower().startswith(literals, match.start()), match
