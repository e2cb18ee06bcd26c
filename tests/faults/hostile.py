"""Hostile input for the worker: generated messages, each labelled by construction.

A label says whether a message is a valid Headline and, when it is not, which dead-letter
reasons the worker may give it. Labels come from the contract, never from the project's own
validator: the Headline schema (``schemas/messages.py``: closed and strict, required
``id``/``text``/``source``/``published_at``, ``id`` and ``source`` 1 to 256 characters
without control characters, ``text`` 1 to ``MAX_TEXT_CHARS`` characters of anything,
``url`` up to 2,048 characters or null, an aware timestamp), RFC 8259 (JSON), RFC 3629
(UTF-8), RFC 3339 (timestamps) and the worker's ``max_message_bytes`` (a larger message is
dead-lettered as ``too_large`` before it is parsed). So a test that feeds these to the
worker checks the validator and the worker against the contract, not against themselves.

Every message is a ``Draft`` rendered with a serial number: a valid headline's id ends with
it, so a run of ten thousand has distinct ids (and exact repeats only where it makes them).
Large bodies (a million characters of text, 9,000 levels of nesting) are built from a few
drawn values, since Hypothesis draws at most a few kilobytes per example.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from schemas.messages import MAX_TEXT_CHARS
from schemas.settings import WorkerSettings

T = TypeVar("T")
Json = None | bool | int | float | str | list["Json"] | dict[str, "Json"]

MAX_MESSAGE_BYTES: int = WorkerSettings.model_fields["max_message_bytes"].default
"""The worker's default limit; the fault test starts its worker with it explicitly."""
MAX_ID_CHARS = 256
"""Longest ``id`` and ``source`` (``NonEmpty`` in schemas/messages.py)."""
MAX_URL_CHARS = 2048
FIELDS = frozenset({"schema_version", "id", "text", "source", "published_at", "url"})
REQUIRED = ("id", "text", "source", "published_at")

TOO_LARGE, NOT_UTF8, NOT_JSON, INVALID = "too_large", "not_utf8", "not_json", "invalid"
VALID: frozenset[str] = frozenset()

CONTROLS = "".join(chr(c) for c in range(0x20)) + "\x7f"
"""What ``id`` and ``source`` must not contain."""

RELEVANT = (
    "Japan's finance minister says Tokyo will not sell US Treasuries as a trade weapon",
    "Kato: Japan should hold tariff talks with every possible card on the table, US bond "
    "holdings included",
    "Beijing says it will take countermeasures 'to the end' if the US escalates the tariff fight",
    "China hikes levies on US imports to 125%, says it will ignore any further US tariff increases",
    "Ottawa imposes new 25% tariffs on C$29.8 billion of US steel, aluminum and other products "
    "in response to Trump metals levies",
    "Lula says Brazil will answer any unilateral US tariff increase under its economic "
    "reciprocity law",
    "India won't retaliate against 25% US tariff, government sources say, preferring to settle "
    "differences at the negotiating table",
    "Some analysts fear China or other big foreign holders could dump US Treasuries as trade "
    "tensions rise",
)
"""Headlines the detector reads statements in (from the bundled sample wire)."""
IRRELEVANT = (
    "Treasury yields slide as new US tariffs on Canada, Mexico and China take effect",
    "Fed holds rates at 4.25%-4.50%, slows the pace of its balance-sheet runoff",
    "UK Treasury trims spending plans in spring statement as OBR halves 2025 growth forecast",
    "Hedge funds race to cut leverage as swap-spread and basis trades unravel",
    "BOJ holds interest rate at 0.5% for sixth straight meeting",
    "Toyota forecasts steep drop in operating profit as US tariffs bite",
)
OUTLETS = ("Reuters", "AP", "AFP", "Nikkei Asia", "Bloomberg", "The Globe and Mail")

