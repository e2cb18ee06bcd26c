"""Where a match of a regex can begin, read from its parse: a first-character guard, and
whether every match begins with one of a few literals.

Python's regex engine searches by trying its pattern at every position of the text. For a
pattern that begins with a literal or a case-sensitive character class it first skips to
where that can occur, but a case-insensitive pattern, or one that begins with ``\\b`` (every
pattern of the lexicon), gets no such shortcut: a long alternation of cues is tried, branch
by branch, at each of a sentence's positions. Three ways around it:

- :func:`compile_guarded` puts a lookahead on the characters a match can begin with in front
  of the pattern, so most positions fail on one class test. The lookahead consumes nothing
  and names no group: where the pattern can match, the guard holds, so every match (span,
  groups, order) is the unguarded pattern's.
- :func:`begins_with` tells whether every match begins with one of some literals (a lexicon
  entry's triggers, whose positions the detector's automaton has already found): such a
  pattern need only be tried where one occurs.
- :func:`leading_literals` names such literals from the pattern itself ("will", "would",
  ... for "(?:will|would)\\s+..."), for the detector's automata to find.

All read the tree ``re.compile`` itself builds (``re._parser``). Where the first characters
cannot be named (a match may be empty or begin with any character, a negated class, a
back-reference, a group turning a flag on) the pattern is compiled as it is.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from typing import Any

# The parser's tree has no public API (nor stubs): typed as Any, read in this module only.
_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")
_sre: Any = importlib.import_module("_sre")

_CATEGORY_CLASSES = {
    _c.CATEGORY_DIGIT: r"\d",
    _c.CATEGORY_NOT_DIGIT: r"\D",
    _c.CATEGORY_SPACE: r"\s",
    _c.CATEGORY_NOT_SPACE: r"\S",
    _c.CATEGORY_WORD: r"\w",
    _c.CATEGORY_NOT_WORD: r"\W",
}
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)
_ZERO_WIDTH = (_c.AT, _c.ASSERT, _c.ASSERT_NOT)


class _Unguarded(Exception):
    """The first character of a match cannot be named as a class."""


class _First:
    """What can begin a match, as the items of a character class (read with the pattern's
    flags); ``empty`` while the items read so far can all match the empty string."""

    def __init__(self) -> None:
        self.chars: set[str] = set()
        self.empty = True

    def read(self, items: Any) -> _First:
        """Add what can begin ``items`` (a sequence of parsed ops) to what is known."""
        for op, av in items:
            self._read_op(op, av)
            if not self.empty:
                break
        return self

    def _read_op(self, op: Any, av: Any) -> None:
        if op is _c.LITERAL:
            self.chars.add(re.escape(chr(av)))
            self.empty = False
        elif op is _c.IN:
            for item, value in av:
                if item is _c.LITERAL:
                    self.chars.add(re.escape(chr(value)))
                elif item is _c.RANGE:
                    self.chars.add(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
                elif item is _c.CATEGORY and value in _CATEGORY_CLASSES:
                    # (beside letters, read case-insensitively, a category tests the
                    # lower-cased character: in it exactly when the character is, for
                    # every code point)
                    self.chars.add(_CATEGORY_CLASSES[value])
                else:  # a negated class, or a category the guard does not spell
                    raise _Unguarded
            self.empty = False
        elif op in _ZERO_WIDTH:
            pass  # consumes nothing: the next op begins the match
        elif op is _c.SUBPATTERN:
            _, add_flags, _, sub = av
            if add_flags:  # "(?i:...)" in a case-sensitive pattern matches more than it spells
                raise _Unguarded
            self._read_alternatives([sub])
        elif op is _c.ATOMIC_GROUP:
            self._read_alternatives([av])
        elif op is _c.BRANCH:
            self._read_alternatives(av[1])
        elif op in _REPEATS:
            low, _, sub = av
            self._read_alternatives([sub])
            self.empty = self.empty or low == 0
        else:  # any character, a back-reference, a conditional group
            raise _Unguarded

    def _read_alternatives(self, alternatives: Any) -> None:
        """Read alternatives begun at one position: each adds its characters, and together
        they match empty if any does."""
        empty = False
        for sub in alternatives:
            branch = _First().read(sub)
            self.chars |= branch.chars
            empty = empty or branch.empty
        self.empty = empty


@lru_cache(maxsize=1024)  # (a reloaded lexicon keeps most of its patterns)
def compile_guarded(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, behind a lookahead on the characters a match can
    begin with when they can be named (see the module doc). ``pattern`` must not set global
    inline flags (``(?i)``): it is wrapped in a group."""
    try:
        first = _First().read(_parser.parse(pattern, flags))
    except _Unguarded:
        return re.compile(pattern, flags)
    if first.empty:
        return re.compile(pattern, flags)
    return re.compile(f"(?=[{''.join(sorted(first.chars))}])(?:{pattern})", flags)


