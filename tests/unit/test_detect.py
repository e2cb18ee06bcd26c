"""streams.detect on the hard cases of DESIGN.md and on every stance of both topics.

The sentences are written for these tests, not taken from the sample wire; the last tests
score the detector on the bundled sample and the development set and fail when it falls below
the recorded floors. (The held-back split is never scored here: it is not tuned on.)
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

import stancewire
from schemas import Speaker
from stancewire.evaluate import run
from streams.detect import Detector, detect, entities
from streams.lexicon import load_lexicon

Row = tuple[str, str, str, str]

TH, TL = "treasury_holdings", "trade_leverage"
GOV, ANALYST, MEDIA, OTHER = "government", "analyst", "media", "other"


def found(text: str) -> set[Row]:
    return {(d.government, d.topic.value, d.stance.value, d.speaker.value) for d in detect(text)}


def case(text: str, *expected: Row, id: str) -> object:
    return pytest.param(text, set(expected), id=id)


# --- the Japan story: an open remark, then a rejection ----------------------------------------

JAPAN_STORY = [
    case(
        "Earlier this month Japan's finance minister called the country's Treasury holdings "
        "a card in trade negotiations.",
        ("JP", TH, "open", GOV),
        id="open-card-remark",
    ),
    case(
        "Japan has no intention of using its US Treasury holdings as a negotiating weapon, "
        "the finance minister said on Tuesday.",
        ("JP", TH, "rules_out", GOV),
        id="rules-out-after",
    ),
    case(
        "Japan's finance minister called its Treasury holdings a card in the talks last week. "
        "On Tuesday he said Tokyo has no intention of using them as a negotiating weapon.",
        ("JP", TH, "rules_out", GOV),
        id="both-in-one-story",
    ),
    case(
        "Japan rules out selling Treasuries in retaliation for US tariffs.",
        ("JP", TH, "rules_out", GOV),
        id="rules-out-lever-not-counterpart-measure",
    ),
]


@pytest.mark.parametrize(("text", "expected"), JAPAN_STORY)
def test_japan_story(text: str, expected: set[Row]) -> None:
    assert found(text) == expected


# --- the hard cases of DESIGN.md -------------------------------------------------------------

HARD_CASES = [
    # speculation by others is theirs, never the government's
    case(
        "Analysts say Japan could sell some of its Treasuries to push back against Washington.",
        ("JP", TH, "open", ANALYST),
        id="analysts-could-sell",
    ),
    case(
        "Japan could dump its Treasury holdings if talks collapse, a strategist at a Tokyo "
        "brokerage wrote.",
        ("JP", TH, "open", ANALYST),
        id="analyst-attribution-after",
    ),
    case(
        "Economists speculate that China might offload US debt in the trade war.",
        ("CN", TH, "open", ANALYST),
        id="economists-might-offload",
    ),
    case(
        "Goldman Sachs says China may already be selling Treasuries quietly.",
        ("CN", TH, "open", ANALYST),
        id="research-firm-is-analyst",
    ),
    case(
        "Beijing could slow its purchases of US Treasuries as a form of pressure, according "
        "to analysts at Nomura.",
        ("CN", TH, "open", ANALYST),
        id="according-to-analysts",
    ),
    case(
        "State media said Beijing could use its Treasury holdings as leverage.",
        ("CN", TH, "open", MEDIA),
        id="state-media",
    ),
    case(
        "Opinion: Tokyo should treat its Treasury holdings as a bargaining chip.",
        ("JP", TH, "open", MEDIA),
        id="opinion-piece-is-media",
    ),
    case(
        "Opposition lawmakers urged the government in Tokyo to use the Treasury holdings as "
        "leverage.",
        ("JP", TH, "open", OTHER),
        id="lawmakers-urge-is-other",
    ),
    # negation
    case(
        "Tokyo has no intention of using its holdings of US Treasuries to gain leverage, a "
        "government spokesman said.",
        ("JP", TH, "rules_out", GOV),
        id="no-intention-of-using",
    ),
    case(
        "Japan is not weighing any sale of its US government bonds as leverage, the finance "
        "ministry said.",
        ("JP", TH, "rules_out", GOV),
        id="negation-scopes-over-leverage",
    ),
    case(
        "Japan's government has decided against using its Treasury holdings as leverage in "
        "the talks.",
        ("JP", TH, "rules_out", GOV),
        id="decided-against",
    ),
    case(
        "Kato says the Treasury holdings are not a bargaining chip.",
        ("JP", TH, "rules_out", GOV),
        id="not-a-bargaining-chip",
    ),
    case(
        "Tokyo dismissed speculation that it could sell its Treasury holdings.",
        ("JP", TH, "rules_out", GOV),
        id="dismissed-speculation",
    ),
    case(
        "India has decided not to retaliate against the US tariffs for now, officials said.",
        ("IN", TL, "rules_out", GOV),
        id="decided-not-to",
    ),
    # negated rejections and hesitations
    case(
        "Carney is not ruling out retaliatory tariffs on American steel.",
        ("CA", TL, "open", GOV),
        id="not-ruling-out-is-open",
    ),
    case(
        "China did not rule out using its Treasury holdings in the dispute, a foreign ministry "
        "spokeswoman said.",
        ("CN", TH, "open", GOV),
        id="did-not-rule-out-is-open",
    ),
    case(
        "Mexico will not hesitate to retaliate with tariffs of its own, the economy minister said.",
        ("MX", TL, "threatens", GOV),
        id="will-not-hesitate-threatens",
    ),
    case(
        "'Don't retaliate,' Bessent told trading partners, warning that any response would "
        "be met with higher tariffs.",
        ("US", TL, "threatens", GOV),
        id="imperative-is-not-rules-out",
    ),
    # past versus present
    case(
        "After earlier remarks suggested the holdings could be used as leverage, the finance "
        "minister said Tokyo would not sell Treasuries to pressure Washington.",
        ("JP", TH, "rules_out", GOV),
        id="after-earlier-remarks",
    ),
    case(
        "After saying last month that retaliation was on the table, India now says it will "
        "not impose counter-tariffs.",
        ("IN", TL, "rules_out", GOV),
        id="after-saying-last-month",
    ),
    case(
        "Kato says Japan's Treasury holdings did not come up with Bessent. The minister, who "
        "last month said Tokyo had no intention of selling US debt, said they exist to fund "
        "intervention.",
        ("JP", TH, "rules_out", GOV),
        id="earlier-stance-stands-when-nothing-newer",
    ),
    case(
        "China vows countermeasures after Trump threatens new tariffs on its goods.",
        ("CN", TL, "threatens", GOV),
        ("US", TL, "threatens", GOV),
        id="counterpart-threat-in-background",
    ),
    # attribution inside one sentence
    case(
        "Despite analysts suggesting Japan could use its Treasury holdings, officials said it "
        "will not.",
        ("JP", TH, "rules_out", GOV),
        ("JP", TH, "open", ANALYST),
        id="despite-analysts-officials-said",
    ),
    case(
        "While some economists argue China could weaponize its Treasury pile, Beijing "
        "officials said they have no plans to sell.",
        ("CN", TH, "rules_out", GOV),
        ("CN", TH, "open", ANALYST),
        id="while-economists-officials-said",
    ),
    # officials named without their country
    case(
        "Kato said the holdings of US Treasuries would not be used as a negotiating tool.",
        ("JP", TH, "rules_out", GOV),
        id="kato",
    ),
    case(
        "Bessent warns that any country which retaliates will face even higher tariffs.",
        ("US", TL, "threatens", GOV),
        id="bessent",
    ),
    case(
        "He Lifeng vowed countermeasures against the new tariffs.",
        ("CN", TL, "threatens", GOV),
        id="he-lifeng",
    ),
    case(
        "Carney imposes counter-tariffs on American steel.",
        ("CA", TL, "acting", GOV),
        id="carney",
    ),
    case(
        "Sheinbaum said Mexico would not retaliate against the steel tariffs for now.",
        ("MX", TL, "rules_out", GOV),
        id="sheinbaum",
    ),
    case(
        "JAPAN'S KATO SAYS TOKYO WILL NOT SELL US TREASURIES AS A BARGAINING CHIP",
        ("JP", TH, "rules_out", GOV),
        id="wire-flash-in-capitals",
    ),
    case(
        "Kato, back from Washington, said Japan's Treasury holdings could be a card in the talks.",
        ("JP", TH, "open", GOV),
        id="back-from-is-no-retreat",
    ),
]


@pytest.mark.parametrize(("text", "expected"), HARD_CASES)
def test_hard_cases(text: str, expected: set[Row]) -> None:
    assert found(text) == expected


# --- not relevant ----------------------------------------------------------------------------

IRRELEVANT = [
    pytest.param(text, id=name)
    for name, text in [
        ("yields", "Treasury yields rose to a three-week high after a weak 10-year sale."),
        ("auction", "The 30-year Treasury auction drew soft demand from foreign buyers."),
        ("price-move", "Treasuries retreat from highs as China data beats forecasts."),
        ("uk-treasury", "Britain's Treasury said it will raise borrowing to fund defence."),
        ("uk-treasury-staff", "UK Treasury officials finalise the autumn budget."),
        ("financial-leverage", "Hedge funds unwind leverage as Treasury market volatility spikes."),
        (
            "tic-holdings-data",
            "Japan's holdings of US Treasuries fell to $1.08 trillion in March, TIC data showed.",
        ),
        ("holdings-cut-data", "China trimmed its Treasury holdings for a third month, data show."),
        (
            "central-bank-holdings",
            "China's central bank cut its holdings of US Treasuries to a 15-year low.",
        ),
        ("trade-talks", "US and Japanese negotiators met in Washington for more trade talks."),
        ("tariff-talks", "South Korea and the US will continue tariff talks next week."),
        (
            "tariff-negotiations",
            "Brazil hopes to conclude tariff negotiations with the US by July.",
        ),
        ("company-warns", "Walmart warns tariffs will push up prices for shoppers this summer."),
        ("company-costs", "Nike says tariffs will cost it about $1 billion this year."),
        ("weighs-on", "Tariff uncertainty weighs on German business sentiment, a survey shows."),
        ("weigh-impact", "US stocks fall as investors weigh the impact of new tariffs."),
        ("warns-of-slowdown", "Chalmers warns US tariffs raise the risk of a global slowdown."),
        ("trade-data", "China's exports rose 8% in September despite US tariffs, data showed."),
        ("treasury-sanctions", "The Treasury Department imposed sanctions on shipping firms."),
        ("no-lever", "Fed holds rates steady and signals two cuts later this year."),
    ]
]


@pytest.mark.parametrize("text", IRRELEVANT)
def test_irrelevant(text: str) -> None:
    assert detect(text) == []


# --- ordinary statements: every stance, both topics ------------------------------------------

ORDINARY = [
    # trade leverage
    case(
        "The EU warned it would retaliate against any new US tariffs on European cars.",
        ("EU", TL, "threatens", GOV),
        id="trade-threatens-warned",
    ),
    case(
        "Beijing vowed to take countermeasures if Washington raises tariffs again.",
        ("CN", TL, "threatens", GOV),
        id="trade-threatens-vowed-conditional",
    ),
    case(
        "Brazil's Lula said his government is ready to retaliate against the 50% US tariff.",
        ("BR", TL, "threatens", GOV),
        id="trade-threatens-ready-to",
    ),
    case(
        "Ottawa will impose counter-tariffs on US aluminium from next week, Joly said.",
        ("CA", TL, "threatens", GOV),
        id="trade-threatens-will-impose",
    ),
    case(
        "EU members approve counter-tariffs on US goods that will apply only if talks fail.",
        ("EU", TL, "threatens", GOV),
        id="trade-threatens-conditional-approval",
    ),
    case(
        "India is weighing retaliatory duties on US almonds, a trade ministry official said.",
        ("IN", TL, "open", GOV),
        id="trade-open-weighing",
    ),
    case(
        "The European Commission said all options, including its anti-coercion instrument, "
        "remain on the table.",
        ("EU", TL, "open", GOV),
        id="trade-open-on-the-table",
    ),
    case(
        "The EU delayed its countermeasures by two weeks to allow more talks.",
        ("EU", TL, "open", GOV),
        id="trade-open-deferred",
    ),
    case(
        "Mexico will not impose retaliatory tariffs on US goods, President Sheinbaum said.",
        ("MX", TL, "rules_out", GOV),
        id="trade-rules-out-will-not-impose",
    ),
    case(
        "Seoul ruled out retaliation against the steel tariffs.",
        ("KR", TL, "rules_out", GOV),
        id="trade-rules-out-ruled-out",
    ),
    case(
        "South Korea's trade minister said Seoul is not considering retaliatory tariffs.",
        ("KR", TL, "rules_out", GOV),
        id="trade-rules-out-not-considering",
    ),
    case(
        "China imposed 15% tariffs on US coal and LNG on Monday.",
        ("CN", TL, "acting", GOV),
        id="trade-acting-imposed",
    ),
    case(
        "Ottawa has slapped retaliatory duties on C$20 billion of American goods.",
        ("CA", TL, "acting", GOV),
        id="trade-acting-slapped",
    ),
    case(
        "Beijing halted purchases of US soybeans in retaliation for the tariffs.",
        ("CN", TL, "acting", GOV),
        id="trade-acting-halted-purchases",
    ),
    case(
        "India raises tariffs on US almonds and apples in retaliation for steel duties.",
        ("IN", TL, "acting", GOV),
        id="trade-acting-raises",
    ),
    case(
        "China's commerce ministry announced export controls on five rare earth elements.",
        ("CN", TL, "acting", GOV),
        id="trade-acting-export-controls",
    ),
    case(
        "Canada will keep its counter-tariffs in place until Washington lifts its levies, "
        "Joly said.",
        ("CA", TL, "acting", GOV),
        id="trade-acting-kept-in-place",
    ),
    # treasury holdings
    case(
        "A Chinese official threatened to dump US Treasuries if the tariffs stay.",
        ("CN", TH, "threatens", GOV),
        id="treasury-threatens-dump",
    ),
    case(
        "China warned it could retaliate by selling its Treasury holdings.",
        ("CN", TH, "threatens", GOV),
        id="treasury-threatens-retaliate-by-selling",
    ),
    case(
        "Japan's prime minister said the country's Treasury holdings are one of the cards it "
        "could play.",
        ("JP", TH, "open", GOV),
        id="treasury-open-card",
    ),
    case(
        "Beijing is considering reducing its holdings of US Treasuries as leverage in the "
        "dispute, officials said.",
        ("CN", TH, "open", GOV),
        id="treasury-open-considering",
    ),
    case(
        "Japan keeps all options on the table, including its Treasury holdings, the prime "
        "minister said.",
        ("JP", TH, "open", GOV),
        id="treasury-open-all-options",
    ),
    case(
        "China has no plans to sell US Treasuries as a weapon in the trade war, the central "
        "bank governor said.",
        ("CN", TH, "rules_out", GOV),
        id="treasury-rules-out-no-plans",
    ),
    case(
        "Beijing will not dump US Treasuries, Chinese officials told visiting US lawmakers.",
        ("CN", TH, "rules_out", GOV),
        id="treasury-rules-out-will-not-dump",
    ),
    case(
        "China sold $20 billion of Treasuries in May in retaliation for the new tariffs, "
        "officials confirmed.",
        ("CN", TH, "acting", GOV),
        id="treasury-acting-sold",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ORDINARY)
def test_ordinary_statements(text: str, expected: set[Row]) -> None:
    assert found(text) == expected


# --- invariants ------------------------------------------------------------------------------

SPECULATION = [
    "Analysts say Japan could sell its Treasuries if the talks fail.",
    "Some investors fear China will dump US Treasuries as tensions rise.",
    "Strategists at Barclays think Beijing might offload Treasuries in retaliation.",
    "Traders warn Japan could sell US bonds to defend the yen.",
    "Economists see a risk that China retaliates by selling Treasuries.",
]


@pytest.mark.parametrize("text", SPECULATION)
def test_speculation_never_speaks_for_a_government(text: str) -> None:
    detections = detect(text)
    assert detections, "speculation is still reported as a statement"
    assert all(d.speaker is not Speaker.GOVERNMENT for d in detections)


@pytest.mark.parametrize(("text", "expected"), [*HARD_CASES, *ORDINARY])
def test_detection_carries_its_evidence(text: str, expected: set[Row]) -> None:
    for detection in detect(text):
        assert detection.evidence in text
        assert 0.0 < detection.confidence <= 1.0
        assert detection.cue.split(".")[0] in {"threatens", "open", "rules_out", "acting"}


@pytest.mark.parametrize("text", ["", " ", "\n\n", "tariffs", "'", "Japan won't."])
def test_degenerate_input(text: str) -> None:
    assert detect(text) == []


@pytest.mark.parametrize(
    "before", ["İzmir talks: ", "İSTANBUL FORUM - ", "Speaking in İzmir, "], ids=["a", "b", "c"]
)
def test_a_capital_dotted_i_does_not_hide_what_follows_it(before: str) -> None:
    # "İ".lower() is two characters: names after it were looked for one character off
    text = f"{before}Japan will not sell its Treasury holdings, Finance Minister Kato says"
    assert found(text) == {("JP", TH, "rules_out", GOV)}
    assert entities(text) == (frozenset({"JP"}), frozenset({Speaker.GOVERNMENT}))


# --- dates, explanations, several statements ------------------------------------------------


def test_officials_resolve_by_the_headline_date() -> None:
    text = "Kato says the Treasury holdings are not a bargaining chip."
    assert found(text) == {("JP", TH, "rules_out", GOV)}
    assert [d.government for d in detect(text, datetime(2025, 5, 4, tzinfo=UTC))] == ["JP"]
    # before his term "Kato" names no government: nothing to attribute the stance to
    assert detect(text, datetime(2019, 5, 4, tzinfo=UTC)) == []


def test_president_between_terms_is_not_a_government_speaker() -> None:
    text = "Trump threatens new tariffs on Chinese goods."
    assert {d.government for d in detect(text, datetime(2025, 4, 2, tzinfo=UTC))} == {"US"}
    assert detect(text, datetime(2022, 4, 2, tzinfo=UTC)) == []


def test_detection_explains_itself() -> None:
    [detection] = detect(
        "Japan has no intention of using its US Treasury holdings as a negotiating weapon, "
        "the finance minister said on Tuesday."
    )
    assert detection.cue == "rules_out.no_intention"
    assert detection.speaker_phrase == "finance minister"
    assert detection.decision.startswith("rules_out/")
    assert 0.5 < detection.confidence <= 1.0


def test_leading_background_of_another_government_is_reported() -> None:
    text = (
        "After Trump threatens a 30% tariff on EU goods, von der Leyen says the bloc will "
        "respond with countermeasures."
    )
    assert found(text) == {("US", TL, "threatens", GOV), ("EU", TL, "threatens", GOV)}


def test_foreign_official_characterizing_a_measure_is_other() -> None:
    text = "Greer says Beijing's rare earth rules are an exercise in economic coercion."
    assert found(text) == {("CN", TL, "acting", OTHER)}


def test_title_case_headline() -> None:
    text = "Japan Rules Out Selling Its Treasury Holdings As A Weapon In Tariff Talks"
    assert found(text) == {("JP", TH, "rules_out", GOV)}


def test_two_governments_in_one_text() -> None:
    text = "China imposes 15% tariffs on US coal; Canada slaps retaliatory duties on US steel."
    assert found(text) == {("CN", TL, "acting", GOV), ("CA", TL, "acting", GOV)}


def test_a_detector_per_lexicon_matches_the_module_function() -> None:
    detector = Detector(load_lexicon())
    text = "Carney imposes counter-tariffs on American steel."
    assert detector.detect(text) == detect(text)


# --- labelled sets: regression floors ---------------------------------------------------------

SAMPLE = Path(stancewire.__file__).parent / "sample"
DEV = Path(__file__).resolve().parents[1] / "data" / "detection" / "dev.jsonl"
DEV2 = DEV.with_name("dev2.jsonl")

# Measured (F1): sample relevant 0.990, statement 0.971, stance=rules_out 1.000, speaker 0.971;
# dev relevant 0.964, statement 0.840, stance=rules_out 0.889, speaker 0.940, stance
# macro-F1 0.836; dev2 (varied wording) relevant 0.959, statement 0.875, stance=rules_out
# 0.968, stance macro-F1 0.889. A change that drops below these floors is a regression to
# look at, not a number to lower.
DEV2_FLOORS = {"relevant": 0.93, "statement": 0.84, "stance=rules_out": 0.93}
FLOORS = {"relevant": 0.95, "statement": 0.93, "stance=rules_out": 0.95, "speaker": 0.93}
DEV_FLOORS = {"relevant": 0.95, "statement": 0.80, "stance=rules_out": 0.85, "speaker": 0.90}


def test_sample_scores_stay_above_floors() -> None:
    out = io.StringIO()
    result = run(SAMPLE / "wire.jsonl", SAMPLE / "labels.jsonl", out)
    assert result.items == 87
    scores = {name: result.rows[name].f1 for name in FLOORS}
    assert all(scores[name] >= floor for name, floor in FLOORS.items()), (scores, out.getvalue())


def test_dev_scores_stay_above_floors() -> None:
    out = io.StringIO()
    result = run(DEV, None, out)
    assert result.items == 226
    scores = {name: result.rows[name].f1 for name in DEV_FLOORS}
    assert all(scores[name] >= floor for name, floor in DEV_FLOORS.items()), (
        scores,
        out.getvalue(),
    )
    assert result.stance_macro_f1 >= 0.80
    assert result.accuracy["government"].value >= 0.97
    assert result.accuracy["speaker"].value >= 0.95


def test_dev2_scores_stay_above_floors() -> None:
    out = io.StringIO()
    result = run(DEV2, None, out)
    assert result.items >= 120
    scores = {name: result.rows[name].f1 for name in DEV2_FLOORS}
    assert all(scores[name] >= floor for name, floor in DEV2_FLOORS.items()), (
        scores,
        out.getvalue(),
    )
    assert result.stance_macro_f1 >= 0.85
    assert result.accuracy["government"].value >= 0.95


# --- varied wire wording (sentences written for these tests) ----------------------------------

VARIED = [
    case(
        "Canada levies 25% duties on C$20 billion of American goods.",
        ("CA", TL, "acting", GOV),
        id="levies-as-verb",
    ),
    case(
        "Mexico to levy 30% tariffs on US pork from June 2.",
        ("MX", TL, "threatens", GOV),
        id="to-levy-from-date",
    ),
    case(
        "Brazil hits US ethanol with 18% duties, effective Jan. 5.",
        ("BR", TL, "threatens", GOV),
        id="scheduled-is-a-threat",
    ),
    case(
        "India's retaliatory duties on US almonds enter into force.",
        ("IN", TL, "acting", GOV),
        id="enters-into-force",
    ),
    case("Korea blacklists 12 US defence contractors.", ("KR", TL, "acting", GOV), id="blacklists"),
    case(
        "Turkey sees no need to hit back at US tariffs.",
        ("TR", TL, "rules_out", GOV),
        id="no-need-to-hit-back",
    ),
    case(
        "Thailand not planning to retaliate against US levies, officials say.",
        ("TH", TL, "rules_out", GOV),
        id="not-planning-to",
    ),
    case(
        "Beijing ratchets up levies on US goods to 60%.",
        ("CN", TL, "acting", GOV),
        id="ratchets-up",
    ),
    case(
        "Japan's counter-tariffs will stay in place, Ishiba says.",
        ("JP", TL, "acting", GOV),
        id="stays-in-place-is-acting",
    ),
    case(
        "China begins charging port fees on US-flagged ships.",
        ("CN", TL, "acting", GOV),
        id="port-fees",
    ),
]


@pytest.mark.parametrize(("text", "expected"), VARIED)
def test_varied_wording(text: str, expected: set[Row]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Vietnam bans rice exports to keep domestic prices in check.",
        "Treasury sells $40 billion of seven-year notes.",
    ],
)
def test_varied_negatives(text: str) -> None:
    assert found(text) == set()


@pytest.mark.parametrize(
    "dateline",
    ["TOKYO (Reuters) - ", "UPDATE 2-BEIJING, May 4 (Xinhua) -- ", "NEW DELHI (AP) \u2013 "],
)
def test_a_dateline_says_where_a_story_was_filed_not_who_speaks(dateline: str) -> None:
    """The city of a dateline names no speaker: a market story filed from Tokyo is no
    statement of Japan's, and a statement reads the same with or without its dateline."""
    at = datetime(2025, 6, 1, tzinfo=UTC)
    market = "Swap spreads sink to record lows as leveraged funds unwind bets on Treasuries"
    assert detect(dateline + market, at) == []
    said = "Japan has no intention of selling its US Treasury holdings, Finance Minister Kato says"
    assert detect(dateline + said, at) == detect(said, at) != []


