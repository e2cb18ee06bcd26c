"""The words dedup compares (``streams.wording``): pure, no Redis."""

from __future__ import annotations

from streams.dedup import fingerprint
from streams.minhash import signature
from streams.wording import words


def test_wire_spellings_are_one_spelling() -> None:
    wire = "China to halve tariffs on $75 bln of U.S. goods from Feb. 14, 25 pct"
    plain = "China to halve tariffs on $75 billion of US goods from February 14, 25%"
    assert words(wire) == words(plain)
    assert words("$75bn, 25pct") == words("$75 bln, 25 pct")
    assert fingerprint(wire) == fingerprint(plain)
    assert signature(wire) == signature(plain)


def test_apostrophes_and_other_scripts_are_kept() -> None:
    assert words("Japan won\u2019t sell") == ["japan", "won't", "sell"]
    assert words("Zürich: 関税 25 per cent") == ["zürich", "関税", "25", "percent"]
    assert fingerprint("関税") != fingerprint("制裁")  # not every other script alike
