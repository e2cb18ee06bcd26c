"""The detection lexicon: the vocabulary of ``streams.detect`` as data, validated at load.

The file is JSON Lines, one entry per line, each with a ``kind``:

- ``government``: ``code`` (ISO 3166-1 alpha-2, ``EU``), ``names`` ("Japan"), ``demonyms``
  ("Japanese": an actor only before a word like "officials", else the origin of goods) and
  ``metonyms`` ("Tokyo"). Matched as written or in capitals, never case-insensitively, so
  "us" is not the United States.
- ``institution``: a finance ministry, central bank or state fund that speaks for
  ``government`` (``name``, ``aliases``, ``role``).
- ``official``: a person who speaks for ``government`` in ``role`` from ``from`` to ``to``
  (ISO dates; no ``to``: in office). A surname resolves to a government by the headline's
  date, so one name may hold several entries (two terms, or two people).
- ``macro``: a named regex fragment that patterns reference as ``{NAME}``.
- ``topic_term``: a ``pattern`` naming a ``topic`` ("tariffs", "Treasury holdings");
  ``not_lever``: a mention of a topic term that is not the lever ("Treasury yields").
- ``lever_cue``: a measure named with its action ("adds ... to its export control list") that
  decides the ``stance`` when no stance cue in the clause does.
- ``stance_cue``: ``rule`` (the id reported as the cue), ``stance`` and ``pattern``; file order
  is priority: where two cues start at one position, the earlier entry wins.
- ``speaker_cue``: ``speaker`` and ``pattern`` ("analysts", "the finance minister").
- ``calibration``: the measured accuracy (``confidence``) of a ``decision`` class on the
  development set, over ``n`` decisions (see ``stancewire.evaluate.calibrate``).

Every pattern-bearing entry may list ``triggers``: lowercase literals of which at least one
occurs in every match. A multi-pattern matcher finds the triggers of a whole text in one pass,
and only the entries triggered are run; an entry without triggers always runs.

A bad file fails at load with :class:`LexiconError` naming the file, the line and the reason
(unknown key, missing field, bad regex, unknown macro, unknown government).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from schemas import Speaker, Stance, Topic


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names ``file:line`` and why."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


_CODE = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
_TRIGGERS = Annotated[tuple[str, ...], Field(default=())]


class Government(_Entry):
    kind: Literal["government"]
    code: _CODE
    names: tuple[str, ...] = Field(min_length=1)
    demonyms: tuple[str, ...] = ()
    metonyms: tuple[str, ...] = ()


class Institution(_Entry):
    kind: Literal["institution"]
    name: str
    aliases: tuple[str, ...] = ()
    government: _CODE
    role: str


class Official(_Entry):
    kind: Literal["official"]
    name: str
    aliases: tuple[str, ...] = ()
    government: _CODE
    role: str
    start: date = Field(alias="from")
    end: date | None = Field(default=None, alias="to")

    def in_office(self, on: date | None) -> bool:
        """Whether the term covers ``on`` (any term when the date is unknown)."""
        return on is None or (self.start <= on and (self.end is None or on <= self.end))


class Macro(_Entry):
    kind: Literal["macro"]
    name: Annotated[str, Field(pattern=r"^[A-Z_]+$")]
    pattern: str


class TopicTerm(_Entry):
    kind: Literal["topic_term"]
    topic: Topic
    pattern: str
    triggers: _TRIGGERS


class NotLever(_Entry):
    kind: Literal["not_lever"]
    topic: Topic
    pattern: str
    triggers: _TRIGGERS


class LeverCue(_Entry):
    kind: Literal["lever_cue"]
    rule: str
    topic: Topic
    stance: Stance
    pattern: str
    triggers: _TRIGGERS


class StanceCue(_Entry):
    kind: Literal["stance_cue"]
    rule: Annotated[str, Field(pattern=r"^(threatens|open|rules_out|acting)\.[a-z_]+$")]
    stance: Stance
    pattern: str
    triggers: _TRIGGERS


class SpeakerCue(_Entry):
    kind: Literal["speaker_cue"]
    speaker: Speaker
    pattern: str
    case_sensitive: bool = False
    triggers: _TRIGGERS


class Calibration(_Entry):
    kind: Literal["calibration"]
    decision: str
    confidence: Annotated[float, Field(gt=0.0, le=1.0)]
    n: Annotated[int, Field(ge=0)]


Entry = Annotated[
    Government
    | Institution
    | Official
    | Macro
    | TopicTerm
    | NotLever
    | LeverCue
    | StanceCue
    | SpeakerCue
    | Calibration,
    Field(discriminator="kind"),
]
_ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)
_E = TypeVar("_E", bound=_Entry)
_MACRO_REF = re.compile(r"\{([A-Z_]+)\}")


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Every entry of one lexicon file, by kind, in file order; patterns with their macros
    expanded (and each checked to compile)."""

    source: str
    governments: tuple[Government, ...]
    institutions: tuple[Institution, ...]
    officials: tuple[Official, ...]
    topic_terms: tuple[TopicTerm, ...]
    not_levers: tuple[NotLever, ...]
    lever_cues: tuple[LeverCue, ...]
    stance_cues: tuple[StanceCue, ...]
    speaker_cues: tuple[SpeakerCue, ...]
    calibration: dict[str, float] = field(default_factory=dict)

    def officials_named(self, name: str, on: date | None) -> list[Official]:
        """The officials a name (as written) denotes on a date, latest term first."""
        found = [
            o
            for o in self.officials
            if (name == o.name or name in o.aliases or name.upper() == o.name.upper())
            and o.in_office(on)
        ]
        return sorted(found, key=lambda o: o.start, reverse=True)