def test_a_government_that_may_use_a_lever_threatens_unless_it_calls_it_a_card() -> None:
    """DESIGN.md: ``threatens`` signals it may use it; ``open`` calls it a card."""
    at = datetime(2025, 5, 2, tzinfo=UTC)
    threat = detect("China says it may use rare earth export controls against the US", at)
    card = detect("Japan says it could use its Treasury holdings as a bargaining card", at)
    assert [d.stance.value for d in threat] == ["threatens"]
    assert [d.stance.value for d in card] == ["open"]


# --- rejection and non-use wording (sentences written for these tests) -----------------------

REJECTIONS = [
    case(
        "Indonesia will not mirror the US levies, its trade minister said.",
        ("ID", TL, "rules_out", GOV),
        id="will-not-mirror",
    ),
    case(
        "Chile declines to retaliate against the copper tariff, the finance minister says.",
        ("CL", TL, "rules_out", GOV),
        id="declines-to",
    ),
    case(
        "Seoul will seek an exemption rather than retaliate, the trade ministry said.",
        ("KR", TL, "rules_out", GOV),
        id="rather-than-retaliate",
    ),
    case(
        "Canberra prefers dialogue over retaliation, the trade minister said.",
        ("AU", TL, "rules_out", GOV),
        id="dialogue-over-retaliation",
    ),
    case(
        "Norway rejects tit-for-tat tariffs, the government said.",
        ("NO", TL, "rules_out", GOV),
        id="rejects-tit-for-tat",
    ),
    case(
        "Japan's finance minister said selling US Treasuries is not something Tokyo is weighing.",
        ("JP", TH, "rules_out", GOV),
        id="not-something-weighing",
    ),
    case(
        "China will continue to hold US Treasuries, the central bank governor said.",
        ("CN", TH, "rules_out", GOV),
        id="continue-to-hold",
    ),
    case(
        "Japan's officials said selling Treasuries would be counterproductive and ruled it out.",
        ("JP", TH, "rules_out", GOV),
        id="ruled-it-out",
    ),
    case(
        "Economists doubt Beijing would sell its Treasuries.",
        ("CN", TH, "rules_out", ANALYST),
        id="analysts-doubt",
    ),
    case(
        "Malaysia unlikely to impose counter-tariffs, officials say.",
        ("MY", TL, "rules_out", GOV),
        id="headline-unlikely-to",
    ),
    case(
        "Beijing denies it has restricted exports of rare earths to Japan.",
        ("CN", TL, "rules_out", GOV),
        id="denies-it-has",
    ),
    case(
        "Britain will not retaliate immediately against the steel tariffs, the minister said.",
        ("GB", TL, "open", GOV),
        id="not-immediately-is-a-deferral",
    ),
    case(
        "The White House says there will be no delay to the reciprocal tariffs.",
        ("US", TL, "threatens", GOV),
        id="no-delay-is-a-threat",
    ),
    case(
        "India, which had said it would not retaliate, imposes duties on US almonds.",
        ("IN", TL, "acting", GOV),
        id="which-had-said-is-history",
    ),
]