# Characters. ``codec="utf-8"`` leaves out surrogates, which no UTF-8 text can carry.
ANY_CHAR = st.characters(codec="utf-8")
NAME_CHAR = st.characters(codec="utf-8", exclude_characters=CONTROLS)
"""Anything allowed in ``id`` and ``source``: C1 controls, U+2028, bidi marks, emoji..."""


@dataclass(frozen=True)
class Sample:
    """One message as sent: its category, key, value and label."""

    category: str
    key: bytes | None
    value: bytes | None
    reasons: frozenset[str]
    """The dead-letter reasons the contract allows; empty for a valid headline."""

    @property
    def valid(self) -> bool:
        return not self.reasons

    @property
    def raw(self) -> bytes:
        """The bytes a dead letter of it carries (a null value is carried as empty)."""
        return self.value or b""


@dataclass(frozen=True)
class Draft:
    """A message before its serial number: ``build(serial)`` gives its value."""

    category: str
    reasons: frozenset[str]
    build: Callable[[int], bytes | None]
    key: bytes | None = None

    def render(self, serial: int) -> Sample:
        value = self.build(serial)
        if self.reasons and value is not None and len(value) > MAX_MESSAGE_BYTES:
            # The size is checked before anything else, so that is the only reason left.
            return Sample(self.category, self.key, value, frozenset({TOO_LARGE}))
        if not self.reasons:
            assert value is not None and len(value) <= MAX_MESSAGE_BYTES, self.category
        return Sample(self.category, self.key, value, self.reasons)


@dataclass(frozen=True)
class Fields:
    """The parts of a valid headline."""

    id: str
    text: str
    source: str
    published_at: Moment
    url: str | None
    with_url: bool
    versioned: bool

    def body(self, serial: int) -> dict[str, Json]:
        suffix = f"#{serial}"
        body: dict[str, Json] = {
            "id": self.id[: MAX_ID_CHARS - len(suffix)] + suffix,
            "text": self.text,
            "source": self.source,
            "published_at": self.published_at.stamp(serial),
        }
        if self.with_url:
            body["url"] = self.url
        if self.versioned:
            body["schema_version"] = 1
        return body


@dataclass(frozen=True)
class Style:
    """How a body is written: ASCII escapes or raw UTF-8, indentation, key order."""

    ascii: bool
    indent: int | None
    reverse: bool


def dumps(body: Json, style: Style) -> bytes:
    if isinstance(body, dict) and style.reverse:
        body = dict(reversed(body.items()))
    return json.dumps(body, ensure_ascii=style.ascii, indent=style.indent).encode()


def obj(pairs: Sequence[tuple[str, bytes]]) -> bytes:
    """A JSON object from already encoded values (to splice in what ``json`` cannot write)."""
    return b"{" + b", ".join(json.dumps(k).encode() + b": " + v for k, v in pairs) + b"}"


# --- valid headlines ---------------------------------------------------------------------


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """One of ``choices``, each about as often as its weight."""
    branches = [strategy for weight, strategy in choices for _ in range(weight)]

    @st.composite
    def pick(draw: st.DrawFn) -> T:
        return draw(draw(st.sampled_from(branches)))

    return pick()


FRACTIONS = ("", ".5", ".123456", ".123456789")
OFFSETS = ("Z", "+00:00", "+09:00", "-05:00", "+05:30", "+23:59", "-23:59")
EPOCH = datetime(2025, 1, 1)
SPAN_SECONDS = 3 * 365 * 86_400
EXTREMES = (datetime(1, 1, 1), datetime(1970, 1, 1), datetime(9999, 12, 31, 23, 59, 59))
"""Wall-clock times at the ends of the range: with an offset, the instant can fall outside
years 1 to 9999 in UTC, and a valid headline still carries it."""


@dataclass(frozen=True)
class Moment:
    """An RFC 3339 date-time: aware with an offset, naive without one."""

    wall: datetime | None
    """None: a time on an ordinary wire, ten minutes apart from one serial number to the
    next (Hypothesis, left to itself, would put most of them on one instant)."""
    fraction: str
    offset: str

    def stamp(self, serial: int) -> str:
        wall = self.wall or EPOCH + timedelta(seconds=serial * 613 % SPAN_SECONDS)
        return wall.isoformat(timespec="seconds") + self.fraction + self.offset