@lru_cache(maxsize=1024)
def begins_with(pattern: str, flags: int, literals: tuple[str, ...]) -> bool:
    """Whether every match of ``pattern`` in an ASCII text begins with one of ``literals``
    (lowercase) once lower-cased: each way through the pattern starts with literal characters
    (after any assertions), and what they spell starts with one of ``literals``. (Only for
    ASCII text: there a case-insensitive letter matches its two cases and nothing else.)"""
    try:
        spelled = _prefixes(_parser.parse(pattern, flags), {("", True)})
    except _Unguarded:
        return False
    return bool(literals) and all(prefix.startswith(literals) for prefix, _ in spelled)


@lru_cache(maxsize=1024)
def leading_literals(pattern: str, flags: int, shortest: int) -> tuple[str, ...] | None:
    """Literals (lowercase, at least ``shortest`` characters) one of which every match of
    ``pattern`` in an ASCII text begins with once lower-cased, read from the pattern itself:
    what each way through it spells before anything but a literal or a small class of them
    (as :func:`begins_with` reads it). A literal that begins another stands for both. None
    when some way spells fewer than ``shortest``, or too many ways branch."""
    try:
        spelled = _prefixes(_parser.parse(pattern, flags), {("", True)})
    except _Unguarded:
        return None
    literals: list[str] = []
    for prefix in sorted({prefix for prefix, _ in spelled}):  # (a literal before its extensions)
        if len(prefix) < shortest:
            return None
        if not literals or not prefix.startswith(literals[-1]):
            literals.append(prefix)
    return tuple(literals) or None


_MAX_PREFIXES = 64
_MAX_CLASS = 4  # a class of a few literals ("['\u2019]") branches; a larger one closes


def _spell(prefix: str, chars: list[int]) -> set[tuple[str, bool]]:
    """An open ``prefix`` extended by one of ``chars`` (a literal, or a class of literals)
    as it reads in an ASCII text, lower-cased: an ASCII character adds its lowercase; a
    non-ASCII one without case ("\u2019") matches no ASCII character, so that way ends there;
    one with a case may match an ASCII letter (a dotless i matches "i"): it closes."""
    spelled: set[tuple[str, bool]] = set()
    for char in chars:
        if char < 128:
            spelled.add((prefix + chr(char).lower(), True))
        elif _sre.unicode_iscased(char):
            spelled.add((prefix, False))
    return spelled


def _prefixes(items: Any, spelled: set[tuple[str, bool]]) -> set[tuple[str, bool]]:
    """Extend each literal prefix (prefix, still open) by what ``items`` spell: literals add
    to an open prefix, assertions add nothing, groups, alternatives and optional items branch
    it, anything else closes it. Too many branches raise ``_Unguarded``."""
    for op, av in items:
        if not any(is_open for _, is_open in spelled):
            break
        if op is _c.LITERAL or (
            op is _c.IN and len(av) <= _MAX_CLASS and all(item is _c.LITERAL for item, _ in av)
        ):
            chars = [av] if op is _c.LITERAL else [value for _, value in av]
            spelled = {
                extended
                for p, is_open in spelled
                for extended in (_spell(p, chars) if is_open else {(p, False)})
            }
        elif op in _ZERO_WIDTH:
            continue
        elif op is _c.SUBPATTERN or op is _c.BRANCH or (op in _REPEATS and av[1] == 1):
            if op is _c.SUBPATTERN:
                alternatives = [av[3]]
            elif op is _c.BRANCH:
                alternatives = av[1]
            else:  # "(?:special\s+)?port": the group once, or (if it may be) not at all
                alternatives = [av[2], *([[]] if av[0] == 0 else [])]
            spelled = {
                extended
                for p, is_open in spelled
                for extended in (
                    set().union(*(_prefixes(sub, {(p, True)}) for sub in alternatives))
                    if is_open
                    else {(p, False)}
                )
            }
        else:
            spelled = {(p, False) for p, _ in spelled}
        if len(spelled) > _MAX_PREFIXES:
            raise _Unguarded
    return spelled
