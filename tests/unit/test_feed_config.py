"""The feed poller's pure parts: config validation, entry -> Headline mapping, parsing, backoff."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from producers.feeds import (
    ConfigError,
    backoff,
    entry_headline,
    first_sentence,
    headline_id,
    load_config,
    parse_feed,
    strip_html,
)
from schemas import MAX_TEXT_CHARS

FIXTURES = Path(__file__).parents[1] / "data" / "feeds"
FETCHED = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def write(tmp_path: Path, text: str, name: str = "feeds.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- config -------------------------------------------------------------------------------


def test_toml_config_with_defaults(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
            [defaults]
            interval_seconds = 60
            headers = { "User-Agent" = "desk-bot/1", "Accept-Language" = "en" }

            [[feeds]]
            name = "Example Wire"
            url = "https://wire.example/rss"

            [[feeds]]
            name = "Ministry"
            url = "http://ministry.example/atom.xml"
            interval_seconds = 900
            timeout_seconds = 5
            headers = { "Accept-Language" = "ja" }
            """,
        )
    )
    wire, ministry = config.feeds
    assert (wire.name, wire.interval_seconds, wire.timeout_seconds) == ("Example Wire", 60, 20)
    assert wire.headers == {"User-Agent": "desk-bot/1", "Accept-Language": "en"}
    assert (ministry.interval_seconds, ministry.timeout_seconds) == (900, 5)
    assert ministry.headers == {"User-Agent": "desk-bot/1", "Accept-Language": "ja"}


def test_json_config(tmp_path: Path) -> None:
    path = write(
        tmp_path, '{"feeds": [{"name": "a", "url": "https://a.example/feed"}]}', "feeds.json"
    )
    [feed] = load_config(path).feeds
    assert (feed.name, feed.interval_seconds, feed.headers) == ("a", 300, {})


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        ('url = "https://a.example/"\ninterval_seconds = 0', "feeds[0] ('a').interval_seconds"),
        ('url = "https://a.example/"\ntimeout_seconds = -1', "feeds[0] ('a').timeout_seconds"),
        ('url = "ftp://a.example/feed"', "feeds[0] ('a').url: must be an absolute http"),
        ('url = "/relative/feed.xml"', "feeds[0] ('a').url"),
        ('url = "https://a.example/"\ninterval = 60', "feeds[0] ('a').interval: Extra inputs"),
        ('url = "https://a.example/"\nheaders = { "If-None-Match" = "x" }', "set by the poller"),
        ('url = "https://a.example/"\nheaders = { "Bad Name" = "x" }', "not a valid HTTP header"),
        ('url = "https://a.example/"\nheaders = { "X-A" = "1\\r\\nX-B: 2" }', "line break"),
        ("interval_seconds = 10", "feeds[0] ('a').url: Field required"),
    ],
)
def test_a_bad_feed_field_is_named(tmp_path: Path, feed: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, f'[[feeds]]\nname = "a"\n{feed}\n'))
    assert message in str(raised.value)


ONE = '[[feeds]]\nname = "a"\nurl = "https://a.example/"\n'
B = '[[feeds]]\nname = "a"\nurl = "https://b.example/"\n'
LONG = "n" * 101


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "feeds: Field required"),
        ("feeds = []", "feeds: Tuple should have at least 1 item"),
        ("[defaults]\ninterval = 5\n" + ONE, "defaults.interval: Extra inputs"),
        ("feed = 1\n" + ONE, "feed: Extra inputs"),
        (ONE + B, "feeds[1].name: 'a' is used by another feed"),
        (ONE.replace('"a"', '" padded"'), "feeds[0] (' padded').name: String should match"),
        (ONE.replace('"a"', '"{tag}"'), "feeds[0] ('{tag}').name: String should match"),
        (ONE.replace('"a"', f'"{LONG}"'), ".name: String should have at most 100 characters"),
        ("[[feeds]\nname =", "not valid TOML"),
    ],
)
def test_a_bad_config_is_explained(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text))
    assert message in str(raised.value)
    assert str(tmp_path / "feeds.toml") in str(raised.value)


