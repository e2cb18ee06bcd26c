"""Detection: who said what about which lever, from a headline's text. Pure: no I/O, no Faust.

The vocabulary (governments, officials and their terms of office, topic terms, stance and
speaker cues) is data: ``streams/data/lexicon.jsonl``, read by :mod:`streams.lexicon`. This
module is the grammar that reads a text with it. A :class:`Detector` is built from one
lexicon; the module-level :func:`detect` uses the packaged lexicon.

How a text is read:

1. **Prefilter.** One Aho-Corasick pass over the lower-cased text finds the triggers of every
   topic term; wire traffic that names no lever stops there (a microsecond). A second pass
   finds the triggers of stance cues, speaker cues and government names, so only the few
   patterns whose triggers occur are run — never one regex per term. Each pattern fails fast
   where no match can begin (:mod:`streams.guard`); a term or cue whose every match begins
   with a trigger or with one of a few literals of its pattern (which an automaton finds
   too: the second pass a cue's, a third, run only when needed, a term's) is tried only
   where one begins.
2. **Sentences and clauses.** The text is cut into sentences (headline dashes count); each
   is scanned for stance cues (file order is priority: "not ruling out" before "ruling
   out"). A cue is read in its clause:

   - a modal before an action makes it a threat or an option ("will impose", "could");
     a condition after it makes it a threat ("counter-tariffs ... if talks fail"); an action
     with a hypothetical subject ("any country which retaliates") is none;
   - a rejection scopes over the rest of its clause ("rules out using them as a weapon"
     carries no "weapon" option); a contrasted alternative is not asserted ("rather than a
     threat to dump them"), unless the contrast is itself the denial ("rather than a weapon");
   - an imperative addressed to others ("'Do not retaliate', X warns") is not X's rejection;
   - a rejection conceded across a contrast by a non-exclusion of the lever ("no retaliation
     for now, but not closing the door") is open: not now is not never;
   - "analysts warn" is the analysts' verb, not anyone's threat.
3. **Attribution.** A cue belongs to the nearest speaker before it that reports ("despite
   analysts suggesting Japan could ..., officials said it will not" gives each verb its own
   speaker), else one reporting after it ("..., a strategist wrote"), else the nearest
   mention before it. Named officials ("Kato", "Bessent", "He Lifeng") and institutions
   speak for their government *on the headline's date* (terms of office in the lexicon);
   an official of one government speaking about another's measure is ``other`` ("Greer
   says Beijing's rules are coercion"), and so is a former one ("ex-vice commerce
   minister"). A piece labelled "Analysis:" is the outlet's voice.
4. **Government.** The government named nearest before the cue (after it when none is
   before), skipping counterparts: a name after a preposition ("tariffs on Canada"), before
   goods ("US goods", "Chinese EVs") and demonyms that only give an origin ("Australian
   wine"). Cues about a measure taking effect need its owner ("Canada's counter-tariffs take
   effect"), not whoever is named near it. A title of no named government ("the commerce
   ministry") speaks for the story's government, in a text that names none for the capital
   of its dateline ("BEIJING (Reuters) -"). The issuer holds no Treasuries to use: for that
   topic the US read from a speaker gives way to the holder named.
5. **Past versus present.** A cue in a background clause ("after earlier remarks suggested
   ...", "who last month said ...") is history: it stands only when the text says nothing
   current for the same government, topic and speaker, and only for the text's own
   government, when the background clause leads the sentence ("After Trump threatens a
   30% tariff, von der Leyen ..." reports both) or when it names its own actor ("...,
   hours after Trump threatens levies" reports Trump's threat). An announcement of a measure
   the text has already named ("Canada to impose 25% tariffs. Carney announced the
   countermeasure ...") restates it as first stated: it stands only when the text says
   nothing else for that government.
6. **One statement per government, topic and speaker**: the strongest stance
   (rules_out > acting > threatens > open), with its sentence as evidence, the rule id as
   ``cue`` and a confidence from the lexicon's calibration table: the measured accuracy on
   the development set of its decision class (stance, kind of speaker evidence, kind of
   government evidence), so a 0.9 is right about nine times in ten.

Reload: a :class:`Detector` is immutable and cheap to build (about 0.15 s, ten milliseconds
for the patterns an earlier build compiled and read), so a worker swaps the lexicon by building
``Detector.from_path(path)`` and replacing its reference only if that succeeded
(``LexiconError`` says which line is wrong; keep the old detector).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from operator import attrgetter
from pathlib import Path

import ahocorasick

from schemas import Speaker, Stance, Topic
from streams.guard import begins_with, compile_guarded, leading_literals
from streams.lexicon import Lexicon, SpeakerCue, TopicTerm, load_lexicon

__all__ = [
    "Detection",
    "Detector",
    "aligned_lower",
    "default_detector",
    "detect",
    "entities",
    "sentences",
]


@dataclass(frozen=True, slots=True)
class Detection:
    """One statement found in a text, with what decided it.

    ``cue`` is the id of the stance rule; ``speaker_phrase`` the words that name the speaker
    ("Japan's finance minister", "analysts", or the government named as subject);
    ``decision`` the calibration class the ``confidence`` was read from."""

    government: str
    topic: Topic
    stance: Stance
    speaker: Speaker
    confidence: float
    evidence: str
    cue: str
    speaker_phrase: str = ""
    decision: str = ""


_APOS = "['\u2019]"

# --- grammar (not vocabulary): clause structure, modality, tense -----------------------------

# Where a story was filed, not who speaks: "TOKYO (Reuters) -", "MILAN, May 4 (Jiji Press)
# -", "OTTAWA, May 31 (Xinhua) --", after a wire prefix such as "UPDATE 1-".
_WIRE_PREFIX = re.compile(
    r"\s*(?:UPDATE\s*\d*|REFILE|CORRECTED|RPT|EXCLUSIVE|BREAKING|WRAPUP\s*\d*)\s*[-:]+\s*", re.I
)
_DATELINE = re.compile(
    r"\s*[A-Z][A-Za-z.'-]*(?:\s[A-Z][A-Za-z.'-]*){0,2}"  # the city: TOKYO, NEW DELHI, Kuala Lumpur
    r"(?:,\s+[A-Z][a-z]{2,8}\.?\s+\d{1,2})?"  # the date: ", May 4"
    r"\s*\([^)]{1,40}\)\s*[-\u2013\u2014]+\s*"  # the agency: "(Reuters) -"
)


# A counterpart named after a preposition is the object ("tariffs on Canada", "talks with
# Washington", "in response to Beijing's curbs"), not who speaks or acts.
_OBJECT_BEFORE = compile_guarded(
    r"(?:\bwith|\bagainst|\bon|\bto|\bfrom|\btoward|\btowards|\bat|\binto|\bof|\bversus|\bvs\.?|"
    r"\banswering|\bmatch(?:es|ing)|\banswers|\bnotif(?:y|ies|ied)|\binform(?:s|ed)?|\burg(?:es|ed)|\basks?|"
    r"\basked|\bover|\bin\s+response\s+to|\bby|\btells|\btold|\bhit|\bhits|\bfor)"
    r"\s+(?:the\s+)?$",
    re.IGNORECASE,
)
# "..., the commerce ministry says, vowing necessary measures": the participle, and what its
# clause goes on to say, is the speaker's, who reports just before it.
_SAYS_THEN = re.compile(r"\s+(?:says?|said|adds?|added)\s*,\s*(?:\w+ing\b[^,;]*)?", re.IGNORECASE)
# "former PBOC deputy governor", "ex-vice commerce minister": the title's holder left office.
_FORMER = compile_guarded(r"\b(?:former\s+|ex-)(?:[\w-]+\s+){0,3}$", re.IGNORECASE)
# "the prospect of China selling ...", "talk about Tokyo dumping ...": a name after "of" or
# "about" before a lever's gerund is that gerund's subject.
_GERUND_SUBJECT = re.compile(
    r"\s+(?:selling|dumping|offloading|using|weaponi[sz]ing|wielding|retaliating|imposing|"
    r"(?:hitting|striking)\s+back|halting|curbing|banning|restricting)\b",
    re.IGNORECASE,
)
_OF_BEFORE = compile_guarded(r"\b(?:of|about)\s+(?:the\s+)?$", re.IGNORECASE)
# A name used for its goods or markets ("US Treasuries", "Chinese EVs") is not an actor.
_GOODS_AFTER = re.compile(
    r"\s*(?:-|'s\s+|\u2019s\s+)?(?:treasur|debt|bonds?|goods|imports?|products|exports?|"
    r"tariffs?|government\s+bonds|farm|soybeans?|assets|dollar|securities|trade\s+talks|deal|"
    r"negotiat|counterpart|duties|baseline|levy\b|levies(?!\s+(?:(?:an?|extra|additional|new|further|higher|retaliatory|"
    r"punitive|provisional)\s+)*(?:\d|duties|tariffs|taxes|levies))|market|firms?|companies|chips?|lng|"
    r"cars?|EVs?|anti-(?:dumping|subsidy)|states\b|"
    r"electric|steel|alumin|crude|pork|wine|beef|coal|buyers|shoppers|consumers|stocks|"
    r"economy|growth|inflation|units|entities)",
    re.IGNORECASE,
)
# "Tokyo's Treasury pile", "China's holdings of US debt": the holder, who may use them.
_HOLDER_AFTER = re.compile(
    rf"{_APOS}s\s+(?:[\w$.-]+\s+){{0,3}}?(?:treasur\w*|holdings|reserves|stockpile)", re.IGNORECASE
)
# "Washington's steel tariffs": the counterpart's measure, answered by the speaker; not
# "Tokyo's playbook in the tariff talks", where the possessive holds a policy, its own.
_COUNTERPART_MEASURE_AFTER = re.compile(
    rf"\s*{_APOS}s\s+(?!(?:\w+\s+)?(?:playbook|strategy|stance|policy|position|intention|"
    r"approach|plans?|toolkit|arsenal|options|thinking)\b)"
    r"(?:\S+\s+){1,5}?(?:tariffs?|duties|levies|curbs|sanctions)",
    re.IGNORECASE,
)
# A demonym is an actor only before a word for an actor ("Chinese officials").
_DEMONYM_ACTOR_AFTER = re.compile(
    r"\s+(?:\S+\s+){0,2}?(?:government|officials?|authorities|ministry|minister|president|"
    r"premier|prime|negotiators?|embassy|regulators?|central\s+bank|side|analysts?|scholars?|"
    r"economists?|media|lawmakers?|leaders?|diplomats?|commerce|finance|foreign|trade\s+ministry|"
    r"sales?|selling|dump\w*|retaliation|response|countermeasures|move|customs|planners?|agency|"
    r"state(?:-owned)?\s+(?:firms|buyers|companies|enterprises|traders|importers|refiners)|"
    r"power\s+plants|steel\s+mills|airlines)\b",
    re.IGNORECASE,
)
_COUNTERPART_BEFORE = compile_guarded(
    rf"(?:\bU\.?S\.?|\bUS|\bAmerican|\bTrump{_APOS}s|\bWashington{_APOS}s)"
    rf"(?:[-\s]+\S+){{0,3}}?[-\s]+$"
    r"|\b(?:in\s+(?:response|retaliation)\s+(?:to|for)|against|answering)\s+(?:the\s+)?"
    r"(?:[-\w%$.]+\s+){0,2}?$",
    re.IGNORECASE,
)
# A clause that goes on without a subject ("..., but keeps the option") has the sentence's.
_SUBJECTLESS = compile_guarded(
    r"(?:,\s*|\s)(?:but|and)\s+(?:also\s+|still\s+)?"
    r"(?:(?:will|would|does|do|did|is|are|has|have|can|could)\s+)?$",
    re.IGNORECASE,
)
_CLAUSE_START = compile_guarded(r"[,;:]|\b(?:but|while|whereas|though|although)\b", re.IGNORECASE)
# A speaker characterizing another government's measure ("EU ..., calling Beijing's curbs").
_CHARACTERIZES = compile_guarded(
    r"\b(?:call(?:s|ed|ing)?|says?|said|accus\w+|condemn\w+|brand\w*)\b", re.IGNORECASE
)
_RESPONSE_WORD = re.compile(r"retaliat\w*|counter-?\s?measures?", re.IGNORECASE)
_MODAL_THREAT = compile_guarded(
    rf"(?:\b(?:will|would|shall|to|plans?\s+to|set\s+to|ready\s+to|prepared\s+to|"
    r"threatens?\s+to|vows?\s+to|could\s+soon)"
    rf"|{_APOS}ll)\s+(?:\w+\s+){{0,1}}(?:\w+\s+(?:or|and)\s+)?$",
    re.IGNORECASE,
)
_AS_A_CARD = compile_guarded(
    r"\bas\s+(?:an?|its|one)\s+(?:\w+\s+){0,2}?(?:card|chip|tool|lever)\b", re.IGNORECASE
)
# (Each a whole word: "American products kick in" holds no "can".) A recommendation or an
# urging ("officials urge a halt in buying") proposes the act: an option.
_MODAL_OPEN = compile_guarded(
    r"\b(?:could|(?-i:may)|might|can|consider\w*|weigh\w*|whether|option\s+of|recommend\w*|"
    r"urg(?:e|es|ed|ing))\s+"
    r"(?:\w+\s+){0,1}(?:\w+\s+(?:or|and)\s+)?$",
    re.IGNORECASE,
)
_HYPOTHETICAL_SUBJECT = compile_guarded(
    r"\b(?:if|unless|until|whether|which|who|should)\s+(?:[^\s,;]+\s+){0,3}?$",
    re.IGNORECASE,
)
_CONDITION_AFTER = re.compile(
    r"(?:(?!\b(?:says?|said|but|while|and\s+(?:will|would))\b)[^;])*?\b(?:if|unless)\b",
    re.IGNORECASE,
)
# (Its lazy scan tests a look-ahead at each character: first a plain search for the word.)
_IF = compile_guarded(r"\b(?:if|unless)\b", re.IGNORECASE)
# "to levy 25% ... immediately": a "to"-headline of a measure applied at once is an action.
_IMMEDIATE = re.compile(
    r"[^;]*?\b(?:immediately|with\s+immediate\s+effect|effective\s+immediately)\b", re.IGNORECASE
)
# A participle naming the counterpart's measure after a preposition ("against doubled US
# steel tariffs", "over raised duties") is not the speaker's action.
_PARTICIPLE_OBJECT = compile_guarded(r"\b(?:against|on|over|at|from|of|to)\s+$", re.IGNORECASE)
# "Don't retaliate", X warns: advice to others; "Don't expect Beijing to sell" is a forecast.
_IMPERATIVE = re.compile(rf"do\s*(?:not|n{_APOS}t)\b(?!\s+expect)", re.IGNORECASE)
# A rejection that only puts the act off ("will not retaliate immediately", "has not yet")
# keeps it on the table: open, as a deferral is.
_NOT_YET = re.compile(
    r"[^,;]*?\b(?:immediately|right\s+away|straight\s+away|yet|at\s+once|"
    r"at\s+(?:a|the)\s+(?:bad|wrong)\s+(?:time|moment))\b",
    re.IGNORECASE,
)
# "announces no countermeasures, at least for now": the qualifier may follow a comma.
_FOR_NOW = re.compile(
    r"[^,;]*(?:,\s*)?\bat\s+least\s+for\s+(?:now|the\s+time\s+being)\b", re.IGNORECASE
)
# "will no longer respond to US hikes": a refusal to answer the other side's further escalation
# while its own measure stands, not a rejection of the lever it is using.
_NO_FURTHER = re.compile(
    r"[^,;]*?\b(?:respond\w*|react\w*|answer\w*|match\w*|retaliat\w*)\s+(?:to|against)\s+"
    r"(?:\S+\s+){0,3}?(?:hikes?|increases?)\b",
    re.IGNORECASE,
)
_NO_LONGER = compile_guarded(r"\bno\s+longer\b|\bany\s*more\b|\bfurther\b", re.IGNORECASE)
# An act under a negation in its clause ("will not rush to retaliate") is not asserted.
_NEGATED_ACT = compile_guarded(
    rf"\b(?:not|never|n{_APOS}t|no\s+longer)\s+(?:\w+\s+){{0,2}}(?:to\s+)?$", re.IGNORECASE
)
# "has not discussed", "did not consider": a negated deliberation. Considering, weighing or
# mulling denied is a rejection ("not considering"); a discussion denied is no stance.
_NEGATED_DELIBERATION = compile_guarded(
    rf"\b(?:not|never|n{_APOS}t)\s+(?:yet\s+|even\s+|been\s+)?$", re.IGNORECASE
)
_CONSIDER_VERB = re.compile(r"consider|weigh|mull", re.IGNORECASE)
# "announced the countermeasure", "unveiled the levy": a definite object restates a measure
# the text has named, as the text first states it ("Canada to impose ..."): background.
_ANAPHORIC_ANNOUNCEMENT = re.compile(
    r"\S+\s+(?:the|this|these|those)\s+(?:\S+\s+)?\S+", re.IGNORECASE
)
# Retaliation verbs assert the response even with a start date ("strikes back with duties
# ... from Sept. 24"), unlike an announced measure ("hits coal with duties, effective ...",
# "answers the curbs with a tariff from Nov. 1").
_RESPONSE_VERB = re.compile(r"(?:hits|strikes|struck)\s+back|retaliat", re.IGNORECASE)
# A demonym leading its sentence before a word for buyers or firms is the subject that acts
# ("Chinese firms stop buying US farm products"), not an origin of goods.
_DEMONYM_SUBJECT_AFTER = re.compile(
    r"\s+(?:state(?:-owned|-run)?\s+)?(?:firms|companies|buyers|importers|exporters|refiners|"
    r"traders|enterprises|mills|crushers)\b",
    re.IGNORECASE,
)
# "dismisses reports that foreign governments are dumping Treasuries": a denial about what
# others do, not the speaker's own stance (its clause still carries no act of the speaker).
_OTHERS_ACT = re.compile(
    r"[^,;]*?\b(?:foreign|other|overseas)\s+(?:governments|countries|central\s+banks|holders|"
    r"investors|buyers|nations)\b",
    re.IGNORECASE,
)
# Negations whose object must be the lever: "no plans to cut rates in response to US
# tariffs" rejects a rate cut, not a lever; the tariffs named are the counterpart's.
_OBJECT_RULES = frozenset(
    {
        "rules_out.no_intention",
        "rules_out.not_considering",
        "rules_out.will_not_use",
        "rules_out.not_announcing",
        "rules_out.declines",
        "rules_out.unlikely",
        "open.not_ruling_out",
        "open.not_exclude",
        "threatens.no_delay",
    }
)
_LEVER_WORD = compile_guarded(
    r"\b(?:us(?:e|es|ing)|sell\w*|sale|dump\w*|offload\w*|wield\w*|deploy\w*|leverag\w*|"
    r"weapon\w*|retaliat\w*|impos\w*|(?:hit|strike|fire|fight)\w*\s+back|levy|reciprocat\w*|"
    r"counter\w*|answer\w*|match\w*|mirror\w*|cards?|chips?|tools?|lever|tit-for-tat)\b",
    re.IGNORECASE,
)
# "nothing is off the table in response to the new duties": what it answers, not its object.
_ANSWERS = re.compile(
    rf"{_APOS}?[\"\u201d]?\s*(?:in\s+(?:response|retaliation|reply)\s+to|over|against)\b", re.I
)
_WORD = re.compile(r"\w")
_CLAUSE_END = re.compile(r"[,;:]|\s(?:but|while|whereas|though|although)\b|$", re.IGNORECASE)
_CONTRAST = compile_guarded(
    r"\b(?:rather\s+than|instead\s+of)\b[^,;]*"
    # a question put to the speaker ("Asked whether Beijing might sell, ...") is not a claim
    r"|\b(?:asked|pressed|questioned)\s+(?:\w+\s+)?(?:whether|if|about)\b[^,;:]*",
    re.IGNORECASE,
)
_MEDIA_PIECE = re.compile(
    r"^\W*(?:analysis|opinion|commentary|editorial|column|viewpoint|explainer|breakingviews)"
    r"\s*[:|\u2013\u2014-]",
    re.IGNORECASE,
)
_OWN_VERB_GAP = re.compile(r"(?:\s+\S+){0,2}?\s+$")
_BACKGROUND = compile_guarded(
    r"(?:^|[,;:]\s*|\b)(?:after|following|despite|although|though|earlier|previously|"
    r"having|who\s+last|last\s+(?:week|month|year)|(?:who|which)\s+(?:had|once|earlier|previously))"
    r"\b[^,;]*",
    re.IGNORECASE,
)
_BACKGROUND_WORDS = (
    *("after", "following", "despite", "though", "earlier", "previously", "having"),
    *("last", "who", "which"),
)
_CONTRAST_WORDS = ("rather", "instead", "asked", "pressed", "questioned")
_SENTENCE_SPLIT = compile_guarded(
    r"(?<=[.!?])(?<!\b[A-Z]\.)(?<!\b(?:No|Mr|Ms|Dr|St|vs)\.)"
    r"(?<!\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Gov|Sen|Rep)\.)(?<!\bSept\.)"
    r"\s+(?=[A-Z\"'\u2018])|\s+[-\u2013\u2014]\s+(?=[A-Z])|(?<=\w):\s+(?=[A-Z\"'\u2018])|\s*;\s+|\n+"
)
_REPORTING_AFTER = re.compile(
    rf"(?:{_APOS}s?)?(?:\s+[\w'.-]+){{0,4}}?\s+(?:says?|said|saying|suggest\w*|argu\w*|"
    r"expect\w*|believe\w*|speculat\w*|reckon\w*|not(?:e|es|ed)|told|tells?|stated?|states|"
    r"stress\w*|insist\w*|reiterat\w*|add(?:s|ed)|wr(?:ote|ites?)|see|think|claim\w*|"
    r"predict\w*|point(?:s|ed)\s+out|made\s+clear|signal\w*|indicat\w*|float\w*|fear\w*|"
    r"warn\w*|caution\w*|hint\w*|call(?:s|ed)?|urg(?:e|es|ed|ing)|read|reports?|tweets?|"
    r"posts?|debat\w*|discuss\w*)\b",
    re.IGNORECASE,
)
_ACCORDING_TO = compile_guarded(r"(?:according\s+to|citing)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)
_POSSESSIVE = re.compile(rf"{_APOS}s\b")
# A measure whose owner must be named for a "takes effect" cue: "Canada's counter-tariffs".
_OWNED_RULES = frozenset({"acting.takes_effect", "acting.in_force", "acting.remains"})
# Acting cues that state a measure is in place, whatever modal precedes ("will stay in place").
_KEEPS_RULES = frozenset({"acting.keeps", "acting.remains"})
# A government telling its buyers to stop ("tells airlines to take no further deliveries",
# "orders state firms to halt purchases") halts them: the order is the act.
_HALT_RULES = frozenset({"acting.halts", "acting.takes_no"})
_DIRECTIVE = compile_guarded(
    r"\b(?:tells?|told|orders?|ordered|instructs?|instructed|directs?|directed)\s+"
    r"(?:[^\s,;]+\s+){1,4}?to\s+$",
    re.IGNORECASE,
)
# A measure announced with a start date still to come is a threat ("..., effective Feb. 10").
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_SCHEDULED_AFTER = re.compile(
    r"[^;]*?\b(?:effective|starting|from|as\s+of|phased\s+in\s+from|due\s+to\s+(?:start|begin))"
    rf"\s+(?:(?:{_MONTH})\s+\d{{1,2}}\b|\d{{1,2}}\s+{_MONTH}|"
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|next\s+(?:week|month))"
)

# Gaps between two names or a name and a title, read by the attribution helpers.
_JOINED_BY_AND = re.compile(r"[\w.'\u2019 -]+?\s+and\s+(?:the\s+)?")  # "EU and the "
_TITLE_GAP = re.compile(rf"(?:{_APOS}s)?\s+(?:[\w-]+\s+){{0,2}}?")  # "Japan's finance "
_PHRASE_GAP = re.compile(rf"(?:{_APOS}s)?\s+(?:\S+\s+){{0,2}}?")
_LISTED = re.compile(r"\s*(?:,\s*)?(?:and|or|&|,)?\s*")  # "Canada and Mexico", "Canada, "

# The government that issues the Treasuries: never a holder using them as a lever (DESIGN.md).
_ISSUER = "US"
# "has taken note of the plan to double US tariffs", "reacts to the decision to raise
# duties": an act named as the content of a noun that is a preposition's object is
# someone's plan being talked about, not the subject's own act.
_PLAN_OBJECT = compile_guarded(
    rf"\b(?:of|on|about|over|against|to|at|by)\s+(?:the|a|an|its|\S+{_APOS}s)\s+(?:\S+\s+)?"
    r"(?:plans?|proposals?|threats?|decisions?|moves?|bids?|push|orders?)\s+to\s+$",
    re.IGNORECASE,
)

# Cues that say a lever is not excluded, and the contrast that lets one qualify a rejection.
_NON_EXCLUSION = frozenset({"open.not_ruling_out", "open.not_exclude"})
_CONCEDED_OBJECT = re.compile(
    rf"\s*{_APOS}?\s*(?:on\s+)?(?:them|it|this|that|any|all|further|other|options?|the\s+option|"
    r"completely|entirely|altogether|for\s+now|yet)\b|\s*(?:[,;.:'\"\u2019]|$)",
    re.IGNORECASE,
)
_CONCESSION = compile_guarded(r"\b(?:but|though|although|yet|while)\b", re.IGNORECASE)

_STANCE_RANK = {Stance.RULES_OUT: 4, Stance.ACTING: 3, Stance.THREATENS: 2, Stance.OPEN: 1}


# --- compiled lexicon ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Alias:
    """A way a government is named: ``kind`` is name, metonym, demonym, institution or
    official (an official carries the entry index to check its term)."""

    text: str
    code: str
    kind: str
    official: int = -1


# The three records below are built several times per sentence read and never changed after:
# not frozen, because a frozen dataclass sets each field through object.__setattr__ (about
# five times slower to build).


@dataclass(slots=True)
class _Span:
    """A government named in a text; in a sentence's reading, with whether it is named after
    a preposition there (``_OBJECT_BEFORE``, asked by several steps and slow: read once)."""

    start: int
    end: int
    code: str
    alias: _Alias
    after_preposition: bool = False


@dataclass(slots=True)
class _Cue:
    start: int
    end: int
    rule: str
    stance: Stance
    topic: Topic | None = None  # a lever cue names its topic


@dataclass(slots=True)
class _SpeakerCue:
    start: int
    end: int
    speaker: Speaker
    reports: bool
    government: str | None
    named: bool  # a named official or institution, not a title


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A lexicon entry's pattern; ``anchored`` when every match begins with one of a few
    literals, which the detector's automata find: in ASCII text it is tried only where one
    does. A topic term or market mention is anchored by its triggers
    (``streams.guard.begins_with``; else, in ``Detector._terms``, by the literals
    its pattern begins with), a cue by the literals its pattern begins with
    (``streams.guard.leading_literals``)."""

    index: int
    regex: re.Pattern[str]
    anchored: bool = False

    def spans(
        self, text: str, starts: Sequence[int] | None, offset: int = 0
    ) -> list[tuple[int, int]]:
        """Where the pattern matches in ``text``, as ``finditer`` finds it; for an anchored
        pattern and the positions of its literals in an ASCII text (``starts``, less
        ``offset``: ``text`` may be a sentence of the text they were found in), tried only
        there: the leftmost match past the last one begins at one of them. (A position
        before ``text`` is skipped; one past its end matches nothing.)"""
        if starts is None or not self.anchored:
            return [match.span() for match in self.regex.finditer(text)]
        spans: list[tuple[int, int]] = []
        end = 0
        for position in sorted(set(starts)):
            start = position - offset
            if start >= end and (match := self.regex.match(text, start)) is not None:
                spans.append(match.span())
                end = match.end()
        return spans

    def search(self, text: str, starts: Sequence[int] | None) -> bool:
        """Whether the pattern matches anywhere in ``text`` (``starts`` as for spans)."""
        if starts is None or not self.anchored:
            return self.regex.search(text) is not None
        return any(self.regex.match(text, start) for start in starts)


