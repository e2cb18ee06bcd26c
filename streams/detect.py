"""Detection: who said what about which lever, from a headline's text. Pure: no I/O, no Faust.

How a text is read:

1. A prefilter (one compiled alternation of every topic term) drops wire traffic that
   mentions no lever at all; most headlines stop there. Treasury mentions that are market
   moves ("yields", "auction", "Treasuries rallied") are not the lever.
2. The text is cut into sentences, and each sentence is scanned for *cues*: stance cues
   (ordered, most specific first, so "not ruling out" is read before "ruling out"),
   speaker cues ("analysts", "the finance minister", "Eurasia Group") and government
   mentions. A stance cue is then read in its surroundings:

   - a modal before an action makes it a threat or an option ("will impose", "could impose");
     a condition after it makes it a threat ("approves counter-tariffs ... if no deal");
     an action with a hypothetical subject ("any country which retaliates", "if Washington
     raises tariffs") is none; a measure put on hold or kept ready is an option, one kept in
     place is in force;
   - a rejection scopes over the rest of its clause: "rules out using them as a weapon" and
     "is not weighing any sale as leverage" carry no "weapon"/"leverage" option of their own;
     a contrasted alternative is not asserted ("rather than a threat to dump them");
   - an imperative addressed to others ("'Do not retaliate', X warns") is not X ruling out;
   - a warning is a threat only when it warns of a response ("warns of countermeasures"),
     not of a slowdown; "analysts warn" is the analysts' verb, not anyone's threat.
3. Each stance cue is attributed to the nearest speaker cue before it in its sentence
   ("despite analysts suggesting Japan could ..., officials said it will not" gives the
   analysts' "could" and the officials' "will not" to different speakers), and to the
   government mentioned nearest before it (after it when none is before), skipping the
   United States where it is only the counterpart ("US Treasuries", "tariffs on US goods",
   "answering Washington's steel tariffs"). A named official speaks for a government
   ("Kato", "Bessent", "He Lifeng", "Carney"), but not in the possessive ("Kato's remark" is
   a mention). Party politicians, business and unnamed "sources" are ``other``
   ("government sources" are the government); a piece labelled "Analysis:" or "Opinion:" is
   the outlet's voice (``media``) unless it quotes an analyst.
4. A government's cue inside a background clause ("after earlier remarks suggested ...",
   "who last month said ...") is history, not the current stance: it stands only for the
   text's own government (the first one named) and only when the text says nothing current
   for that government, topic and speaker. Speculation by others in such a clause
   ("despite analysts suggesting ...") is still reported as theirs.
5. A cue is about the topic named nearest it, preferring a lever to the counterpart's
   measure it answers ("its Treasury holdings as a weapon against US tariffs" is about the
   holdings); "retaliate"/"countermeasures" take the lever their clause goes on to name
   ("retaliate by selling its Treasury holdings").
6. Per government, topic and speaker one statement is kept: the strongest stance
   (rules_out > acting > threatens > open), with its sentence as evidence.

Every pattern is compiled at import; a call only runs them.

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


_APOS = "['\u2019]"
_GAP = r"(?:\S+\s+)"  # one token of filler ("25%", "U.S.-made", "high-denomination")

# --- governments --------------------------------------------------------------------------

_OFFICIALS: dict[str, frozenset[str]] = {
    "JP": frozenset({"Kato", "Ishiba", "Takaichi", "Akazawa", "Hayashi"}),
    "CN": frozenset(
        {"He Lifeng", "Xi Jinping", "Xi", "Li Qiang", "Wang Wentao", "Wang Yi", "Lin Jian"}
    ),
    "US": frozenset({"Trump", "Bessent", "Lutnick", "Greer", "Rubio", "Navarro", "Hassett"}),
    "CA": frozenset({"Carney", "Trudeau", "LeBlanc", "Champagne", "Joly", "Freeland"}),
    "MX": frozenset({"Sheinbaum", "Ebrard"}),
    "EU": frozenset({"von der Leyen", "Von der Leyen", "Sefcovic", "Šefčovič"}),
    "KR": frozenset({"Lee Jae-myung", "Yoon Suk Yeol"}),
    "IN": frozenset({"Modi", "Goyal", "Jaishankar"}),
    "BR": frozenset({"Lula", "Alckmin", "Haddad"}),
    "GB": frozenset({"Starmer", "Reeves"}),
    "DE": frozenset({"Merz", "Scholz"}),
    "FR": frozenset({"Macron"}),
    "AU": frozenset({"Albanese", "Chalmers"}),
}

GOVERNMENT_ALIASES: dict[str, tuple[str, ...]] = {
    "JP": ("Japan", "Japanese", "Tokyo", "Bank of Japan", "BOJ", *_OFFICIALS["JP"]),
    "CN": ("China", "Chinese", "Beijing", "MOFCOM", *_OFFICIALS["CN"]),
    "US": (
        "United States",
        "U\\.S\\.",
        "US",
        "Washington",
        "White House",
        *_OFFICIALS["US"],
    ),
    "CA": ("Canada", "Canadian", "Ottawa", *_OFFICIALS["CA"]),
    "MX": ("Mexico", "Mexican", *_OFFICIALS["MX"]),
    "EU": ("European Union", "EU", "Brussels", "European Commission", *_OFFICIALS["EU"]),
    "KR": ("South Korea", "Korea", "Korean", "Seoul", *_OFFICIALS["KR"]),
    "IN": ("India", "Indian", "New Delhi", "Delhi", *_OFFICIALS["IN"]),
    "BR": ("Brazil", "Brazilian", "Brasilia", *_OFFICIALS["BR"]),
    "GB": ("Britain", "British", "United Kingdom", "UK", "London", *_OFFICIALS["GB"]),
    "DE": ("Germany", "German", "Berlin", *_OFFICIALS["DE"]),
    "FR": ("France", "French", "Paris", *_OFFICIALS["FR"]),
    "AU": ("Australia", "Australian", "Canberra", *_OFFICIALS["AU"]),
    "SA": ("Saudi Arabia", "Saudi", "Riyadh"),
    "CH": ("Switzerland", "Swiss", "Bern"),
    "TW": ("Taiwan", "Taiwanese", "Taipei"),
}


def _with_capitals(names: Iterable[str]) -> list[str]:
    """Names as written and in capitals ("JAPAN'S KATO SAYS ..." in a wire flash); not
    case-insensitive, which would read "us" as the United States."""
    return list(dict.fromkeys(variant for name in names for variant in (name, name.upper())))


_GOVERNMENT_PATTERN = re.compile(
    r"\b(?:"
    + "|".join(
        rf"(?P<{code}>{'|'.join(sorted(_with_capitals(aliases), key=len, reverse=True))})"
        for code, aliases in GOVERNMENT_ALIASES.items()
    )
    + r")(?![\w.])"
)
_OFFICIAL_NAMES = {code: frozenset(_with_capitals(names)) for code, names in _OFFICIALS.items()}

# The US as the counterpart of a statement, not its speaker.
_US_AS_OBJECT_AFTER = re.compile(
    r"\s*(?:-|'s\s+|\u2019s\s+)?(?:treasur|debt|bonds?|goods|imports?|products|exports?|"
    r"tariffs?|government\s+bonds|farm|soybeans?|assets|dollar|securities|trade\s+talks|deal|"
    r"negotiat|counterpart|duties|levies|market|firms?|companies|chips?|lng)"
    # "Washington's steel and aluminium tariffs": the US's measure, answered by the speaker
    r"|\s*['\u2019]s\s+(?:\S+\s+){1,3}?(?:tariffs?|duties|levies|curbs|sanctions)",
    re.IGNORECASE,
)
_US_AS_OBJECT_BEFORE = re.compile(
    r"(?:with|against|on|to|from|toward|towards|at|into|of|versus|vs\.?|answering|"
    r"over|in\s+response\s+to)\s+(?:the\s+)?$",
    re.IGNORECASE,
)

# --- topics -------------------------------------------------------------------------------

_TREASURY_TERMS = (
    r"(?:U\.?S\.?|American|US)\s+(?:government\s+)?(?:debt|bonds?)",
    r"treasuries",
    r"treasury\s+['\"\u2018\u2019]?(?:holdings|securities|bonds|notes|portfolio|stockpile|pile|"
    r"stash|card|selling|sales)",
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
    r"critical\s+minerals",
    r"(?:halt|suspen[ds]|ban|curb|stop|restrict|freez)\w*\s+(?:\S+\s+){0,2}?"
    r"(?:exports?|imports?|purchases?|shipments?)",
)
_TOPIC_PATTERNS: dict[Topic, re.Pattern[str]] = {
    Topic.TREASURY_HOLDINGS: re.compile(_words(*_TREASURY_TERMS), re.IGNORECASE),
    Topic.TRADE_LEVERAGE: re.compile(_words(*_TRADE_TERMS), re.IGNORECASE),
}
_PREFILTER = re.compile(_words(*_TREASURY_TERMS, *_TRADE_TERMS), re.IGNORECASE)

# Treasury mentions that are not the securities as a lever.
_NOT_TREASURY_LEVER = re.compile(
    _words(
        r"treasur(?:y|ies)\s+(?:yields?|auctions?|(?:market\s+)?(?:rally|selloff|sell-off))",
        # price moves: "Treasuries retreat from highs", "Treasuries rallied"
        r"treasuries\s+(?:rall\w*|retreat\w*|f[ae]ll\w*|r[io]se\w*|gain\w*|slump\w*|slid\w*|"
        r"pare\w*|climb\w*|drop\w*|jump\w*|edge\w*|extend\w*|steady|steadie\w*)",
        r"yields?\s+on\s+(?:U\.?S\.?\s+)?treasuries",
    ),
    re.IGNORECASE,
)

# A measure named as the counterpart's ("US tariffs", "Trump's 26% tariff"): what a
# statement answers, so a lever named in the same sentence is the better topic.
_COUNTERPART_BEFORE = re.compile(
    rf"(?:\bU\.?S\.?|\bUS|\bAmerican|\bTrump{_APOS}s|\bWashington{_APOS}s)"
    rf"(?:[-\s]+\S+){{0,3}}?[-\s]+$"
)

_RESPONSE_WORD = re.compile(r"retaliat\w*|counter-?\s?measures?", re.IGNORECASE)

# --- stance cues (ordered: the first pattern that matches at a position wins) ---------------

_NEG = rf"(?:not|never|no|\w+n{_APOS}t)"
_NEG_AUX = (
    rf"(?:(?:will|would|does|do|did|is|are|was|were|has|have|had|shall|should|can|could)"
    rf"\s*(?:not|n{_APOS}t)|won{_APOS}t|cannot|never|no\s+longer)"
    r"(?!\s+(?:\w+\s+)?(?:rul(?:e|es|ed|ing)\s+(?:it\s+|them\s+)?out|hesitat|exclud))"
)
_MEASURES = (
    r"(?:counter-?\s?measures?|counter-?tariffs?|retaliat\w*|export\s+controls?|tariffs?|"
    r"levies|duties|curbs?)"
)
_USE_VERBS = (
    r"(?:us(?:e|es|ing)|sell(?:s|ing)?|dump(?:s|ing)?|offload\w*|wield\w*|deploy\w*|play\w*|"
    r"leverag\w*|weaponi[sz]\w*|retaliat\w*|impos\w*|consider\w*|weigh\w*|mull\w*|"
    r"contemplat\w*|seek\w*|plan\w*|respond\w*|threaten\w*|resort\w*|"
    rf"take\s+{_GAP}{{0,2}}?(?:counter-?\s?measures|action))"
)
_STANCE_CUES: tuple[tuple[str, Stance, str], ...] = (
    # Negated rejections and hesitations first: they contain the words of stronger cues.
    (
        "open.not_ruling_out",
        Stance.OPEN,
        rf"{_NEG}\s+(?:\w+\s+)?rul(?:e|es|ed|ing)\s+(?:it\s+|them\s+)?out",
    ),
    ("open.not_exclude", Stance.OPEN, rf"{_NEG}\s+(?:\w+\s+)?exclud\w*"),
    ("threatens.not_hesitate", Stance.THREATENS, rf"{_NEG}\s+(?:\w+\s+)?hesitate"),
    # rules_out
    (
        "rules_out.no_intention",
        Stance.RULES_OUT,
        r"no\s+(?:intention|plans?|desire|interest)\s+(?:of|to|in)",
    ),
    ("rules_out.rule_out", Stance.RULES_OUT, r"rul(?:e|es|ed|ing)\s+out"),
    (
        "rules_out.retreat",
        Stance.RULES_OUT,
        r"back(?:s|ed|ing)?\s+(?:away|off|down)\s+(?:from|on)|retreat\w*\s+from|"
        r"walk(?:s|ed|ing)?\s+back|"
        r"distanc\w+\s+(?:itself|himself|herself|themselves)\s+from",
    ),
    (
        "rules_out.not_card",
        Stance.RULES_OUT,
        r"(?:not|never|no)\s+(?:be\s+)?(?:a\s+|an\s+|as\s+an?\s+|used\s+as\s+an?\s+)?"
        r"(?:\w+\s+)?(?:card|weapon|bargaining\s+chip|tool|lever)\b",
    ),
    ("rules_out.will_not_use", Stance.RULES_OUT, rf"{_NEG_AUX}\s+{_GAP}{{0,2}}?{_USE_VERBS}"),
    (
        "rules_out.decided_not_to",
        Stance.RULES_OUT,
        r"(?:decid(?:es|ed)|cho(?:se|oses)|opt(?:s|ed)|agree(?:s|d)|promis(?:es|ed)|"
        rf"pledg(?:es|ed)|vow(?:s|ed))\s+not\s+to\s+{_GAP}{{0,1}}?{_USE_VERBS}|"
        rf"(?:decid(?:es|ed)|cho(?:se|oses)|opt(?:s|ed)|argu(?:es|ed))\s+against\s+{_USE_VERBS}",
    ),
    (
        "rules_out.will_not",
        Stance.RULES_OUT,
        rf"(?:will|would)\s+not(?=\s*(?:[.,;]|$))|won{_APOS}t(?=\s*(?:[.,;]|$))",
    ),
    (
        "rules_out.not_considering",
        Stance.RULES_OUT,
        r"not\s+(?:currently\s+)?(?:considering|considered|contemplating|on\s+the\s+table)",
    ),
    ("rules_out.refrain", Stance.RULES_OUT, r"refrain\w*\s+from|no\s+retaliat\w*"),
    (
        "rules_out.dismiss",
        Stance.RULES_OUT,
        r"(?:dismiss\w*|reject\w*|den(?:y|ies|ied)|downplay\w*|play\w*\s+down)\s+"
        r"(?:\w+\s+){0,3}?(?:idea|suggestions?|speculation|talk|reports?|calls?|notion)",
    ),
    # open: a measure deferred or held in reserve (before "acting": it names measures too)
    (
        "open.deferred",
        Stance.OPEN,
        rf"put\w*\s+{_GAP}{{0,4}}?on\s+hold|hold\w*\s+off\s+on|"
        rf"(?:suspend\w*|paus\w*|delay\w*|postpon\w*|defer\w*)\s+{_GAP}{{0,2}}?"
        r"(?:counter-?\s?measures?|counter-?tariffs?|retaliat\w*|response)",
    ),
    (
        "open.keep_ready",
        Stance.OPEN,
        rf"keep\w*\s+{_GAP}{{0,3}}?(?:ready|in\s+reserve|on\s+standby|open|available)",
    ),
    # acting: a measure taken (no modal before it, no condition after it; see below)
    (
        "acting.imposes",
        Stance.ACTING,
        r"impos\w*|slap\w*|levied|put\s+in\s+place|enact\w*|"
        rf"(?:hits?|hitting)\s+{_GAP}{{0,4}}?with",
    ),
    ("acting.retaliated", Stance.ACTING, r"retaliat(?:es|ed)\b(?!\s+against\s+\w+\s+if)"),
    (
        "acting.raises",
        Stance.ACTING,
        rf"(?:rais|hik|increas|doubl)(?:e|es|ed)\s+{_GAP}{{0,3}}?{_MEASURES}",
    ),
    (
        "acting.keeps",
        Stance.ACTING,
        rf"(?:keep\w*|maintain\w*|retain\w*)\s+{_GAP}{{0,2}}?{_MEASURES}\s+(?:on|in\s+place)",
    ),
    (
        "acting.halts",
        Stance.ACTING,
        r"(?:halt\w*|suspend\w*|stop(?:s|ped)|freez\w*|cut\s+off|curb(?:s|ed)|restrict(?:s|ed)|"
        r"tighten(?:s|ed)|expand(?:s|ed)|widen(?:s|ed)|broaden(?:s|ed)|ban(?:s|ned)|"
        r"skip(?:s|ped)|shun(?:s|ned)|snub(?:s|bed)|boycott(?:s|ed)|cancel\w*)\s+"
        rf"{_GAP}{{0,4}}?(?:purchases?|imports?|exports?|buying|controls?|shipments?|sales?|"
        r"soybeans?|orders?|LNG)",
    ),
    (
        "acting.announces",
        Stance.ACTING,
        r"(?:announc\w*|unveil\w*|launch\w*|approv\w*|adopt\w*|introduc\w*|vot\w*\s+through|"
        rf"rolls?\s+out|rolled\s+out)\s+{_GAP}{{0,5}}?{_MEASURES}",
    ),
    (
        "acting.in_force",
        Stance.ACTING,
        rf"(?:{_APOS}s|its)\s+(?:new\s+|latest\s+)?{_GAP}{{0,3}}?"
        r"(?:freeze|curbs|embargo|boycott|bans?)\b|"
        r"(?:remain|stay)(?:s|ed)?\s+in\s+(?:force|place|effect)",
    ),
    (
        "acting.sold",
        Stance.ACTING,
        r"(?:sold|offloaded|dumped|(?:is|are|was|were|been|began|started|kept)\s+"
        rf"(?:selling|dumping|offloading))\s+{_GAP}{{0,3}}?(?:treasur\w+|holdings|bonds)|"
        r"treasury\s+(?:selling|sales)",
    ),
    # threatens
    (
        "threatens.warns",
        Stance.THREATENS,
        r"warn(?:s|ed|ing)?(?=(?:\s+[^\s,;.]+){0,6}?\s+(?:counter-?\s?measures?|retaliat\w*|"
        r"reprisals?|respon\w*|hit\w*\s+back|escalat\w*|consequences))|"
        r"threaten(?:s|ed|ing)?|vow(?:s|ed|ing)?|pledg\w*\s+to\s+retaliat\w*",
    ),
    (
        "threatens.fight",
        Stance.THREATENS,
        r"fight\s+to\s+the\s+end|(?:firmly|resolutely)\s+(?:respond|counter)\w*",
    ),
    (
        "threatens.will_respond",
        Stance.THREATENS,
        rf"(?:will|would|shall|\w+{_APOS}ll|is\s+ready\s+to|stands?\s+ready\s+to|prepared\s+to|"
        r"plans?\s+to|set\s+to)"
        rf"\s+{_GAP}{{0,2}}?(?:retaliat\w*|respond\w*|counter(?:s|ed|ing)?(?![-\w])|impose|"
        r"hit\s+back|strike\s+back|sell|dump|offload|"
        r"answer|match|reciprocat\w*|take\s+(?:\S+\s+){0,2}?(?:counter-?\s?measures|action|steps)|"
        r"kick\s+in|take\s+effect|be\s+(?:imposed|applied|phased\s+in|reinstated|triggered))",
    ),
    (
        "threatens.prepares",
        Stance.THREATENS,
        r"(?:clear\w*|pav\w*)\s+(?:the\s+|a\s+)?(?:way|path|ground)\s+for|"
        rf"(?:prepar\w*|draw\w*\s+up|draft\w*)\s+{_GAP}{{0,7}}?{_MEASURES}",
    ),
    (
        "threatens.consequences",
        Stance.THREATENS,
        r"(?:will|would)\s+(?:face|meet|be\s+met\s+with|bring|trigger|invite)\s+"
        rf"{_GAP}{{0,3}}?(?:escalation|consequences|retaliation|counter-?\s?measures|"
        r"(?:higher|more|further)\s+tariffs|(?:\S+\s+)?response)",
    ),
    ("threatens.hit_back", Stance.THREATENS, r"hit\w*\s+back|strike\w*\s+back"),
    # open
    (
        "open.on_the_table",
        Stance.OPEN,
        r"on\s+the\s+table|all\s+options|an?\s+option|among\s+the\s+options|"
        rf"(?:possible|potential)\s+{_GAP}{{0,1}}?{_MEASURES}",
    ),
    (
        "open.card",
        Stance.OPEN,
        rf"(?:a|one|as\s+a|its|every)\s+{_GAP}{{0,2}}?"
        r"(?:card|bargaining\s+chip|negotiating\s+tool|lever|leverage)",
    ),
    (
        "open.could_use",
        Stance.OPEN,
        r"(?:could|(?-i:may)|might|can)\s+(?:\w+\s+){0,2}?(?:use|be\s+used|sell\w*|offload\w*|"
        r"be\s+leveraged|leverage|dump\w*|weaponi[sz]e|retaliat\w*|impose|wield|deploy|"
        r"slow|cut|reduce|trim|halt|stop|curb|restrict|ban)",
    ),
    (
        # weighing a response, not "weighs on sentiment" or "weigh the impact of tariffs"
        "open.considering",
        Stance.OPEN,
        r"(?:consider\w*|weigh(?:s|ed|ing)?|mull\w*|studying|explor\w*)\s+"
        r"(?!on\b|(?:the\s+)?(?:impact|effects?|fallout|costs?|risks?|consequences)\b)"
        rf"{_GAP}{{0,3}}?(?:{_MEASURES}|options?|responses?|steps|measures|sales?|sell\w*|"
        r"reduc\w*|cut\w*|dump\w*|us(?:e|ing)|leverag\w*|holdings|treasur\w*|bans?)",
    ),
    (
        "open.leverage",
        Stance.OPEN,
        r"leverage|bargaining\s+chip|negotiating\s+tool|weapon\w*|card",
    ),
)
_STANCE_PATTERN = re.compile(
    r"\b(?:"
    + "|".join(rf"(?P<c{i}>{pattern})" for i, (_, _, pattern) in enumerate(_STANCE_CUES))
    + ")",
    re.IGNORECASE,
)

# A modal before an "acting" cue makes it a threat ("will impose") or an option ("could").
_MODAL_THREAT = re.compile(
    rf"(?:will|would|shall|{_APOS}ll|to|plans?\s+to|set\s+to|ready\s+to|prepared\s+to|"
    r"threatens?\s+to|vows?\s+to)\s+(?:\w+\s+){0,1}$",
    re.IGNORECASE,
)
_MODAL_OPEN = re.compile(
    r"(?:could|(?-i:may)|might|can|consider\w*)\s+(?:\w+\s+){0,1}$", re.IGNORECASE
)
# An action whose subject is hypothetical is no action: "any country which retaliates",
# "if Washington raises tariffs", "until Washington lifts its levies".
_HYPOTHETICAL_SUBJECT = re.compile(
    r"\b(?:if|unless|until|whether|which|who|should)\s+(?:[^\s,;]+\s+){0,3}?$", re.IGNORECASE
)
# A condition after an action makes it a threat: "approves counter-tariffs ... if no deal",
# "counter-tariffs that will apply only if talks fail"; not one of a new predicate or
# speaker ("imposes tariffs and will add more if ...", "..., the minister said, if ...").
_CONDITION_AFTER = re.compile(
    r"(?:(?!\b(?:says?|said|but|while|and\s+(?:will|would))\b)[^;])*?\b(?:if|unless)\b",
    re.IGNORECASE,
)
# "'Do not retaliate', X warns": an imperative addressed to others, not a rejection.
_IMPERATIVE = re.compile(rf"do\s*(?:not|n{_APOS}t)\b", re.IGNORECASE)
_WORD = re.compile(r"\w")
# Where the scope of a rejection ends: the end of its clause.
_CLAUSE_END = re.compile(r"[,;:]|\s(?:but|while|whereas|though|although)\b|$", re.IGNORECASE)
# A contrasted alternative is not asserted: "rather than a threat to dump them".
_CONTRAST = re.compile(r"\b(?:rather\s+than|instead\s+of)\b[^,;]*", re.IGNORECASE)

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
                r"research\s+(?:notes?|firms?|houses?)",
                r"speculation",
            ),
            re.IGNORECASE,
        ),
    ),
    (
        # Research firms, consultancies and banks: what they say is analysis.
        Speaker.ANALYST,
        re.compile(
            _words(
                r"Eurasia\s+Group",
                r"Capital\s+Economics",
                r"Oxford\s+Economics",
                r"Natixis",
                r"Goldman\s+Sachs",
                r"Morgan\s+Stanley",
                r"JP\s?Morgan",
                r"Nomura",
                r"Citi(?:group)?",
                r"Barclays",
                r"Deutsche\s+Bank",
                r"UBS",
                r"BofA",
                r"HSBC",
                r"Rabobank",
                r"Trivium(?:\s+China)?",
                r"Rhodium(?:\s+Group)?",
                r"Gavekal",
                r"Pantheon(?:\s+Macroeconomics)?",
                r"Peterson\s+Institute",
                r"Brookings",
            )
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
        re.compile(
            _words(
                r"(?<!government\s)(?<!official\s)sources",
                r"people\s+familiar",
                r"lawmakers?",
                r"legislators?",
                r"senators?",
                r"opposition",
                r"ruling[-\s](?:party|coalition)",
                r"policy\s+chief",
                r"party\s+(?:leaders?|officials?|executives?|chief|heavyweights?)",
                r"(?:business|industry|farm)\s+(?:groups?|lobby|lobbies)",
                r"executives?",
                r"CEOs?",
            ),
            re.I,
        ),
    ),
    (
        Speaker.GOVERNMENT,
        re.compile(
            _words(
                r"(?:government|official|ministry)\s+sources",
                r"(?:prime\s+|finance\s+|trade\s+|commerce\s+|foreign\s+)?ministers?",
                r"ministry",
                r"premier",
                r"president",
                r"spokes(?:man|woman|person)",
                r"government(?!\s+(?:bonds?|debt|securities))",
                r"officials?",
                r"cabinet",
                r"chancellor",
                r"secretary",
                r"treasurer",
                r"commission(?:er)?",
                r"governor",
                r"negotiators?",
                r"envoy",
                r"PM",
                r"administration",
            ),
            re.IGNORECASE,
        ),
    ),
)
# A piece that announces itself as analysis or opinion speaks in the outlet's voice.
_MEDIA_PIECE = re.compile(
    r"^\W*(?:analysis|opinion|commentary|editorial|column|viewpoint|explainer|breakingviews)"
    r"\s*[:|\u2013\u2014-]",
    re.IGNORECASE,
)
# A speaker's own verb ("analysts warn", "traders fear"): only a few tokens after it.
_OWN_VERB_GAP = re.compile(r"(?:\s+\S+){0,2}?\s+$")

# Clause openers whose clause tells what was, not what is.
_BACKGROUND = re.compile(
    r"(?:^|[,;:]\s*|\b)(?:after|following|despite|although|though|earlier|previously|"
    r"last\s+(?:week|month|year))\b[^,;]*",
    re.IGNORECASE,
)
# A full stop ends a sentence unless it ends an abbreviation: "U.S.", "S. Korea", "No. 3",
# "Sept. 4" (one fixed-width lookbehind per length, as Python's re requires).
_SENTENCE_SPLIT = re.compile(
    r"(?<=[.!?])(?<!\b[A-Z]\.)(?<!\b(?:No|Mr|Ms|Dr|St|vs)\.)"
    r"(?<!\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Gov|Sen|Rep)\.)(?<!\bSept\.)"
    r"\s+(?=[A-Z\"'])|\s+[-\u2013\u2014:]\s+(?=[A-Z])|\n+"
)


def sentences(text: str) -> list[str]:
    """The sentences of a text (a headline and its lead), headline dashes counted as ends."""
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if s.strip()]


_STANCE_RANK = {Stance.RULES_OUT: 4, Stance.ACTING: 3, Stance.THREATENS: 2, Stance.OPEN: 1}


@dataclass(frozen=True, slots=True)
class _Cue:
    start: int
    end: int
    rule: str
    stance: Stance


@dataclass(frozen=True, slots=True)
class _SpeakerCue:
    start: int
    end: int
    speaker: Speaker
    reports: bool


def detect(text: str) -> list[Detection]:
    """Every statement in ``text``, one per government, topic and speaker."""
    if _PREFILTER.search(text) is None:
        return []
    parts = sentences(text)
    spans = [_government_spans(sentence) for sentence in parts]
    mentions = [_government_mentions(s, found) for s, found in zip(parts, spans, strict=True)]
    text_topics = _topics(text)
    text_government = next((found[0][1] for found in mentions if found), None)
    media_piece = _MEDIA_PIECE.match(text) is not None
    best: dict[tuple[str, Topic, Speaker], Detection] = {}
    history: dict[tuple[str, Topic, Speaker], Detection] = {}
    for sentence, sentence_spans, governments in zip(parts, spans, mentions, strict=True):
        for detection, is_history in _sentence_statements(
            sentence,
            sentence_spans,
            governments,
            text_topics=text_topics,
            text_government=text_government,
            media_piece=media_piece,
        ):
            key = (detection.government, detection.topic, detection.speaker)
            found = history if is_history else best
            held = found.get(key)
            if held is None or _STANCE_RANK[detection.stance] > _STANCE_RANK[held.stance]:
                found[key] = detection
    # A government's own earlier stance stands when the text says nothing newer about it.
    for key, detection in history.items():
        if key[0] == text_government and key not in best:
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
    sentence: str,
    spans: list[tuple[int, int, str, str]],
    governments: list[tuple[int, str]],
    *,
    text_topics: list[Topic],
    text_government: str | None,
    media_piece: bool,
) -> Iterable[tuple[Detection, bool]]:
    """The statements of one sentence, each with whether it is history (a background clause)."""
    terms = _topic_terms(sentence)
    if not terms and len(text_topics) == 1:
        terms = [(0, text_topics[0], False)]
    if not terms or not (governments or text_government):
        return
    cues = _stance_cues(sentence)
    if not cues:
        return
    background = [m.span() for m in _BACKGROUND.finditer(sentence)]
    speakers = _speaker_cues(sentence, spans)
    for cue in cues:
        if cue.rule == "threatens.warns" and _own_verb_of_other(sentence, speakers, cue):
            continue
        speaker, explicit_speaker = _speaker_before(speakers, cue.start)
        government = _government_for(governments, cue.start) or text_government
        if government is None:
            continue
        if speaker is None:
            # "Japan won't use ...": a government named as the subject speaks for itself.
            speaker = Speaker.GOVERNMENT
        if media_piece and speaker is Speaker.GOVERNMENT:
            speaker = Speaker.MEDIA
        confidence = 0.9 if explicit_speaker and governments else 0.75
        if not governments:
            confidence = 0.6
        in_background = any(start <= cue.start < end for start, end in background)
        detection = Detection(
            government=government,
            topic=_nearest_topic(terms, cue),
            stance=cue.stance,
            speaker=speaker,
            confidence=confidence,
            evidence=sentence,
            cue=cue.rule,
        )
        # Background clauses date a government's stance; others' speculation is reported.
        yield detection, in_background and speaker is Speaker.GOVERNMENT


def _topic_terms(sentence: str) -> list[tuple[int, Topic, bool]]:
    """Where each topic is named in a sentence (Treasury mentions about yields left out), and
    whether the term is the counterpart's measure ("US tariffs").

    A response word ("retaliate", "countermeasures") names no lever of its own: it takes the
    Treasury topic when its clause goes on to name the holdings ("retaliate by selling its
    Treasury holdings"), the trade topic otherwise."""
    terms = []
    topics = _topics(sentence)
    for named in topics:
        for match in _TOPIC_PATTERNS[named].finditer(sentence):
            topic = named
            if (
                named is Topic.TRADE_LEVERAGE
                and Topic.TREASURY_HOLDINGS in topics
                and _RESPONSE_WORD.fullmatch(match.group())
                and _names_holdings_after(sentence, match.end())
            ):
                topic = Topic.TREASURY_HOLDINGS
            counterpart = (
                topic is Topic.TRADE_LEVERAGE
                and _COUNTERPART_BEFORE.search(_tail(sentence, match.start())) is not None
            )
            terms.append((match.start(), topic, counterpart))
    return sorted(terms)


def _names_holdings_after(sentence: str, position: int) -> bool:
    """Whether the clause going on from ``position`` names Treasury holdings."""
    clause_end = _CLAUSE_END.search(sentence, position)
    stop = clause_end.start() if clause_end else len(sentence)
    return _TOPIC_PATTERNS[Topic.TREASURY_HOLDINGS].search(sentence, position, stop) is not None


def _nearest_topic(terms: list[tuple[int, Topic, bool]], cue: _Cue) -> Topic:
    """The topic named nearest the cue: the lever a cue is about is its object or subject.
    A lever is preferred to the counterpart's measure it answers."""
    levers = [term for term in terms if not term[2]] or terms
    return min(levers, key=lambda term: min(abs(term[0] - cue.start), abs(term[0] - cue.end)))[1]


def _stance_cues(sentence: str) -> list[_Cue]:
    contrasted = [m.span() for m in _CONTRAST.finditer(sentence)]
    cues: list[_Cue] = []
    scope_end = -1  # the end of the clause of the last rejection
    for match in _STANCE_PATTERN.finditer(sentence):
        assert match.lastgroup is not None
        rule, stance, _ = _STANCE_CUES[int(match.lastgroup[1:])]
        start, end = match.span()
        if any(left <= start < right for left, right in contrasted):
            continue
        if stance is Stance.RULES_OUT:
            if _IMPERATIVE.match(sentence, start) and not _WORD.search(sentence, 0, start):
                continue
            clause_end = _CLAUSE_END.search(sentence, end)
            scope_end = clause_end.start() if clause_end else len(sentence)
        elif start < scope_end:
            continue  # inside what a rejection rejects: "rules out using them as a weapon"
        if stance is Stance.ACTING:
            before = _tail(sentence, start)
            if _HYPOTHETICAL_SUBJECT.search(before):
                continue
            # "will keep its duties in place" is in force, whatever the tense.
            keeps = rule == "acting.keeps"
            if not keeps and _MODAL_THREAT.search(before):
                rule, stance = rule.replace("acting.", "threatens.modal_"), Stance.THREATENS
            elif not keeps and _MODAL_OPEN.search(before):
                rule, stance = rule.replace("acting.", "open.modal_"), Stance.OPEN
            elif not keeps and _CONDITION_AFTER.match(sentence, end):
                rule, stance = rule.replace("acting.", "threatens.if_"), Stance.THREATENS
        cues.append(_Cue(start, end, rule, stance))
    return cues


def _speaker_cues(sentence: str, spans: list[tuple[int, int, str, str]]) -> list[_SpeakerCue]:
    """Speaker cues, each with ``reports`` when it is the subject of a reporting verb
    ("analysts said"), which is what attributes a claim to a speaker."""
    found = [
        _SpeakerCue(match.start(), match.end(), speaker, _reports(sentence, *match.span()))
        for speaker, pattern in _SPEAKER_CUES
        for match in pattern.finditer(sentence)
    ]
    # A named official speaks for a government even without a title; "Kato's remark" is a
    # mention of what was said, not a speaker.
    found.extend(
        _SpeakerCue(start, end, Speaker.GOVERNMENT, _reports(sentence, start, end))
        for start, end, code, alias in spans
        if alias in _OFFICIAL_NAMES.get(code, ()) and not _POSSESSIVE.match(sentence, end)
    )
    return sorted(found, key=lambda cue: cue.start)


_POSSESSIVE = re.compile(rf"{_APOS}s\b")


def _reports(sentence: str, start: int, end: int) -> bool:
    return bool(
        _REPORTING_AFTER.match(sentence, end) or _ACCORDING_TO.search(_tail(sentence, start))
    )


_REPORTING_AFTER = re.compile(
    rf"(?:{_APOS}s)?(?:\s+[\w'.-]+){{0,4}}?\s+(?:says?|said|saying|suggest\w*|argu\w*|"
    r"expect\w*|believe\w*|speculat\w*|reckon\w*|not(?:e|es|ed)|told|tells?|stated?|states|"
    r"stress\w*|insist\w*|reiterat\w*|add(?:s|ed)|wr(?:ote|ites)|see|think|claim\w*|"
    r"predict\w*|point(?:s|ed)\s+out|made\s+clear|signal\w*|indicat\w*|float\w*|fear\w*|"
    r"warn\w*|caution\w*|hint\w*|call(?:s|ed)?|urg(?:e|es|ed|ing))\b",
    re.IGNORECASE,
)
_ACCORDING_TO = re.compile(r"according\s+to\s+(?:\w+\s+){0,2}$", re.IGNORECASE)


def _own_verb_of_other(sentence: str, speakers: list[_SpeakerCue], cue: _Cue) -> bool:
    """True when a warning is the reporting verb of an analyst, outlet or other speaker
    ("traders warn it could ..."): their verb, not a government's threat."""
    return any(
        s.speaker is not Speaker.GOVERNMENT
        and s.end <= cue.start
        and _OWN_VERB_GAP.fullmatch(sentence, s.end, cue.start) is not None
        for s in speakers
    )


def _speaker_before(speakers: list[_SpeakerCue], position: int) -> tuple[Speaker | None, bool]:
    """The speaker a stance cue at ``position`` is attributed to, and whether it was explicit.

    A reporting speaker before the cue wins ("analysts say the government could sell" is the
    analysts' claim); then one after it ("Japan could sell, analysts say"); then the nearest
    plain mention before it ("Finance Minister Kato rules out ...").
    """
    reporting_before = [s.speaker for s in speakers if s.reports and s.start < position]
    if reporting_before:
        return reporting_before[-1], True
    reporting_after = [s.speaker for s in speakers if s.reports and s.start >= position]
    if reporting_after:
        return reporting_after[0], True
    before = [s.speaker for s in speakers if s.start < position]
    if before:
        return before[-1], True
    return None, False


def _government_spans(sentence: str) -> list[tuple[int, int, str, str]]:
    spans = []
    for match in _GOVERNMENT_PATTERN.finditer(sentence):
        code = match.lastgroup
        assert code is not None
        spans.append((match.start(), match.end(), code, match.group()))
    return spans


def _government_mentions(
    sentence: str, spans: list[tuple[int, int, str, str]]
) -> list[tuple[int, str]]:
    mentions = []
    for start, end, code, _alias in spans:
        if code == "US" and (
            _US_AS_OBJECT_AFTER.match(sentence, end)
            or _US_AS_OBJECT_BEFORE.search(_tail(sentence, start))
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


def _tail(sentence: str, position: int, width: int = 48) -> str:
    """The text just before ``position``: what a ``$``-anchored look-behind pattern needs."""
    return sentence[max(0, position - width) : position]


def entities(sentence: str) -> tuple[frozenset[str], frozenset[Speaker]]:
    """The governments a sentence names (not as a counterpart) and the kinds of speaker in
    it: who a story is about and who speaks in it, which tells apart stories whose words
    are alike (``streams.dedup``) even where no statement is detected."""
    spans = _government_spans(sentence)
    governments = frozenset(code for _, code in _government_mentions(sentence, spans))
    return governments, frozenset(cue.speaker for cue in _speaker_cues(sentence, spans))