def moments(offset: bool = True) -> st.SearchStrategy[Moment]:
    return st.builds(
        Moment,
        weighted((19, st.none()), (1, st.sampled_from(EXTREMES))),
        st.sampled_from(FRACTIONS),
        st.sampled_from(OFFSETS) if offset else st.just(""),
    )


def _repeat_to(chars: str, size: int) -> str:
    return (chars * (size // len(chars) + 1))[:size]


texts = weighted(
    (6, st.sampled_from(RELEVANT)),
    (5, st.sampled_from(IRRELEVANT)),
    (2, st.tuples(st.sampled_from(RELEVANT), st.text(ANY_CHAR, max_size=40)).map(" ".join)),
    (5, st.text(ANY_CHAR, min_size=1, max_size=200)),  # control characters too: text allows them
    (1, st.text(" \t\r\n\u00a0\u2003\u200b", min_size=1, max_size=8)),  # blank, yet not empty
    (1, st.text(ANY_CHAR, min_size=1, max_size=16).map(lambda s: _repeat_to(s, MAX_TEXT_CHARS))),
)
names = weighted(
    (9, st.text(NAME_CHAR, min_size=1, max_size=40)),
    (1, st.text(NAME_CHAR, min_size=1, max_size=8).map(lambda s: _repeat_to(s, MAX_ID_CHARS))),
)
sources = weighted((3, st.sampled_from(OUTLETS)), (1, names))
urls = weighted(
    (6, st.none()),
    (6, st.just("https://example.com/story")),
    (3, st.text(ANY_CHAR, max_size=100)),
    (1, st.text(ANY_CHAR, min_size=1, max_size=8).map(lambda s: _repeat_to(s, MAX_URL_CHARS))),
)
fields = st.builds(
    Fields,
    id=names,
    text=texts,
    source=sources,
    published_at=moments(),
    url=urls,
    with_url=st.booleans(),
    versioned=st.booleans(),
)
styles = st.builds(
    Style, ascii=st.booleans(), indent=st.sampled_from((None, 0, 2)), reverse=st.booleans()
)
keys = weighted((2, st.none()), (1, st.binary(min_size=1, max_size=16)))


def _valid(fields: Fields, style: Style, pad_to: int | None, serial: int) -> bytes:
    value = dumps(fields.body(serial), style)
    if len(value) > MAX_MESSAGE_BYTES:  # ASCII escapes of 4-byte characters: write raw UTF-8
        value = dumps(fields.body(serial), Style(False, None, style.reverse))
    if pad_to is not None:  # JSON allows whitespace after the value
        value += b" " * (pad_to - len(value))
    return value


@st.composite
def valid_drafts(draw: st.DrawFn, base: st.SearchStrategy[Fields] = fields) -> Draft:
    """A valid headline; some are padded with whitespace to exactly the size limit."""
    at_limit = draw(st.integers(0, 199)) == 0
    parts = draw(base)
    build = partial(_valid, parts, draw(styles), MAX_MESSAGE_BYTES if at_limit else None)
    key = draw(keys)
    return Draft("valid/at size limit" if at_limit else "valid", VALID, build, key)


# --- bad messages ------------------------------------------------------------------------


def _const(value: bytes | None, _serial: int) -> bytes | None:
    return value


def _random_bytes(first: int, rest: bytes, size: int, _serial: int) -> bytes:
    tail = random.Random(rest).randbytes(size - len(rest) - 1) if size > len(rest) + 1 else b""
    return bytes([first]) + rest + tail


# A JSON text that is an object starts with optional whitespace and "{": without either,
# random bytes cannot be a headline, whatever follows.
NOT_OBJECT_START = sorted(set(range(256)) - set(b" \t\r\n{"))


@st.composite
def random_bytes(draw: st.DrawFn, base: st.SearchStrategy[Fields] = fields) -> Draft:
    first = draw(st.sampled_from(NOT_OBJECT_START))
    rest = draw(st.binary(max_size=200))
    huge = draw(st.integers(0, 19)) == 0
    size = draw(st.integers(MAX_MESSAGE_BYTES + 1, MAX_MESSAGE_BYTES + 4096)) if huge else 0
    build = partial(_random_bytes, first, rest, size)
    return Draft("bad/random bytes", frozenset({NOT_UTF8, NOT_JSON, INVALID}), build, draw(keys))


empties = st.sampled_from(
    (
        Draft("bad/null value", frozenset({NOT_JSON}), partial(_const, None)),
        Draft("bad/empty value", frozenset({NOT_JSON}), partial(_const, b"")),
        Draft("bad/empty value", frozenset({NOT_JSON}), partial(_const, b"  \n")),
        Draft("bad/json null", frozenset({INVALID}), partial(_const, b"null")),
        Draft("bad/empty object", frozenset({INVALID}), partial(_const, b"{}")),
        Draft("bad/null value", frozenset({NOT_JSON}), partial(_const, None), b"some-key"),
    )
)


def _nested(shape: str, depth: int) -> bytes:
    opening = "".join('{"a": ' if c == "{" else "[" for c in _repeat_to(shape, depth))
    closing = "".join("}" if c == "{" else "]" for c in reversed(_repeat_to(shape, depth)))
    return (opening + "0" + closing).encode()


def _deep(shape: str, depth: int, within: Fields | None, field: str, serial: int) -> bytes:
    nested = _nested(shape, depth)
    if within is None:
        return nested
    body = within.body(serial)
    body.pop(field, None)
    return obj([*((k, json.dumps(v).encode()) for k, v in body.items()), (field, nested)])


@st.composite
def deep_json(draw: st.DrawFn, base: st.SearchStrategy[Fields] = fields) -> Draft:
    """Nesting from one level to past any parser's recursion limit, alone or as a field of
    a headline (``text`` must be a string; any other name is an unknown field)."""
    shape = draw(st.sampled_from(("[", "{", "[{", "{[[")))
    depth = draw(st.one_of(st.integers(1, 300), st.integers(300, 9_000)))  # 9,000: under 64 KB
    within = draw(st.one_of(st.none(), base))
    field = draw(st.sampled_from(("text", "id", "nested", "url")))
    build = partial(_deep, shape, depth, within, field)
    return Draft("bad/deep json", frozenset({NOT_JSON, INVALID}), build, draw(keys))


def _huge_text(parts: Fields, chars: str, size: int, serial: int) -> bytes:
    body = parts.body(serial)
    body["text"] = _repeat_to(chars, size)
    return json.dumps(body, ensure_ascii=False).encode()


def _over_limit_by_padding(parts: Fields, serial: int) -> bytes:
    return _valid(parts, Style(False, None, False), MAX_MESSAGE_BYTES + 1, serial)


@st.composite
def huge(draw: st.DrawFn, base: st.SearchStrategy[Fields] = fields) -> Draft:
    """Over the size limit: a headline with a huge text (up to a million characters, 4 MB
    in UTF-8), or a valid one padded with whitespace to one byte over the limit."""
    parts = draw(base)
    if draw(st.booleans()):
        build = partial(_over_limit_by_padding, parts)
        return Draft("bad/one byte over the limit", frozenset({TOO_LARGE}), build, draw(keys))
    chars = draw(st.text(ANY_CHAR, min_size=1, max_size=8))
    size = draw(
        weighted((9, st.integers(MAX_MESSAGE_BYTES, 2 * MAX_MESSAGE_BYTES)), (1, st.just(1 << 20)))
    )
    build = partial(_huge_text, parts, chars, size)
    return Draft("bad/huge text", frozenset({TOO_LARGE}), build, draw(keys))


def _with(parts: Fields, changes: dict[str, Json], drop: tuple[str, ...], serial: int) -> bytes:
    body = parts.body(serial)
    for name in drop:
        body.pop(name, None)
    body.update(changes)
    return json.dumps(body).encode()


scalars: st.SearchStrategy[Json] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # unbounded: past 64 bits too
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(ANY_CHAR, max_size=12),
)
json_values: st.SearchStrategy[Json] = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=6), scalars, max_size=3),
)
not_strings: st.SearchStrategy[Json] = json_values.filter(lambda v: not isinstance(v, str))