@dataclass(slots=True)
class _Found:
    """What the scan of a whole text found, for the reading of its sentences. (Built for
    every text read and never changed, but not frozen: like the per-sentence records, it
    is built too often for a frozen dataclass's slower construction.)"""

    spans: list[_Span]
    terms: dict[Topic, list[tuple[int, int]]]
    text_topics: list[Topic]
    found: set[tuple[int, int]]
    lever_hits: list[_Compiled]
    # where the cues' triggers occur (start, end, cues) and where their leading literals
    # begin, offsets into the text
    cue_hits: list[tuple[int, int, tuple[tuple[int, int], ...]]]
    begins: dict[tuple[int, int], list[int]]


_TOPIC, _LEVER, _STANCE, _SPEAKER, _NOT_LEVER = range(5)
# A cue is anchored only by literals this long: a letter ("a") occurs at so many places that
# trying the pattern at each costs more than one search of the sentence (measured: two
# letters are cheaper than three, which leave "is", "on", "no" patterns unanchored).
_SHORTEST_LITERAL = 2
_TOPICS = tuple(Topic)  # iterating the enum itself is slow


class Detector:
    """The detection engine for one lexicon. Immutable and thread-safe; see the module doc."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        flags = re.IGNORECASE
        # (guarded: a sentence's positions where no match can begin fail on one class test)
        self._topics = [
            _Compiled(
                i,
                compile_guarded(_term_pattern(t), flags),
                begins_with(_term_pattern(t), flags, t.triggers),
            )
            for i, t in enumerate(lexicon.topic_terms)
        ]
        self._not_levers = [
            _Compiled(
                i, compile_guarded(n.pattern, flags), begins_with(n.pattern, flags, n.triggers)
            )
            for i, n in enumerate(lexicon.not_levers)
        ]
        # A term whose matches do not all begin with a trigger may still all begin with a
        # literal of its pattern ("buy", "purchas", ...): found by a third automaton, run
        # only for a text that triggers such a term, and then tried only where one begins.
        # Each term by its key: whether a topic term (else a market mention), its topic,
        # its pattern, and the pattern anchored by its own literals (or None).
        self._term_literals = ahocorasick.Automaton()
        self._terms: dict[tuple[int, int], tuple[bool, Topic, _Compiled, _Compiled | None]] = {}
        for family, compiled_terms, patterns, topics in (
            (
                _TOPIC,
                self._topics,
                [_term_pattern(t) for t in lexicon.topic_terms],
                [t.topic for t in lexicon.topic_terms],
            ),
            (
                _NOT_LEVER,
                self._not_levers,
                [n.pattern for n in lexicon.not_levers],
                [n.topic for n in lexicon.not_levers],
            ),
        ):
            for compiled, pattern, topic in zip(compiled_terms, patterns, topics, strict=True):
                key = (family, compiled.index)
                literals = leading_literals(pattern, flags, _SHORTEST_LITERAL)
                by_literals = None
                if not compiled.anchored and literals is not None:
                    by_literals = _Compiled(key[1], compiled.regex, anchored=True)
                    _add_triggers(self._term_literals, set(), *key, literals)
                self._terms[key] = (family == _TOPIC, topic, compiled, by_literals)
        self._scanner = ahocorasick.Automaton()
        self._levers = [
            self._anchored(_LEVER, i, rf"\b(?:{c.pattern})", flags)
            for i, c in enumerate(lexicon.lever_cues)
        ]
        self._lever_keys = [((_LEVER, c.index), c) for c in self._levers]  # (in file order)
        self._stances = [
            self._anchored(_STANCE, i, rf"\b(?:{c.pattern})", flags)
            for i, c in enumerate(lexicon.stance_cues)
        ]
        self._speakers = [
            self._anchored(_SPEAKER, i, _speaker_pattern(c), _speaker_flags(c))
            for i, c in enumerate(lexicon.speaker_cues)
        ]
        self._aliases: list[_Alias] = []
        for g in lexicon.governments:
            for kind, names in (
                ("name", g.names),
                ("metonym", g.metonyms),
                ("demonym", g.demonyms),
            ):
                self._aliases.extend(_Alias(n, g.code, kind) for n in names)
        for inst in lexicon.institutions:
            self._aliases.extend(
                _Alias(n, inst.government, "institution") for n in (inst.name, *inst.aliases)
            )
        for i, o in enumerate(lexicon.officials):
            self._aliases.extend(
                _Alias(n, o.government, "official", i) for n in (o.name, *o.aliases)
            )
        # how each may be written (as listed, in capitals, capitalized), its length, and
        # the term of office to check (an official's)
        self._alias_checks = [
            (
                (a.text, a.text.upper(), _capitalized(a.text)),
                len(a.text),
                lexicon.officials[a.official] if a.official >= 0 else None,
            )
            for a in self._aliases
        ]
        self._prefilter = ahocorasick.Automaton()
        self._always_prefilter: set[tuple[int, int]] = set()
        self._always: set[tuple[int, int]] = set()
        for i, term in enumerate(lexicon.topic_terms):
            _add_triggers(self._prefilter, self._always_prefilter, _TOPIC, i, term.triggers)
        for i, lever in enumerate(lexicon.lever_cues):
            _add_triggers(self._prefilter, self._always_prefilter, _LEVER, i, lever.triggers)
        for i, not_lever in enumerate(lexicon.not_levers):
            _add_triggers(
                self._prefilter, self._always_prefilter, _NOT_LEVER, i, not_lever.triggers
            )
        for i, stance_cue in enumerate(lexicon.stance_cues):
            self._add_cue_triggers(_STANCE, i, stance_cue.triggers)
        for i, speaker_cue in enumerate(lexicon.speaker_cues):
            self._add_cue_triggers(_SPEAKER, i, speaker_cue.triggers)
        for i, alias in enumerate(self._aliases):
            _add_to_scanner(self._scanner, alias.text.lower(), _ALIASES, i)
        # entities(): the scanner's aliases and speaker cues alone, no stance cue to skip
        self._entity_scanner = ahocorasick.Automaton()
        for i, alias in enumerate(self._aliases):
            _add_to_scanner(self._entity_scanner, alias.text.lower(), _ALIASES, i)
        for i, speaker_cue in enumerate(lexicon.speaker_cues):
            for trigger in speaker_cue.triggers:
                _add_to_scanner(self._entity_scanner, trigger, _TRIGGERS, i)
            if self._speakers[i].anchored:
                for literal in self._speaker_literals(speaker_cue):
                    _add_to_scanner(self._entity_scanner, literal, _LITERALS, i)
        self._always_speakers = frozenset(i for kind, i in self._always if kind == _SPEAKER)
        self._prefilter.make_automaton()
        self._term_literals.make_automaton()
        self._scanner.make_automaton()
        self._entity_scanner.make_automaton()
        self._calibration = dict(lexicon.calibration)

    def _anchored(self, family: int, index: int, pattern: str, flags: int) -> _Compiled:
        """A cue's pattern, with the literals it begins with (if any) added to the scanner."""
        literals = leading_literals(pattern, flags, _SHORTEST_LITERAL)
        for literal in literals or ():
            _add_to_scanner(self._scanner, literal, _LITERALS, (family, index))
        return _Compiled(index, compile_guarded(pattern, flags), literals is not None)

    @staticmethod
    def _speaker_literals(cue: SpeakerCue) -> tuple[str, ...]:
        return leading_literals(_speaker_pattern(cue), _speaker_flags(cue), _SHORTEST_LITERAL) or ()

    def _add_cue_triggers(self, family: int, index: int, triggers: Sequence[str]) -> None:
        if not triggers:
            self._always.add((family, index))
        for trigger in triggers:
            _add_to_scanner(self._scanner, trigger, _TRIGGERS, (family, index))

    @classmethod
    def from_path(cls, path: Path | str | None = None) -> Detector:
        """A detector for the lexicon at ``path`` (the packaged one by default); raises
        ``LexiconError`` naming the bad line, so a reloading worker keeps its old one."""
        return cls(load_lexicon(path))

    # --- the pipeline ------------------------------------------------------------------------

    def detect(self, text: str, at: datetime | date | None = None) -> list[Detection]:
        """Every statement in ``text``, one per government, topic and speaker. ``at`` is
        the headline's date, which decides who holds an office ("Kato" in 2025 is Japan's
        finance minister); without it any term of office counts."""
        start = story_start(text)
        filed_from = ""
        if start:  # blanked, not cut: evidence spans stay offsets into the headline
            filed_from = text[:start]
            text = " " * start + text[start:]
        lower = aligned_lower(text)
        starts = _trigger_starts(self._prefilter, lower)  # where each entry's triggers begin
        triggered = self._always_prefilter.union(starts)
        if not triggered:
            return []
        terms = self._lever_terms(text, lower, triggered, starts if text.isascii() else None)
        text_topics: list[Topic] = []
        for topic in _TOPICS:
            if terms[topic]:
                text_topics.append(topic)
        lever_hits: list[_Compiled] = []
        for key, compiled in self._lever_keys:
            if key in triggered:
                lever_hits.append(compiled)
        if not text_topics and not any(c.regex.search(text) for c in lever_hits):
            return []
        on = at.date() if isinstance(at, datetime) else at
        found: set[tuple[int, int]] = set(self._always)
        alias_hits: list[tuple[int, int]] = []
        cue_hits: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []
        begins: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
        for end, (length, aliases, cues, leads) in self._scanner.iter(lower):
            for alias in aliases:
                alias_hits.append((end, alias))
            if cues:
                found.update(cues)
                cue_hits.append((end + 1 - length, end + 1, cues))
            for cue in leads:
                begins[cue].append(end + 1 - length)
        if not lever_hits:
            for family, _ in found:
                if family == _STANCE:
                    break
            else:
                return []
        spans = self._government_spans(text, alias_hits, on)
        filed_in = self._filed_in(filed_from) if filed_from else None
        if not spans and filed_in is None:
            return []
        return self._read(
            text, _Found(spans, terms, text_topics, found, lever_hits, cue_hits, begins), filed_in
        )

    def _filed_in(self, dateline: str) -> str | None:
        """The government whose capital (a metonym: "BEIJING (Reuters) -") a blanked
        dateline names, if any."""
        lower = aligned_lower(dateline)
        hits = [
            (end, alias)
            for end, (_, aliases, _, _) in self._scanner.iter(lower)
            for alias in aliases
        ]
        for span in self._government_spans(dateline, hits, None):
            if span.alias.kind == "metonym":
                return span.code
        return None

    def _triggered_in(self, hits: _Found, start: int, end: int) -> set[tuple[int, int]]:
        """The stance and speaker cues whose triggers occur in the sentence at ``start:end``:
        a cue's match holds one of its triggers, so no other cue can match there."""
        found = set(self._always)
        for a, b, cues in hits.cue_hits:
            if start <= a and b <= end:
                found.update(cues)
        return found

    def _read(self, text: str, hits: _Found, filed_in: str | None = None) -> list[Detection]:
        """The statements of a text's sentences. ``filed_in``: the government of the city
        of a blanked dateline, which names no speaker, but whose government a title of no
        named government speaks for when the text names none."""
        spans, terms, text_topics = hits.spans, hits.terms, hits.text_topics
        lever_hits = hits.lever_hits
        parts = _sentence_spans(text)
        media_piece = _MEDIA_PIECE.match(text) is not None
        per_sentence = []
        text_government: str | None = None
        for s0, s1 in parts:
            sentence = text[s0:s1]
            local: list[_Span] = []
            for sp in spans:
                if s0 <= sp.start and sp.end <= s1:
                    start = sp.start - s0
                    after_preposition = _OBJECT_BEFORE.search(_tail(sentence, start)) is not None
                    if after_preposition and _GERUND_SUBJECT.match(sentence, sp.end - s0):
                        # "the prospect of China selling its Treasuries": the subject of the
                        # gerund, the actor, though a preposition's object
                        after_preposition = _OF_BEFORE.search(_tail(sentence, start)) is None
                    local.append(_Span(start, sp.end - s0, sp.code, sp.alias, after_preposition))
            mentions = _government_mentions(sentence, local)
            if text_government is None and mentions:
                text_government = mentions[0][1]
            local_terms: dict[Topic, list[tuple[int, int]]] = {}
            for topic, found_terms in terms.items():
                inside = local_terms[topic] = []
                for a, b in found_terms:
                    if s0 <= a and b <= s1:
                        inside.append((a - s0, b - s0))
            found = self._triggered_in(hits, s0, s1)
            # (where a cue's literals begin, offsets into the text; not in a sentence that
            # is not ASCII, where a pattern may match what its literals do not spell)
            begins = hits.begins if sentence.isascii() else None
            per_sentence.append((sentence, s0, local, mentions, local_terms, found, begins))
        best: dict[tuple[str, Topic, Speaker], Detection] = {}
        history: dict[tuple[str, Topic, Speaker], tuple[Detection, bool]] = {}
        for sentence, s0, local, mentions, local_terms, found, begins in per_sentence:
            for detection, is_history, leading in self._sentence_statements(
                sentence,
                s0,
                local,
                mentions,
                local_terms,
                text_topics=text_topics,
                text_government=text_government,
                media_piece=media_piece,
                found=found,
                begins=begins,
                lever_hits=lever_hits,
                filed_in=filed_in,
            ):
                key = (detection.government, detection.topic, detection.speaker)
                if is_history:
                    held_h = history.get(key)
                    if held_h is None or _rank(detection) > _rank(held_h[0]):
                        history[key] = (detection, leading)
                    continue
                held = best.get(key)
                if held is None or _rank(detection) > _rank(held):
                    best[key] = detection
        for key, (detection, leading) in history.items():
            if key not in best and (key[0] == text_government or leading):
                best[key] = detection
        return list(best.values())

    def _lever_terms(
        self,
        text: str,
        lower: str,
        triggered: set[tuple[int, int]],
        starts: dict[tuple[int, int], list[int]] | None,
    ) -> dict[Topic, list[tuple[int, int]]]:
        """Where each topic is named in ``text`` as a lever: the matches of its triggered
        terms, in file order, less market mentions (the triggered ``not_lever`` patterns,
        run only for a topic whose terms matched). ``starts``: where the triggers begin, in
        an ASCII text (``lower``: lower-cased)."""
        terms: dict[Topic, list[tuple[int, int]]] = {}
        excluded: dict[Topic, list[tuple[_Compiled, Sequence[int] | None]]] = {}
        for topic in _TOPICS:
            terms[topic], excluded[topic] = [], []
        literal_starts: dict[tuple[int, int], list[int]] | None = None
        for key in sorted(triggered):
            term = self._terms.get(key)
            if term is None:
                continue  # a lever cue's
            is_topic_term, topic, compiled, by_literals = term
            at: Sequence[int] | None = None
            if starts is not None and by_literals is not None:
                if literal_starts is None:
                    literal_starts = _trigger_starts(self._term_literals, lower)
                compiled, at = by_literals, literal_starts.get(key, ())
            elif starts is not None:
                at = starts.get(key)
            if is_topic_term:
                terms[topic].extend(compiled.spans(text, at))
            else:
                excluded[topic].append((compiled, at))
        for topic, spans in terms.items():
            if spans and excluded[topic]:
                out = [span for n, at in excluded[topic] for span in n.spans(text, at)]
                spans[:] = [s for s in spans if not any(a <= s[0] < b for a, b in out)]
        return terms

    def _sentence_statements(  # noqa: PLR0915 - one reading, step by step, as the module doc
        self,
        sentence: str,
        offset: int,
        spans: list[_Span],
        governments: list[tuple[int, str]],
        by_topic: dict[Topic, list[tuple[int, int]]],
        *,
        text_topics: list[Topic],
        text_government: str | None,
        media_piece: bool,
        found: set[tuple[int, int]],
        begins: dict[tuple[int, int], list[int]] | None,
        lever_hits: list[_Compiled],
        filed_in: str | None,
    ) -> Iterable[tuple[Detection, bool, bool]]:
        if not (governments or text_government or spans or filed_in):
            return
        terms = _topic_terms(sentence, by_topic)
        if not terms and len(text_topics) == 1:
            terms = [(0, text_topics[0], False)]
        if not terms and not lever_hits:
            return
        cues = [
            c
            for c in self._stance_cues(sentence, offset, found, begins, lever_hits)
            if c.rule not in _OBJECT_RULES or _names_lever(sentence, terms, c)
        ]
        if not cues:
            return
        if len(cues) > 1:
            cues = _qualified_rejections(sentence, cues, terms)
        if not terms:
            # no topic named, but a lever cue (which carries its topic): the sentence's other
            # cues are about that lever ("warns it will respond as it sanctions US firms")
            terms = [(c.start, c.topic, False) for c in cues if c.topic]
            if not terms:
                return
        background = _spans(_BACKGROUND, _BACKGROUND_WORDS, sentence)
        speakers = self._speaker_cues(sentence, offset, spans, found, begins)
        for cue in cues:
            if cue.rule == "threatens.warns" and _own_verb_of_other(sentence, speakers, cue):
                continue
            speaker_cue = _speaker_for(sentence, speakers, cue.start, cue.end)
            speaker_government = speaker_cue.government if speaker_cue else None
            characterized = False
            also: str | None = None
            if cue.rule in _OWNED_RULES:
                if any(sp.end == cue.start and sp.after_preposition for sp in spans):
                    continue  # "against Japan's export restrictions": the counterpart's
                owner = _owner_before(sentence, spans, cue.start)
                if sentence.startswith("its", cue.start) and governments:
                    # "Canada is fighting the US tariffs with its own retaliatory actions":
                    # "its" is the subject's, not the nearest name's.
                    owner = governments[0][1]
                if owner is None and speaker_cue is not None and speaker_cue.named:
                    owner = speaker_government
                if owner is None:
                    continue
                government: str | None = owner
                gov_basis = "owner"
                characterized = _characterized(sentence, governments, owner, cue.start)
            elif speaker_government and (
                cue.rule == "threatens.consequences"
                or (
                    speaker_cue is not None
                    and speaker_cue.reports
                    and speaker_cue.start > cue.start
                )
            ):
                # "X will face higher tariffs, Bessent warns": the threat is the speaker's;
                # "'..., we're ready to fight,' China's embassy posts": the quote is theirs.
                government, gov_basis = speaker_government, "speaker"
            else:
                candidates = governments
                if cue.rule == "open.considering":
                    # "has 30 days to review the US measures": a government named in what is
                    # weighed owns the measure weighed, not the weighing
                    candidates = [m for m in governments if not cue.start < m[0] < cue.end]
                government = _government_for(candidates, cue.start)
                gov_basis = "named"
                if (
                    speaker_cue is not None
                    and speaker_cue.speaker is Speaker.GOVERNMENT
                    and speaker_cue.government is None
                    and not speaker_cue.named
                    and text_government is not None
                    and (
                        not any(start < cue.start for start, _ in governments)
                        or _SAYS_THEN.fullmatch(sentence, speaker_cue.end, cue.start) is not None
                    )
                ):
                    # "The finance ministry announced the levy, matching the rate Trump
                    # imposed": a title of no named government is the story's, not the
                    # government named after the cue; nor the one named in what it says
                    # ("Mexico should think twice, the commerce ministry says, vowing ...").
                    government, gov_basis = text_government, "text"
                if governments and (
                    cue.rule == "threatens.ultimatum"
                    or _SUBJECTLESS.search(_tail(sentence, cue.start))
                ):
                    foreground = [
                        g for g in governments if not any(a <= g[0] < b for a, b in background)
                    ] or governments
                    government, gov_basis = foreground[0][1], "subject"
                else:
                    also = _coordinated(sentence, governments, cue.start)
                if government is None and speaker_government:
                    government, gov_basis = speaker_government, "speaker"
                if government is None:
                    government, gov_basis = text_government, "text"
                if (
                    government is None
                    and filed_in is not None
                    and (speaker_cue is None or speaker_cue.speaker is Speaker.GOVERNMENT)
                    and any(
                        s.speaker is Speaker.GOVERNMENT and s.government is None for s in speakers
                    )
                ):
                    # "BEIJING (Reuters) - The commerce ministry ...": a title of no named
                    # government, in a text that names none, is the dateline capital's
                    government, gov_basis = filed_in, "text"
            topic = cue.topic or _nearest_topic(terms, cue)
            if topic is Topic.TREASURY_HOLDINGS and government == _ISSUER:
                # the issuer holds no Treasuries to use (DESIGN.md): the holder is the
                # speaker's government ("Jubeir warned US lawmakers the kingdom would sell");
                # else, when the US was read from its speaker ("..., Bessent tells Yahoo
                # Finance, since selling would force Beijing ..."), the other government
                # named; not when the US is named acting ("saying the US would retaliate")
                holder = None
                if speaker_government not in (None, _ISSUER):
                    holder, gov_basis = speaker_government, "speaker"
                elif gov_basis != "named":
                    others = [m for m in governments if m[1] != _ISSUER]
                    holder, gov_basis = _government_for(others, cue.start), "named"
                government = holder
            if government is None:
                continue
            if speaker_cue is None:
                speaker, speaker_basis = Speaker.GOVERNMENT, "subject"
                phrase = _subject_phrase(sentence, spans, government, cue.start)
            else:
                speaker = speaker_cue.speaker
                speaker_basis = (
                    "named"
                    if speaker_cue.named
                    else ("reporting" if speaker_cue.reports else "mention")
                )
                phrase = _speaker_phrase(sentence, spans, speaker_cue)
                if (
                    speaker is Speaker.GOVERNMENT
                    and speaker_government is not None
                    and speaker_government != government
                    and (speaker_cue.reports or speaker_cue.named)
                ):
                    speaker, speaker_basis = Speaker.OTHER, "foreign"
            if characterized:
                speaker, speaker_basis = Speaker.OTHER, "foreign"
            if media_piece and speaker is Speaker.GOVERNMENT:
                speaker, speaker_basis = Speaker.MEDIA, "piece"
            stance, rule = cue.stance, cue.rule
            if (
                rule.startswith(("open.modal_", "open.could_use"))
                and speaker is Speaker.GOVERNMENT
                and not _AS_A_CARD.search(sentence, cue.start)
            ):
                # A government saying it may act signals it may use the lever: a threat;
                # unless what it may use is "a card" ("could use them as a bargaining card"),
                # which keeps it on the table (DESIGN.md's open).
                stance, rule = Stance.THREATENS, rule.replace("open.", "threatens.", 1)
            in_background = _span_at(background, cue.start)
            decision = f"{stance.value}/{speaker_basis}/{gov_basis}"
            is_history = in_background is not None and speaker is Speaker.GOVERNMENT
            leading = in_background is not None and in_background[0] == 0
            if (
                rule == "acting.announces"
                and speaker is Speaker.GOVERNMENT
                and _ANAPHORIC_ANNOUNCEMENT.fullmatch(sentence, cue.start, cue.end)
            ):
                # "Canada to impose 25% tariffs. Carney announced the countermeasure ...":
                # the announcement restates the measure as the text first states it; it
                # stands only when the text says nothing else for that government.
                is_history, leading = True, True
            for code in (government, also):
                if code is None or (topic is Topic.TREASURY_HOLDINGS and code == _ISSUER):
                    continue  # the issuer holds no Treasuries to use: not its lever
                # "..., hours after Trump threatens levies": the clause names its own actor,
                # whose act it reports (not history to be superseded by another's words).
                own_subject = in_background is not None and any(
                    in_background[0] <= sp.start < cue.start and sp.code == code for sp in spans
                )
                yield (
                    Detection(
                        government=code,
                        topic=topic,
                        stance=stance,
                        speaker=speaker,
                        confidence=self._confidence(decision),
                        evidence=sentence,
                        cue=rule,
                        speaker_phrase=phrase,
                        decision=decision,
                    ),
                    is_history,
                    leading or own_subject,
                )

    def _confidence(self, decision: str) -> float:
        """The calibrated accuracy of a decision class, falling back to coarser classes."""
        stance, speaker_basis, _ = decision.split("/")
        for key in (decision, f"{stance}/{speaker_basis}", stance, "*"):
            if key in self._calibration:
                return self._calibration[key]
        return 0.5

    def _stance_cues(
        self,
        sentence: str,
        offset: int,
        found: set[tuple[int, int]],
        begins: dict[tuple[int, int], list[int]] | None,
        lever_hits: list[_Compiled],
    ) -> list[_Cue]:
        chosen = self._stance_matches(sentence, offset, found, begins)
        contrasted = _spans(_CONTRAST, _CONTRAST_WORDS, sentence)
        cues: list[_Cue] = []
        scope_end = -1
        # an ultimatum ("scrap it or face new tariffs and curbs") scopes over the rest of its
        # clause: the measures it names are what is threatened, not acts
        ultimatum = (-1, -1)
        for start, end, index in chosen:
            entry = self.lexicon.stance_cues[index]
            rule, stance = entry.rule, entry.stance
            if contrasted and any(left < start < right for left, right in contrasted):
                continue
            if rule == "open.considering" and _NEGATED_DELIBERATION.search(_tail(sentence, start)):
                if not _CONSIDER_VERB.match(sentence, start):
                    continue  # "has not discussed the holdings": no stance
                rule, stance = "rules_out.not_considering", Stance.RULES_OUT
            if rule == "open.eases" and _HYPOTHETICAL_SUBJECT.search(_tail(sentence, start)):
                continue  # "unless the EU scraps its levy": a demand on another, not its act
            if stance is Stance.RULES_OUT:
                rule, stance, scope_end = _rejection(sentence, start, end, rule, scope_end)
                if not rule:
                    continue
            elif start < scope_end or (
                stance is Stance.ACTING and ultimatum[0] < start < ultimatum[1]
            ):
                continue
            if stance is Stance.ACTING:
                read = _act(sentence, start, end, rule)
                if read is None:
                    continue
                rule, stance = read
            if rule == "threatens.ultimatum":
                ultimatum = (start, _clause_end(sentence, end))
            cues.append(_Cue(start, end, rule, stance))
        for compiled in lever_hits:
            lever = self.lexicon.lever_cues[compiled.index]
            for start, end in _cue_spans(
                compiled, (_LEVER, compiled.index), sentence, offset, begins
            ):
                if any(c.start <= start < c.end for c in cues) or start < scope_end:
                    continue
                if lever.stance is Stance.ACTING and ultimatum[0] < start < ultimatum[1]:
                    continue
                if _MODAL_OPEN.search(_tail(sentence, start)):
                    cues.append(_Cue(start, end, "open.modal_lever", Stance.OPEN, lever.topic))
                    continue
                if lever.stance is Stance.ACTING and _MODAL_THREAT.search(_tail(sentence, start)):
                    cues.append(
                        _Cue(start, end, "threatens.modal_lever", Stance.THREATENS, lever.topic)
                    )
                    continue
                cues.append(_Cue(start, end, lever.rule, lever.stance, lever.topic))
        return cues

    def _stance_matches(
        self,
        sentence: str,
        offset: int,
        found: set[tuple[int, int]],
        begins: dict[tuple[int, int], list[int]] | None,
    ) -> list[tuple[int, int, int]]:
        """The stance cues' matches (start, end, index), left to right, none overlapping:
        where two start at one position, the earlier entry's."""
        matches: list[tuple[int, int, int, int]] = []  # start, priority, end, index
        for key in found:
            if key[0] == _STANCE:
                index = key[1]
                for start, end in _cue_spans(self._stances[index], key, sentence, offset, begins):
                    if end > start:
                        matches.append((start, index, end, index))
        matches.sort()
        chosen: list[tuple[int, int, int]] = []
        position = -1
        for start, _, end, index in matches:
            if start >= position:
                chosen.append((start, end, index))
                position = end
        return chosen

    def _speaker_cues(
        self,
        sentence: str,
        offset: int,
        spans: list[_Span],
        found: set[tuple[int, int]],
        begins: dict[tuple[int, int], list[int]] | None,
    ) -> list[_SpeakerCue]:
        """Speaker cues, each with whether it reports ("analysts said") and the government
        it speaks for when known (an official, an institution, "Japan's finance minister")."""
        cues: list[_SpeakerCue] = []
        for compiled in self._speakers:  # in file order: cues at one start keep it
            if (_SPEAKER, compiled.index) not in found:
                continue
            speaker = self.lexicon.speaker_cues[compiled.index].speaker
            for start, end in _cue_spans(
                compiled, (_SPEAKER, compiled.index), sentence, offset, begins
            ):
                government = None
                if speaker is Speaker.GOVERNMENT:
                    government = _owner_of_title(sentence, spans, start)
                cues.append(
                    _SpeakerCue(
                        start, end, speaker, _reports(sentence, start, end), government, named=False
                    )
                )
        for span in spans:
            if span.alias.kind not in ("official", "institution"):
                continue
            if span.alias.kind == "official" and _POSSESSIVE.match(sentence, span.end):
                continue
            if span.after_preposition:
                continue
            cues = [c for c in cues if not (span.start <= c.start < span.end)]
            cues.append(
                _SpeakerCue(
                    span.start,
                    span.end,
                    Speaker.GOVERNMENT,
                    _reports(sentence, span.start, span.end),
                    span.code,
                    named=True,
                )
            )
        if "ormer" in sentence or "x-" in sentence:  # (a substring test before the scan)
            cues = [_former(sentence, c) for c in cues]
        return sorted(cues, key=_START)

    def entities(self, sentence: str) -> tuple[frozenset[str], frozenset[Speaker]]:
        """What the module's :func:`entities` finds, by this detector's lexicon."""
        hits: list[tuple[int, int]] = []
        cues = set(self._always_speakers)
        begins: dict[int, list[int]] | None = {} if sentence.isascii() else None
        for end, (length, aliases, triggers, leads) in self._entity_scanner.iter(
            aligned_lower(sentence)
        ):
            for alias in aliases:
                hits.append((end, alias))
            cues.update(triggers)
            if begins is not None:
                for index in leads:
                    begins.setdefault(index, []).append(end + 1 - length)
        speakers: set[Speaker] = set()
        for index in cues:
            speaker = self.lexicon.speaker_cues[index].speaker
            at = None if begins is None else begins.get(index, [])
            if speaker not in speakers and self._speakers[index].search(sentence, at):
                speakers.add(speaker)
        codes: set[str] = set()
        for span in self._government_spans(sentence, hits, None):
            codes.add(span.code)
            if span.alias.kind in ("official", "institution"):
                speakers.add(Speaker.GOVERNMENT)
        return frozenset(codes), frozenset(speakers)

    def _government_spans(
        self, text: str, hits: list[tuple[int, int]], on: date | None
    ) -> list[_Span]:
        """Government names found by the scanner, checked for case and word boundaries,
        officials checked for their term; the longest of overlapping names wins."""
        size = len(text)
        # (start, -length, order of the hit, alias): sorted, the longest name at a start
        # comes first, and names alike keep the scanner's order
        named: list[tuple[int, int, int, _Alias]] = []
        for order, (end_index, alias_index) in enumerate(hits):
            forms, length, official = self._alias_checks[alias_index]
            end = end_index + 1
            start = end - length
            if text[start:end] not in forms:
                continue
            if start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
                continue
            if end < size and (
                text[end].isalnum()
                or text[end] == "_"
                or (text[end] == "." and end + 1 < size and text[end + 1].isalnum())
            ):
                continue
            if official is not None and not official.in_office(on):
                continue
            named.append((start, start - end, order, self._aliases[alias_index]))
        named.sort()
        kept: list[_Span] = []
        for start, negative_length, _, alias in named:
            if kept and start < kept[-1].end:
                continue
            kept.append(_Span(start, start - negative_length, alias.code, alias))
        return kept


