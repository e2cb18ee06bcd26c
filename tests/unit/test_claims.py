"""What a headline claims, for dedup (``streams.claims``): pure, no Redis."""

from __future__ import annotations

from dataclasses import replace

from streams.claims import Claim, claim
from streams.detect import Detector, detect
from streams.lexicon import Government, load_lexicon


def of(text: str) -> Claim:
    return claim(text, detect(text))


def test_denials_agree_with_negations_and_a_double_denial_does_not() -> None:
    rules_out = of("Mexico rules out retaliatory tariffs on US goods, Sheinbaum says")
    no_plans = of("Mexico has no plans for retaliatory tariffs on US goods, president says")
    declines = of("Mexico declines to rule out retaliatory tariffs on US goods")
    assert rules_out.polarity == no_plans.polarity == 1
    assert declines.polarity == 0


def test_figures_include_number_words_but_not_one() -> None:
    assert of("Ten-year yield hits 5% for the first time since 2007").figures == (
        "120mo",
        "2007",
        "5",
    )
    assert of("EU suspends countermeasures for six months").figures == ("6mo",)
    assert of("one of the biggest moves in a decade").figures == ()


def test_a_duration_is_one_figure_in_any_unit() -> None:
    days, months = (
        of("EU pauses countermeasures for 90 days"),
        of("EU pauses them for three months"),
    )
    assert days.figures == months.figures == ("3mo",)
    assert of("a 2-yr, 10-yr curve").figures == of("the 2-year, 10-year curve").figures
    assert of("tariffs paused for 100 days").figures == ("100d",)  # not three months
    assert of("a 12-week pause").figures == ("84d",)


def test_an_approximate_figure_is_within_an_exact_one_that_rounds_to_it() -> None:
    exact = of("Canada imposes 25% tariffs on C$29.8 billion of US goods")
    nearly = of("Canada slaps tariffs on nearly C$30 billion of American goods")
    # the exact figures of an approximate headline are any ("*"): the rounded ones decide
    assert nearly.figures == ("*",) and nearly.rounded == ("~30",)
    assert exact.figures == ("25", "29.8") and exact.rounded == ("~25", "~30")
    assert nearly.facts()[:2] == [",*,", ",~30,"]
    assert exact.facts()[:2] == [",25,29.8,", ",~25,~30,"]
    about = of("US to impose 25% tariffs on about $50 billion of Chinese goods")
    assert about.facts()[:2] == [",*,", ",~25,~50,"]  # within "tariffs on $50 billion"
    assert of("Canada imposes tariffs on about C$155 billion").rounded == ("~160",)
    assert of("China hits back 2 years on, in 2025").rounded == ("~2025", "~24mo")  # no ~2000


def test_a_count_of_the_rest_of_a_list_is_not_a_figure_of_the_claim() -> None:
    listed = of("India hits back with tariffs on almonds, apples and 26 other products")
    assert listed.figures == listed.rounded == () and listed.others == ("26",)
    assert listed.facts()[2] == ",26,"  # a fact of its own: not "walnuts and 5 others"
    assert of("India raises duties on 28 US products").figures == ("28",)
    assert of("US adds 26 more Chinese firms to its entity list").figures == ("26",)


def test_negations_are_whole_words() -> None:
    assert of("Norway sets new rules on Nov 3 for now, noting tariffs").polarity == 0
    assert of("Brazil will not impose tariffs for now").polarity == 1
    assert of("China cannot rule out countermeasures").polarity == 0


def test_goods_are_read_by_class() -> None:
    metals = of("Canada imposes 25% counter-tariffs on US steel and aluminium")
    assert metals.goods == ("metals",)
    critical = of("China retaliates with controls on critical metals")
    assert critical.goods == ("minerals",)  # the longer name wins: not also "metals"
    assert of("Canada imposes 25% counter-tariffs on US autos").goods == ("autos",)
    assert of("China hits US soybeans and pork with duties").goods == ("farm",)


def test_the_tag_holds_what_must_be_equal_and_the_facts_what_may_differ() -> None:
    a = of("China imposes 100% tariffs on Canadian canola oil and peas, 25% on pork")
    b = of("Beijing slaps 100% duties on canola from Canada in EV dispute")
    assert a.statements == b.statements and a.statements
    assert a.tags == b.tags  # same statements, levers and polarity: compared by their facts
    assert a.figures == ("100", "25") and b.figures == ("100",)
    assert a.facts()[:2] == [",100,25,", ",~100,~25,"] and b.facts()[:2] == [",100,", ",~100,"]
    flipped = of("China will not impose tariffs on Canadian canola oil and peas")
    assert flipped.tags != a.tags


def test_a_headline_without_statements_holds_its_facts_in_its_tag() -> None:
    ten = of("10-year Treasury yield rises to 4.5%")
    thirty = of("30-year Treasury yield rises to 4.5%")
    assert not ten.statements and ten.tags != thirty.tags  # no statements: facts in the tag
    credited = of("10-year Treasury yield rises to 4.5% - finance ministry")
    assert credited.speakers and credited.tags == ten.tags  # but not the kinds of speaker
    assert ten.facts() == [
        *(",120mo,4.5,", ",~120mo,~4.5,"),
        *(",", ",", ",", ",", ",", ","),
        ",treasuries,",
    ]
    assert thirty.facts()[0] == ",360mo,4.5,"