def test_unreadable_and_malformed_json(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(write(tmp_path, "{feeds:", "feeds.json"))


# --- entry -> Headline --------------------------------------------------------------------


def entry(**fields: Any) -> dict[str, Any]:
    return fields


def test_ids_are_stable_and_derived_from_the_feed_and_the_entry_id() -> None:
    # Pinned: changing the derivation would resend every feed's items after an upgrade.
    assert headline_id("Example Wire", "id:wire-example-20250610-0001") == (
        "feed:Example Wire:4b08e2a9ac1ad37e"
    )
    first = entry_headline("Wire", entry(id="guid-1", title="A", link="https://x/1"), FETCHED)
    again = entry_headline(
        "Wire", entry(id="guid-1", title="A edited", link="https://x/2"), FETCHED
    )
    other_feed = entry_headline("Other", entry(id="guid-1", title="A"), FETCHED)
    assert first is not None and again is not None and other_feed is not None
    assert first.id == again.id == headline_id("Wire", "id:guid-1")
    assert other_feed.id != first.id and other_feed.id.startswith("feed:Other:")
    # No guid: the link identifies the entry.
    by_link = entry_headline("Wire", entry(title="B", link="https://x/b"), FETCHED)
    assert by_link is not None and by_link.id == "feed:Wire:d8bce11f6c702ea0"


def test_html_is_stripped_and_the_summary_adds_its_first_sentence() -> None:
    headline = entry_headline(
        "Wire",
        entry(
            id="1",
            title="Canada <em>will not</em> rule out levies",
            title_detail={"type": "text/html"},
            summary="<p>The minister said <b>every</b> option&nbsp;remained open.</p>"
            "<script>alert(1)</script><p>Talks resume Monday.</p>",
            summary_detail={"type": "text/html"},
            published_parsed=time.strptime("2025-06-13 13:00:00", "%Y-%m-%d %H:%M:%S"),
        ),
        FETCHED,
    )
    assert headline is not None
    assert headline.text == (
        "Canada will not rule out levies. The minister said every option remained open."
    )
    assert headline.source == "Wire"
    assert headline.published_at == datetime(2025, 6, 13, 13, 0, tzinfo=UTC)


def test_a_plain_text_title_keeps_angle_brackets() -> None:
    headline = entry_headline(
        "W", entry(id="1", title="Tariffs <10% stay", title_detail={"type": "text/plain"}), FETCHED
    )
    assert headline is not None and headline.text == "Tariffs <10% stay"


def test_no_published_time_means_the_fetch_time() -> None:
    headline = entry_headline("W", entry(link="https://x/1", title="Undated"), FETCHED)
    assert headline is not None and headline.published_at == FETCHED
    updated = entry_headline(
        "W",
        entry(link="https://x/2", title="Updated only", updated_parsed=time.gmtime(1_750_000_000)),
        FETCHED,
    )
    assert updated is not None
    assert updated.published_at == datetime.fromtimestamp(1_750_000_000, UTC)


def test_summary_repeating_the_title_is_not_repeated() -> None:
    headline = entry_headline(
        "W", entry(id="1", title="Japan rules it out", summary="Japan rules it out."), FETCHED
    )
    assert headline is not None and headline.text == "Japan rules it out"


def test_no_title_uses_the_summary_and_nothing_gives_nothing() -> None:
    headline = entry_headline("W", entry(id="1", summary="<p>Only a body. Second.</p>"), FETCHED)
    assert headline is not None and headline.text == "Only a body."
    assert entry_headline("W", entry(id="2", title="  ", summary=""), FETCHED) is None
    assert entry_headline("W", entry(summary="No id, no link, no title."), FETCHED) is None


def test_text_is_capped() -> None:
    headline = entry_headline("W", entry(id="1", title="word " * 2000), FETCHED)
    assert headline is not None
    assert len(headline.text) <= MAX_TEXT_CHARS and headline.text.endswith("word…")


def test_first_sentence_does_not_stop_at_abbreviations() -> None:
    assert first_sentence("He sold U.S. Treasuries. Then he left.") == "He sold U.S. Treasuries."
    assert first_sentence("Mr. Kato spoke. Later.") == "Mr. Kato spoke."
    assert first_sentence("“We will respond.” The ministry said.") == "“We will respond.”"
    assert first_sentence("No boundary here") == "No boundary here"


def test_strip_html() -> None:
    assert strip_html("<p>a</p><p>b &amp; c</p><style>p{}</style>") == "a b & c"


# --- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "count"),
    [
        ("rss091.xml", 2),
        ("rss2.xml", 3),
        ("rdf.xml", 2),
        ("atom.xml", 2),
        ("cp1252.xml", 1),
        ("latin1.xml", 1),
    ],
)
def test_good_fixtures_parse_cleanly(fixture: str, count: int) -> None:
    parsed = parse_feed((FIXTURES / fixture).read_bytes(), "text/xml")
    assert (parsed.error, parsed.bozo, len(parsed.entries)) == (None, None, count)


