"""MinHash signatures of headlines, for near-duplicate lookup in bands. Pure: no I/O.

A headline's features are its word unigrams and bigrams in one spelling
(``streams.wording``), a few wire boilerplate words dropped. Its signature is ``PERMUTATIONS``
minimum hashes; two signatures agree in a position with probability equal to the Jaccard
similarity of the feature sets, so the share of agreeing positions estimates it. Bands of
``ROWS`` positions make the index: two headlines become candidates when any band is equal,
which for ``BANDS`` = 16 and ``ROWS`` = 2 catches pairs of similarity 0.4 with probability
0.93 and pairs of 0.2 with 0.49; the estimate then decides.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from dataclasses import dataclass

from streams.wording import words

PERMUTATIONS = 32
ROWS = 2
BANDS = PERMUTATIONS // ROWS

# One extendable-output hash per feature gives all its PERMUTATIONS 32-bit hash values at
# once: four times faster in Python than a family of PERMUTATIONS multiply-mod hashes.
_HASHES = struct.Struct(f"<{PERMUTATIONS}I")
# Words that syndication adds or drops without changing the story.
_BOILERPLATE = frozenset(
    [
        "update",
        "updated",
        "exclusive",
        "breaking",
        "analysis",
        "factbox",
        "wrapup",
        "corrected",
        "refile",
        "reuters",
        "ap",
        "afp",
        "bloomberg",
        "kyodo",
        "jiji",
        "nikkei",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "and",
        "says",
        "said",
    ]
)


@dataclass(frozen=True, slots=True)
class Signature:
    values: tuple[int, ...]

    def bands(self) -> list[str]:
        """One key part per band: band index and its rows, hashed short."""
        keys = []
        for band in range(BANDS):
            rows = self.values[band * ROWS : (band + 1) * ROWS]
            digest = hashlib.blake2b(repr(rows).encode(), digest_size=8).hexdigest()
            keys.append(f"{band}:{digest}")
        return keys

    def similarity(self, other: Signature) -> float:
        """Estimated Jaccard similarity of the two feature sets."""
        same = sum(
            1 for mine, theirs in zip(self.values, other.values, strict=True) if mine == theirs
        )
        return same / PERMUTATIONS


def features(text: str) -> set[str]:
    kept = [word for word in words(text) if word not in _BOILERPLATE]
    return set(kept) | {f"{first} {second}" for first, second in itertools.pairwise(kept)}


def signature(text: str) -> Signature:
    rows = (
        _HASHES.unpack(hashlib.shake_128(feature.encode()).digest(_HASHES.size))
        for feature in features(text) or {""}
    )
    return Signature(tuple(map(min, zip(*rows, strict=True))))
