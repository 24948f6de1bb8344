"""Machine translation of queries into English with Apertium (Serbian, Croatian, Bosnian and Macedonian).

Apertium is a rule-based translator that Debian ships (`apt-get install apertium apertium-hbs-eng apertium-mkd-eng`,
GPL, about 7 MB). pactkb runs each language pair's programs (its `.mode` file) as separate processes kept running in
Apertium's null-flush mode, so a query costs a few milliseconds instead of a new start of ten programs (0.1-0.8 s);
each request is bounded by a timeout and results are cached. Its output depends on the query alone, never on the
corpus, so nothing of it is filtered by the corpus' vocabulary.

A query is rendered in English in three layers (issue 15's order: team glossaries first of all, Apertium, then the
dictionaries for the words Apertium leaves untranslated):
1. a team glossary (`<name>.<src>-eng.tsv` beside the dictionaries, index/dictionary.py) and pactkb's field glossaries
   (index/synonyms/field.hrv-eng.tsv, field.mkd-eng.tsv: "politički izložena osoba" -> "politically exposed person",
   which Apertium renders "politically displayed person") translate their terms first, each by its preferred
   (first) translation and its acronym, so the rendering reads like an English query (`preferred`);
2. Apertium translates the rest: `hbs-eng` for sr/hr/bs (Serbian Cyrillic is first transliterated to Latin with
   Apertium's own `Cyrl-Latn` mode: hbs-eng reads Latin only), `mkd-eng` for mk;
3. a word Apertium does not know (it marks them with `*`) typed without diacritics is read in the first restored
   spelling it knows ("zracna luka" as "zračna luka": airport; DIACRITICS); the words it still does not know
   (inflections it lacks, Serbian words its Croatian lexicon lacks) are left to the bridge (index/bridge.py), i.e.
   the FreeDict dictionaries, and are kept as typed when nothing knows them (names, acronyms). A general dictionary
   never overrides Apertium's rendering of the words it translated.
Without the program or the language pair, `Translator.render` returns None and the bridge works as before.
"""

from __future__ import annotations

import atexit
import bisect
import contextlib
import logging
import os
import re
import select
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pactkb.index.dictionary import (
    WORD,
    Dictionary,
    Match,
    dictionary_dirs,
    find_dictionaries,
    key_algorithm,
    read_glossary,
)
from pactkb.index.fold import STOPWORDS, fold
from pactkb.ingest.language import LETTERS
from pactkb.settings import Settings