@pytest.mark.parametrize(("text", "expected"), REJECTIONS)
def test_rejection_wording(text: str, expected: set[Row]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Australia's central bank has no plans to cut rates in response to US tariffs.",
        "Japan is not considering an extra budget to offset the impact of US tariffs.",
        "Treasury Secretary dismisses reports that foreign central banks are selling Treasuries.",
        "The EU has no plans to postpone its carbon border levy.",
        "Thailand declined to comment on the US trade talks.",
    ],
)
def test_rejections_of_other_things_are_not_statements(text: str) -> None:
    assert found(text) == set()


# --- one story, two wordings: rewrites must read alike (sentences written for these tests) ---

REWRITES = [
    case(
        "Seoul holds its US Treasury portfolio for reserve management, not as leverage in talks",
        ("KR", TH, "rules_out", GOV),
        id="not-as-leverage",
    ),
    case(
        "Canada freezes its counter-tariffs on US goods for 60 days",
        ("CA", TL, "open", GOV),
        id="freezes-counter-tariffs-is-a-deferral",
    ),
    case(
        "Riyadh pushes back on a report it may stop buying US government bonds",
        ("SA", TH, "rules_out", GOV),
        id="pushes-back-on-a-report",
    ),
    case(
        "Jakarta tells the WTO it plans countermeasures over US steel duties",
        ("ID", TL, "threatens", GOV),
        id="plans-countermeasures",
    ),
    case(
        "Taipei removes Beijing from its list of partners granted preferential export treatment",
        ("TW", TL, "acting", GOV),
        id="removed-from-a-privilege-list",
    ),
    case(
        "Saudi officials urge a pause or halt in buying of US government debt",
        ("SA", TH, "threatens", GOV),
        id="urging-a-halt-reads-as-recommending-one",
    ),
    case(
        "Norway starts taxing US whiskey and motorboats in retaliation for steel tariffs",
        ("NO", TL, "acting", GOV),
        id="starts-taxing",
    ),
    case(
        "Ankara ups its retaliatory duties on American cars to 120%",
        ("TR", TL, "acting", GOV),
        id="ups-duties",
    ),
    case(
        "Australia to retaliate against US beef tariffs.",
        ("AU", TL, "threatens", GOV),
        id="to-retaliate-headline",
    ),
    case(
        "Vietnam will not rush to retaliate and keeps every option on the table, its minister says",
        ("VN", TL, "open", GOV),
        id="not-rush-to-retaliate-is-no-threat",
    ),
    case(
        "Ottawa hits back with duties on US appliances starting July 1",
        ("CA", TL, "acting", GOV),
        id="hits-back-with-a-start-date-is-acting",
    ),
    case(
        "Beijing raises its duties on US goods to 90% and will no longer respond to US hikes",
        ("CN", TL, "acting", GOV),
        id="no-longer-answering-hikes-keeps-acting",
    ),
    case(
        "Korea's retaliatory tariffs on American products kick in",
        ("KR", TL, "acting", GOV),
        id="american-holds-no-modal-can",
    ),
]