# "warns of big retaliation if it unloads US bonds": the holdings named in the condition are
# the counterpart's act that would be answered, not the response's lever.
_CONDITION_WORD = compile_guarded(r"\b(?:if|unless|should)\b", re.IGNORECASE)


def _topic_terms(
    sentence: str, by_topic: dict[Topic, list[tuple[int, int]]]
) -> list[tuple[int, Topic, bool]]:
    """Where each topic is named (start, topic, whether it is the counterpart's measure).
    A response word ("retaliate") takes the Treasury topic when its clause names the
    holdings ("retaliate by selling its Treasury holdings", "sell Treasuries in retaliation"),
    not in a condition ("retaliation if it unloads US bonds": the counterpart's act)."""
    terms = []
    for named, spans in by_topic.items():
        for start, end in spans:
            topic = named
            if (
                named is Topic.TRADE_LEVERAGE
                and by_topic[Topic.TREASURY_HOLDINGS]
                and _RESPONSE_WORD.fullmatch(sentence, start, end)
                and any(
                    (
                        s >= end
                        and s < _clause_end(sentence, end)
                        and not _CONDITION_WORD.search(sentence, end, s)
                    )
                    or (e <= start and _clause_end(sentence, e) >= start)
                    for s, e in by_topic[Topic.TREASURY_HOLDINGS]
                )
            ):
                topic = Topic.TREASURY_HOLDINGS
            counterpart = (
                topic is Topic.TRADE_LEVERAGE
                and _COUNTERPART_BEFORE.search(_tail(sentence, start)) is not None
            )
            terms.append((start, topic, counterpart))
    return sorted(terms)


