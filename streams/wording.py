"""The words of a headline as dedup compares them. Pure: no I/O.

Wires spell the same words differently: "U.S." and "US", "$75 bln", "$75bn" and "$75
billion", "Feb. 14" and "February 14", "25 pct" and "25%". A syndicated copy differs from
its original by such spellings, so the exact fingerprint (``streams.dedup``) and the MinHash
features (``streams.minhash``) read the words in one spelling: case, punctuation and spacing
do not count either. Words are letters and digits of any script; combining marks are not
kept (a limit for scripts that write vowels with them; the detector reads English only, so
the worker checks no such headline).
"""

from __future__ import annotations

import re

# Letters and digits of any script ("Zürich", "関税"), with an apostrophe inside ("won't");
# the same in ASCII, which a casefolded ASCII text is and which the engine matches faster.
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)?")
# Initials written with full stops ("U.S.", "U.K.", "E.U."): one word. The match begins at
# the first stop, which the regex engine skips to (the first letter is checked behind it and
# stays in place): "u.s." becomes "u" and "s".
_INITIALS = re.compile(r"\.(?<=\b[a-z]\.)([a-z])\.(?:([a-z])\.)?")
# A unit written onto its figure ("$75bn", "25pct").
_GLUED = re.compile(r"([0-9])(bln|bn|mln|mn|trln|tn|pct)\b")
_SPELLINGS = {
    "bln": "billion",
    "bn": "billion",
    "mln": "million",
    "mn": "million",
    "trln": "trillion",
    "tn": "trillion",
    "pct": "percent",
    "jan": "january",
    "feb": "february",
    "apr": "april",
    "jun": "june",
    "jul": "july",
    "aug": "august",
    "sep": "september",
    "sept": "september",
    "oct": "october",
    "nov": "november",
    "dec": "december",
}


def words(text: str) -> list[str]:
    """The words of ``text``, casefolded, in one spelling ("%" is "percent")."""
    folded = text.casefold().replace("\u2019", "'")
    if "." in folded:
        folded = _INITIALS.sub(lambda m: "".join(filter(None, m.groups())), folded)
    if _GLUED.search(folded):  # (a search is cheaper than a substitution that finds nothing)
        folded = _GLUED.sub(r"\1 \2", folded)
    folded = folded.replace("%", " percent ").replace("per cent", "percent")
    found: list[str] = (_ASCII_WORD if folded.isascii() else _WORD).findall(folded)
    if _SPELLINGS.keys().isdisjoint(found):  # (most texts: a test in C, not a loop in Python)
        return found
    return [_SPELLINGS.get(word, word) for word in found]