PAIRS = {"sr": "hbs-eng", "hr": "hbs-eng", "bs": "hbs-eng", "mk": "mkd-eng"}  # query language -> Apertium mode
TRANSLITERATE = {"hbs-eng": "Cyrl-Latn"}  # hbs-eng knows no Cyrillic word: Serbian Cyrillic goes through this first
ENABLE = "apt-get install apertium apertium-hbs-eng apertium-mkd-eng"
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_RESERVED = re.compile(r"([\\\[\]^$/@<>{}*#])")  # characters Apertium's stream format reserves
_ESCAPED = re.compile(r"\\(.)")
_SUPERBLANK = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]")  # [...] blocks the programs pass through untranslated
SEGMENT_END = "[][\n]"
# The translation programs read and write UTF-8 whatever the service's locale: under a C/POSIX locale sed reads a
# Cyrillic letter as two bytes and a bracket such as "[Кк]" never matches (the rules below also avoid brackets of
# non-ASCII letters, so they hold under any locale).
PIPELINE_LOCALE = "C.UTF-8"
# Serbian/Croatian/Bosnian pronoun clitics an English query leaves out (Latin, lower case: VERB_FIXES drop them from
# Apertium's stream, DANGLING from a segment's folded text, so Cyrillic "да их" is "da ih" there).
HBS_CLITICS = ("ih", "im", "ga", "mu", "se", "joj", "ju", "nju", "njih", "njima", "njemu")
_CLITIC_RE = r"\|".join(f"[{c[0].upper()}{c[0]}]{c[1:]}" for c in HBS_CLITICS)  # sed alternatives, either case
# Cases in which an interrogative "tko" agrees with the noun after it (dative and locative share their noun forms):
# VERB_FIXES read "tko" as "what" only then ("U kom roku": what deadline; "Kome banka prijavljuje" asks to whom, its
# "banka" is nominative). An interrogative "koji" cut from its noun by a glossary term ("Kojem" + "tijelu": Apertium
# "Who body") is "what" too (the rule after "li").
AGREEING_CASES = ("gen", r"dat\|loc", "acc", "ins")
# Corrections of Apertium's tagged stream between its tagger and its transfer (sed expressions, in order):
# hbs-eng
# - pronoun clitics its lexicon lacks or misreads are dropped, as an English query leaves them out: "ih" (them) is
#   read as the interjection "ugh", "joj" (her) as "ouch"; the others of HBS_CLITICS are unknown words
#   (marked `*`, then filled by a general dictionary's senses). Dropped first, so that "mora da ih prijavi" is
#   "must report" by the next rules;
# - the question particle "da li" / "li" ("Da li banka mora..." -> "If bank must...") is dropped;
# - verbs its lexicon misreads or lacks: "prepoznati" (recognise) read as the adjective "poznat" ("known"),
#   "uraditi" (do) unknown: read as "prepoznavati" and "raditi";
# - not done: "kako" read as the conjunction "that" ("kako prijaviti" -> "that report") as the adverb "how": right,
#   but on the domain dev half Bosnian lost 0.020 with it (Serbian +0.018, Croatian +0.045); only a capitalised,
#   query-initial "Kako" (session 11): Serbian dev 0.748 -> 0.742 (one query down), the five languages' mean lower;
# - an interrogative "koji"/"tko" before a noun or an adjective is read as "who" ("U kom roku" -> "In who deadline",
#   "Koje banke" -> "Who bank", also "Do kog roka" where "kog" is tagged relative), and "koji" before a word it does
#   not know ("Koje obaveze" -> "Who obaveze"): read as "kakav", whose English is "what" ("In what deadline", "What
#   bank"); "tko" only when the noun agrees in case (AGREEING_CASES), so "Kome dostavljaju izvještaje?" keeps "who";
# - Serbian/Bosnian "modal + da + present" is the infinitive ("može da učestvuje" -> "can that partakes"): read as
#   the modal and an infinitive ("can partake");
# - a perfective infinitive or present becomes an English past ("kako prijaviti" -> "that reported", "treba postupiti"
#   -> "should acted"): read as imperfective (same lemma: "report", "act"); the perfective past (l-participle) stays;
# - "dana" (days, genitive) tagged as the participle of "dati" ("tri dana" -> "three gave"): read as "dan".
# - the infinitive "biti" (be) away from its modal ("moraju imati licencu ili biti registrovani") tagged as a
#   participle of "biti" (beat): "or beaten registered"; read as "be" (the form is the infinitive of either verb).
#   Only that tag (masculine accusative definite participle): "muž bije ženu" keeps "beats".
# mkd-eng (after its second tagger): the passive "се" + a transitive imperfective present ("Како се оценува
# ефикасноста" -> "How is assessing the efficiency", "се чуваат" -> "are keeping") is read as its participle and
# "е" ("оценувана е": "is assessed", "are kept"; a participle after "е" would be its perfect, "was assessed"), not
# after "да" ("Како да се идентификуваат" stays "How to identify") nor before it (a verb taking an infinitive: "се
# обидуваат да перат" stays "are trying to launder");
# doubled pronoun clitics ("мора да ги чува" -> "must keep them") and the question particle "Дали" ("Whether the
# bank must verify": an English question has none, and "whether" is no stopword) are dropped;
# a capitalised question word read as a relative pronoun or a preposition ("Како" -> "As", "Што" -> "Which",
# "Колку" -> "As", "Кои" -> "That") is the interrogative ("How", "What", "How much"); the interrogative кој/која/кое/кои
# before a noun, an adjective or a word it does not know, a feminine, neuter or plural one before "е"/"се" or at a
# segment's end (before a glossary term) is the determiner "which" (LEXICON_GAPS: marked unknown as "кој"), else "who"
# ("Кој е одговорен" -> "Who is responsible"); a lower-case relative stays Apertium's "that".
VERB_FIXES = {
    "hbs-eng": (
        rf"s/\^\(\*\({_CLITIC_RE}\)\|\({_CLITIC_RE}\)<ij>\)\$ *//g",
        r"s/\^[Dd]a li<cnjsub>\$ *//g",
        r"s/\^li<part><itg>\$ *//g",
        r"s/\^\([Kk]\)oji<prn><itg>\(\(<[a-z0-9]*>\)*\$ *\^\.<sent>\$\)/^\1akav<prn><itg>\2/g",
        r"s/\^poznat<adj><ssup>\(<[a-z0-9]*>\)*\$/^prepoznavati<vblex><impf><tv><inf>$/g",
        r"s/\^\*uraditi\$/^raditi<vblex><impf><tv><inf>$/g",
        r"s/\^\*uradi\$/^raditi<vblex><impf><tv><pres><p3><sg>$/g",
        r"s/\^\*urade\$/^raditi<vblex><impf><tv><pres><p3><pl>$/g",
        r"s/\^\([Kk]\)oji<prn><itg>\(\(<[a-z0-9]*>\)*\$ *\^\(\*\|[^<$]*<\(n\|adj\)>\)\)/^\1akav<prn><itg>\2/g",
        *(
            rf"s/\^{t}ko<prn><\(itg\|rel\)>\(\(<[a-z0-9]*>\)*<\({case}\)>\$ *\^[^<$]*<\(n\|adj\)>"
            rf"\(<[a-z0-9]*>\)*<\({case}\)>\)/^{k}akav<prn><itg>\2/g"
            for t, k in (("T", "K"), ("t", "k"))
            for case in AGREEING_CASES
        ),
        r"s/\(<vbmod>\(<[a-z0-9]*>\)*\$ *\)\^da<cnjsub>\$ *\(\^[^<$]*<vblex>\(<perf>\|<impf>\)*\(<tv>\|<iv>\)*\)"
        r"<pres>\(<[a-z0-9]*>\)*\$/\1\3<inf>$/g",
        r"s/<perf>\(\(<[a-z0-9]*>\)*<\(inf\|pres\)>\)/<impf>\1/g",
        r"s/\^dati<vblex><perf><tv><pp>\(<[a-z0-9]*>\)*<gen>\(<[a-z0-9]*>\)*\$/^dan<n><mi><pl><gen>$/g",
        r"s/\^\([Bb]\)iti<vblex><impf><tv><pp><mi><sg><acc><def>\$/^\1iti<vbser><inf>$/g",
    ),
    "mkd-eng": (
        r"s/\(\^да<[a-z]*>\$ *\^\)clitic<prn><ref>/\1clitic<prn><rfx>/g",
        r"s/\^clitic<prn><ref>\([^$]*\$ *\^[^<$]*<vblex>[^$]*\$ *\^да<\)/^clitic<prn><rfx>\1/g",
        r"s/\^[Cc]litic<prn><ref>[^$]*\$ *\^\([^<$]*\)<vblex><imperf><tv><pres><p3><\(sg\|pl\)>\$"
        r"/^\1<vblex><imperf><tv><pp><mfn><\2><ind>$ ^е<vbser><pres><p3><mf><\2>$/g",
        r"s/\^clitic<prn><[^$]*\$ *//g",
        r"s/\^[Дд]али<part>\$ *//g",
        r"s/\^Како<\(prn><rel\|pr\|adv\)>\$/^Како<prn><itg>$/g",
        r"s/\^Што<prn><rel>\$/^Што<prn><itg>$/g",
        r"s/\^Колку<prn><rel>\$/^Колку<prn><itg>$/g",
        r"s/\^Кој<prn><rel>/^Кој<prn><itg>/g",
        r"s/\^\(К\|к\)ој<prn><itg>\(<[a-z0-9]*>\)*\$\( *\^\(\*\|[^<$]*<\(n\|adj\)>\)\)/^*кој$\3/g",
        r"s/\^\(К\|к\)ој<prn><itg>\(<[a-z0-9]*>\)*<\(f\|nt\|mfn\|pl\)>\(<[a-z0-9]*>\)*\$\( *\^е<vbser>\)/^*кој$\5/g",
        r"s/\^\(К\|к\)ој<prn><itg>\(<[a-z0-9]*>\)*<\(f\|nt\|mfn\|pl\)>\(<[a-z0-9]*>\)*\$\( *\^\.<sent>\$\)/^*кој$\5/g",
    ),
}
# Words the pair's lexicon lacks that no dictionary should fill, rendered after Apertium (its `*` unknown words):
# hbs-eng knows no form of "imati" (have) or "nemati" (not have): "Koje obaveze ima banka?" lost its verb.
LEXICON_GAPS = {
    "hbs-eng": {
        **dict.fromkeys(("ima", "imamo", "imate"), "has"),
        **dict.fromkeys(("imaju", "imati", "imam"), "have"),
        **dict.fromkeys(("imao", "imala", "imalo", "imali", "imale"), "had"),
        **dict.fromkeys(("nema", "nemaju", "nemati", "nemamo"), "has no"),
    },
    "mkd-eng": {"кој": "which"},  # the interrogative determiner, marked so by VERB_FIXES
}
# Corrections of the query text before Apertium reads it (they keep its length): Croatian "Što" opening a question is
# tagged as the relative "koji" ("Što je PEP?" -> "Which is PEP?"), and "Sto je" typed without diacritics as "stol"
# ("Table is"): both read as "Šta" ("What"). 2026.12.13: "sto" opening a question before any verb ("Sto pokazuje
# slucaj", "sto znaci") and the conjunction "što" typed without diacritics after the words it follows ("nakon sto se
# izvuku" -> "after table pulled out", "zato sto", "ono sto") are "što" too; "sto" elsewhere (a hundred, Serbian
# "table") is left as typed.
_STO_AFTER = r"(?:nakon|zato|osim|nego|umjesto|ono|sve|time|tako)"
# a hundred of something opening a query ("Sto dana pritvora", "sto hiljada eura") is left as typed
_STO_COUNTED = (
    r"(?!\s+(?i:dana|godin\w*|hiljad\w*|tisu\w*|posto|eura|evra|dolara|maraka|km|kuna|milion\w*|milijun\w*|kilogram\w*"
    r"|kg|metara|osoba|ljudi|migranata|puta|komada)\b)"
)
SOURCE_FIXES: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "hbs-eng": (
        (re.compile(rf"(?:^|(?<=[.?!]\s))(\W*)(?:Što\b|Sto(?=\s+[^\W\d]){_STO_COUNTED})"), r"\1Šta"),
        (re.compile(rf"(?:^|(?<=[.?!]\s))(\W*)(?:što\b|sto(?=\s+[^\W\d]){_STO_COUNTED})"), r"\1šta"),
        (re.compile(rf"((?<!\w)(?i:{_STO_AFTER})\s+)sto\b"), r"\1što"),
    ),
}
# Letters a Serbian/Croatian/Bosnian word typed without diacritics may stand for (`restorations`): Apertium knows
# "zračna luka" (airport) and "uhićen" (arrested) but not "zracna luka" or "uhicen", which it marks unknown and the
# dictionaries then fill by their folded key in another sense ("zracna" -> "air aviation", "ucjena" -> "science
# teaching", "zastita" -> "plant protection provision"). A word it does not know is tried with its letters restored
# and read in the first spelling it knows (fewest letters changed first).
# Macedonian typed on a keyboard without its own letters has к for ќ and г for ѓ ("ке" for "ќе": will, "мегу" for
# "меѓу": between, "доагаат"), words mkd-eng does not know and the bridge left in Cyrillic: restored alike.
DIACRITICS: dict[str, dict[str, tuple[str, ...]]] = {
    "hbs-eng": {"c": ("č", "ć"), "s": ("š",), "z": ("ž",), "dj": ("đ",)},
    "mkd-eng": {"к": ("ќ",), "г": ("ѓ",)},
}
RESTORE_MAX = 64  # spellings tried for one word at most (a word with more candidate letters is left as typed)
# The words a mode's restorations apply to: hbs-eng's Latin words (its Cyrillic is transliterated first), mkd-eng's
# Cyrillic words without its own ќ and ѓ (a word typed with them was typed with its letters).
_RESTORABLE = {"hbs-eng": re.compile(r"[a-zA-Z]+"), "mkd-eng": re.compile(r"[а-шѐѕјљњѝџА-ШЀЅЈЉЊЍЏ]+")}
# An acronym in capitals, with hyphenated letters or digits ("ISIS-K", "EU-27", "COVID-19", "FATF"): passed through as
# typed, as an English query has it (Apertium read "ISIS-K" as "ISIS-To", "SAD" as "NOW"), unless a glossary names it;
# a case ending hyphenated to it is left out ("PEP-ovi" -> "PEP", was "PEP-these").
ACRONYM = re.compile(
    r"(?<![\w-])([A-Z]{2,}[0-9]*|[A-Z0-9]*[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)(?:-[^\W\dA-Z]{1,4})?(?![\w-])"
)
# A word in Latin letters in a Cyrillic Macedonian query is an English term or a name as typed ("DDoS напад", "пораки
# на EncroChat", "Sky ECC"): mkd-eng knows no Latin word, and the bridge filled it with a look-alike ("DDoS" ->
# "dosso", "EncroChat" -> "enact", "Sky" -> "cloud"); it passes through as typed, like an acronym (a Cyrillic ending
# or word hyphenated to it is Apertium's: "DDoS-напад"). A query typed all
# in Latin (transliterated Macedonian) is left to the glossary, Apertium and the bridge as before.
KEEP_LATIN = frozenset({"mkd-eng"})
_LATIN_WORD = re.compile(r"(?<![\w-])[A-Za-z][A-Za-z0-9]*(?:['’-][A-Za-z0-9]+)*(?!\w|-[A-Za-z0-9])")
# Macedonian typed in Latin letters (the query language detector reads it as Macedonian:
# ingest/language.macedonian_in_latin) is written in Cyrillic before the glossary and Apertium read it: mkd-eng knows
# no Latin word ("Kako se koristat" came back as typed, and as Croatian it went through hbs-eng: "peak on couple").
# Digraphs first, then letter by letter ("dz" is ѕ only where a word starts: inside one it joins a prefix to its
# stem, "nadzor" надзор, "podzemje" подземје); acronyms in capitals and the words `keep` says are English as typed
# ("deepfake") stay. A word Apertium then does not know is tried with the letters a keyboard without ч/ш/ж/ќ/ѓ types
# for them (LATIN_TYPED) and, still unknown, is given back as typed (a name: "Sahel", not "Сахел").
TO_CYRILLIC = {
    "mkd-eng": {
        **{"dzh": "џ", "dž": "џ", "gj": "ѓ", "kj": "ќ", "lj": "љ", "nj": "њ"},
        **{"zh": "ж", "ch": "ч", "sh": "ш"},
        **dict(zip("abcdefghijklmnoprstuvzčćšžđwyq", "абцдефгхијклмнопрстувзчќшжѓвјк", strict=True)),
        "x": "кс",
    }
}
LATIN_TYPED: dict[str, dict[str, tuple[str, ...]]] = {
    "mkd-eng": {"ц": ("ч",), "с": ("ш",), "з": ("ж",), "к": ("ќ",), "г": ("ѓ",)}
}
TAGGERS = ("cg-proc", "apertium-tagger")  # VERB_FIXES go after the last of these in a mode
# A segment cut before a glossary term loses what VERB_FIXES read from the verb after it: "Ko mora da" + "prijavi"
# (glossary: report) came out "Who must that report". Its final "da" (with the clitics before the verb) is dropped.
# Macedonian "се" (and "да се") before a glossary verb ("Како се" + "пријавува") read "How are": dropped alike;
# after an interrogative "кои"/"што" it is the copula before a noun ("Кои се" + "индикаторите": "What are the
# indicators"; dropped, the question read "which indicator") and stays.
# The patterns read the segment folded (index/fold.py: lower case, Latin), so Serbian Cyrillic "да" is "da" there.
DANGLING = {
    "hbs-eng": re.compile(rf"(?:^|\s)da(?:\s+(?:{'|'.join(HBS_CLITICS)}))*\s*$"),
    "mkd-eng": re.compile(r"(?:^|\s)(?<!\bkoi\s)(?<!\bsto\s)(?:da\s+)?se\s*$"),
}
START_SECONDS = 30.0  # loading a pair's dictionaries: about 0.5 s, more on a busy machine
_TOKEN = re.compile(r"([*#@]?)(\w+(?:[-'’]\w+)*)", re.UNICODE)  # Apertium marks: * unknown, # and @ rule gaps
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Piece:
    """One word of a rendering: an English word, or a query word no translator knew (`known` False)."""

    text: str
    known: bool