@pytest.mark.parametrize(("text", "expected"), REWRITES)
def test_rewrites_of_one_story_read_alike(text: str, expected: set[Row]) -> None:
    assert found(text) == expected


def test_a_negated_deliberation() -> None:
    """Not having discussed the holdings is no stance; not having considered selling them is
    a rejection (as "not considering" is)."""
    discussed = "Seoul has not discussed the handling of its Treasury holdings with Bessent"
    considered = "Seoul did not consider selling its US Treasuries, the finance minister said"
    assert found(discussed) == set()
    assert found(considered) == {("KR", TH, "rules_out", GOV)}


def test_an_anaphoric_announcement_restates_the_measure() -> None:
    """ "X to impose ... . Y announced the levy" is the measure as the headline states it; an
    announcement with nothing else said of that government still stands."""
    lead = "Mexico to impose 20% tariffs on US pork from May 2."
    told = " Economy Minister Ebrard announced the levy after a cabinet meeting on Friday."
    assert found(lead + told) == found(lead) == {("MX", TL, "threatens", GOV)}
    alone = "The tariffs follow months of talks. Mexico announced the levy on Friday."
    assert found(alone) == {("MX", TL, "acting", GOV)}


def test_a_title_of_no_named_government_speaks_for_the_story() -> None:
    """ "The finance ministry" is the story's government's, not that of a name after the cue."""
    text = (
        "Japan to impose 20% tariffs on US beef from June 1. The finance ministry announced "
        "the duties on Friday, matching the rate Trump imposed on Japanese cars."
    )
    assert ("JP", TL, "threatens", GOV) in found(text)
    assert ("US", TL, "threatens", GOV) not in found(text)