@st.composite
def wrong_types(draw: st.DrawFn, base: st.SearchStrategy[Fields] = fields) -> Draft:
    """One field of another JSON type than the schema's (strict: no coercion)."""
    parts = draw(base)
    name = draw(st.sampled_from((*REQUIRED, "url", "schema_version")))
    if name == "url":  # null is allowed there
        value = draw(not_strings.filter(lambda v: v is not None))
    elif name == "schema_version":  # anything but 1 (true and 1.0 compare equal to 1)
        others: tuple[Json, ...] = (0, 2, -1, "1", None, [1], {"v": 1})
        value = draw(st.sampled_from(others))
    else:
        value = draw(not_strings)
    build = partial(_with, parts, {name: value}, ())
    return Draft(f"bad/wrong type: {name}", frozenset({INVALID}), build, draw(keys))


@st.composite
def not_objects(draw: st.DrawFn, base: st.SearchStrategy[Fields] = fields) -> Draft:
    """Valid JSON, but not an object: a headline wrapped in a list, a string, a number..."""
    parts = draw(base)
    wrapped = draw(st.sampled_from(("list", "string", "value")))
    build: Callable[[int], bytes | None]
    if wrapped == "value":
        value = draw(json_values.filter(lambda v: not isinstance(v, dict)))
        build = partial(_const, json.dumps(value).encode())
    else:
        build = partial(_wrapped, parts, wrapped)
    return Draft("bad/not an object", frozenset({INVALID}), build, draw(keys))


