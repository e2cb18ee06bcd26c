"""What a headline claims, for deduplication (``streams.dedup``). Pure: no I/O.

Two reports are one story when they claim the same thing, however reworded. A
:class:`Claim` has two kinds of part:

- what must be **equal**: the statements detected (government, topic, stance, speaker) and
  the polarity of the headline sentence (whether it holds an odd or even number of
  negations and denials: "will not use" and "rules out using" agree, "declines to rule
  out" does not, "had no choice but to" denies nothing). Each statement with the polarity
  makes a hash tag (:attr:`Claim.tags`): a statement is checked on its own, and only
  against reports of the same statement in the same polarity;
- its **facts**, which rewrites add and drop but do not contradict: the figures stated, the
  days named ("from June 1"), the governments named, the kinds of speaker (in a headline
  without statements, an attribution to nobody the detector knows is a speaker of another
  kind), the goods a measure falls on, the goods of the measure it answers ("in
  retaliation for US metals tariffs") and the levers named (tariffs, export controls,
  purchases, Treasuries, lists). Two facts are compatible when one side's are within the
  other's ("100% on canola and 25% on pork" and "100% on canola"; not 34% and 84%, not "90
  days" and "six months", not autos and steel). A fact one side does not state
  contradicts nothing: "rare earths as a weapon" and "rare earths as a trade war
  countermeasure" are one threat.

Figures are read as outlets write them differently (:func:`figures`): a duration in any unit
("90 days", "three months"); a figure given as approximate ("nearly C$30 billion") matches
an exact one that rounds to it ("C$29.8 billion"); a day of the month and the count of a
list's rest ("almonds, apples and 26 other products") are facts of their own.

Only the headline sentence counts (wire prefixes, datelines and credits removed): a lead
sentence adds detail that a rewrite may not carry. All the vocabulary is found in one Aho-Corasick
pass over the lowered sentence.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

import ahocorasick

from schemas import Alert, Speaker, Stance, Topic
from streams.detect import Detection, Detector, aligned_lower, entities, story_start
from streams.guard import compile_guarded

_LEVERS = {
    "tariffs": "tariff, levy, levies, duty, duties, reciprocity, countermeasure, counter-measure",
    "exports": "export, rare earth, rare-earth, gallium, germanium, graphite, tungsten, antimony, "
    "chip",
    "purchases": "purchas, buy, soybean, farm, agricultur, =lng, energy",
    "treasuries": "treasur, =bond, =bonds, debt",
    "lists": "entity list, unreliable, sanction, white list, blacklist",
}
# The goods a measure falls on, by class: rewrites name them differently ("steel and
# aluminium", "metals") but do not swap one class for another.
_GOODS = {
    "metals": "steel, alumin, metal, copper",
    "autos": "=auto, =autos, vehicle, =car, =cars, =ev, =evs, motorcycle",
    "energy": "energy, =lng, =coal, crude, natural gas, oil and gas, petroleum",
    "farm": "farm, agricultur, soybean, pork, canola, =peas, beef, chicken, wheat, barley, =corn, "
    "=wine, =wines, brandy, whisk, bourbon, seafood, lobster",
    "minerals": "rare earth, rare-earth, gallium, germanium, graphite, tungsten, antimony, "
    "mineral, magnet, critical metal",
    "chips": "=chip, =chips, semiconductor, lithograph",
    "aircraft": "aircraft, boeing, airbus, =jet, =jets",
    "pharma": "pharma, drug, medicine",
    "lumber": "lumber, timber, softwood",
}
# Negations and denials: their count's parity is a headline's polarity.
_DENIALS = (
    "=not, =no, =never, =without, n't, n\u2019t, =cannot, "
    "=rule out, =rules out, =ruled out, =ruling out, "
    "=deny, =denies, =denied, =denying, =dismiss, =dismisses, =dismissed, =dismissing, "
    "=decline, =declines, =declined, =declining, =refuse, =refuses, =refused, =refusing, "
    "=reject, =rejects, =rejected, =rejecting, =push back, =pushes back, =pushed back, "
    "=pushing back, =ignore, =ignores, =ignored, =ignoring, =disregard, =disregards, "
    "=disregarded, =disregarding"
)
# Idioms whose negation denies nothing: each cancels the negation inside it.
_NOT_DENIALS = (
    "=no choice but, =no doubt, =not only, =no later than, =no less than, =nothing but, =no."
)
# Figures in words; "one" is left out: it is more often a pronoun than a figure.
_NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20", "thirty": "30",
    "forty": "40", "fifty": "50", "hundred": "100",
}  # fmt: skip
# Thousands with commas ("1,234.5"), else a decimal point: "01.04.2025" is no one number.
# A literal class first lets the regex engine skip to the digits (five times faster).
_NUMBER = re.compile(r"[0-9](?:[0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]*(?:\.[0-9]+)?)")
# What may follow a figure: a unit of time (then it is a duration), or "other(s)" (then it
# counts the rest of a list, not the measure: "almonds and 26 other products"; "26 more
# firms" is the measure's own figure).
_AFTER_FIGURE = re.compile(
    r"[\s-]*(?:(?P<unit>day|week|wk|month|mth|year|yr|decade)s?\b|(?P<rest>others?)\b)"
)
_DAYS = {"day": 1, "week": 7, "wk": 7}
_MONTHS_IN = {"month": 1, "mth": 1, "year": 12, "yr": 12, "decade": 120}
_DAYS_A_MONTH = 30.44
# Words that make the figure after them approximate, a currency sign between them allowed.
_APPROXIMATELY = re.compile(
    r"\b(?:nearly|almost|about|around|roughly|approximately|some|close to|more than|"
    r"at least|up to|less than|just under|just over)\s+(?:[a-z]{0,3}[$\u20ac\u00a3\u00a5])?$"
)
# Where a headline turns to the measure it answers ("... on US pork in retaliation for metals
# tariffs"): goods named after it are those of the measure answered, a fact of their own.
# (Without a leading "\b", which the regex engine would try at every position: the word's
# start is checked by :func:`_answering_start`.)
_ANSWERING = re.compile(r"(?:in retaliation for|in response to|after|over)\b")
# A day of the month is when, not how much: rewrites drop it ("from June 1").
_MONTHS = (
    r"(?P<{}>January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?"
)
_DAY = compile_guarded(
    rf"\b{_MONTHS.format('month')}\s+(?P<day>\d{{1,2}})\b(?!\s*%)"
    rf"|\b(?P<day_first>\d{{1,2}})\s+{_MONTHS.format('month_after')}",
    re.IGNORECASE,  # "TO JUNE 2" too
)
_MONTH_NUMBER = {name[:3].lower(): n for n, name in enumerate(calendar.month_name) if name}
_LEVER, _GOODS_CLASS, _DENIAL, _FIGURE, _MONTH = range(5)
# Month names as whole words: only a headline holding one is searched for days of the month.
_MONTH_WORDS = (
    "january, february, march, april, may, june, july, august, september, october, november, "
    "december, jan, feb, mar, apr, jun, jul, aug, sep, sept, oct, nov, dec"
)
# A headline's attribution ("..., trade committee chair Lange says"): in a headline without
# statements, when the detector knows no speaker in it, the speaker is of another kind, not
# none. A pronoun names nobody ("..., he says").
_ATTRIBUTION = re.compile(
    r",\s+(?!(?:he|she|they|it|we|i)\s)[^,]{1,60}\b(?:says|said|tells|told|reports|reported)\s*$"
)
_YEAR = re.compile(r"(?:19|20)\d\d")


def _terms(spec: str) -> list[tuple[str, bool]]:
    """Terms of a comma-separated spec; "=" marks a whole word (otherwise a term matches
    inside words too: "alumin", "purchas")."""
    terms = [term.strip() for term in spec.split(",")]
    return [(term.removeprefix("="), term.startswith("=")) for term in terms]


def _automaton() -> ahocorasick.Automaton:
    entries: dict[str, list[tuple[int, str, int, bool]]] = {}
    sources = [
        *((_LEVER, lever, spec) for lever, spec in _LEVERS.items()),
        *((_GOODS_CLASS, goods, spec) for goods, spec in _GOODS.items()),
        (_DENIAL, "", _DENIALS),
        (_DENIAL, "cancel", _NOT_DENIALS),
        (_MONTH, "", ",".join(f"={month}" for month in _MONTH_WORDS.split(", "))),
    ]
    for kind, name, spec in sources:
        for term, whole in _terms(spec):
            entries.setdefault(term, []).append((kind, name, len(term), whole))
    for word, figure in _NUMBER_WORDS.items():
        entries.setdefault(word, []).append((_FIGURE, figure, len(word), True))
    automaton = ahocorasick.Automaton()
    for term, values in entries.items():
        automaton.add_word(term, tuple(values))
    automaton.make_automaton()
    return automaton


_VOCABULARY = _automaton()

# The end of the first sentence: a full stop that ends no abbreviation ("U.S.", "No. 3").
# Unlike the detector's clauses, a colon or a dash does not end it: "Kato: Japan will not
# ..." and "Japan will not ... - Kato" keep their speaker. (It begins with the stop itself,
# which the regex engine skips to, rather than a lookbehind tried at every position.)
_SENTENCE_END = re.compile(
    r"[.!?](?<!\b[A-Z]\.)(?<!\b(?:No|Mr|Ms|Dr|St|vs)\.)"
    r"(?<!\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Gov|Sen|Rep)\.)(?<!\bSept\.)"
    r"\s+(?=[A-Z\"'])"
)


# An outlet credited at the end of a syndicated headline ("... , Kato says - Reuters").
_CREDIT = re.compile(
    r"\s+[-|\u2013\u2014]\s+(?:Reuters|AP|AFP|Bloomberg|Kyodo|Jiji|Nikkei|Xinhua|Yonhap|CNBC|"
    r"BBC|Dow Jones|MarketWatch|Nasdaq|Yahoo Finance)\s*$"
)


_DASHES = frozenset("-|\u2013\u2014")


def headline_sentence(text: str) -> str:
    """The first sentence, without wire prefixes ("UPDATE 1-"), a dateline or a credit."""
    story = text[story_start(text) :].strip()
    end = _SENTENCE_END.search(story)
    sentence = story[: end.start() + 1] if end else story
    if _DASHES.isdisjoint(sentence[-40:]):
        return sentence  # no credit: its dash is near the end (a test cheaper than the regex)
    return _CREDIT.sub("", sentence)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _two_digits(value: Decimal) -> Decimal:
    """``value`` to two significant digits: what an outlet rounding it would write."""
    if not value:
        return value
    return value.quantize(Decimal(1).scaleb(value.adjusted() - 1), ROUND_HALF_UP)


def _in_units(value: Decimal, unit: str | None) -> tuple[Decimal, str]:
    """A figure and its unit: a duration in whole months when it is close to them ("90
    days" and "three months" are one), otherwise in days; any other figure bare."""
    if unit is None:
        return value, ""
    if unit in _MONTHS_IN:
        return value * _MONTHS_IN[unit], "mo"
    days = value * _DAYS[unit]
    months = float(days) / _DAYS_A_MONTH
    if months >= 0.9 and abs(months - round(months)) < 0.1:
        return Decimal(round(months)), "mo"
    return days, "d"


def dates(headline: str) -> list[tuple[tuple[int, int], str]]:
    """The days of the month a headline names ("from June 1", "1 June"), with their spans, as
    "06-01": when, not how much, so not figures, but a fact of their own (a measure delayed
    to November 2 is not one delayed to December 17)."""
    found = []
    for match in _DAY.finditer(headline):
        month = _MONTH_NUMBER[(match["month"] or match["month_after"])[:3].lower()]
        found.append((match.span(), f"{month:02d}-{int(match['day'] or match['day_first']):02d}"))
    return found


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of a headline: exactly as stated, all of them rounded, and counts of the
    rest of a list ("almonds and 26 other products": not the measure's own figure)."""

    exact: frozenset[str]
    rounded: frozenset[str]
    others: frozenset[str]
    approximate: bool
    """Whether one of them is given as approximate ("nearly C$30 billion"): then only the
    rounded ones can be compared."""


_NO_FIGURES = Figures(frozenset(), frozenset(), frozenset(), approximate=False)


def figures(
    lowered: str, words: Sequence[tuple[int, int, str]], days: Sequence[tuple[int, int]]
) -> Figures:
    """The figures of a headline. ``words`` are the figures written in words, as (start,
    end, digits) in ``lowered``; ``days`` the spans of days of the month, whose digits are
    no figures. An exact figure stands for its rounding too ("29.8", "~30"), so that an
    approximate one ("nearly 30") can be within it."""
    found = [(m.start(), m.end(), m.group().replace(",", "")) for m in _NUMBER.finditer(lowered)]
    if not found and not words:
        return _NO_FIGURES
    exact: set[str] = set()
    rounded: set[str] = set()
    others: set[str] = set()
    approximate = False
    for start, end, written in (*found, *words):
        if any(first <= start < last for first, last in days):
            continue
        after = _AFTER_FIGURE.match(lowered, end)
        if after and after["rest"]:
            others.add(written)
            continue
        stated, approximately = _forms(written, after["unit"] if after else None)
        rounded.add(approximately)
        if _APPROXIMATELY.search(lowered, max(0, start - 24), start):
            approximate = True
        else:
            exact.add(stated)
    return Figures(frozenset(exact), frozenset(rounded), frozenset(others), approximate)


@functools.lru_cache(maxsize=4096)
def _forms(written: str, unit: str | None) -> tuple[str, str]:
    """A figure as stated and rounded ("29.8", "~30"), in its unit; a year is not rounded
    ("2025", "~2025": not "about 2,000"). Cached: wires repeat their figures."""
    value, suffix = _in_units(Decimal(written), unit)
    if not unit and _YEAR.fullmatch(written):
        return written, f"~{written}"
    return f"{_plain(value)}{suffix}", f"~{_plain(_two_digits(value))}{suffix}"


class Said(Protocol):
    """A statement as detected or as published: who said what about which lever."""

    @property
    def government(self) -> str: ...
    @property
    def topic(self) -> Topic: ...
    @property
    def stance(self) -> Stance: ...
    @property
    def speaker(self) -> Speaker: ...


def statement_key(said: Said) -> str:
    """What must be equal for two reports to carry one statement: ``GOV:topic:stance:speaker``."""
    return _key(said.government, said.topic, said.stance, said.speaker)


def raised_by(alert: Alert) -> str:
    """The key of the statement that raised ``alert`` (its ``to`` is the statement's stance)."""
    return _key(alert.government, alert.topic, alert.to, alert.speaker)


def _key(government: str, topic: Topic, stance: Stance, speaker: Speaker) -> str:
    return f"{government}:{topic.value}:{stance.value}:{speaker.value}"


def _tag(parts: list[str]) -> str:
    return hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True)
class Claim:
    statements: tuple[str, ...]
    levers: tuple[str, ...]
    polarity: int
    figures: tuple[str, ...]
    """The figures stated exactly; ("*",) when one is approximate: compare the rounded."""
    rounded: tuple[str, ...]
    """Every figure to two significant digits: the only form of an approximate one."""
    others: tuple[str, ...]
    """Counts of the rest of a list ("26 other products")."""
    dates: tuple[str, ...]
    governments: tuple[str, ...]
    speakers: tuple[str, ...]
    goods: tuple[str, ...]
    answered: tuple[str, ...]
    """Goods of the measure the headline answers ("in retaliation for US metals tariffs")."""

    @property
    def tags(self) -> tuple[str, ...]:
        """The hash tags of the headline's checks, one per statement (in ``statements``
        order): what must be equal for two reports of a statement to be compared at all, its
        key and the headline's polarity. Each statement is checked on its own, so a rewrite
        whose lead adds another actor's statement still joins the story of the one it
        repeats, and the added one opens its own.

        Without statements there is one tag, and the facts are in it too, all but the kinds
        of speaker (a copy drops a credit such as "- foreign ministry"): MinHash finds words
        alike, not facts, and a band taken by a story of other facts would be lost to the
        copies of this one."""
        if self.statements:
            return tuple(
                _tag([statement, "#", str(self.polarity)]) for statement in self.statements
            )
        named: list[tuple[str, ...]] = [self.figures, self.rounded, self.others]
        named += [self.dates, self.governments, self.goods, self.answered, self.levers]
        return (_tag(["#", str(self.polarity), "#", *(",".join(fact) for fact in named)]),)

    def facts(self) -> list[str]:
        """The facts as the dedup script reads them: ",a,b," (and "," for none). Each list's
        members are distinct (every fact is built from a set): the script's test of one list
        being within another counts on it."""
        facts = (
            self.figures,
            self.rounded,
            self.others,
            self.dates,
            self.governments,
            self.speakers,
            self.goods,
            self.answered,
            self.levers,
        )
        return [",".join(("", *fact, "")) if fact else "," for fact in facts]


def _whole_word(text: str, start: int, end: int) -> bool:
    return (start == 0 or not text[start - 1].isalnum()) and (
        end == len(text) or not text[end].isalnum()
    )


def _answering_start(lowered: str) -> int:
    """Where the measure answered begins (see ``_ANSWERING``), or the end: the first match
    that starts a word (a word character is what ``\\w`` matches: alphanumeric or "_")."""
    for match in _ANSWERING.finditer(lowered):
        start = match.start()
        if not start or not (lowered[start - 1].isalnum() or lowered[start - 1] == "_"):
            return start
    return len(lowered)


def _outermost(hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Hits not inside a longer one: "critical metals" is minerals, not also metals. In one
    sweep by start (longest first), keeping hits that end past the longest so far."""
    kept: list[tuple[int, int, str]] = []
    reach = -1
    for start, end, name in sorted(hits, key=lambda hit: (hit[0], -hit[1])):
        if end > reach or (kept and (start, end) == kept[-1][:2]):
            kept.append((start, end, name))
            reach = max(reach, end)
    return kept


def claim(text: str, detections: Sequence[Detection], detector: Detector | None = None) -> Claim:
    """What ``text`` claims, with the statements ``detections`` found in it. The governments
    and speakers it names are read by ``detector``'s lexicon (the packaged one by default):
    the worker's, which a reload replaces."""
    headline = headline_sentence(text)
    lowered = aligned_lower(headline)
    levers: set[str] = set()
    goods: list[tuple[int, int, str]] = []
    words: list[tuple[int, int, str]] = []
    denials = 0
    month_named = False
    for end, values in _VOCABULARY.iter(lowered):
        for kind, name, length, whole in values:
            start = end + 1 - length
            if whole and not _whole_word(lowered, start, end + 1):
                continue
            if kind == _LEVER:
                levers.add(name)
            elif kind == _GOODS_CLASS:
                goods.append((start, end + 1, name))
            elif kind == _DENIAL:
                denials += -1 if name else 1
            elif kind == _MONTH:
                month_named = True
            else:
                words.append((start, end + 1, name))
    own_goods_end = _answering_start(lowered)
    goods = _outermost(goods)
    own = {name for start, _, name in goods if start < own_goods_end}
    answered = {name for start, _, name in goods if start >= own_goods_end}
    days = dates(headline) if month_named else []
    found = figures(lowered, words, [span for span, _ in days])
    governments, speakers = (detector.entities if detector else entities)(headline)
    if not detections and not speakers and _ATTRIBUTION.search(lowered):
        speakers = frozenset({Speaker.OTHER})
    return Claim(
        statements=tuple(sorted({statement_key(d) for d in detections})),
        levers=tuple(sorted(levers)),
        polarity=denials % 2,
        figures=("*",) if found.approximate else tuple(sorted(found.exact)),
        rounded=tuple(sorted(found.rounded)),
        others=tuple(sorted(found.others)),
        dates=tuple(sorted({day for _, day in days})),
        governments=tuple(sorted(governments)),
        speakers=tuple(sorted(speakers)),
        goods=tuple(sorted(own)),
        answered=tuple(sorted(answered)),
    )
