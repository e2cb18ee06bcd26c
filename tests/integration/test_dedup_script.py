"""The dedup script's rule for facts, against a model of it, on a real redis-server: a report
joins a story when each of its facts is within the story's or the story's within its own,
",*," standing for any list. Exhaustive over lists of a few members chosen to be prefixes and
suffixes of one another ("1", "10", "01"), where a test by substring would go wrong."""

from __future__ import annotations

import itertools
import random

from redis import Redis as SyncRedis

from stancewire.runtime import Stack
from streams.dedup import _CHECK

MEMBERS = ("1", "10", "01", "2007")
LISTS = [
    ",*,",
    *(
        ",".join(("", *members, ""))
        for size in range(3)
        for members in itertools.combinations(MEMBERS, size)
    ),
]
SETTINGS = "3600 3600 4 3600000"


def _members(fact: str) -> set[str]:
    return {member for member in fact.split(",") if member}


def _within(a: str, b: str) -> bool:
    if a == ",*," or b == ",*,":
        return True
    return _members(a) <= _members(b) or _members(b) <= _members(a)


def test_a_report_joins_a_story_exactly_when_each_fact_is_within_the_other(
    stack: Stack, redis: SyncRedis
) -> None:
    check = redis.register_script(_CHECK)
    chance = random.Random(3)
    cases: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
        ((a,), (b,)) for a in LISTS for b in LISTS
    ]
    cases += [
        (tuple(chance.choices(LISTS, k=2)), tuple(chance.choices(LISTS, k=2))) for _ in range(300)
    ]
    wrong = []
    for n, (story, report) in enumerate(cases):
        tag = f"model{n}"
        keys = [f"sw:dup:{{{tag}}}:exact:story", f"sw:dup:{{{tag}}}:stories"]
        first = check(keys=keys, args=["s", "1000", "A", SETTINGS, "\t".join(story)])
        keys[0] = f"sw:dup:{{{tag}}}:exact:report"
        seen = check(keys=keys, args=["r", "2000", "B", SETTINGS, "\t".join(report)])
        expected = all(_within(a, b) for a, b in zip(story, report, strict=True))
        if first[0] != "first" or (seen[0] == "near") != expected:
            wrong.append((story, report, seen[0]))
    assert len(cases) == len(LISTS) ** 2 + 300
    assert wrong == []