def _wrapped(parts: Fields, how: str, serial: int) -> bytes:
    body = parts.body(serial)
    return json.dumps([body] if how == "list" else json.dumps(body)).encode()


def _insert(value: str, char: str, at: int) -> str:
    at %= len(value) + 1
    return value[:at] + char + value[at:]


BAD_TIMESTAMPS = (
    "2025-13-01T00:00:00+00:00",  # month 13
    "2025-02-29T00:00:00+00:00",  # not a leap year
    "2025-04-31T00:00:00+00:00",
    "2025-04-04T25:00:00+00:00",
    "2025-04-04T08:60:00+00:00",
    "2025-04-04T08:00:00+24:00",  # RFC 3339: offset hours 00-23
    "2025-04-04T08:00:00 UTC",
    "yesterday",
    "",
)


@st.composite
def near_valid(draw: st.DrawFn, base: st.SearchStrategy[Fields] = fields) -> Draft:
    """A valid headline with exactly one defect the schema forbids."""
    parts = draw(base)
    defect = draw(
        st.sampled_from(
            (
                "missing",
                "unknown field",
                "naive timestamp",
                "impossible timestamp",
                "control character",
                "empty",
                "too long",
            )
        )
    )
    changes: dict[str, Json] = {}
    drop: tuple[str, ...] = ()
    if defect == "missing":
        drop = (draw(st.sampled_from(REQUIRED)),)
        defect += f": {drop[0]}"
    elif defect == "unknown field":
        name = draw(st.text(ANY_CHAR, max_size=12).filter(lambda n: n not in FIELDS))
        changes[name] = draw(json_values)
    elif defect == "naive timestamp":
        changes["published_at"] = draw(moments(offset=False)).stamp(draw(st.integers(0, 9999)))
    elif defect == "impossible timestamp":
        changes["published_at"] = draw(st.sampled_from(BAD_TIMESTAMPS))
    elif defect == "control character":
        name = draw(st.sampled_from(("id", "source")))
        char = draw(st.sampled_from(CONTROLS))
        original = parts.id if name == "id" else parts.source
        changes[name] = _insert(original[:200], char, draw(st.integers(0, 300)))
        defect += f": {name}"
    elif defect == "empty":
        name = draw(st.sampled_from(("id", "text", "source")))
        changes[name] = ""
        defect += f": {name}"
    else:
        name = draw(st.sampled_from(("id", "text", "source", "url")))
        limit = {"text": MAX_TEXT_CHARS, "url": MAX_URL_CHARS}.get(name, MAX_ID_CHARS)
        alphabet = ANY_CHAR if name in ("text", "url") else NAME_CHAR
        chars = draw(st.text(alphabet, min_size=1, max_size=8))
        changes[name] = _repeat_to(chars, limit + draw(st.integers(1, 2000)))
        defect += f": {name}"
    build = partial(_with, parts, changes, drop)
    return Draft(f"bad/{defect}", frozenset({INVALID}), build, draw(keys))