def test_declared_encodings_are_honoured() -> None:
    [cp1252] = parse_feed((FIXTURES / "cp1252.xml").read_bytes()).entries
    assert "\u201cready to use every instrument\u201d" in cp1252["title"]
    assert "\u20ac93bn" in cp1252["title"]
    [latin1] = parse_feed((FIXTURES / "latin1.xml").read_bytes()).entries
    assert latin1["title"].startswith("M\u00e9xico")
    # A charset in the HTTP header wins over the prolog (RFC 3023).
    wrong = parse_feed((FIXTURES / "latin1.xml").read_bytes(), "text/xml; charset=utf-8")
    assert wrong.bozo is not None


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("not_a_feed.html", "HTML instead of a feed"),
        ("truncated.xml", "truncated XML"),
    ],
)
def test_unusable_bodies(fixture: str, error: str) -> None:
    parsed = parse_feed((FIXTURES / fixture).read_bytes())
    assert parsed.error is not None and parsed.error.startswith(error)
    assert parsed.entries == []


def test_empty_and_garbage_bodies() -> None:
    assert parse_feed(b"").error == "empty body"
    assert parse_feed(b"  \n").error == "empty body"
    assert parse_feed(b"\x00\xff binary junk").error is not None
    assert parse_feed(b'{"json": "not a feed"}').error is not None


@pytest.mark.parametrize("fixture", ["bozo.xml", "mislabelled.xml"])
def test_bozo_feeds_with_entries_are_used(fixture: str) -> None:
    parsed = parse_feed((FIXTURES / fixture).read_bytes())
    assert parsed.error is None and parsed.bozo is not None and len(parsed.entries) == 1


# --- backoff ------------------------------------------------------------------------------


def test_backoff_doubles_is_capped_and_jittered() -> None:
    rng = random.Random(7)
    delays = [backoff(10, n, 300, rng) for n in range(1, 10)]
    for failures, delay in enumerate(delays, start=1):
        ceiling = min(300, 10 * 2**failures)
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 300
    # A long interval is never shortened by the cap.
    assert 3600 / 2 <= backoff(3600, 5, 300, rng) <= 3600


def test_every_bad_field_is_named_once(tmp_path: Path) -> None:
    text = (
        '[[feeds]]\nname = "a"\nurl = "ftp://a.example/"\ninterval_seconds = -1\n'
        '[[feeds]]\nname = "b"\nurl = "https://b.example/"\ntimeout = 3\n'
    )
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text))
    message = str(raised.value)
    assert "feeds[0] ('a').url: must be an absolute http" in message
    assert "feeds[0] ('a').interval_seconds: Input should be greater than 0" in message
    assert "feeds[1] ('b').timeout: Extra inputs are not permitted" in message
    assert "Tuple" not in message  # pydantic's count of the valid feeds is noise here