@dataclass(frozen=True)
class Rendering:
    """A query in English, word by word, with the words left untranslated marked."""

    pieces: tuple[Piece, ...]

    @property
    def unknown(self) -> list[str]:
        """The query words no translator knew, in order."""
        return [p.text for p in self.pieces if not p.known]

    def words(self, fill: Callable[[str], list[str]]) -> list[str]:
        """The content words of the rendering in order, each unknown word replaced by `fill`'s English words for it
        (kept as typed when it has none: names, acronyms); stopwords and repeats dropped."""
        out: list[str] = []
        for p in self.pieces:
            for w in ([p.text] if p.known else fill(p.text)) or [p.text]:
                if len(w) > 1 and fold(w) not in STOPWORDS and not w.isdigit() and w not in out:
                    out.append(w)
        return out

    def sentence(self, fill: Callable[[str], list[str]]) -> str:
        """The whole rendering as one English text, function words kept, each unknown word replaced by `fill`'s
        English words for it (kept as typed when it has none)."""
        return " ".join(w for p in self.pieces for w in (([p.text] if p.known else fill(p.text)) or [p.text]))


@lru_cache(maxsize=8)
def installed_modes(binary: str) -> frozenset[str]:
    """The modes (language pairs) an Apertium program offers; empty when it cannot run."""
    try:
        done = subprocess.run([binary, "-l"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        log.info("no machine translation: %s (%s)", binary, exc)
        return frozenset()
    return frozenset(line.strip() for line in done.stdout.splitlines() if line.strip())


def available(binary: str) -> bool:
    """Whether an Apertium program runs and translates any of the users' languages."""
    return bool(binary) and any(mode in installed_modes(binary) for mode in PAIRS.values())


def mode_commands(binary: str, mode: str) -> list[list[str]]:
    """The programs of an Apertium mode (its `.mode` file beside the program's installation), each in null-flush
    mode (-z) and marking unknown words, with the mode's corrections after its tagger (VERB_FIXES); raises OSError
    without it."""
    program = shutil.which(binary)
    if program is None:
        raise OSError(f"{binary}: not found")
    path = Path(program).resolve().parents[1] / "share" / "apertium" / "modes" / f"{mode}.mode"
    out: list[list[str]] = []
    for part in path.read_text(encoding="utf-8").split("|"):
        if args := shlex.split(part.replace("$1", "-g")):
            out.append([args[0], "-z", *args[1:]])
    taggers = [i for i, args in enumerate(out) if Path(args[0]).name in TAGGERS]
    if mode in VERB_FIXES and taggers:  # after the (last) tagger
        out.insert(taggers[-1] + 1, ["sed", "-u", "-z", *(a for rule in VERB_FIXES[mode] for a in ("-e", rule))])
    return out


class Pipeline:
    """One Apertium mode kept running in null-flush mode: its dictionaries load once (about 0.5 s), then a query
    takes a few milliseconds instead of a new run of ten programs. One request at a time."""

    def __init__(self, commands: list[list[str]], start_seconds: float = START_SECONDS) -> None:
        """Nothing starts until the first request."""
        self.commands = commands
        self.start_seconds = start_seconds
        self.procs: list[subprocess.Popen[bytes]] = []
        self.pid = 0
        self.lock = threading.Lock()

    def _start(self) -> None:
        """Start the programs, each reading the previous one's output, and wait for them to answer once."""
        self.close()
        previous = None
        for args in self.commands:
            proc = subprocess.Popen(
                args,
                stdin=previous if previous is not None else subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "LC_ALL": PIPELINE_LOCALE},
            )
            if previous is not None:
                previous.close()
            previous = proc.stdout
            self.procs.append(proc)
        self.pid = os.getpid()
        self._ask(stream(["a"]), self.start_seconds)

    def _ask(self, text: str, timeout: float) -> str:
        """Send one null-terminated request and read the answer up to its null byte."""
        stdin, stdout = self.procs[0].stdin, self.procs[-1].stdout
        assert stdin is not None and stdout is not None
        stdin.write(text.encode("utf-8") + b"\0")
        stdin.flush()
        deadline = time.monotonic() + timeout
        buf = bytearray()
        while not buf.endswith(b"\0"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stdout], [], [], left)[0]:
                raise TimeoutError(f"no answer within {timeout} s")
            chunk = os.read(stdout.fileno(), 65536)
            if not chunk:
                raise OSError("Apertium stopped")
            buf += chunk
        return buf[:-1].decode("utf-8", errors="replace")

    def translate(self, text: str, timeout: float) -> str:
        """Apertium's output for a text in stream format (starting the programs if needed, and once more if they
        had stopped); on failure or timeout the programs are stopped (the next request starts them again) and the
        error raised."""
        with self.lock:
            for fresh in (False, True):
                try:
                    if (
                        fresh
                        or not self.procs
                        or self.pid != os.getpid()
                        or any(p.poll() is not None for p in self.procs)
                    ):
                        self._start()
                    return self._ask(text, timeout)
                except OSError:  # stopped since the last request (or cannot start): one fresh start
                    self.close()
                    if fresh:
                        raise
                except (ValueError, TimeoutError):
                    self.close()
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Stop the programs (only this process's own)."""
        if self.pid == os.getpid():
            for proc in self.procs:
                proc.kill()
                proc.wait()
                for pipe in (proc.stdin, proc.stdout):
                    if pipe is not None:
                        with contextlib.suppress(OSError):  # a request still buffered for a stopped program: EPIPE
                            pipe.close()
        self.procs = []


_PIPELINES: dict[tuple[str, str], Pipeline] = {}
_PIPELINES_LOCK = threading.Lock()


def pipeline(binary: str, mode: str) -> Pipeline:
    """The running pipeline of a mode (one per program and mode in a process)."""
    with _PIPELINES_LOCK:
        if (binary, mode) not in _PIPELINES:
            _PIPELINES[(binary, mode)] = Pipeline(mode_commands(binary, mode))
        return _PIPELINES[(binary, mode)]


@atexit.register
def close_pipelines() -> None:
    """Stop every running pipeline."""
    with _PIPELINES_LOCK:
        for p in _PIPELINES.values():
            p.close()


def stream(segments: list[str]) -> str:
    """Segments of plain text in Apertium's stream format: reserved characters escaped, each segment ended as a
    sentence (the programs wait for a sentence end) and followed by a line-break superblank."""
    return "".join(_RESERVED.sub(r"\\\1", s.replace("\n", " ")) + "." + SEGMENT_END for s in segments)


def unstream(text: str) -> list[str]:
    """The plain text of each segment of Apertium's output (superblanks dropped, escapes undone)."""
    return [_ESCAPED.sub(r"\1", _SUPERBLANK.sub(" ", part)) for part in text.split(SEGMENT_END)]


@lru_cache(maxsize=4096)
def run_apertium(binary: str, mode: str, text: str, timeout: float) -> str:
    """Apertium's output for a text in stream format, in one mode (LRU-cached; raises on failure or timeout)."""
    return pipeline(binary, mode).translate(text, timeout)


def preferred(translations: tuple[str, ...]) -> list[str]:
    """What a glossary entry puts in a rendering: its preferred (first) translation, so the rendering reads like an
    English query ("indicator", not "indicator red flag"), with its acronym when the entry gives one ("financial
    intelligence unit FIU", as an English reader writes "financial intelligence unit (FIU)"). The other
    translations are not searched: on the domain dev half adding them as a lexical expansion scored lower."""
    first = list(translations[:1])
    return first + [t for t in translations[1:] if first and abbreviates(t, first[0])]


def abbreviates(short: str, term: str) -> bool:
    """Whether a translation is the capital acronym of a term ("FIU" of "financial intelligence unit", "AML" of
    "anti-money laundering"): the term's short form, not another translation."""
    initials = "".join(w[0] for w in WORD.findall(term) if fold(w) not in STOPWORDS)
    return short.isalpha() and short.isupper() and len(short) >= 2 and short.lower() == initials.lower()


def dangling(mode: str, segment: str) -> str:
    """A segment before a glossary term without the conjunction its mode renders wrongly there (DANGLING, read on
    the folded segment: either script)."""
    pattern = DANGLING.get(mode)
    found = pattern.search(fold(segment)) if pattern is not None else None
    if found is None:
        return segment
    words = list(WORD.finditer(segment))
    tail = len(WORD.findall(found.group()))  # fold keeps the words: the same number of the segment's last words
    return segment[: words[-tail].start()] + " " if tail else segment


def parse(output: str, gaps: dict[str, str] | None = None) -> list[Piece]:
    """Pieces of Apertium's output: `*word` is a source word it did not know (rendered by `gaps` when they name it:
    LEXICON_GAPS); `#`/`@` marks are dropped."""
    pieces = []
    for mark, word in _TOKEN.findall(output):
        english = (gaps or {}).get(word.lower()) if mark == "*" else None
        if english is None:
            pieces.append(Piece(word, mark != "*"))
        else:
            words = english.split()
            words[0] = words[0].capitalize() if word[:1].isupper() else words[0]
            pieces += [Piece(w, True) for w in words]
    return pieces


def restorations(mode: str, word: str, letters: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """The spellings a word typed without diacritics may stand for (`letters`, by default the mode's DIACRITICS),
    fewest letters changed first; none for a word with diacritics or other letters, without candidate letters, or
    with more than RESTORE_MAX spellings."""
    letters = letters or DIACRITICS.get(mode)
    if not letters or not _RESTORABLE[mode].fullmatch(word):
        return []
    parts = re.split(f"({'|'.join(sorted(letters, key=len, reverse=True))})", word.lower())
    options = [[p, *letters[p]] if p in letters else [p] for p in parts if p]
    count = 1
    for o in options:
        count *= len(o)
    if count == 1 or count > RESTORE_MAX:
        return []
    spellings: list[tuple[int, str]] = [(0, "")]
    for o in options:
        spellings = [(n + (i > 0), text + choice) for n, text in spellings for i, choice in enumerate(o)]
    out = [text for n, text in sorted(spellings[1:], key=lambda s: s[0])]
    return [w[0].upper() + w[1:] for w in out] if word[:1].isupper() else out


def restored(word: str, spelling: str) -> str:
    """A restored spelling in the word's own case (all capitals stay so)."""
    return spelling.upper() if word.isupper() and len(word) > 1 else spelling


def to_cyrillic(mode: str, query: str, keep: Callable[[str], bool] | None = None) -> tuple[str, dict[str, str]]:
    """A query typed in Latin letters written in Cyrillic (TO_CYRILLIC), and each written word's typed form; the
    query unchanged, no words, for a mode without a table or a query with Cyrillic letters. Acronyms in capitals
    ("ISIL-K") and the words `keep` says are English as typed stay (the same words, so word positions are kept)."""
    table = TO_CYRILLIC.get(mode)
    if table is None or _CYRILLIC.search(query):
        return query, {}
    letters = re.compile("|".join(map(re.escape, sorted(table, key=len, reverse=True))))
    typed: dict[str, str] = {}

    def write(m: re.Match[str]) -> str:
        word = m.group()
        if word.isupper() and (len(word) > 1 or query[m.start() - 1 : m.start()] == "-") or (keep and keep(word)):
            return word
        low = word.lower()
        dz = low.startswith("dz") and not low.startswith("dzh")
        out = ("ѕ" if dz else "") + letters.sub(lambda c: table[c.group()], low[2:] if dz else low)
        out = out[0].upper() + out[1:] if word[0].isupper() else out
        typed[out] = word
        return out

    return LETTERS.sub(write, query), typed


def source_fixed(mode: str, text: str) -> str:
    """The query text with its mode's SOURCE_FIXES applied (same length: word positions are kept)."""
    for pattern, replacement in SOURCE_FIXES.get(mode, ()):
        text = pattern.sub(replacement, text)
    return text


def acronyms(query: str, taken: list[Match]) -> list[Match]:
    """The query's acronyms in capitals (ACRONYM) outside its glossary terms, each a term translated as typed; none
    in a query typed all in capitals, and no function word typed in capitals ("DA li", "KAKO": STOPWORDS)."""
    if not any(ch.islower() for ch in query):
        return []
    starts = [m.start() for m in WORD.finditer(query)]
    covered = {i for m in taken for i in range(m.start, m.end)}
    out = []
    for a in ACRONYM.finditer(query):
        if fold(a.group(1)) in STOPWORDS:
            continue
        first = bisect.bisect_left(starts, a.start())
        last = bisect.bisect_left(starts, a.end())
        if not covered.intersection(range(first, last)):
            out.append(Match(first, last, a.group(), (a.group(1),)))
    return out


def latin_words(mode: str, query: str, taken: list[Match]) -> list[Match]:
    """The Latin-script words of a Cyrillic query outside its glossary terms and acronyms, each a term translated as
    typed (KEEP_LATIN modes only)."""
    if mode not in KEEP_LATIN or not _CYRILLIC.search(query):
        return []
    starts = [m.start() for m in WORD.finditer(query)]
    covered = {i for m in taken for i in range(m.start, m.end)}
    out = []
    for w in _LATIN_WORD.finditer(query):
        first = bisect.bisect_left(starts, w.start())
        last = bisect.bisect_left(starts, w.end())
        if not covered.intersection(range(first, last)):
            out.append(Match(first, last, w.group(), (w.group(),)))
    return out


@lru_cache(maxsize=64)
def _glossary(files: tuple[tuple[Path, int], ...], algorithm: str | None) -> Dictionary:
    """The merged team glossaries of a language (cached per file version)."""
    entries: list[tuple[str, list[str]]] = []
    for path, _ in files:
        entries += read_glossary(path)
    return Dictionary(entries, algorithm)


def glossary_for(dirs: list[Path], language: str) -> Dictionary | None:
    """The team glossaries (`*.<src>-eng.tsv`) covering a language, merged; None without any or if unreadable."""
    try:
        files = tuple((p, p.stat().st_mtime_ns) for p in find_dictionaries(dirs, language) if p.suffix == ".tsv")
        return _glossary(files, key_algorithm(language)) if files else None
    except (OSError, ValueError) as exc:
        log.warning("glossary left out: %s", exc)
        return None


class Translator:
    """Renders queries in sr/hr/bs/mk into English: team glossary terms, then Apertium for the rest."""

    def __init__(self, binary: str, timeout: float, dictionary_dirs: list[Path]) -> None:
        """Nothing runs until the first query."""
        self.binary = binary
        self.timeout = timeout
        self.dictionary_dirs = dictionary_dirs

    @classmethod
    def from_settings(cls, settings: Settings) -> Translator:
        """The translator the settings describe."""
        return cls(settings.apertium, settings.apertium_timeout, dictionary_dirs(settings))

    def mode(self, language: str | None) -> str | None:
        """The Apertium mode for a query language, if the program and the pair are installed."""
        mode = PAIRS.get(language or "")
        return mode if mode and self.binary and mode in installed_modes(self.binary) else None

    def status(self, languages: list[str]) -> dict[str, str | None]:
        """For each language Apertium could serve, its installed mode or None."""
        return {lang: self.mode(lang) for lang in languages if lang in PAIRS}

    def apertium(self, mode: str, segments: list[str]) -> list[list[Piece]] | None:
        """Apertium's pieces for each segment (one line each, one call); None if the program fails."""
        text = stream(segments)
        try:
            if mode in TRANSLITERATE and _CYRILLIC.search(text) and TRANSLITERATE[mode] in installed_modes(self.binary):
                text = run_apertium(self.binary, TRANSLITERATE[mode], text, self.timeout)
            lines = unstream(run_apertium(self.binary, mode, text, self.timeout))
        except (OSError, ValueError, TimeoutError) as exc:
            log.warning("Apertium %s failed: %s", mode, exc)
            return None
        if len(lines) < len(segments):  # a line break lost: the segments cannot be told apart
            log.warning("Apertium %s returned %d lines for %d segments", mode, len(lines), len(segments))
            return None
        return [parse(line, LEXICON_GAPS.get(mode)) for line in lines[: len(segments)]]

    def restore(
        self,
        mode: str,
        segments: list[str],
        translated: list[list[Piece]],
        keep: Callable[[str], bool] | None = None,
        letters: dict[str, tuple[str, ...]] | None = None,
    ) -> list[str]:
        """The segments with each word Apertium did not know, typed without diacritics, in the first restored spelling
        it knows (`restorations`; one more Apertium call for all of them); unchanged when none is found. Not in a
        Cyrillic query of a mode that transliterates it (hbs-eng: its unknown words come back transliterated, and a
        Latin word in it is a name or English), nor for the words `keep` says are English as typed ("visa", "case":
        not "viša", "čase")."""
        if mode in TRANSLITERATE and _CYRILLIC.search("".join(segments)):
            return segments
        unknown = {p.text for pieces in translated for p in pieces if not p.known and not (keep and keep(p.text))}
        tried = {w: restorations(mode, w, letters) for w in sorted(unknown)}
        spellings = sorted({s for options in tried.values() for s in options})
        if not spellings:
            return segments
        answers = self.apertium(mode, spellings)
        if answers is None:
            return segments
        known = {s for s, pieces in zip(spellings, answers, strict=True) if pieces and all(p.known for p in pieces)}
        found = {w: next(s for s in options if s in known) for w, options in tried.items() if known & set(options)}
        if not found:
            return segments
        pattern = re.compile(rf"(?<!\w)({'|'.join(map(re.escape, found))})(?!\w)")
        return [pattern.sub(lambda m: restored(m.group(), found[m.group()]), s) for s in segments]

    def terms(self, query: str, language: str) -> list[Match]:
        """The query's fixed terms, translated as a whole before Apertium: a team or field glossary's entries, left to
        right, not overlapping. A general dictionary's phrases are not among them: Apertium renders the words it
        knows, and the dictionaries fill only the words it leaves untranslated (issue 15's order)."""
        glossary = glossary_for(self.dictionary_dirs, language)
        return glossary.lookup(query) if glossary is not None else []

    def render(self, query: str, language: str | None, keep: Callable[[str], bool] | None = None) -> Rendering | None:
        """The query in English: glossary terms first, Apertium for the words between them; None when Apertium
        cannot serve the language (the bridge then translates as without it). `keep`: words Apertium does not know
        that are English as typed, never read as a word typed without diacritics (`restore`)."""
        mode = self.mode(language)
        if mode is None or not WORD.search(query):
            return None
        query, typed_as = to_cyrillic(mode, query, keep) if language == "mk" else (query, {})
        query = source_fixed(mode, query)
        spans = [m.span() for m in WORD.finditer(query)]
        matches = self.terms(query, language or "")
        typed = acronyms(query, matches)
        typed += latin_words(mode, query, matches + typed)
        matches = sorted(matches + typed, key=lambda m: m.start)
        segments: list[str] = []  # the query text between glossary terms
        cut = 0
        for m in matches:
            segments.append(dangling(mode, query[cut : spans[m.start][0]]))
            cut = spans[m.end - 1][1]
        segments.append(query[cut:])
        translated = self.apertium(mode, segments)
        if translated is None:
            return None
        fixed = self.restore(mode, segments, translated, keep, LATIN_TYPED.get(mode) if typed_as else None)
        if fixed != segments:
            translated = self.apertium(mode, fixed) or translated
        pieces: list[Piece] = list(translated[0])
        for m, rest in zip(matches, translated[1:], strict=False):
            if m in typed:  # an acronym, as typed ("ISIS-K" is one word, not "ISIS" and "K")
                pieces.append(Piece(m.translations[0], True))
            else:
                pieces += [Piece(w, True) for t in preferred(m.translations) for w in WORD.findall(t)]
            pieces += rest
        if typed_as:  # a word still unknown is given back as typed (a name)
            pieces = [p if p.known else Piece(typed_as.get(p.text, p.text), False) for p in pieces]
        return Rendering(tuple(pieces))