def test_a_demonym_leading_its_sentence_before_firms_is_the_actor() -> None:
    text = (
        "Indian refiners halt purchases of US crude, the oil ministry says. The move came "
        "after Trump said he would double tariffs on Indian goods."
    )
    assert ("IN", TL, "acting", GOV) in found(text)


# --- levers and positions the wire names in less usual ways (sentences written for these tests)

RECALL = [
    case(
        "Selling dollar assets is no part of Seoul's strategy in the talks, the minister says",
        ("KR", TH, "rules_out", GOV),
        id="no-part-of-the-strategy",
    ),
    case(
        "Taiwan keeps its holdings of US government bonds for reserve needs, not to bargain with",
        ("TW", TH, "rules_out", GOV),
        id="not-to-bargain-with",
    ),
    case(
        "Korea's finance ministry calls its Treasury pile a liquidity buffer rather than leverage",
        ("KR", TH, "rules_out", GOV),
        id="rather-than-leverage-without-article",
    ),
    case(
        "Retaliation would only hurt exporters, Chile's trade minister says",
        ("CL", TL, "rules_out", GOV),
        id="would-only-hurt",
    ),
    case(
        "Chile holds up copper export licences for US buyers",
        ("CL", TL, "acting", GOV),
        id="holds-up-licences",
    ),
    case(
        "Ankara's countermeasures against US steel tariffs protect its industry, officials say",
        ("TR", TL, "acting", GOV),
        id="possessive-countermeasures-are-in-force",
    ),
    case(
        "Chilean wine and copper face a 15% US levy from March 3, Trump says",
        ("US", TL, "threatens", GOV),
        id="face-a-levy-from-a-date",
    ),
    case(
        "Trump signs an order adding 10% to Brazil's tariff",
        ("US", TL, "acting", GOV),
        id="adding-to-a-tariff",
    ),
    case(
        "Lula promises a swift and firm Brazilian answer to the US tariffs",
        ("BR", TL, "threatens", GOV),
        id="promises-an-answer",
    ),
    case(
        "Brussels will set out its countermeasures to the steel tariffs next week",
        ("EU", TL, "threatens", GOV),
        id="will-set-out",
    ),
    case(
        "EU ministers weigh reinstating the suspended list of counter-duties",
        ("EU", TL, "open", GOV),
        id="weigh-reinstating-counter-duties",
    ),
    case(
        "'No taboos' on reprisals against US tariffs, Spain's economy minister says",
        ("ES", TL, "open", GOV),
        id="no-taboos-on-reprisals",
    ),
    case(
        "Downing Street stops short of ruling out counter-tariffs",
        ("GB", TL, "open", GOV),
        id="stops-short-of-ruling-out",
    ),
    case(
        "Indonesia tells the WTO it may suspend trade concessions on US goods",
        ("ID", TL, "threatens", GOV),
        id="may-suspend-concessions",
    ),
    case(
        "Malaysia offers to buy more US LNG and Boeing jets to avert a 25% tariff, officials say",
        ("MY", TL, "open", GOV),
        id="purchases-offered-in-talks",
    ),
    case(
        "Ottawa notifies Washington it has started the retaliation process, the minister says",
        ("CA", TL, "threatens", GOV),
        id="notified-counterpart-is-an-object",
    ),
    case("Colombia puts 20% surtaxes on US corn", ("CO", TL, "acting", GOV), id="puts-surtaxes"),
]