def test_a_dotted_date_or_figure_is_read_without_failing() -> None:
    assert of("EU will impose counter-tariffs from 01.04.2025, Sefcovic says").figures == (
        "1.04",
        "2025",
    )
    assert of("China buys 1,234,567 tonnes of US soybeans").figures == ("1234567",)


def test_an_attribution_to_nobody_known_is_a_speaker_of_another_kind() -> None:
    chair = of("EU should consider its anti-coercion tool, trade committee chair Lange says")
    analysts = of("EU should consider its anti-coercion tool, analysts say")
    unattributed = of("EU should consider its anti-coercion tool")
    assert chair.speakers == ("other",) and analysts.speakers == ("analyst",)
    assert unattributed.speakers == ()
    he = of("Japan will not use its Treasury holdings as leverage, he says")
    assert he.statements and he.speakers == ()  # with statements their speakers decide
    assert of("EU should consider its anti-coercion tool, she says").speakers == ()


def test_a_day_of_the_month_is_not_a_figure_but_a_fact_of_its_own() -> None:
    dated = of("China hits back with tariffs on $60 billion of US goods starting June 1")
    assert dated.figures == ("60",) and dated.rounded == ("~60",)
    assert dated.dates == ("06-01",) and dated.facts()[3] == ",06-01,"
    shouted = of("CHINA DELAYS TARIFFS ON US GOODS TO JUNE 2")
    assert shouted.dates == ("06-02",) and shouted.figures == ()
    assert of("India delays its tariffs to 17 Dec.").dates == ("12-17",)
    assert of("India delays its tariffs to Dec. 17").dates == ("12-17",)
    assert of("Canada drops counter-tariffs as of Sept. 1, keeps 25% on steel").figures == ("25",)
    assert of("US raises tariffs on steel to 50% on June 4").figures == ("50",)


def test_an_outlet_credit_at_the_end_is_not_part_of_the_headline() -> None:
    credited = of("Japan has not discussed its Treasury holdings with Bessent, Kato says - Reuters")
    plain = of("Japan has not discussed its Treasury holdings with Bessent, Kato says")
    assert credited == plain


def test_idioms_whose_negation_denies_nothing() -> None:
    forced = of("China says it had no choice but to strike back with tariffs")
    assert forced.polarity == 0
    assert of("China pushes back on report it may halt Treasury buying").polarity == 1
    ignores = of("Beijing vows to disregard any further US tariff increases")
    assert ignores.polarity == of("China says it will no longer respond to US hikes").polarity


def test_levers_are_facts_not_part_of_the_tag() -> None:
    weapon = of("Chinese state media signals Beijing could use rare earths as a weapon")
    measure = of("People's Daily hints China may cut rare earths as a trade war countermeasure")
    assert weapon.levers == ("exports",) and measure.levers == ("exports", "tariffs")
    assert weapon.facts()[-1] == ",exports," and measure.facts()[-1] == ",exports,tariffs,"


def test_goods_of_the_measure_answered_are_a_fact_of_their_own() -> None:
    pork = of("China imposes tariffs on US pork in retaliation for metals tariffs")
    assert pork.goods == ("farm",) and pork.answered == ("metals",)
    steel = of("India proposes retaliatory duties on US over steel and aluminium tariffs")
    autos = of("India proposes retaliatory duties on US over auto tariffs")
    assert steel.tags == autos.tags and steel.answered != autos.answered


def test_typography_and_look_alikes() -> None:
    curly, straight = of("Japan won\u2019t use its holdings"), of("Japan won't use its holdings")
    assert curly.polarity == straight.polarity == 1
    assert of("US yields highest in 2 decades").figures == ("240mo",)  # "Decades": no month
    assert of("China, the No. 2 economy, imposes tariffs").polarity == 0


def test_the_claim_names_governments_by_the_workers_lexicon() -> None:
    """A worker on another lexicon (or a reloaded one) reads the claim's governments with it,
    not with the packaged one: a government only its lexicon knows is a fact."""
    packaged = load_lexicon()
    extra = Government(kind="government", code="XF", names=("Freedonia",))
    detector = Detector(replace(packaged, governments=(*packaged.governments, extra)))
    text = "Freedonia rules out using its Treasury holdings as leverage"
    assert claim(text, [], detector).governments == ("XF",)
    assert claim(text, []).governments == ()


def test_each_statement_has_its_own_tag() -> None:
    """A lead that adds another actor's statement: the repeated statement keeps the tag of
    the headline that carries it alone (so the two are compared), the added one has its own."""
    lula = "Lula says Brazil will respond to US 50% tariff under reciprocity law"
    alone = of(lula)
    led = of(
        f"{lula}. Separately, Finance Minister Kato said Japan has no intention of using its "
        "US Treasury holdings as a negotiating tool"
    )
    assert len(alone.tags) == 1 and len(led.tags) == len(led.statements) == 2
    assert dict(zip(led.statements, led.tags, strict=True))[alone.statements[0]] == alone.tags[0]
    assert of(lula.replace("will respond", "will not respond")).tags != alone.tags