def _rejection(
    sentence: str, start: int, end: int, rule: str, scope_end: int
) -> tuple[str, Stance, int]:
    """How a rejection cue reads in its clause, and where its scope ends: an imperative
    to others ("'Do not retaliate', X warns") is none and scopes over nothing; a denial of
    what others do is no stance of the speaker ("" as the rule) but keeps its scope; one
    that only puts the act off is open."""
    if _IMPERATIVE.match(sentence, start) and not _WORD.search(sentence, 0, start):
        return "", Stance.RULES_OUT, scope_end
    scope_end = _clause_end(sentence, end)
    if rule == "rules_out.dismiss" and _OTHERS_ACT.match(sentence, start, scope_end):
        return "", Stance.RULES_OUT, scope_end
    if _NOT_YET.match(sentence, start, scope_end) or _FOR_NOW.match(sentence, start):
        return "open.not_yet", Stance.OPEN, scope_end
    if _NO_FURTHER.match(sentence, start, scope_end) and _NO_LONGER.search(
        sentence, start, scope_end
    ):
        return "", Stance.RULES_OUT, scope_end
    return rule, Stance.RULES_OUT, scope_end


def _qualified_rejections(
    sentence: str, cues: list[_Cue], terms: list[tuple[int, Topic, bool]]
) -> list[_Cue]:
    """The cues less each rejection conceded away by an explicit non-exclusion across a
    contrast ("plans no retaliation for now but is not closing the door", "is not
    considering counter-tariffs, though he has not taken them off the table"): not now, but
    not never, is a lever kept on the table (DESIGN.md's open), not ruled out. The
    non-exclusion must be of the lever: of one named, of "them", of "any options"; not of
    something else ("no plans to sell, though it does not rule out intervention")."""
    kept = []
    for c in cues:
        if c.rule in _NON_EXCLUSION:
            end = _clause_end(sentence, c.end)
            if (
                _CONCEDED_OBJECT.match(sentence, c.end)
                or any(c.end <= start < end for start, _, _ in terms)
                or _LEVER_WORD.search(sentence, c.end, end)
            ):
                kept.append(c)
    if not kept:
        return cues
    return [
        c
        for c in cues
        if c.stance is not Stance.RULES_OUT
        or not any(
            _CONCESSION.search(sentence, min(c.end, k.end), max(c.start, k.start)) for k in kept
        )
    ]


