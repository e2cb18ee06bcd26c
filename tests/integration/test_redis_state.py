"""The Redis scripts on a real redis-server: stance compare-and-set with outbox, exact dedup."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from schemas import Alert, Headline, Speaker, Stance, Statement, Topic
from schemas.state import OUTBOX_KEY, STATE_COMPLETE_KEY, StanceState
from stancewire.runtime import Stack
from streams.claims import claim
from streams.dedup import LAYOUT, CheckFailed, Dedup, DedupSettings, Verdicts
from streams.detect import detect
from streams.stance import Outcome, StanceStore
from streams.stories import Chain, Report, Stories

T = TypeVar("T")
T0 = datetime(2025, 5, 2, 6, 0, tzinfo=UTC)


def with_redis(stack: Stack, work: Callable[[Redis], Awaitable[T]]) -> T:
    async def run() -> T:
        client = Redis.from_url(stack.redis_url, decode_responses=True)
        try:
            return await work(client)
        finally:
            await client.aclose()

    return asyncio.run(run())


def statement(stance: Stance, minutes: int, headline_id: str) -> tuple[Statement, Alert]:
    at = T0 + timedelta(minutes=minutes)
    said = Statement(
        headline_id=headline_id,
        story_id=headline_id,
        government="JP",
        topic=Topic.TREASURY_HOLDINGS,
        stance=stance,
        speaker=Speaker.GOVERNMENT,
        confidence=0.9,
        evidence=f"{stance.value} at {minutes}",
        cue="test",
        source="Wire",
        published_at=at,
        detected_at=at,
    )
    draft = Alert(
        alert_id=Alert.derive_id("JP", said.topic, stance, headline_id),
        government="JP",
        topic=said.topic,
        from_=None,
        to=stance,
        headline_id=headline_id,
        story_id=headline_id,
        evidence=said.evidence,
        source="Wire",
        published_at=at,
        detected_at=at,
        confidence=0.9,
        speaker=Speaker.GOVERNMENT,
    )
    return said, draft


async def nothing_alerted() -> list[Alert]:
    return []


def test_stance_transitions(stack: Stack, redis: SyncRedis) -> None:
    async def work(client: Redis) -> list[tuple[Outcome, Stance | None, Stance | None]]:
        store = StanceStore(client, nothing_alerted)
        seen = []
        seqs = []
        for stance, minutes, hid in [
            (Stance.OPEN, 0, "h1"),  # first stance: null -> open
            (Stance.OPEN, 5, "h2"),  # same stance again: no alert
            (Stance.RULES_OUT, 10, "h3"),  # open -> rules_out
            (Stance.OPEN, 7, "h4"),  # older than the current stance: ignored
            (Stance.RULES_OUT, 10, "h3"),  # the same headline redelivered: no second alert
            (Stance.THREATENS, 20, "h5"),  # rules_out -> threatens
        ]:
            transition = await store.apply(*statement(stance, minutes, hid))
            alert = transition.alert
            seen.append(
                (transition.outcome, alert.from_ if alert else None, alert.to if alert else None)
            )
            if alert is not None:
                seqs.append(alert.seq)
        # Each change takes the key's next number, and the board's state carries the last.
        assert seqs == [1, 2, 3]
        assert (await store.current())["JP:treasury_holdings"].seq == 3
        assert [a.seq for _, a in await store.pending()] == [1, 2, 3]
        return seen

    assert with_redis(stack, work) == [
        (Outcome.CHANGED, None, Stance.OPEN),
        (Outcome.UNCHANGED, None, None),
        (Outcome.CHANGED, Stance.OPEN, Stance.RULES_OUT),
        (Outcome.STALE, None, None),
        (Outcome.UNCHANGED, None, None),
        (Outcome.CHANGED, Stance.RULES_OUT, Stance.THREATENS),
    ]
    assert redis.xlen(OUTBOX_KEY) == 3  # one entry per change, until acknowledged


def test_outbox_entries_wait_until_acknowledged(stack: Stack, redis: SyncRedis) -> None:
    async def work(client: Redis) -> tuple[list[str], list[str], int]:
        store = StanceStore(client, nothing_alerted)
        await store.apply(*statement(Stance.OPEN, 0, "h1"))
        await store.apply(*statement(Stance.RULES_OUT, 10, "h2"))
        pending = await store.pending()
        before_bound = await store.pending(older_than_ms=0)
        await store.acknowledge(pending[0][0])
        left = len(await store.pending())
        return [a.headline_id for _, a in pending], [a.headline_id for _, a in before_bound], left

    pending, before_bound, left = with_redis(stack, work)
    assert pending == ["h1", "h2"]  # oldest first, with from filled in
    assert before_bound == []
    assert left == 1


def test_the_board_holds_the_current_stance_with_its_evidence(
    stack: Stack, redis: SyncRedis
) -> None:
    async def work(client: Redis) -> dict[str, StanceState]:
        store = StanceStore(client, nothing_alerted)
        await store.apply(*statement(Stance.OPEN, 0, "h1"))
        await store.apply(*statement(Stance.RULES_OUT, 10, "h2"))
        return await store.current()

    board = with_redis(stack, work)
    assert board["JP:treasury_holdings"].stance == "rules_out"
    assert board["JP:treasury_holdings"].headline_id == "h2"
    assert board["JP:treasury_holdings"].evidence == "rules_out at 10"


def test_a_lost_state_is_rebuilt_from_the_alerts_before_anything_is_decided(
    stack: Stack, redis: SyncRedis
) -> None:
    """Redis restarted empty: the alerts topic says JP moved open (seq 1) -> rules_out (seq 2);
    a later copy of the older alert (a republish) must not win, the same stance again must
    not alert, and the next change says ``from: rules_out`` with the next seq."""
    published: list[Alert] = []

    async def history() -> list[Alert]:
        return list(published)

    async def work(client: Redis) -> list[tuple[Outcome, Stance | None, int | None]]:
        writer = StanceStore(client, nothing_alerted)
        for stance, minutes, hid in [(Stance.OPEN, 0, "h1"), (Stance.RULES_OUT, 10, "h2")]:
            alert = (await writer.apply(*statement(stance, minutes, hid))).alert
            assert alert is not None
            published.append(alert)
        published.append(published[0])  # the outbox sweep republished the first one late
        await client.flushdb()  # Redis lost everything: no completeness marker either

        store = StanceStore(client, history)
        seen = []
        for stance, minutes, hid in [(Stance.RULES_OUT, 20, "h3"), (Stance.OPEN, 30, "h4")]:
            transition = await store.apply(*statement(stance, minutes, hid))
            alert = transition.alert
            seen.append(
                (transition.outcome, alert.from_ if alert else None, alert.seq if alert else None)
            )
        assert await store.rebuild() == 0  # complete again: nothing to do
        return seen

    assert with_redis(stack, work) == [
        (Outcome.UNCHANGED, None, None),
        (Outcome.CHANGED, Stance.RULES_OUT, 3),
    ]
    assert redis.exists(STATE_COMPLETE_KEY)


def test_a_rebuild_never_overwrites_a_newer_state(stack: Stack, redis: SyncRedis) -> None:
    """Two workers found the state lost; one rebuilt and moved on before the other's slower
    rebuild wrote an older history: the newer state stays."""

    async def work(client: Redis) -> StanceState:
        store = StanceStore(client, nothing_alerted)
        first = (await store.apply(*statement(Stance.OPEN, 0, "h1"))).alert
        assert first is not None
        await store.apply(*statement(Stance.RULES_OUT, 10, "h2"))
        await client.delete(STATE_COMPLETE_KEY)

        async def old_history() -> list[Alert]:
            return [first]

        assert await StanceStore(client, old_history).rebuild() == 1
        return (await store.current())["JP:treasury_holdings"]

    state = with_redis(stack, work)
    assert (state.stance, state.seq) == (Stance.RULES_OUT, 2)


DEDUP = DedupSettings(exact_ttl_seconds=60, near_ttl_seconds=60, window_seconds=3600, min_bands=4)


def news(hid: str, text: str, minutes: int = 0, source: str = "Wire") -> Headline:
    return Headline(id=hid, text=text, source=source, published_at=T0 + timedelta(minutes=minutes))


def checked(stack: Stack, cases: list[Headline]) -> list[tuple[str, str]]:
    """Each headline checked in turn, from the state the ones before it left: its verdict
    and the story it joined."""

    async def work(client: Redis) -> list[tuple[str, str]]:
        dedup = Dedup(client, DEDUP)
        verdicts = [await dedup.check(h, detect(h.text)) for h in cases]
        return [one(v) for v in verdicts]

    return with_redis(stack, work)


def one(verdicts: Verdicts) -> tuple[str, str]:
    """The verdict of a headline that carries one statement (or none)."""
    (verdict,) = verdicts.each.values()
    return verdict.seen.value, verdict.story_id


def test_dedup_layers_and_redelivery(stack: Stack, redis: SyncRedis) -> None:
    will_not = (
        "Japan has no intention of using its Treasury holdings as a negotiating tool, Kato says"
    )
    cases = [
        news("a", will_not),
        news(
            "b",
            "  Japan has NO intention of using its treasury holdings, "
            "as a negotiating tool: Kato says!",
        ),
        news("a", will_not),  # the first headline redelivered is processed again
        news(
            "c",
            "Japan has no intention of using its Treasury holdings as a negotiating tool, "
            "Finance Minister Kato says on Sunday",
            minutes=20,
        ),
        news(
            "c",
            "Japan has no intention of using its Treasury holdings as a negotiating tool, "
            "Finance Minister Kato says on Sunday",
            minutes=20,
        ),  # a duplicate redelivered
        news(
            "d", "Japan will use its Treasury holdings as a negotiating tool, Kato says", minutes=30
        ),
        news("e", will_not.replace("Japan", "Korea").replace("Kato", "Choi"), minutes=40),
        news("f", will_not, minutes=60 * 30),  # the same words a day later: a new event
    ]

    assert checked(stack, cases) == [
        ("first", "a"),
        ("exact", "a"),
        ("redelivery", "a"),
        ("near", "a"),
        ("near", "a"),
        ("first", "d"),
        ("first", "e"),
        ("first", "f"),
    ]
    exact_keys = list(redis.scan_iter("sw:dup:*:exact:*"))
    assert exact_keys and all(0 < redis.ttl(key) <= 60 for key in exact_keys)


def report(headline_id: str, source: str) -> Report:
    return Report(headline_id, source, datetime(2025, 5, 4, 3, tzinfo=UTC))


def test_story_chains_count_reports_and_outlets(stack: Stack, redis: SyncRedis) -> None:
    async def work(client: Redis) -> list[tuple[int, int, bool, tuple[str, ...]]]:
        stories = Stories(client, ttl_seconds=60)
        said = "JP:treasury_holdings:rules_out:government"
        first = await stories.link("s1", said, "Reuters", report("h2", "Kyodo"))
        await stories.raised("s1", said, "JP:treasury_holdings|alert-1")
        again = await stories.link("s1", said, "Reuters", report("h2", "Kyodo"))
        third = await stories.link("s1", said, "Reuters", report("h3", "Reuters"))
        fourth = await stories.link("s1", said, "Reuters", report("h4", "Jiji"))
        # another statement of the story's first headline keeps a chain of its own
        other = await stories.link(
            "s1", "JP:treasury_holdings:open:analyst", "Reuters", report("h5", "AP")
        )
        return [
            (link.reports, link.outlets, link.new_outlet, link.alert_ids)
            for link in (first, again, third, fourth, other)
        ]

    assert with_redis(stack, work) == [
        (2, 2, True, ()),
        (2, 2, False, ("JP:treasury_holdings|alert-1",)),  # a redelivery counts once
        (3, 2, False, ("JP:treasury_holdings|alert-1",)),
        (4, 3, True, ("JP:treasury_holdings|alert-1",)),
        (2, 2, True, ()),
    ]


def test_an_alert_recorded_after_copies_joined_reads_the_chain_as_it_stands(
    stack: Stack, redis: SyncRedis
) -> None:
    """Another replica may link copies while the alert is being published: recording the
    alert then tells how many outlets carry it already, and the latest of them."""

    async def work(client: Redis) -> list[Chain | None]:
        stories = Stories(client, ttl_seconds=60)
        said = "JP:treasury_holdings:rules_out:government"
        alone = await stories.raised("s1", said, "JP:treasury_holdings|alert-1")
        await stories.link("s2", said, "Reuters", report("h2", "Kyodo"))
        await stories.link("s2", said, "Reuters", report("h3", "Jiji"))
        await stories.link("s2", said, "Reuters", report("h4", "Kyodo"))  # no new outlet
        joined = await stories.raised("s2", said, "JP:treasury_holdings|alert-2")
        # the outbox sweep may record an alert its publisher records too: read once
        again = await stories.raised("s2", said, "JP:treasury_holdings|alert-2")
        return [alone, joined, again]

    alone, joined, again = with_redis(stack, work)
    assert alone == Chain(reports=1, outlets=1, latest=None, latest_position=1)
    # h3, the latest outlet, joined as the chain's third report (s2, h2, h3)
    assert joined == Chain(reports=4, outlets=3, latest=report("h3", "Jiji"), latest_position=3)
    assert again is None
    assert redis.smembers("sw:story:{s2}:JP:treasury_holdings:rules_out:government:alerts") == {
        "JP:treasury_holdings|alert-2"
    }
    assert 0 < redis.ttl("sw:story:{s2}:JP:treasury_holdings:rules_out:government:latest") <= 60


def test_a_rewrite_joins_the_story_whose_facts_it_does_not_contradict(
    stack: Stack, redis: SyncRedis
) -> None:
    """Same statements, levers and polarity (one hash tag, asserted): the facts decide."""
    texts = {
        "a": "China imposes 100% tariffs on Canadian canola oil and peas, 25% on pork",
        "b": "Beijing slaps 100% duties on canola from Canada in EV dispute",  # within a
        "c": "China imposes 84% tariffs on Canadian canola oil",  # another figure
        "d": "China imposes 100% tariffs on Canadian autos",  # other goods
        "e": "China imposes tariffs on Canadian canola oil",  # no figure: joins the newest
    }
    cases = [news(hid, text, minutes=i) for i, (hid, text) in enumerate(texts.items())]
    assert len({claim(h.text, detect(h.text)).tags for h in cases}) == 1

    assert checked(stack, cases) == [
        ("first", "a"),
        ("near", "a"),
        ("first", "c"),
        ("first", "d"),
        ("near", "c"),
    ]


def test_a_batch_is_checked_in_order_and_survives_a_script_flush(
    stack: Stack, redis: SyncRedis
) -> None:
    """A copy later in a batch is a duplicate of the story earlier in it; and a batch sent
    after Redis lost its scripts (a restart) loads the script again and runs."""
    text = "Japan has no intention of using its Treasury holdings as leverage, Kato says"
    first = [news("a", text), news("b", text, source="Other"), news("c", text.upper())]
    korea = text.replace("Japan", "Korea").replace("Kato", "Choi")
    later = [news("d", text, minutes=5), news("e", korea, minutes=6)]

    async def work(client: Redis) -> list[list[str]]:
        dedup = Dedup(client, DEDUP)
        before = await dedup.check_many([(h, detect(h.text)) for h in first])
        await client.script_flush()
        after = await dedup.check_many([(h, detect(h.text)) for h in later])
        return [seen(before), seen(after)]

    assert with_redis(stack, work) == [["first", "exact", "exact"], ["exact", "first"]]


def seen(verdicts: list[Verdicts | CheckFailed]) -> list[str]:
    return [one(v)[0] if isinstance(v, Verdicts) else "failed" for v in verdicts]


def test_a_script_failing_for_one_headline_fails_only_it(stack: Stack, redis: SyncRedis) -> None:
    """A corrupt story list under one headline's tag: its check fails in its place, the
    others in the batch are checked."""
    bad = news("bad", "Japan has no intention of using its Treasury holdings as leverage")
    good = news("good", "China imposes 34% tariffs on all US goods", minutes=1)
    what = claim(bad.text, detect(bad.text))
    (tag,) = what.tags
    redis.rpush(f"sw:dup:{{{tag}}}:stories:{LAYOUT}.{len(what.facts())}", "x")

    async def work(client: Redis) -> list[str]:
        dedup = Dedup(client, DEDUP)
        return seen(await dedup.check_many([(h, detect(h.text)) for h in (bad, good)]))

    assert with_redis(stack, work) == ["failed", "first"]


def test_redis_out_of_memory_inside_the_script_is_an_outage_not_one_headline_failing(
    stack: Stack, redis: SyncRedis
) -> None:
    """Redis refusing the script's writes (here: out of memory) raises, so the screen fails
    open for the batch instead of dead-lettering every headline as a script bug."""
    items = [news("a", "China imposes 34% tariffs on all US goods")]

    async def work(client: Redis) -> str:
        dedup = Dedup(client, DEDUP)
        try:
            await dedup.check_many([(h, detect(h.text)) for h in items])
        except ResponseError as exc:
            return type(exc).__name__
        return "no error"

    redis.config_set("maxmemory-policy", "noeviction")
    redis.config_set("maxmemory", "1")
    try:
        assert with_redis(stack, work) == "OutOfMemoryError"
    finally:
        redis.config_set("maxmemory", "0")


def test_a_redelivery_after_its_exact_key_expired_is_not_its_own_duplicate(
    stack: Stack, redis: SyncRedis
) -> None:
    """The story list outlives a headline's exact key (other stories refresh it): read
    again, the headline finds its own story, which makes it a redelivery, not a copy."""
    first = news("a", "China imposes 100% tariffs on Canadian canola oil and peas")
    other = news("b", "China imposes 84% tariffs on Canadian canola oil", minutes=1)
    assert checked(stack, [first, other]) == [("first", "a"), ("first", "b")]
    for key in redis.scan_iter("sw:dup:*:exact:*"):
        redis.delete(key)
    assert checked(stack, [first]) == [("first", "a")]


def test_without_statements_a_copy_joins_by_its_words_and_facts(
    stack: Stack, redis: SyncRedis
) -> None:
    """Market news, which carries no statement: a candidate shares MinHash bands, and joins
    only when its facts are compatible too; read again after its exact key expired, a
    headline finds its own bands, which makes it a redelivery."""
    ten = news("a", "US 10-year Treasury yield rises to 4.5% as tariffs rattle bond markets")
    copy = news("b", "U.S. 10-yr Treasury yield rises to 4.5 pct as tariffs rattle bond markets")
    thirty = news("c", "US 30-year Treasury yield rises to 4.5% as tariffs rattle bond markets")
    assert not any(detect(h.text) for h in (ten, copy, thirty))
    assert checked(stack, [ten, copy, thirty]) == [("first", "a"), ("near", "a"), ("first", "c")]
    for key in redis.scan_iter("sw:dup:*:exact:*"):
        redis.delete(key)
    assert checked(stack, [ten]) == [("first", "a")]


def test_each_statement_joins_its_own_story(stack: Stack, redis: SyncRedis) -> None:
    """A lead that adds another actor's statement: the statement the headline repeats joins
    its story, the added one opens a story of its own, which a later copy joins."""
    lula = "Lula says Brazil will respond to US 50% tariff under reciprocity law"
    kato = (
        "Separately, Finance Minister Kato said Japan has no intention of using its US "
        "Treasury holdings as a negotiating tool"
    )
    cases = [
        news("a", lula),
        news("b", f"{lula}. {kato}", minutes=1, source="Kyodo"),
        news("c", f"UPDATE 1-{lula}. {kato}", minutes=2, source="Jiji"),
    ]

    async def work(client: Redis) -> list[dict[str, tuple[str, str]]]:
        dedup = Dedup(client, DEDUP)
        verdicts = [await dedup.check(h, detect(h.text)) for h in cases]
        return [
            {key.split(":")[0]: (v.seen.value, v.story_id) for key, v in each.each.items()}
            for each in verdicts
        ]

    assert with_redis(stack, work) == [
        {"BR": ("first", "a")},
        {"BR": ("near", "a"), "JP": ("first", "b")},
        {"BR": ("near", "a"), "JP": ("near", "b")},
    ]


def test_a_statement_whose_script_fails_passes_unchecked_beside_checked_ones(
    stack: Stack, redis: SyncRedis
) -> None:
    """A corrupt story list under one statement's tag: that statement passes unchecked (the
    first of its story), the headline's other statement is checked and the headline goes
    on, so no story is left whose first report was dead-lettered."""
    lula = "Lula says Brazil will respond to US 50% tariff under reciprocity law"
    kato = "Japan has no intention of using its Treasury holdings as leverage, Kato said"
    both = news("both", f"{lula}. {kato}", minutes=1)
    what = claim(both.text, detect(both.text))
    tags = dict(zip(what.statements, what.tags, strict=True))
    (japan,) = [statement for statement in tags if statement.startswith("JP:")]
    redis.rpush(f"sw:dup:{{{tags[japan]}}}:stories:{LAYOUT}.{len(what.facts())}", "x")

    async def work(client: Redis) -> list[dict[str, tuple[str, str]] | str]:
        dedup = Dedup(client, DEDUP)
        checked = await dedup.check_many([(h, detect(h.text)) for h in (news("a", lula), both)])
        return [
            "failed"
            if isinstance(v, CheckFailed)
            else {
                key.split(":")[0]: (each.seen.value, each.story_id) for key, each in v.each.items()
            }
            for v in checked
        ]

    assert with_redis(stack, work) == [
        {"BR": ("first", "a")},
        {"BR": ("near", "a"), "JP": ("first", "both")},
    ]