@pytest.mark.parametrize(("text", "expected"), RECALL)
def test_levers_named_in_less_usual_ways(text: str, expected: set[Row]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Vietnamese goods to face a 20% tariff under the new trade deal",
        "China's finance ministry sells $2 billion of dollar bonds in Hong Kong",
        "Beijing warns countries against deals with the US at its expense, vowing countermeasures",
    ],
)
def test_less_usual_wording_negatives(text: str) -> None:
    found_ = found(text)
    assert all(row[2] != "acting" for row in found_), found_


# --- stance distinctions: one sentence per mechanism ------------------------------------------

MECHANISMS = [
    case(
        "Seoul will not hit back at Washington, the trade minister says",
        ("KR", TL, "rules_out", GOV),
        id="hit-back-names-the-lever",
    ),
    case(
        "Brazil could levy US streaming platforms if talks collapse, the finance minister says",
        ("BR", TL, "threatens", GOV),
        id="could-levy",
    ),
    case(
        "Ottawa could face tariffs within weeks, the US commerce secretary warns",
        ("US", TL, "threatens", GOV),
        id="could-face-bare-tariffs",
    ),
    case(
        "Washington tells Hanoi to close the loophole or face a 40% tariff and curbs on "
        "chip exports",
        ("US", TL, "threatens", GOV),
        id="ultimatum-scopes-over-its-measures",
    ),
    case(
        "Under the truce, Ottawa lifts its retaliatory tariffs on US dairy",
        ("CA", TL, "open", GOV),
        id="lifting-its-own-tariffs-is-no-raise",
    ),
    case(
        "India lifts its duties on US almonds to 20%",
        ("IN", TL, "acting", GOV),
        id="lifting-to-a-level-is-a-raise",
    ),
    case(
        "Seoul will use its anti-coercion powers if needed, the trade minister says",
        ("KR", TL, "threatens", GOV),
        id="will-use-a-named-lever",
    ),
    case(
        "The bloc is preparing for every scenario, counter-tariffs included, the trade "
        "commissioner says",
        ("EU", TL, "open", GOV),
        id="contingency-planning-is-open",
    ),
    case(
        "How far Hanoi trims tariffs on US farm goods will depend on the US tariff rate, "
        "the minister says",
        ("VN", TL, "open", GOV),
        id="conditional-on-the-counterpart-is-open",
    ),
    case(
        "Traders see Beijing's halt of US sorghum purchases as leverage before the summit",
        ("CN", TL, "acting", ANALYST),
        id="a-halt-read-as-leverage-is-an-act",
    ),
    case(
        "Ankara keeps holding its orders of US wheat as a bargaining chip, traders say",
        ("TR", TL, "acting", ANALYST),
        id="holding-as-a-chip-is-an-act",
    ),
    case(
        "Carney defends Canada's counter-tariffs on US steel",
        ("CA", TL, "acting", GOV),
        id="a-measure-defended-is-in-force",
    ),
    case(
        "Beijing tells carriers to take no more deliveries of Boeing jets",
        ("CN", TL, "acting", GOV),
        id="a-directive-to-stop-buying-is-the-act",
    ),
    case(
        "Seoul tells refiners to halt purchases of US crude",
        ("KR", TL, "acting", GOV),
        id="a-directive-to-halt-is-the-act",
    ),
    case(
        "Dumping US Treasuries is not Seoul's policy, the finance minister says",
        ("KR", TH, "rules_out", GOV),
        id="not-its-policy",
    ),
    case(
        "Dumping Treasuries is no part of Seoul's plan in the tariff talks, the finance "
        "minister says",
        ("KR", TH, "rules_out", GOV),
        id="possessive-holds-its-own-plan",
    ),
    case(
        "Ottawa will not retaliate, at least for now, the trade minister says",
        ("CA", TL, "open", GOV),
        id="at-least-for-now-keeps-it-open",
    ),
    case(
        "Seoul has measures it could take against US tariffs but will not use them at the "
        "wrong time, the minister says",
        ("KR", TL, "open", GOV),
        id="not-at-the-wrong-time-keeps-it-open",
    ),
    case(
        "Treasuries are Japan's strongest card, says Jane Roe of the Policy Institute",
        ("JP", TH, "open", ANALYST),
        id="says-before-its-speaker",
    ),
    case(
        "Trump warns Japan of retaliation if Tokyo sells US Treasuries",
        ("US", TL, "threatens", GOV),
        id="holdings-in-the-condition-are-the-counterparts",
    ),
]


@pytest.mark.parametrize(("text", "expected"), MECHANISMS)
def test_stance_mechanisms(text: str, expected: set[Row]) -> None:
    assert found(text) == expected


def test_hitting_back_at_critics_is_no_lever() -> None:
    assert found("Trump hits back at critics of his Greenland plan") == set()


def test_a_plain_for_now_still_rules_out() -> None:
    assert found("Ottawa will not retaliate for now, the trade minister says") == {
        ("CA", TL, "rules_out", GOV)
    }


# --- stance distinctions from dev6's errors: one sentence per mechanism ------------------------