def _act(sentence: str, start: int, end: int, rule: str) -> tuple[str, Stance] | None:
    """How an acting cue reads in its clause: none with a hypothetical subject ("any country
    which retaliates"), as the counterpart's participle ("against doubled US tariffs") or
    under a negation ("will not rush to retaliate"); a threat after a modal ("will impose",
    "to retaliate"), before a condition or a start date still to come; an option after "may";
    else an act. A measure kept in place, or applied at once, is an act whatever precedes."""
    before = _tail(sentence, start)
    if (
        _HYPOTHETICAL_SUBJECT.search(before)
        or _counterpart_participle(sentence, start, end)
        or _NEGATED_ACT.search(before)
        or _PLAN_OBJECT.search(before)
    ):
        return None
    family = rule.split(".", 1)[1]
    if rule in _KEEPS_RULES or _immediate(sentence, end):
        return rule, Stance.ACTING
    if rule in _HALT_RULES and _DIRECTIVE.search(before):
        return rule, Stance.ACTING
    if _MODAL_THREAT.search(before):
        return f"threatens.modal_{family}", Stance.THREATENS
    if _MODAL_OPEN.search(before):
        return f"open.modal_{family}", Stance.OPEN
    if _IF.search(sentence, end) and _CONDITION_AFTER.match(sentence, end):
        return f"threatens.if_{family}", Stance.THREATENS
    if (
        rule not in _OWNED_RULES
        and not _RESPONSE_VERB.match(sentence, start)
        and _SCHEDULED_AFTER.match(sentence, end, _clause_end(sentence, end) + 40)
    ):
        return f"threatens.scheduled_{family}", Stance.THREATENS
    return rule, Stance.ACTING