def _syntax(parts: Fields, how: str, at: int, serial: int) -> bytes:
    body = parts.body(serial)
    value = json.dumps(body, ensure_ascii=False).encode()
    if how == "truncated":  # cut before the closing brace: the object never closes
        return value[: at % value.rindex(b"}")]
    if how == "trailing garbage":
        return value + (b"}", b",", b"x", b"{}", b"\x00", b"]")[at % 6]
    if how == "trailing comma":
        return value[:-1] + b",}"
    if how == "single quotes":
        return value.replace(b'"', b"'")
    if how == "comment":
        return b"/* headline */ " + value
    pairs = [(k, json.dumps(v).encode()) for k, v in body.items() if k != "text"]
    text = json.dumps(parts.text).encode()
    if how == "raw control character":  # RFC 8259: U+0000 to U+001F must be escaped
        text = text[:1] + bytes([at % 0x20]) + text[1:]
    else:  # lone surrogate escape: no Unicode string
        text = b'"\\ud800' + text[1:]
    return obj([*pairs, ("text", text)])


@st.composite
def syntax_errors(draw: st.DrawFn, base: st.SearchStrategy[Fields] = fields) -> Draft:
    parts = draw(base)
    how = draw(
        st.sampled_from(
            (
                "truncated",
                "trailing garbage",
                "trailing comma",
                "single quotes",
                "comment",
                "raw control character",
                "lone surrogate",
            )
        )
    )
    # Cut inside a multi-byte character, a truncated message is not UTF-8 either.
    reasons = {NOT_JSON, NOT_UTF8} if how == "truncated" else {NOT_JSON}
    if how == "lone surrogate":  # grammatical JSON, but no string a headline can carry
        reasons.add(INVALID)
    build = partial(_syntax, parts, how, draw(st.integers(0, 1 << 16)))
    return Draft(f"bad/syntax: {how}", frozenset(reasons), build, draw(keys))


INVALID_UTF8 = (
    b"\xff",
    b"\xfe",
    b"\x80",  # a continuation byte alone
    b"\xc0\xaf",  # overlong "/"
    b"\xed\xa0\x80",  # a surrogate, UTF-8 encoded (CESU-8)
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    b"\xe9!",  # latin-1 "e acute" before ASCII
    b"\xc3 ",  # a two-byte sequence cut short
)