def default_path() -> Path:
    """The lexicon shipped in the ``streams`` package (``streams/data/lexicon.jsonl``)."""
    return Path(str(resources.files("streams").joinpath("data/lexicon.jsonl")))


def load_lexicon(path: Path | str | None = None) -> Lexicon:
    """Read and validate a lexicon file (the packaged one by default).

    Raises :class:`LexiconError` with ``file:line: reason`` at the first bad line."""
    source = Path(path) if path is not None else default_path()
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise LexiconError(f"{source}: cannot read: {error}") from error
    entries: list[tuple[int, Entry]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        where = f"{source}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as error:
            raise LexiconError(f"{where}: not JSON: {error.msg}") from error
        try:
            entries.append((number, _ENTRY.validate_python(raw)))
        except ValidationError as error:
            reasons = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}"
                for e in error.errors()
            )
            raise LexiconError(f"{where}: {reasons}") from error
    return _assemble(source, entries)


def _assemble(source: Path, entries: list[tuple[int, Entry]]) -> Lexicon:
    macros: dict[str, str] = {}
    codes = {e.code for _, e in entries if isinstance(e, Government)}
    by_kind: dict[type[_Entry], list[_Entry]] = {}
    calibration: dict[str, float] = {}
    for number, raw_entry in entries:
        where = f"{source}:{number}"
        entry: _Entry = raw_entry
        if isinstance(entry, Institution | Official) and entry.government not in codes:
            raise LexiconError(f"{where}: unknown government {entry.government!r}")
        if isinstance(entry, Official) and entry.end is not None and entry.end < entry.start:
            raise LexiconError(f"{where}: term ends before it starts")
        if isinstance(entry, Macro):
            macros[entry.name] = _expand(entry.pattern, macros, where)
            _compile(macros[entry.name], where)
            continue
        if isinstance(entry, Calibration):
            calibration[entry.decision] = entry.confidence
            continue
        if isinstance(entry, TopicTerm | NotLever | LeverCue | StanceCue | SpeakerCue):
            pattern = _expand(entry.pattern, macros, where)
            _compile(pattern, where)
            entry = entry.model_copy(update={"pattern": pattern})
            triggers = getattr(entry, "triggers", ())
            if any(t != t.lower() or not t for t in triggers):
                raise LexiconError(f"{where}: triggers must be non-empty lowercase literals")
        by_kind.setdefault(type(entry), []).append(entry)

    def of(kind: type[_E]) -> tuple[_E, ...]:
        return tuple(e for e in by_kind.get(kind, []) if isinstance(e, kind))

    if not codes:
        raise LexiconError(f"{source}: no government entries")
    return Lexicon(
        source=str(source),
        governments=of(Government),
        institutions=of(Institution),
        officials=of(Official),
        topic_terms=of(TopicTerm),
        not_levers=of(NotLever),
        lever_cues=of(LeverCue),
        stance_cues=of(StanceCue),
        speaker_cues=of(SpeakerCue),
        calibration=calibration,
    )


def _expand(pattern: str, macros: dict[str, str], where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in macros:
            raise LexiconError(f"{where}: unknown macro {{{name}}} (define it on an earlier line)")
        return macros[name]

    return _MACRO_REF.sub(replace, pattern)


def _compile(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as error:
        raise LexiconError(f"{where}: bad pattern: {error}") from error