def _names_lever(sentence: str, terms: list[tuple[int, Topic, bool]], cue: _Cue) -> bool:
    """Whether a negation is about a lever: its words name one ("will not retaliate"), or
    what its clause goes on to name is not only the counterpart's measure ("no plans to cut
    rates in response to US tariffs" is about rates)."""
    if _LEVER_WORD.search(sentence, cue.start, cue.end):
        return True
    end = _clause_end(sentence, cue.end)
    if _ANSWERS.match(sentence, cue.end):
        return True
    named = [term for term in terms if cue.end <= term[0] < end]
    if not named or any(not counterpart for _, _, counterpart in named):
        return True
    return _LEVER_WORD.search(sentence, cue.end, end) is not None


def _counterpart_participle(sentence: str, start: int, end: int) -> bool:
    """An acting cue that is a participle after a preposition ("against doubled US tariffs")."""
    verb = sentence[start:end].split(maxsplit=1)[0].lower()
    return verb.endswith("ed") and _PARTICIPLE_OBJECT.search(_tail(sentence, start)) is not None


def _immediate(sentence: str, end: int) -> bool:
    """Whether the measure after an acting cue applies at once ("... immediately")."""
    if sentence.isascii() and "immediate" not in sentence[end:].lower():
        return False  # (a test cheaper than the lazy scan; in ASCII, case folding is lowering)
    return _IMMEDIATE.match(sentence, end, _clause_end(sentence, end) + 40) is not None