def _encoded(parts: Fields, how: str, bad: bytes, serial: int) -> bytes:
    body = parts.body(serial)
    if how == "latin-1":  # "é!" is never UTF-8 (0xE9 needs two continuation bytes)
        body["text"] = "".join(c for c in parts.text if ord(c) < 0x100) + " é!"
        return json.dumps(body, ensure_ascii=False).encode("latin-1", "replace")
    if how == "shift_jis":  # " 日本": 0x93 after a space is a stray continuation byte
        body["text"] = "".join(c for c in parts.text if ord(c) < 0x80) + " 日本"
        return json.dumps(body, ensure_ascii=False).encode("shift_jis", "replace")
    if how in ("utf-16", "utf-32"):  # with a byte order mark: 0xFF 0xFE, never UTF-8
        return json.dumps(body, ensure_ascii=False).encode(how)
    if how in ("utf-16-be", "utf-16-le", "utf-32-le"):
        return json.dumps(body, ensure_ascii=False).encode(how)
    pairs = [(k, json.dumps(v, ensure_ascii=False).encode()) for k, v in body.items()]
    pairs = [(k, v) for k, v in pairs if k != "text"]
    text = json.dumps(parts.text, ensure_ascii=False).encode()
    return obj([*pairs, ("text", text[:1] + bad + text[1:])])


@st.composite
def encodings(draw: st.DrawFn, base: st.SearchStrategy[Fields] = fields) -> Draft:
    """Not UTF-8: other encodings of a headline, or UTF-8 with one invalid sequence."""
    how = draw(
        st.sampled_from(
            ("latin-1", "shift_jis", "utf-16", "utf-32", "utf-16-be", "utf-16-le", "utf-32-le")
            + ("mixed",) * 4
        )
    )
    # Without a byte order mark, ASCII in UTF-16/32 is NUL-padded ASCII: valid UTF-8, not JSON.
    without_bom = how in ("utf-16-be", "utf-16-le", "utf-32-le")
    reasons = frozenset({NOT_UTF8, NOT_JSON} if without_bom else {NOT_UTF8})
    build = partial(_encoded, draw(base), how, draw(st.sampled_from(INVALID_UTF8)))
    return Draft(f"bad/encoding: {how}", reasons, build, draw(keys))


def bad_categories(
    base: st.SearchStrategy[Fields] = fields,
) -> dict[str, tuple[st.SearchStrategy[Draft], int]]:
    """Each bad strategy, on headlines from ``base``, with how many of it a run sends."""
    return {
        "random bytes": (random_bytes(base), 600),
        "empty": (empties, 60),
        "deep json": (deep_json(base), 300),
        "huge": (huge(base), 60),
        "wrong types": (wrong_types(base), 600),
        "not objects": (not_objects(base), 200),
        "near valid": (near_valid(base), 1100),
        "syntax": (syntax_errors(base), 500),
        "encodings": (encodings(base), 600),
    }


drafts: st.SearchStrategy[Draft] = st.one_of(
    valid_drafts(), *(strategy for strategy, _ in bad_categories().values())
)
"""Any message, valid or bad, each part drawn afresh (for properties of one message)."""


# --- a reproducible run of many ----------------------------------------------------------


def draw_many(strategy: st.SearchStrategy[T], count: int, name: str) -> list[T]:
    """``count`` values of ``strategy``, the same on every run: Hypothesis with a seed
    derived from ``name``, no example database, generation only. A small space runs out
    before ``count``: its values are then repeated in order."""
    found: list[T] = []

    @seed(zlib.crc32(name.encode()))
    @settings(
        database=None,
        max_examples=count,
        phases=(Phase.generate,),
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: T) -> None:
        found.append(value)

    collect()
    assert found, f"{name}: Hypothesis generated nothing"
    return [found[i % len(found)] for i in range(count)]


WIRE_TEXT = (
    "Toyota Apple Airbus Copper Gold Oil Shipping Bund Nikkei Rupee Yen Lithium Wheat Cocoa "
    "rises falls steadies rebounds slips jumps eases stalls recovers widens narrows beats misses "
    "quarter forecast demand supply outlook earnings exports inflation payrolls orders margins "
    "after before amid despite as on in early late weekly record lowest highest since strong weak"
)
WIRE_WORDS = WIRE_TEXT.split()