MORE_MECHANISMS = [
    case(
        "Canberra will not slap duties on US beef, the trade minister says",
        ("AU", TL, "rules_out", GOV),
        id="will-not-slap",
    ),
    case(
        "Raising duties on US cars would only feed inflation, Ottawa's finance minister says",
        ("CA", TL, "rules_out", GOV),
        id="would-only-feed-inflation",
    ),
    case("No tit-for-tat on steel tariffs, Seoul says", ("KR", TL, "rules_out", GOV), id="no-tft"),
    case(
        "Brazil has no plans 'at the moment' to retaliate against US tariffs, the minister says",
        ("BR", TL, "rules_out", GOV),
        id="no-plans-at-the-moment",
    ),
    case(
        "Rebuffing a lawmaker's call to sell US debt, Kato says Japan manages its Treasuries "
        "for market stability",
        ("JP", TH, "rules_out", GOV),
        id="a-speaker-inside-the-cue-is-its-object",
    ),
    case(
        "Manila could lower its tariffs on US pork to win an exemption, the trade secretary says",
        ("PH", TL, "open", GOV),
        id="could-lower-its-tariffs-is-open",
    ),
    case(
        "Beijing drops its anti-dumping duties on Australian barley",
        ("CN", TL, "open", GOV),
        id="dropping-its-duties-is-open",
    ),
    case(
        "Washington calls off the levies on Danish goods",
        ("US", TL, "open", GOV),
        id="calling-off-levies-is-open",
    ),
    case(
        "Trump threatens 200% tariffs unless the EU scraps its whiskey levy",
        ("US", TL, "threatens", GOV),
        id="a-demanded-easing-is-not-the-others-act",
    ),
    case(
        "Seoul warns that the US steel tariffs will draw a firm response",
        ("KR", TL, "threatens", GOV),
        id="will-draw-a-response",
    ),
    case(
        "Any counter-tariff will be added on top of the 30% rate, Trump warns",
        ("US", TL, "threatens", GOV),
        id="will-be-added",
    ),
    case(
        "Erdogan urges Turks to boycott American phones",
        ("TR", TL, "threatens", GOV),
        id="urging-a-boycott",
    ),
    case(
        "Beijing is 'seriously considering' curbing rare earth exports, state media say",
        ("CN", TL, "open", MEDIA),
        id="quoted-considering-curbs",
    ),
    case(
        "Ottawa says nothing is off the table, cutting off electricity exports included",
        ("CA", TL, "open", GOV),
        id="cutting-off-exports-names-the-lever",
    ),
    case(
        "Tokyo now requires export licences for chemicals shipped to Seoul",
        ("JP", TL, "acting", GOV),
        id="licences-required",
    ),
    case(
        "BIS adds 12 Chinese firms to the entity list",
        ("US", TL, "acting", GOV),
        id="the-us-export-control-agency",
    ),
    case(
        "Tokyo says it has not taken counter-tariffs off the table",
        ("JP", TL, "open", GOV),
        id="not-taken-off-the-table",
    ),
    case(
        "Trump gives Beijing until Friday to withdraw its levy or face an extra 50% tariff",
        ("US", TL, "threatens", GOV),
        id="an-ultimatum-is-its-subjects",
    ),
    case(
        "Sheinbaum hopes to avoid tariffs on the US but will not rule them out",
        ("MX", TL, "open", GOV),
        id="subjectless-clause-after-an-auxiliary",
    ),
    case(
        "Albanese says hitting back at Trump's 25% steel and aluminium duties would only hurt "
        "Australians",
        ("AU", TL, "rules_out", GOV),
        id="a-possessive-before-a-long-measure-is-the-counterpart",
    ),
    case(
        "India is weighing counter-duties on US goods, people aware of the matter say",
        ("IN", TL, "open", MEDIA),
        id="people-aware-of-the-matter",
    ),
    case(
        "China could sell all its US bonds in a war, a Shanghai finance professor says",
        ("CN", TH, "open", ANALYST),
        id="a-professor-is-an-analyst",
    ),
]


@pytest.mark.parametrize(("text", "expected"), MORE_MECHANISMS)
def test_more_stance_mechanisms(text: str, expected: set[Row]) -> None:
    assert found(text) == expected


def test_the_issuer_holds_no_treasuries_to_use() -> None:
    rows = found("Trump says the US has all the cards as China weighs selling Treasuries")
    assert not any(row[0] == "US" and row[1] == TH for row in rows), rows


def test_a_plan_named_as_an_object_is_not_the_subjects_act() -> None:
    assert found("Ottawa has taken note of the plan to double US steel tariffs") == set()


def test_a_cue_beside_a_lever_cue_in_a_sentence_naming_no_topic_is_about_that_lever() -> None:
    """No topic term, a stance cue and a lever cue: the stance cue is about the lever (it
    raised an error, which dead-lettered the headline)."""
    assert found("China warns it will respond as it sanctions seven US firms") == {
        ("CN", TL, "acting", "government")
    }


# --- recall: officials the lexicon lacked, by surname, within their terms of office ----------


@pytest.mark.parametrize(
    ("text", "on", "expected"),
    [
        (
            "Medvedev signs a decree imposing 40% duties on American machinery",
            datetime(2018, 7, 6, tzinfo=UTC),
            {("RU", TL, "acting", GOV)},
        ),
        (
            "Medvedev signs a decree imposing 40% duties on American machinery",
            datetime(2023, 7, 6, tzinfo=UTC),
            set(),
        ),
        (
            "Turkey will retaliate against US steel tariffs, Zeybekci says",
            datetime(2018, 6, 21, tzinfo=UTC),
            {("TR", TL, "threatens", GOV)},
        ),
        (
            "Manturov rules out restricting nickel exports to the United States",
            datetime(2022, 3, 10, tzinfo=UTC),
            {("RU", TL, "rules_out", GOV)},
        ),
        (
            "Leavitt says the tariffs on Colombia will be imposed if flights are refused",
            datetime(2025, 1, 26, tzinfo=UTC),
            {("US", TL, "threatens", GOV)},
        ),
    ],
    ids=[
        "in-office",
        "out-of-office",
        "speaker-after-the-cue",
        "two-terms",
        "press-secretary",
    ],
)
def test_officials_added_speak_in_their_terms(text: str, on: datetime, expected: set[Row]) -> None:
    rows = {
        (d.government, d.topic.value, d.stance.value, d.speaker.value) for d in detect(text, on)
    }
    assert rows == expected


# --- generalisation round: wording the tuned sets lacked ---------------------------------------