def _add_triggers(
    automaton: ahocorasick.Automaton,
    always: set[tuple[int, int]],
    family: int,
    index: int,
    triggers: Sequence[str],
) -> None:
    """Map each trigger to its length (where a hit starts) and the entries it triggers."""
    if not triggers:
        always.add((family, index))
    for trigger in triggers:
        _, held = automaton.get(trigger, (0, ()))
        automaton.add_word(trigger, (len(trigger), (*held, (family, index))))


# The scanner's payload for a word: its length, then the aliases it spells, the cues it
# triggers and the cues whose leading literal it is (each a tuple, by these indices).
_ALIASES, _TRIGGERS, _LITERALS = 1, 2, 3


def _add_to_scanner(automaton: ahocorasick.Automaton, word: str, slot: int, item: object) -> None:
    payload = list(automaton.get(word, (len(word), (), (), ())))
    payload[slot] = (*payload[slot], item)
    automaton.add_word(word, tuple(payload))


def _speaker_pattern(cue: SpeakerCue) -> str:
    return rf"\b(?:{cue.pattern})\b"


def _speaker_flags(cue: SpeakerCue) -> int:
    return 0 if cue.case_sensitive else re.IGNORECASE


def _term_pattern(term: TopicTerm) -> str:
    """A topic term as compiled, and as its literals are read: one string for both, or the
    literals would not describe the regex (and a match would be missed where none begins)."""
    return rf"\b(?:{term.pattern})\b"


def _cue_spans(
    compiled: _Compiled,
    key: tuple[int, int],
    sentence: str,
    offset: int,
    begins: dict[tuple[int, int], list[int]] | None,
) -> list[tuple[int, int]]:
    """Where a cue (``key``: family, index) matches in a sentence (at ``offset`` in its
    text): tried only where its leading literals begin when ``begins`` tells where (an ASCII
    sentence), else searched."""
    if begins is None or not compiled.anchored:
        return [match.span() for match in compiled.regex.finditer(sentence)]
    at = begins.get(key)
    return compiled.spans(sentence, at, offset) if at else []


def _trigger_starts(
    automaton: ahocorasick.Automaton, lower: str
) -> dict[tuple[int, int], list[int]]:
    """Where the triggers of each entry (``_add_triggers``) begin in a lower-cased text."""
    starts: dict[tuple[int, int], list[int]] = {}
    for end, (length, values) in automaton.iter(lower):
        for value in values:
            starts.setdefault(value, []).append(end + 1 - length)
    return starts


def aligned_lower(text: str) -> str:
    """``text`` lower-cased character for character, so that offsets in it are offsets in
    ``text``: ``str.lower`` turns "\u0130" into two characters, "i" and a combining dot, of
    which this keeps the "i" (what a case-insensitive pattern matches it as). Otherwise a
    name after it would be looked for one character off, and missed."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower()[0] for c in text)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _rank(detection: Detection) -> int:
    return _STANCE_RANK[detection.stance]


def _clause_end(sentence: str, position: int) -> int:
    match = _CLAUSE_END.search(sentence, position)
    return match.start() if match else len(sentence)


_START = attrgetter("start")


def _span_at(spans: list[tuple[int, int]], position: int) -> tuple[int, int] | None:
    """The first of ``spans`` holding ``position``."""
    for span in spans:
        if span[0] <= position < span[1]:
            return span
    return None


def _nearest_topic(terms: list[tuple[int, Topic, bool]], cue: _Cue) -> Topic:
    """The topic named nearest the cue, preferring a lever to the counterpart's measure."""
    nearest, distance = terms[0], -1  # of all terms, if none is a lever
    lever, lever_distance = terms[0], -1
    for term in terms:  # (the first of the nearest, as min() keeps)
        gap = min(abs(term[0] - cue.start), abs(term[0] - cue.end))
        if distance < 0 or gap < distance:
            nearest, distance = term, gap
        if not term[2] and (lever_distance < 0 or gap < lever_distance):
            lever, lever_distance = term, gap
    return (lever if lever_distance >= 0 else nearest)[1]


def _reports(sentence: str, start: int, end: int) -> bool:
    tail = _tail(sentence, start)
    return bool(
        _REPORTING_AFTER.match(sentence, end)
        or _ACCORDING_TO.search(tail)
        or _THAT_AFTER.match(sentence, end)
        or _SAYS_BEFORE.search(tail)
    )