def wire(rng: random.Random, serial: int) -> Sample:
    """An ordinary headline of the wire, cheap to make in bulk: most are words from
    ``WIRE_WORDS`` (no lever, nothing a government says: irrelevant), some are the
    ``RELEVANT`` ones (relevant the first time, duplicates within a day after)."""
    if rng.random() < 0.15:
        text = rng.choice(RELEVANT)
    else:
        text = " ".join(rng.sample(WIRE_WORDS, rng.randint(5, 12))).capitalize()
    parts = Fields(
        id=f"wire-{rng.getrandbits(32):08x}",
        text=text,
        source=rng.choice(OUTLETS),
        published_at=Moment(None, "", rng.choice(OFFSETS)),
        url=rng.choice((None, "https://example.com/story")),
        with_url=rng.random() < 0.5,
        versioned=rng.random() < 0.5,
    )
    style = Style(rng.random() < 0.5, None, rng.random() < 0.5)
    key = rng.choice((None, parts.id.encode()))
    return Draft("valid/wire", VALID, partial(_valid, parts, style, None), key).render(serial)


def edge_times() -> list[Draft]:
    """Every extreme wall-clock time with every offset, on statements and on noise: years 1
    and 9999 with an offset put the instant outside what Python's datetime holds in UTC,
    yet the schema (and RFC 3339) accepts them."""
    texts = (RELEVANT[0], RELEVANT[2], IRRELEVANT[0])
    return [
        Draft(
            "valid/edge time",
            VALID,
            partial(
                _valid,
                Fields("edge", text, "Edge Wire", Moment(wall, "", offset), None, False, False),
                Style(True, None, False),
                None,
            ),
        )
        for wall in EXTREMES
        for offset in OFFSETS
        for text in texts
    ]


def copy(sample: Sample, new_id: str) -> Sample:
    """A syndicated copy: the same headline (text, source, time) under another id."""
    assert sample.value is not None and sample.valid
    body = json.loads(sample.value)
    body["id"] = new_id
    value = json.dumps(body, ensure_ascii=False).encode()
    assert len(value) <= MAX_MESSAGE_BYTES
    return Sample("valid/copy", sample.key, value, VALID)


@dataclass(frozen=True)
class Corpus:
    samples: list[Sample]
    """In the order they are sent."""
    copies: int
    """Valid headlines sent again under a new id (same text, source and time): duplicates."""


def corpus(
    pool: int = 1_000,
    drawn: int = 1_200,
    ordinary: int = 4_300,
    copies: int = 400,
    resends: int = 100,
) -> Corpus:
    """The run: ``drawn`` valid headlines from Hypothesis (the hostile valid ones),
    ``ordinary`` headlines of the wire (a seeded generator: Hypothesis costs about two
    milliseconds a message), ``copies`` syndicated copies of some of them under new ids,
    ``resends`` of them again byte for byte (a producer's retry), and every bad category
    of ``bad_categories``, shuffled together with a fixed seed."""
    serials = iter(range(1, 1 << 30))
    rng = random.Random(20250404)
    # Drawing a headline's parts is the costly part: draw a pool of them once, then the
    # valid drafts and the defects of the bad ones on headlines picked from it.
    base = st.sampled_from(draw_many(fields, pool, "headline parts"))
    valid = [draft.render(next(serials)) for draft in draw_many(valid_drafts(base), drawn, "valid")]
    valid += [wire(rng, next(serials)) for _ in range(ordinary)]
    valid += [draft.render(next(serials)) for draft in edge_times()]
    syndicated = [copy(s, f"copy-{n}") for n, s in enumerate(rng.choices(valid, k=copies))]
    resent = [Sample("valid/resent", s.key, s.value, VALID) for s in rng.sample(valid, resends)]
    bad = [
        draft.render(next(serials))
        for name, (strategy, count) in bad_categories(base).items()
        for draft in draw_many(strategy, count, name)
    ]
    samples = [*valid, *syndicated, *resent, *bad]
    rng.shuffle(samples)
    return Corpus(samples, copies)