GENERALISED = [
    case(
        "The cabinet decided against countermeasures to the new US steel tariff, Oslo says",
        ("NO", TL, "rules_out", GOV),
        id="decides-against-a-measure",
    ),
    case(
        "Importers of Canadian canola must post deposits of 75.8% with Chinese customs from "
        "Monday, MOFCOM says",
        ("CN", TL, "acting", GOV),
        id="importers-must-lodge-deposits",
    ),
    case(
        "Seoul's trade minister promises corresponding measures after Tokyo's latest move",
        ("KR", TL, "threatens", GOV),
        id="corresponding-measures-are-retaliation",
    ),
    case(
        "Canada has no plans to retaliate for now but is not ruling out counter-tariffs, the "
        "finance minister says",
        ("CA", TL, "open", GOV),
        id="a-rejection-conceded-by-a-non-exclusion",
    ),
    case(
        "Seoul will not impose counter-tariffs this year, though it does not close the door on "
        "them, the trade minister says",
        ("KR", TL, "open", GOV),
        id="not-closing-the-door",
    ),
    case(
        "Canada will not retaliate against the steel tariffs and does not rule out talks, the "
        "finance minister says",
        ("CA", TL, "rules_out", GOV),
        id="a-non-exclusion-without-contrast-leaves-the-rejection",
    ),
    case(
        "Dumping US Treasuries would strengthen the yen and undercut our own exporters, Japan's "
        "finance minister says",
        ("JP", TH, "rules_out", GOV),
        id="a-lever-that-would-hurt-its-owner",
    ),
    case(
        "It serves no purpose for Tokyo to sell its Treasuries, Japan's finance minister says",
        ("JP", TH, "rules_out", GOV),
        id="a-lever-that-serves-no-purpose",
    ),
    case(
        "Beijing would never dump its Treasuries, Capital Economics' Mark Williams says",
        ("CN", TH, "rules_out", ANALYST),
        id="a-plural-possessive-speaker-reports",
    ),
    case(
        "Ottawa will put its planned counter-tariffs on C$30 billion of American steel and "
        "aluminium products on hold for 30 days, the finance minister says",
        ("CA", TL, "open", GOV),
        id="put-a-long-object-on-hold",
    ),
    case(
        "Seoul will decide whether to impose counter-tariffs after the talks, the trade "
        "minister says",
        ("KR", TL, "open", GOV),
        id="deciding-whether-is-deliberation",
    ),
    case(
        "Brasilia will study whether the US tariff can be answered under the reciprocity law",
        ("BR", TL, "open", GOV),
        id="studying-whether-is-deliberation",
    ),
    case(
        "Oslo is not in a position to threaten retaliation over the US tariffs, Norway's "
        "prime minister says",
        ("NO", TL, "rules_out", GOV),
        id="not-in-a-position-to-use-the-lever",
    ),
    case(
        "TOKYO (Reuters) - The finance ministry has no intention of selling US Treasuries to "
        "win tariff concessions",
        ("JP", TH, "rules_out", GOV),
        id="a-dateline-capital-is-the-story-government-when-none-is-named",
    ),
    case(
        "TOKYO (Reuters) - Canada will not retaliate against the US steel tariffs, Ottawa's "
        "trade minister says",
        ("CA", TL, "rules_out", GOV),
        id="a-named-government-outranks-the-dateline",
    ),
    case(
        "Beijing has told state buyers to pause purchases of American soybeans",
        ("CN", TL, "acting", GOV),
        id="told-to-pause-purchases",
    ),
    case(
        "'Mexico is fighting back': retaliatory tariffs on US pork and cheese take effect",
        ("MX", TL, "acting", GOV),
        id="is-fighting-back-as-hits-back",
    ),
    case(
        "Tokyo's downgrade of Seoul on its list of preferred trading partners takes effect",
        ("JP", TL, "acting", GOV),
        id="a-downgrade-is-an-owned-measure",
    ),
    case(
        "Canada will use every tool in our toolbox if the 25% tariffs come, the prime minister "
        "says",
        ("CA", TL, "threatens", GOV),
        id="every-tool-in-the-toolbox",
    ),
    case(
        "Japan's finance minister raises the prospect of selling US Treasuries if talks fail",
        ("JP", TH, "open", GOV),
        id="raising-the-prospect",
    ),
    case(
        "Tokyo adds six Chinese firms to its export blacklist",
        ("JP", TL, "acting", GOV),
        id="added-to-an-export-blacklist",
    ),
    case(
        "Vietnam pledges more purchases of US aircraft and LNG to avert the 46% levy",
        ("VN", TL, "open", GOV),
        id="pledging-more-purchases",
    ),
    case(
        "Hanoi will buy $2 billion more of US soybeans, the trade minister says",
        ("VN", TL, "open", GOV),
        id="buying-an-amount-more",
    ),
    case(
        "A state think-tank economist raises the prospect of China dumping its Treasuries",
        ("CN", TH, "open", ANALYST),
        id="a-name-before-a-lever-gerund-acts",
    ),
    case(
        "Saudi Arabia's foreign minister warned US lawmakers it would sell its Treasuries if the "
        "bill passes",
        ("SA", TH, "threatens", GOV),
        id="the-issuer-named-first-is-not-the-holder",
    ),
    case(
        "Beijing calls off the planned extra 10% and 15% duties on US farm goods",
        ("CN", TL, "open", GOV),
        id="calling-off-duties-with-a-long-modifier",
    ),
    case(
        "The new export licensing is not a countermeasure, Japan's trade minister says",
        ("JP", TL, "rules_out", GOV),
        id="denying-a-measure-is-a-countermeasure",
    ),
    case(
        "China's foreign ministry denies it is payback for the arrest of the Huawei executive",
        ("CN", TL, "rules_out", GOV),
        id="payback-for-is-retaliation",
    ),
    case(
        "Japan could sell its Treasuries if pressed, a former Bank of Japan deputy governor says",
        ("JP", TH, "open", OTHER),
        id="a-former-official-speaks-for-no-government",
    ),
    case(
        "Indian officials have floated higher duties on US almonds in reply",
        ("IN", TL, "threatens", GOV),
        id="floating-duties-proposes-them",
    ),
    case(
        "Taiwan's central bank governor backs using its US Treasury holdings as a chip in the "
        "tariff talks",
        ("TW", TH, "open", GOV),
        id="as-a-chip-in-talks",
    ),
    case(
        "China's commerce ministry says a boycott of US goods is possible",
        ("CN", TL, "open", GOV),
        id="a-lever-said-possible",
    ),
    case(
        "Japan has no plans to sell its Treasuries, though it does not rule out intervention in "
        "the yen",
        ("JP", TH, "rules_out", GOV),
        id="a-non-exclusion-of-something-else-concedes-nothing",
    ),
    case(
        "Trump warns Japan against selling Treasuries, saying the US would retaliate",
        id="the-issuer-named-acting-is-no-holder",
    ),
    case(
        "'There is no reason for them to sell Treasuries,' Bessent tells CNBC of Beijing's "
        "holdings",
        ("CN", TH, "rules_out", OTHER),
        id="the-holder-of-whom-the-issuer-speaks",
    ),
    case(
        "Moscow rules out curbing titanium deliveries to the United States, Russia's industry "
        "minister says",
        ("RU", TL, "rules_out", GOV),
        id="curbing-deliveries-is-a-lever",
    ),
    case(
        "Russia would stop supplying nickel to Washington if the sanctions bill passes, the "
        "Duma budget committee chair says",
        ("RU", TL, "threatens", OTHER),
        id="a-committee-chair-is-a-legislator",
    ),
    case(
        "BEIJING - Ottawa should think again about its canola curbs, the commerce ministry says, "
        "vowing resolute countermeasures",
        ("CN", TL, "threatens", GOV),
        id="a-participle-after-says-is-the-speakers",
    ),
    case(
        "Seoul authorises first steps toward countermeasures; a trade panel has 60 days to "
        "review Washington's measures",
        ("KR", TL, "threatens", GOV),
        id="the-owner-of-a-measure-reviewed-is-not-the-reviewer",
    ),
]

LEVERLESS = [
    "Seoul and Washington hold a fifth round of talks, discussing non-tariff measures and chips",
    "Payback period for rooftop solar shrinks as panel prices fall",
    "Japan's cabinet will decide whether to extend the gasoline subsidy as tariffs bite",
    "The EU studies whether the US tariffs breach WTO rules",
    "US tariffs would hurt its own consumers most, Canada's finance minister says",
    "The new US tariffs make no sense, Canada's prime minister says",
    "OPEC+ agrees to halt supply increases as oil prices slump",
]


@pytest.mark.parametrize(("text", "expected"), GENERALISED)
def test_generalised_wording(text: str, expected: set[Row]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", LEVERLESS)
def test_generalised_wording_negatives(text: str) -> None:
    assert found(text) == set()


@pytest.mark.parametrize(
    "outlet", ["Reuters", "Kyodo", "Kyodo News", "Jiji Press", "Yonhap", "AFP", "Associated Press"]
)
def test_an_action_an_outlet_reports_is_the_outlet_s_statement(outlet: str) -> None:
    """A news agency credited in the sentence ("..., Kyodo reports") is a media speaker, as
    Reuters and Bloomberg are: the report is not yet the government's own word."""
    found = detect(f"China has halted imports of Japanese seafood, {outlet} reports")
    assert [(d.government, d.stance.value, d.speaker) for d in found] == [
        ("CN", "acting", Speaker.MEDIA)
    ]
