"""Detection: who said what about which lever, from a headline's text. Pure: no I/O, no Faust.

How a text is read:

1. A prefilter (one compiled alternation of every topic term) drops wire traffic that
   mentions no lever at all; most headlines stop there.
2. The text is cut into sentences, and each sentence is scanned for *cues*: stance cues
   (ordered, most specific first, so "not ruling out" is read before "ruling out"),
   speaker cues ("analysts", "the finance minister") and government mentions.
3. Each stance cue is attributed to the nearest speaker cue before it in its sentence
   ("despite analysts suggesting Japan could ..., officials said it will not" gives the
   analysts' "could" and the officials' "will not" to different speakers), and to the
   government mentioned nearest before it (after it when none is before), skipping the
   United States where it is only the counterpart ("US Treasuries", "tariffs on US goods").
4. A cue inside a background clause ("after earlier remarks suggested ...") is history,
   not the current stance, and is dropped.
5. Per government, topic and speaker one statement is kept: the strongest stance
   (rules_out > acting > threatens > open), with its sentence as evidence.

The first detector of the project; the full engine (lexicon as data, officials by term of
office, calibrated confidence) replaces the tables here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from schemas import Speaker, Stance, Topic


@dataclass(frozen=True, slots=True)
class Detection:
    """One statement found in a text, with what decided it."""

    government: str
    topic: Topic
    stance: Stance
    speaker: Speaker
    confidence: float
    evidence: str
    cue: str


def _words(*alternatives: str) -> str:
    return r"\b(?:" + "|".join(alternatives) + r")\b"


# --- governments --------------------------------------------------------------------------

GOVERNMENT_ALIASES: dict[str, tuple[str, ...]] = {
    "JP": ("Japan", "Japanese", "Tokyo", "Kato", "Ishiba", "Takaichi", "Bank of Japan", "BOJ"),
    "CN": ("China", "Chinese", "Beijing", "He Lifeng", "Xi Jinping", "Xi", "Li Qiang", "MOFCOM"),
    "US": (
        "United States",
        "U\\.S\\.",
        "US",
        "Washington",
        "White House",
        "Trump",
        "Bessent",
        "Lutnick",
        "Greer",
    ),
    "CA": ("Canada", "Canadian", "Ottawa", "Carney", "Trudeau", "LeBlanc", "Champagne"),
    "MX": ("Mexico", "Mexican", "Sheinbaum", "Ebrard"),
    "EU": (
        "European Union",
        "EU",
        "Brussels",
        "European Commission",
        "von der Leyen",
        "Sefcovic",
        "Šefčovič",
    ),
    "KR": ("South Korea", "Korea", "Korean", "Seoul"),
    "IN": ("India", "Indian", "New Delhi", "Delhi", "Modi", "Goyal"),
    "BR": ("Brazil", "Brazilian", "Brasilia", "Lula"),
    "GB": ("Britain", "British", "United Kingdom", "UK", "London", "Starmer", "Reeves"),
    "DE": ("Germany", "German", "Berlin", "Merz"),
    "FR": ("France", "French", "Paris", "Macron"),
    "AU": ("Australia", "Australian", "Canberra", "Albanese"),
    "SA": ("Saudi Arabia", "Saudi", "Riyadh"),
    "CH": ("Switzerland", "Swiss", "Bern"),
    "TW": ("Taiwan", "Taiwanese", "Taipei"),
}

_GOVERNMENT_PATTERN = re.compile(
    "|".join(
        rf"(?P<{code}>\b(?:{'|'.join(sorted(aliases, key=len, reverse=True))})(?![\w.]))"
        for code, aliases in GOVERNMENT_ALIASES.items()
    )
)

# The US as the counterpart of a statement, not its speaker.
_US_AS_OBJECT_AFTER = re.compile(
    r"\s*(?:-|'s\s+)?(?:treasur|debt|bonds?|goods|imports?|products|exports?|tariffs?|"
    r"government\s+bonds|farm|soybeans?|assets|dollar|securities|trade\s+talks|deal|"
    r"negotiat|counterpart|duties|levies|market|firms?|companies|chips?|lng)",
    re.IGNORECASE,
)
_US_AS_OBJECT_BEFORE = re.compile(
    r"(?:with|against|on|to|from|toward|towards|at|into|of|versus|vs\.?)\s+(?:the\s+)?$",
    re.IGNORECASE,
)

# --- topics -------------------------------------------------------------------------------

_TREASURY_TERMS = (
    r"(?:U\.?S\.?|American|US)\s+(?:government\s+)?(?:debt|bonds)",
    r"treasuries",
    r"treasury\s+(?:holdings|securities|bonds|notes|portfolio|stockpile|pile)",
    r"holdings\s+of\s+(?:U\.?S\.?\s+)?(?:treasur\w+|government\s+debt|debt)",
)
_TRADE_TERMS = (
    r"tariffs?(?!\s+(?:talks|negotiations|discussions|deal))",
    r"counter-?\s?measures?",
    r"counter-?tariffs?",
    r"retaliat\w*",
    r"export\s+(?:controls?|curbs?|bans?|restrictions?|licen[cs]\w*)",
    r"rare[-\s]earths?",
    r"soybeans?",
    r"reciprocity",
    r"anti-coercion",
    r"trade\s+bazooka",
    r"levies",
    r"duties",
    r"purchases?\s+of\s+(?:U\.?S\.?\s+|American\s+)?(?:LNG|soybeans|energy|farm|goods)",
)
_TOPIC_PATTERNS: dict[Topic, re.Pattern[str]] = {
    Topic.TREASURY_HOLDINGS: re.compile(_words(*_TREASURY_TERMS), re.IGNORECASE),
    Topic.TRADE_LEVERAGE: re.compile(_words(*_TRADE_TERMS), re.IGNORECASE),
}
_PREFILTER = re.compile(_words(*_TREASURY_TERMS, *_TRADE_TERMS), re.IGNORECASE)

# Treasury mentions that are not the securities as a lever.
_NOT_TREASURY_LEVER = re.compile(
    _words(
        r"treasur(?:y|ies)\s+(?:yields?|auctions?|market\s+(?:rally|selloff|sell-off))",
        r"yields?\s+on\s+(?:U\.?S\.?\s+)?treasuries",
    ),
    re.IGNORECASE,
)

# --- stance cues (ordered: the first pattern that matches at a position wins) ---------------

_NEG = r"(?:not|never|no|\w+n't)"
_STANCE_CUES: tuple[tuple[str, Stance, str], ...] = (
    # Negated rejections and hesitations first: they contain the words of stronger cues.
    (
        "open.not_ruling_out",
        Stance.OPEN,
        rf"{_NEG}\s+(?:\w+\s+)?rul(?:e|es|ed|ing)\s+(?:it\s+)?out",
    ),
    ("open.not_exclude", Stance.OPEN, rf"{_NEG}\s+(?:\w+\s+)?exclud\w*"),
    ("threatens.not_hesitate", Stance.THREATENS, rf"{_NEG}\s+(?:\w+\s+)?hesitate"),
    # rules_out
    ("rules_out.no_intention", Stance.RULES_OUT, r"no\s+(?:intention|plans?|desire)\s+(?:of|to)"),
    ("rules_out.rule_out", Stance.RULES_OUT, r"rul(?:e|es|ed|ing)\s+out"),
    (
        "rules_out.not_card",
        Stance.RULES_OUT,
        r"(?:not|never)\s+(?:be\s+)?(?:a|an|as\s+a|used\s+as\s+a)\s+"
        r"(?:card|weapon|bargaining\s+chip|negotiating\s+tool|tool|lever)",
    ),
    (
        "rules_out.will_not_use",
        Stance.RULES_OUT,
        r"(?:will|would|does|do|did|is|are|was|has|have)\s*(?:not|n't)(?!\s+hesitate)\s+"
        r"(?:\w+\s+){0,2}?(?:use|using|sell|selling|dump|dumping|weaponi[sz]e|retaliat\w*|"
        r"impose|considering|consider|seek|plan|respond\w*)",
    ),
    (
        "rules_out.will_not",
        Stance.RULES_OUT,
        r"(?:will|would)\s+not(?=\s*(?:[.,;]|$))|won't(?=\s*(?:[.,;]|$))",
    ),
    (
        "rules_out.wont",
        Stance.RULES_OUT,
        r"won't\s+(?:\w+\s+){0,2}?(?:use|sell|dump|retaliat\w*|impose)",
    ),
    (
        "rules_out.not_considering",
        Stance.RULES_OUT,
        r"not\s+(?:currently\s+)?(?:considering|considered|contemplating|on\s+the\s+table)",
    ),
    (
        "rules_out.refrain",
        Stance.RULES_OUT,
        r"refrain\w*\s+from|holds?\s+off\s+on|no\s+retaliat\w*",
    ),
    (
        "rules_out.dismiss",
        Stance.RULES_OUT,
        r"(?:dismiss\w*|reject\w*|den(?:y|ies|ied))\s+(?:\w+\s+){0,3}?"
        r"(?:idea|suggestions?|speculation|talk|reports?|calls?)",
    ),
    # acting: a measure taken (no modal before it; see _MODAL)
    (
        "acting.imposes",
        Stance.ACTING,
        r"(?:impos\w*|slap\w*|levie[sd]|put\s+in\s+place|enact\w*|"
        r"(?:hits?|hitting)\s+(?:\w+\s+){0,4}?with)",
    ),
    ("acting.retaliated", Stance.ACTING, r"retaliat(?:es|ed)\b(?!\s+against\s+\w+\s+if)"),
    (
        "acting.halts",
        Stance.ACTING,
        r"(?:halt\w*|suspend\w*|stop(?:s|ped)|freez\w*|cut\s+off|curb(?:s|ed)|restrict(?:s|ed)|"
        r"tighten(?:s|ed)|expand(?:s|ed)|ban(?:s|ned))\s+(?:\w+\s+){0,4}?"
        r"(?:purchases?|imports?|exports?|buying|controls?|shipments?|sales?)",
    ),
    (
        "acting.announces",
        Stance.ACTING,
        r"(?:announc\w*|unveil\w*|launch\w*|approv\w*|adopt\w*|introduc\w*|"
        r"rolls?\s+out|rolled\s+out)\s+(?:\w+\s+){0,4}?"
        r"(?:counter-?\s?measures?|retaliat\w*|export\s+controls?|tariffs?|curbs?)",
    ),
    (
        "acting.sold",
        Stance.ACTING,
        r"(?:sold|offloaded|dumped)\s+(?:\w+\s+){0,3}?(?:treasur\w+|holdings|bonds)",
    ),
    # threatens
    ("threatens.warns", Stance.THREATENS, r"warn\w*|threat\w*|vow\w*|pledg\w*\s+to\s+retaliat\w*"),
    (
        "threatens.fight",
        Stance.THREATENS,
        r"fight\s+to\s+the\s+end|firmly\s+(?:respond|counter)\w*",
    ),
    (
        "threatens.will_respond",
        Stance.THREATENS,
        r"(?:will|would|shall|is\s+ready\s+to|stands\s+ready\s+to|prepared\s+to|plans?\s+to|set\s+to)"
        r"\s+(?:\w+\s+){0,2}?(?:retaliat\w*|respond\w*|counter\w*|impose|hit\s+back|strike\s+back)",
    ),
    ("threatens.hit_back", Stance.THREATENS, r"hit\w*\s+back|strike\w*\s+back"),
    # open
    (
        "open.on_the_table",
        Stance.OPEN,
        r"on\s+the\s+table|all\s+options|an?\s+option|keep\w*\s+(?:\w+\s+){0,3}?open",
    ),
    (
        "open.card",
        Stance.OPEN,
        r"(?:a|one|as\s+a|its)\s+(?:\w+\s+)?(?:card|bargaining\s+chip|negotiating\s+tool|lever|leverage)",
    ),
    (
        "open.could_use",
        Stance.OPEN,
        r"(?:could|may|might|can)\s+(?:\w+\s+){0,2}?(?:use|be\s+used|sell|be\s+leveraged|"
        r"leverage|dump|weaponi[sz]e|retaliat\w*|impose)",
    ),
    ("open.considering", Stance.OPEN, r"consider\w*|weigh\w*|mull\w*|studying|explor\w*"),
    ("open.leverage", Stance.OPEN, r"leverage|bargaining\s+chip|negotiating\s+tool|weapon\w*"),
)
_STANCE_PATTERN = re.compile(
    "|".join(rf"(?P<c{i}>\b(?:{pattern}))" for i, (_, _, pattern) in enumerate(_STANCE_CUES)),
    re.IGNORECASE,
)

# A modal before an "acting" cue makes it a threat ("will impose") or an option ("could").
_MODAL_THREAT = re.compile(
    r"(?:will|would|shall|to|plans?\s+to|set\s+to|ready\s+to|prepared\s+to|threatens?\s+to|"
    r"vows?\s+to)\s+(?:\w+\s+){0,1}$",
    re.IGNORECASE,
)
_MODAL_OPEN = re.compile(r"(?:could|may|might|can|consider\w*)\s+(?:\w+\s+){0,1}$", re.IGNORECASE)

# --- speakers -----------------------------------------------------------------------------

_SPEAKER_CUES: tuple[tuple[Speaker, re.Pattern[str]], ...] = (
    (
        Speaker.ANALYST,
        re.compile(
            _words(
                r"analysts?",
                r"economists?",
                r"strategists?",
                r"investors?",
                r"traders?",
                r"market\s+(?:watchers|participants|players)",
                r"experts?",
                r"observers?",
                r"academics?",
                r"scholars?",
                r"fund\s+managers?",
                r"think[-\s]tanks?",
                r"research\s+notes?",
                r"speculation",
            ),
            re.IGNORECASE,
        ),
    ),
    (
        Speaker.MEDIA,
        re.compile(
            _words(
                r"state\s+media",
                r"editorials?",
                r"commentary",
                r"columnists?",
                r"op-eds?",
                r"tabloids?",
                r"Global\s+Times",
                r"People's\s+Daily",
            ),
            re.IGNORECASE,
        ),
    ),
    (
        Speaker.OTHER,
        re.compile(_words(r"sources", r"people\s+familiar", r"lawmakers?", r"opposition"), re.I),
    ),
    (
        Speaker.GOVERNMENT,
        re.compile(
            _words(
                r"(?:prime\s+|finance\s+|trade\s+|commerce\s+|foreign\s+)?ministers?",
                r"ministry",
                r"premier",
                r"president",
                r"spokes(?:man|woman|person)",
                r"government",
                r"officials?",
                r"cabinet",
                r"chancellor",
                r"secretary",
                r"commission(?:er)?",
                r"governor",
                r"negotiators?",
                r"PM",
                r"administration",
            ),
            re.IGNORECASE,
        ),
    ),
)

# Clause openers whose clause tells what was, not what is.
_BACKGROUND = re.compile(
    r"(?:^|[,;:]\s*|\b)(?:after|following|despite|although|though|earlier|previously|"
    r"last\s+(?:week|month|year))\b[^,;]*",
    re.IGNORECASE,
)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])|\s+[-\u2013\u2014:]\s+(?=[A-Z])|\n+")

_STANCE_RANK = {Stance.RULES_OUT: 4, Stance.ACTING: 3, Stance.THREATENS: 2, Stance.OPEN: 1}


@dataclass(frozen=True, slots=True)
class _Cue:
    start: int
    end: int
    rule: str
    stance: Stance


def detect(text: str) -> list[Detection]:
    """Every statement in ``text``, one per government, topic and speaker."""
    if _PREFILTER.search(text) is None:
        return []
    sentences = [s.strip() for s in _SENTENCE_SPLIT.split(text) if s.strip()]
    text_topics = _topics(text)
    text_government = _first_government(sentences)
    best: dict[tuple[str, Topic, Speaker], Detection] = {}
    for sentence in sentences:
        for detection in _sentence_statements(sentence, text_topics, text_government):
            key = (detection.government, detection.topic, detection.speaker)
            held = best.get(key)
            if held is None or _STANCE_RANK[detection.stance] > _STANCE_RANK[held.stance]:
                best[key] = detection
    return list(best.values())


def _topics(text: str) -> list[Topic]:
    found = []
    for topic, pattern in _TOPIC_PATTERNS.items():
        match = pattern.search(text)
        if match is None:
            continue
        if topic is Topic.TREASURY_HOLDINGS and _only_market_treasuries(text, pattern):
            continue
        found.append(topic)
    return found


def _only_market_treasuries(text: str, pattern: re.Pattern[str]) -> bool:
    """True when every Treasury mention is about yields or auctions, not holdings."""
    market = [m.span() for m in _NOT_TREASURY_LEVER.finditer(text)]
    return all(
        any(start <= m.start() < end for start, end in market) for m in pattern.finditer(text)
    )


def _sentence_statements(
    sentence: str, text_topics: list[Topic], text_government: str | None
) -> Iterable[Detection]:
    terms = _topic_terms(sentence)
    if not terms and len(text_topics) == 1:
        terms = [(0, text_topics[0])]
    if not terms:
        return
    cues = _stance_cues(sentence)
    if not cues:
        return
    background = [m.span() for m in _BACKGROUND.finditer(sentence)]
    speakers = _speaker_cues(sentence)
    governments = _government_mentions(sentence)
    for cue in cues:
        if any(start <= cue.start < end for start, end in background):
            continue
        speaker, explicit_speaker = _speaker_before(speakers, cue.start)
        government = _government_for(governments, cue.start) or text_government
        if government is None:
            continue
        if speaker is None:
            # "Japan won't use ...": a government named as the subject speaks for itself.
            speaker = Speaker.GOVERNMENT
        confidence = 0.9 if explicit_speaker and governments else 0.75
        if not governments:
            confidence = 0.6
        yield Detection(
            government=government,
            topic=_nearest_topic(terms, cue),
            stance=cue.stance,
            speaker=speaker,
            confidence=confidence,
            evidence=sentence,
            cue=cue.rule,
        )


def _topic_terms(sentence: str) -> list[tuple[int, Topic]]:
    """Where each topic is named in a sentence (Treasury mentions about yields left out)."""
    return sorted(
        (match.start(), topic)
        for topic in _topics(sentence)
        for match in _TOPIC_PATTERNS[topic].finditer(sentence)
    )


def _nearest_topic(terms: list[tuple[int, Topic]], cue: _Cue) -> Topic:
    """The topic named nearest the cue: the lever a cue is about is its object or subject."""
    return min(terms, key=lambda term: min(abs(term[0] - cue.start), abs(term[0] - cue.end)))[1]


def _stance_cues(sentence: str) -> list[_Cue]:
    cues = []
    for match in _STANCE_PATTERN.finditer(sentence):
        assert match.lastgroup is not None
        rule, stance, _ = _STANCE_CUES[int(match.lastgroup[1:])]
        if stance is Stance.ACTING:
            before = sentence[: match.start()]
            if _MODAL_THREAT.search(before):
                rule, stance = rule.replace("acting.", "threatens.modal_"), Stance.THREATENS
            elif _MODAL_OPEN.search(before):
                rule, stance = rule.replace("acting.", "open.modal_"), Stance.OPEN
        cues.append(_Cue(match.start(), match.end(), rule, stance))
    return cues


def _speaker_cues(sentence: str) -> list[tuple[int, Speaker, bool]]:
    """Speaker cues as (position, speaker, reports): ``reports`` when it is the subject of a
    reporting verb ("analysts said"), which is what attributes a claim to a speaker."""
    found = [
        (match.start(), speaker, _reports(sentence, match.start(), match.end()))
        for speaker, pattern in _SPEAKER_CUES
        for match in pattern.finditer(sentence)
    ]
    # A named official speaks for a government even without a title.
    found.extend(
        (start, Speaker.GOVERNMENT, _reports(sentence, start, end))
        for start, end, code, alias in _government_spans(sentence)
        if alias in _OFFICIALS.get(code, ())
    )
    return sorted(found, key=lambda cue: cue[0])


def _reports(sentence: str, start: int, end: int) -> bool:
    return bool(_REPORTING_AFTER.match(sentence, end) or _ACCORDING_TO.search(sentence[:start]))


_REPORTING_AFTER = re.compile(
    r"(?:\s+[\w'.-]+){0,3}?\s+(?:says?|said|saying|suggest\w*|argu\w*|expect\w*|believe\w*|"
    r"speculat\w*|reckon\w*|not(?:e|es|ed)|told|tells?|stated?|states|stress\w*|insist\w*|"
    r"reiterat\w*|add(?:s|ed)|wr(?:ote|ites)|see|think|claim\w*|predict\w*|point(?:s|ed)\s+out|"
    r"made\s+clear|signal\w*|indicat\w*)\b",
    re.IGNORECASE,
)
_ACCORDING_TO = re.compile(r"according\s+to\s+(?:\w+\s+){0,2}$", re.IGNORECASE)


def _speaker_before(
    speakers: list[tuple[int, Speaker, bool]], position: int
) -> tuple[Speaker | None, bool]:
    """The speaker a stance cue at ``position`` is attributed to, and whether it was explicit.

    A reporting speaker before the cue wins ("analysts say the government could sell" is the
    analysts' claim); then one after it ("Japan could sell, analysts say"); then the nearest
    plain mention before it ("Finance Minister Kato rules out ...").
    """
    reporting_before = [s for start, s, reports in speakers if reports and start < position]
    if reporting_before:
        return reporting_before[-1], True
    reporting_after = [s for start, s, reports in speakers if reports and start >= position]
    if reporting_after:
        return reporting_after[0], True
    before = [s for start, s, _ in speakers if start < position]
    if before:
        return before[-1], True
    return None, False


_OFFICIALS: dict[str, frozenset[str]] = {
    "JP": frozenset({"Kato", "Ishiba", "Takaichi"}),
    "CN": frozenset({"He Lifeng", "Xi Jinping", "Xi", "Li Qiang"}),
    "US": frozenset({"Trump", "Bessent", "Lutnick", "Greer"}),
    "CA": frozenset({"Carney", "Trudeau", "LeBlanc", "Champagne"}),
    "MX": frozenset({"Sheinbaum", "Ebrard"}),
    "EU": frozenset({"von der Leyen", "Sefcovic", "Šefčovič"}),
    "IN": frozenset({"Modi", "Goyal"}),
    "BR": frozenset({"Lula"}),
    "GB": frozenset({"Starmer", "Reeves"}),
    "DE": frozenset({"Merz"}),
    "FR": frozenset({"Macron"}),
    "AU": frozenset({"Albanese"}),
}


def _government_spans(sentence: str) -> list[tuple[int, int, str, str]]:
    spans = []
    for match in _GOVERNMENT_PATTERN.finditer(sentence):
        code = match.lastgroup
        assert code is not None
        spans.append((match.start(), match.end(), code, match.group()))
    return spans


def _government_mentions(sentence: str) -> list[tuple[int, str]]:
    mentions = []
    for start, end, code, _alias in _government_spans(sentence):
        if code == "US" and (
            _US_AS_OBJECT_AFTER.match(sentence, end)
            or _US_AS_OBJECT_BEFORE.search(sentence[:start])
        ):
            continue
        mentions.append((start, code))
    return mentions


def _government_for(mentions: list[tuple[int, str]], position: int) -> str | None:
    before = [code for start, code in mentions if start < position]
    if before:
        return before[-1]
    after = [code for start, code in mentions if start >= position]
    return after[0] if after else None


def _first_government(sentences: list[str]) -> str | None:
    for sentence in sentences:
        mentions = _government_mentions(sentence)
        if mentions:
            return mentions[0][1]
    return None