# "..., says Hayley Channer of the US Studies Centre": a reporting verb put before its speaker.
_SAYS_BEFORE = compile_guarded(
    r"[,;]\s*(?:says|said|writes|wrote|argues|argued|notes|noted|adds|added|warns|warned)\s+"
    r"(?:[\w.'\u2019-]+\s+){0,6}?$",
    re.IGNORECASE,
)


# "speculation that Seoul could hit back": a speaker noun that introduces what it says.
_THAT_AFTER = re.compile(r"\s+that\b", re.IGNORECASE)


def _own_verb_of_other(sentence: str, speakers: list[_SpeakerCue], cue: _Cue) -> bool:
    """A warning that is the reporting verb of a non-government speaker ("traders warn")."""
    return any(
        s.speaker is not Speaker.GOVERNMENT
        and s.end <= cue.start
        and _OWN_VERB_GAP.fullmatch(sentence, s.end, cue.start) is not None
        for s in speakers
    )


def _speaker_for(
    sentence: str, speakers: list[_SpeakerCue], position: int, end: int
) -> _SpeakerCue | None:
    """Who a cue at ``position:end`` is attributed to (no speaker cue that begins inside
    it): in its own clause, the nearest reporting speaker before it, else a named official or
    institution before it (its subject: "After Trump threatens ..., MOFCOM says ..."); then
    a reporting speaker anywhere before it; then one reporting after it ("Japan could sell,
    analysts say"); then a plain mention in its clause ("Finance Minister Kato rules out
    ..."). None: the government named is the subject."""
    if not speakers:
        return None
    clause_start = 0
    for match in _CLAUSE_START.finditer(sentence, 0, position):
        clause_start = max(clause_start, match.end())
    # (one pass: the last of each kind before the cue, the first reporting after it)
    last: _SpeakerCue | None = None
    last_reporting: _SpeakerCue | None = None
    last_named: _SpeakerCue | None = None
    reporting_before: _SpeakerCue | None = None
    reporting_after: _SpeakerCue | None = None
    for s in speakers:
        if position <= s.start < end:
            continue
        if s.start < position:
            if s.reports:
                reporting_before = s
            if clause_start <= s.start:
                last = s
                if s.reports:
                    last_reporting = s
                if s.named:
                    last_named = s
        elif reporting_after is None and s.reports and not _THAT_AFTER.match(sentence, s.end):
            reporting_after = s
    for candidate in (last_reporting, last_named, reporting_before, reporting_after):
        if candidate is not None:
            return candidate
    return last


def _former(sentence: str, cue: _SpeakerCue) -> _SpeakerCue:
    """A government speaker cue of a former office holder ("former PBOC deputy governor",
    "ex-vice commerce minister") as ``other``: out of office, they speak for no government."""
    if cue.speaker is not Speaker.GOVERNMENT or not _FORMER.search(_tail(sentence, cue.start)):
        return cue
    return _SpeakerCue(cue.start, cue.end, Speaker.OTHER, cue.reports, None, named=False)


def _coordinated(sentence: str, mentions: list[tuple[int, str]], position: int) -> str | None:
    """A second subject joined to the cue's ("EU and US agree to suspend tariffs")."""
    first: tuple[int, str] | None = None  # the last two named before the cue
    second: tuple[int, str] | None = None
    for mention in mentions:
        if mention[0] < position:
            first, second = second, mention
    if first is None or second is None:
        return None
    between = sentence[first[0] : second[0]]
    if _JOINED_BY_AND.fullmatch(between) and first[1] != second[1]:
        return first[1]
    return None


def _characterized(
    sentence: str, mentions: list[tuple[int, str]], owner: str, position: int
) -> bool:
    """Whether another government named first calls the owner's measure what it is ("EU
    ..., calling Beijing's curbs discriminatory"): then it is their speech, not the owner's."""
    first = next(((start, code) for start, code in mentions if start < position), None)
    if first is None or first[1] == owner:
        return False
    return _CHARACTERIZES.search(sentence, first[0], position) is not None


def _owner_of_title(sentence: str, spans: list[_Span], position: int) -> str | None:
    """The government a title belongs to when named just before it ("Japan's finance
    minister", "Chinese officials", "Beijing officials")."""
    for span in spans:
        gap = sentence[span.end : position]
        if span.end <= position and len(gap) <= 24 and _TITLE_GAP.fullmatch(gap):
            return span.code
    return None


def _owner_before(sentence: str, spans: list[_Span], position: int) -> str | None:
    """The government that owns the measure a cue is about: named before it as a possessive
    or adjective of the measure ("Canada's counter-tariffs take effect", "matching US tariffs
    kick in", "Beijing's soybean freeze"), not as an object ("tariffs on Canada")."""
    for span in reversed(spans):
        if span.start >= position or span.alias.kind == "official":
            continue
        if span.after_preposition:
            continue
        owned = _OWNED_MEASURE.match(sentence, span.end)
        if owned is not None and owned.end() <= position + 24:
            return span.code
    return None


_OWNED_MEASURE = re.compile(
    rf"(?:{_APOS}s)?(?:\s+[\w$%.-]+){{0,5}}?\s+(?:counter-?tariffs?|counter-?measures|tariffs?|"
    r"duties|levies|levy|curbs|controls|freeze|bans?|restrictions|rules|surcharges?|"
    r"refusal|boycott|embargo|fees|surtax|downgrade|delisting)\b",
    re.IGNORECASE,
)


def _speaker_phrase(sentence: str, spans: list[_Span], cue: _SpeakerCue) -> str:
    start = cue.start
    for span in spans:
        gap = sentence[span.end : cue.start]
        if span.end <= cue.start and _PHRASE_GAP.fullmatch(gap):
            start = min(start, span.start)
    return sentence[start : cue.end]


def _subject_phrase(sentence: str, spans: list[_Span], government: str, position: int) -> str:
    named = [s for s in spans if s.code == government and s.start < position] or [
        s for s in spans if s.code == government
    ]
    return sentence[named[-1].start : named[-1].end] if named else ""


def _government_mentions(sentence: str, spans: list[_Span]) -> list[tuple[int, str]]:
    """Governments named as actors, in order: not as a counterpart object, not for their
    goods, and demonyms only before an actor word."""
    mentions = []
    previous: _Span | None = None
    previous_object = False
    for span in spans:
        is_object = span.after_preposition or (
            previous_object
            and previous is not None
            and _LISTED.fullmatch(sentence[previous.end : span.start]) is not None
        )
        previous, previous_object = span, is_object
        if is_object and not _POSSESSIVE.match(sentence, span.end):
            continue
        if span.after_preposition and _COUNTERPART_MEASURE_AFTER.match(sentence, span.end):
            continue
        if (
            span.alias.kind in ("name", "metonym")
            and _GOODS_AFTER.match(sentence, span.end)
            and not _HOLDER_AFTER.match(sentence, span.end)
        ):
            continue
        if (
            span.alias.kind == "demonym"
            and not _DEMONYM_ACTOR_AFTER.match(sentence, span.end)
            and (
                _WORD.search(sentence, 0, span.start)
                or not _DEMONYM_SUBJECT_AFTER.match(sentence, span.end)
            )
        ):
            continue
        mentions.append((span.start, span.code))
    return mentions


def _government_for(mentions: list[tuple[int, str]], position: int) -> str | None:
    before = after = None
    for start, code in mentions:
        if start < position:
            before = code
        elif after is None:
            after = code
    return before if before is not None else after


def _spans(pattern: re.Pattern[str], words: Sequence[str], sentence: str) -> list[tuple[int, int]]:
    """Where ``pattern`` (case-insensitive) matches in ``sentence``. Every match holds one of
    ``words``: an ASCII sentence without any (most) is told so by a substring test, not a
    scan. (Only ASCII: there lower-casing and the pattern's case folding agree.)"""
    if sentence.isascii():
        lower = sentence.lower()
        for word in words:
            if word in lower:
                break
        else:
            return []
    return [match.span() for match in pattern.finditer(sentence)]


def _tail(sentence: str, position: int, width: int = 48) -> str:
    """The text just before ``position``: what a ``$``-anchored look-behind pattern needs."""
    return sentence[max(0, position - width) : position]


# What a text without a sentence break lacks: one of these characters, and a spaced dash.
# (Each pattern begins with a class or a literal, which the engine skips to in C, unlike
# the alternation "[.!?;:\n\u2013\u2014]|\s-\s" it replaces, tried at every position.)
_MAY_SPLIT = re.compile(r"[.!?;:\n\u2013\u2014]")
_SPACED_DASH = re.compile(r"-(?<=\s-)\s")


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    if _MAY_SPLIT.search(text) is None and _SPACED_DASH.search(text) is None:
        stripped = text.strip()
        start = text.index(stripped) if stripped else 0
        return [(start, start + len(stripped))] if stripped else []
    spans = []
    position = 0
    for match in _SENTENCE_SPLIT.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))
    result = []
    for raw_start, raw_end in spans:
        piece = text[raw_start:raw_end]
        stripped = piece.strip()
        if stripped:
            start = raw_start + piece.index(stripped)
            result.append((start, start + len(stripped)))
    return result


def sentences(text: str) -> list[str]:
    """The sentences of a text (a headline and its lead), headline dashes counted as ends."""
    return [text[start:end] for start, end in _sentence_spans(text)]


@lru_cache(maxsize=1)
def default_detector() -> Detector:
    """The detector for the packaged lexicon, built on first use."""
    return Detector(load_lexicon())


def story_start(text: str) -> int:
    """Where the story proper begins: after a wire prefix and a dateline, if any."""
    # (Each needs a character most headlines lack: a test is cheaper than a failed match.)
    prefix = _WIRE_PREFIX.match(text) if "-" in text or ":" in text else None
    start = prefix.end() if prefix else 0
    dateline = _DATELINE.match(text, start) if "(" in text else None
    return dateline.end() if dateline else start


def detect(text: str, at: datetime | date | None = None) -> list[Detection]:
    """Every statement in ``text`` by the packaged lexicon (see :meth:`Detector.detect`)."""
    return default_detector().detect(text, at)


def entities(sentence: str) -> tuple[frozenset[str], frozenset[Speaker]]:
    """Every government a sentence names (counterparts too: "tariffs on Canada" and "on
    Colombia" are two stories) and the kinds of speaker whose cues it holds: the facts of a
    claim (``streams.claims``), from one scan and no clause reading, because dedup checks
    every headline that carries a statement."""
    return default_detector().entities(sentence)
