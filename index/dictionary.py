"""Bilingual dictionaries for query translation: dictd files (Debian's FreeDict packages) into English.

`apt-get install dict-freedict-hrv-eng dict-freedict-srp-eng` puts Croatian→English (79,808 headwords, many of them
EU terms such as "pranje novca → money laundering") and a small Serbian→English dictionary in /usr/share/dictd.
pactkb reads every `*-eng.index` file it finds there (Settings.dictionaries) and uses it for the languages of its
source (ISO 639-3 in the file name; Serbian, Croatian and Bosnian share theirs). A query's words are looked up by
their Snowball stem, folded, longest phrase first, so inflected forms ("pranja novca") and either script find the
headword. Which of an entry's translations to use is left to the caller (the bridge ranks them by the encoder).

A team's own glossary goes beside them as `<name>.<src>-eng.tsv` (UTF-8, `term<TAB>translation, translation`,
`#` comments), e.g. `cepol-glossary.srp-eng.tsv`; its entries are added to the others, and where a glossary and a
dictionary both have a term, the glossary's translations replace the dictionary's ("lice" → "person", not FreeDict's
"face, cheek, countenance"). pactkb ships field
glossaries of its own in the same format (index/synonyms: `field.sqi-eng.tsv`, Albanian, which no offline translator or
FreeDict dictionary serves; `field.hrv-eng.tsv` and `field.mkd-eng.tsv`, the field's terms that Apertium renders word by
word or not at all), searched first unless `PACTKB_FIELD_GLOSSARIES=false`. Macedonian and Albanian have no Snowball
stemmer: their words are looked up by a light key (article, case ending and final vowel removed), so an entry's base
form finds its inflected forms.
"""

from __future__ import annotations

import gzip
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pactkb.index.fold import fold, stem_word, stemmer_for
from pactkb.settings import Settings

# ISO 639-3 (FreeDict file names) → the ISO 639-1 codes that share a dictionary
LANGUAGES = {
    "hrv": ("sr", "hr", "bs"),
    "srp": ("sr", "hr", "bs"),
    "bos": ("sr", "hr", "bs"),
    "sqi": ("sq",),
    "mkd": ("mk",),
    "deu": ("de",),
    "fra": ("fr",),
    "spa": ("es",),
    "ita": ("it",),
    "por": ("pt",),
    "nld": ("nl",),
    "pol": ("pl",),
    "ces": ("cs",),
    "slv": ("sl",),
    "bul": ("bg",),
    "rus": ("ru",),
    "tur": ("tr",),
    "ell": ("el",),
    "ron": ("ro",),
    "hun": ("hu",),
}
MAX_PHRASE = 7  # words of the longest term looked up (glossary terms such as "vendet e treta me rrezik të lartë")
_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
WORD = re.compile(r"\w+", re.UNICODE)  # the words Match.start and Match.end count
_SENSE = re.compile(r"^\s*\d+\.\s*")
_IPA = re.compile(r"\s*/[^/]*/\s*$")
FIELD_GLOSSARIES = Path(__file__).with_name("synonyms")  # pactkb's own glossaries (*.<src>-eng.tsv)
# The definite article: "-та" after a consonant only (-ста: the -ст noun's, сопственоста; валута keeps it), "-то"
# after a vowel only (местото; место keeps it)
# the plural article -те after a plural's vowel + и is only -те: трансакциите is трансакции + те (its -ите cut left
# "transakc", not the "transakci" of трансакција, трансакции), извештаите извештаи + те
_MK_ARTICLE = re.compile(r"(?:(?<=[aeiou]i)te|(?<![aeiou])ite|ata|ot|(?<![aeious])ta|(?<=[aeiou])to|te)$")
_MK_VOWEL = re.compile(r"[aeiou]$")
_MK_PLURAL = re.compile(r"(?<=\w{3})[oe]v$")  # masculine plural -ови/-еви (судови -> суд)
_MK_FLEETING = re.compile(r"(?<=\w{2}[^aeiou])en$")  # fleeting e of -ен (сомнителен, сомнителна; јавен, јавна)
_MK_ISM = re.compile(r"(?<=\w{3}iz)m$")  # fleeting a of -изам (тероризам, тероризмот; механизам, механизми)
_MK_THIRD_PLURAL = re.compile(r"(?<=\w{3}a)at$")  # a verb's 3rd person plural -аат (пријавуваат: as пријавува)
# A masculine noun's velar before the plural -и: -к/-г after a vowel are -ц/-з (сопственик, сопственици; сведок,
# сведоци; психолог, психолози); an adjective's -ски keeps its к
_MK_VELAR = re.compile(r"(?<=[aeiou])[kg]$")
_MK_PALATAL = {"k": "c", "g": "z"}
_SQ_ENDINGS = (
    *("eve", "ave", "ve", "et", "at", "it", "in", "ut", "un"),  # -ut/-un: definite after k, g, h (trafikut)
    *("es", "en", "ne", "te", "se", "sh", "i", "u", "a", "e"),
)
_SQ_VERB = re.compile(r"(?<=\w{4})(?:oh|uar)$")  # passive raportoh(et/en), participle raportuar: as raportoj(në)
# Mediopassive forms of a vowel-stem verb (-hem, -het, -hen, -hemi, -hej, -heshin...): "kërkohet" is "is required",
# not "request"; their own key (stem + MEDIOPASSIVE) finds a glossary entry for them, else the active verb's entry.
_SQ_MEDIOPASSIVE = re.compile(r"^(\w+[aeiouy])h(?:em|esh|et|emi|eni|en|esha|eshe|ej|eshim|eshit|eshin)$")
MEDIOPASSIVE = "~h"
_SQ_LINKS = frozenset({"i", "e", "te", "se"})  # Albanian connecting articles: one key ("pastrimi i/e/të parave")
_CACHE: dict[tuple[str, ...], Dictionary] = {}
_CACHE_LOCK = threading.Lock()
log = logging.getLogger(__name__)


class DictionaryError(ValueError):
    """A dictionary file that cannot be read; the message names it."""


@dataclass(frozen=True)
class Match:
    """A run of query words found in a dictionary, with the entry's English translations."""

    start: int
    end: int
    source: str
    translations: tuple[str, ...]


def _b64(s: str) -> int:
    """dictd's base-64 offsets and lengths."""
    n = 0
    for ch in s:
        n = n * 64 + _B64[ch]
    return n


def read_dictd(index: Path) -> list[tuple[str, list[str]]]:
    """(headword, translations) of a dictd dictionary: the .index file and its .dict or .dict.dz beside it."""
    stem = index.name[: -len(".index")]
    data_path = next(
        (p for p in (index.with_name(stem + ".dict.dz"), index.with_name(stem + ".dict")) if p.exists()), None
    )
    if data_path is None:
        raise DictionaryError(f"{index}: no {stem}.dict or {stem}.dict.dz beside it")
    try:
        raw = gzip.open(data_path).read() if data_path.suffix == ".dz" else data_path.read_bytes()
        lines = index.read_text(encoding="utf-8").splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DictionaryError(f"{data_path}: cannot read ({exc})") from exc
    out: list[tuple[str, list[str]]] = []
    for n, line in enumerate(lines, start=1):
        parts = line.split("\t")
        if len(parts) < 3 or parts[0].startswith("00database") or parts[0].startswith("00-database"):
            continue
        try:
            body = raw[_b64(parts[1]) : _b64(parts[1]) + _b64(parts[2])].decode("utf-8")
        except (KeyError, UnicodeDecodeError) as exc:
            raise DictionaryError(f"{index} line {n}: bad entry ({exc})") from exc
        out.append((parts[0], parse_translations(body, parts[0])))
    return out


def parse_translations(body: str, headword: str | None = None) -> list[str]:
    """The translations of one FreeDict entry: the lines after "headword /ipa/", comma separated, senses numbered."""
    lines = body.strip().splitlines()
    if lines and (_IPA.search(lines[0]) or (headword is not None and lines[0].strip() == headword)):
        lines = lines[1:]
    found: list[str] = []
    for line in lines:
        for t in _SENSE.sub("", line).split(","):
            t = t.strip().strip(";.").strip()
            if t and t not in found:
                found.append(t)
    return found


def read_glossary(path: Path) -> list[tuple[str, list[str]]]:
    """(term, translations) of a tab-separated glossary; a malformed line is an error naming the file and line."""
    out: list[tuple[str, list[str]]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DictionaryError(f"{path}: cannot read ({exc})") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise DictionaryError(f"{path} line {n}: expected 'term<TAB>translation, translation'")
        out.append((parts[0].strip(), parse_translations(parts[1])))
    return out


def read_any(path: Path) -> list[tuple[str, list[str]]]:
    """Entries of a dictd index or a glossary TSV."""
    return read_glossary(path) if path.suffix == ".tsv" else read_dictd(path)


def dictionary_dirs(settings: Settings) -> list[Path]:
    """The folders searched for dictionaries and glossaries: pactkb's field glossaries (unless switched off), then
    the configured folders."""
    return ([FIELD_GLOSSARIES] if settings.field_glossaries else []) + settings.dictionary_dirs()


def _listing(folder: Path) -> list[Path]:
    """The files of a folder, sorted; none if it is missing or unreadable."""
    try:
        return sorted(folder.iterdir()) if folder.is_dir() else []
    except OSError:
        return []


def has_dictionaries(dirs: list[Path]) -> bool:
    """Whether any folder holds a dictionary or glossary into English."""
    return any(re.search(r"[a-z]{3}-eng\.(index|tsv)$", p.name) for d in dirs for p in _listing(d))


def find_dictionaries(dirs: list[Path], language: str) -> list[Path]:
    """The `<src>-eng.index` dictd files and `<src>-eng.tsv` glossaries in dirs whose source language covers an
    ISO 639-1 code."""
    found: list[Path] = []
    for d in dirs:
        for p in _listing(d):
            m = re.search(r"([a-z]{3})-eng\.(index|tsv)$", p.name)
            if m and language in LANGUAGES.get(m.group(1), ()):
                found.append(p)
    return sorted(found, key=lambda p: p.suffix != ".tsv")  # a team's glossary first: its translations lead


def dictionaries_by_language(dirs: list[Path], languages: list[str]) -> dict[str, list[str]]:
    """The dictionary files serving each language, languages with the same files joined ("sr/hr/bs")."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for language in languages:
        files = tuple(p.name for p in find_dictionaries(dirs, language))
        if files:
            groups.setdefault(files, []).append(language)
    return {"/".join(langs): list(files) for files, langs in groups.items()}


class Dictionary:
    """Source phrases (as stem keys) → English translations, from one or more dictd files."""

    def __init__(
        self,
        entries: list[tuple[str, list[str]]],
        algorithm: str | None,
        glossary: list[tuple[str, list[str]]] | None = None,
    ) -> None:
        """Index the entries by the stems of their words. A glossary's entry replaces the dictionaries' entries for
        the same term: a field sense ("lice" → "person") never competes with a general one ("face", "cheek")."""
        self.algorithm = algorithm
        self.entries: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._add(glossary or [])
        self.curated = frozenset(self.entries)  # the glossaries' terms
        self._add(entries, skip=set(self.curated))

    def _add(self, entries: list[tuple[str, list[str]]], skip: set[tuple[str, ...]] | None = None) -> None:
        """Merge entries under their keys, leaving out the keys in `skip`; then each new key's plural stem
        (PLURAL_KEYS) finds its entry too, unless an entry of its own has that key."""
        added: list[tuple[str, ...]] = []
        for head, translations in entries:
            key = self.key(WORD.findall(head))
            if not key or len(key) > MAX_PHRASE or not translations or (skip and key in skip):
                continue
            merged = self.entries.get(key, ())
            self.entries[key] = merged + tuple(t for t in translations if t not in merged)
            added.append(key)
        plural = PLURAL_KEYS.get(self.algorithm or "")
        if plural is not None:
            stems = {p: k for k in added if (p := plural(k)) != k and p not in self.entries}
            self.entries.update((p, self.entries[k]) for p, k in stems.items() if not (skip and p in skip))
        optional = OPTIONAL_WORDS.get(self.algorithm or "", frozenset())
        if optional:
            short = {s: k for k in added if (s := without(k, optional)) != k and s not in self.entries}
            self.entries.update((s, self.entries[k]) for s, k in short.items() if not (skip and s in skip))

    def key(self, words: list[str]) -> tuple[str, ...]:
        """The lookup key of a run of words: their folded stems (a form's own key where its language gives one:
        VOICE_KEYS)."""
        return self.voiced_key(words, self.plain_key(words))

    def voiced_key(self, words: list[str], plain: tuple[str, ...]) -> tuple[str, ...]:
        """The key of words whose plain key is known: each form's own key (VOICE_KEYS) where it has one."""
        voice = VOICE_KEYS.get(self.algorithm or "")
        return plain if voice is None else tuple(voice(w) or p for w, p in zip(words, plain, strict=True))

    def alternate_key(self, words: list[str], plain: tuple[str, ...]) -> tuple[str, ...]:
        """The key of words with each form's second key (ALTERNATE_KEYS: a Serbian plural's `službenici` as
        `službenik`) where it has one; the plain key where no form has."""
        other = ALTERNATE_KEYS.get(self.algorithm or "")
        return plain if other is None else tuple(other(w, p) or p for w, p in zip(words, plain, strict=True))

    def plain_key(self, words: list[str]) -> tuple[str, ...]:
        """The lookup key of a run of words without the forms' own keys (an Albanian passive as its active verb)."""
        if self.algorithm in LIGHT_KEYS:
            return tuple(LIGHT_KEYS[self.algorithm](w) for w in words)
        if self.algorithm:
            return tuple(stem_word(w, self.algorithm) for w in words)
        return tuple(fold(w) for w in words)

    def find(
        self, key: tuple[str, ...], plain: tuple[str, ...], alternate: tuple[str, ...] | None = None
    ) -> tuple[str, ...] | None:
        """The entry of a key, else of its plain key (an Albanian passive without an entry of its own finds the
        active verb's), else of its alternate key (a Serbian plural without an entry of its own finds its
        singular's)."""
        found = self.entries.get(key) or (self.entries.get(plain) if plain != key else None)
        return found or (self.entries.get(alternate) if alternate and alternate != plain else None)

    def is_curated(self, source: str) -> bool:
        """Whether a glossary (not a general dictionary) gave a phrase's entry."""
        words = WORD.findall(source)
        plain = self.plain_key(words)
        key = self.voiced_key(words, plain)
        if key in self.entries or plain in self.entries:
            return key in self.curated or (key not in self.entries and plain in self.curated)
        return self.alternate_key(words, plain) in self.curated

    def lookup(self, text: str, longest: int = MAX_PHRASE) -> list[Match]:
        """Dictionary entries for the words of a text, longest phrase (up to `longest` words) first, left to right."""
        words = WORD.findall(text)
        plain = self.plain_key(words)
        keys = self.voiced_key(words, plain)
        other = self.alternate_key(words, plain)
        out: list[Match] = []
        i = 0
        while i < len(words):
            for n in range(min(longest, len(words) - i), 0, -1):
                found = self.find(keys[i : i + n], plain[i : i + n], other[i : i + n])
                if found:
                    out.append(Match(i, i + n, " ".join(words[i : i + n]), found))
                    i += n
                    break
            else:
                i += 1
        return out

    def __len__(self) -> int:
        """Number of distinct source phrases."""
        return len(self.entries)


def hbs_plural_key(word: str, stem: str) -> str | None:
    """The own key of a Serbian/Croatian/Bosnian noun's form whose Snowball stem (`stem`) keeps an
    alternation of its stem, None for other words: a velar palatalised before the plural's -i/-ima (`službenici`,
    `svjedoci` as `službenik`, `svjedok`), an agent noun's -lac/-oc- (`tražioci`, `počinioca` as `tražilac`,
    `počinilac`) and the genitive plural's inserted a of an -nt noun or a neuter -stvo noun (`klijenata`,
    `dokumenata`, `sredstava`, `društava` as `klijent`, `dokument`, `sredstvo`, `društvo`; 2026.12.13: "klijenata"
    was left to the bridge, "clientele", "privrednih društava" was "economic societies"); a verbal noun's instrumental
    -njem, whose stem loses the j (`trgovanjem`, `pranjem` as `trgovanje`, `pranje`; 2026.12.15: "s trgovanjem
    ljudima" was "trading people"). Its plain stem stays the fallback: a feminine `-ica` noun's dative `granici` still
    finds `granica`."""
    folded = fold(word)
    if folded.endswith("njem") and len(folded) > 6:
        return stem_word(folded[:-1], "serbian")
    if len(stem) < 5:
        return None
    if stem.endswith("ioc"):
        return stem[:-3] + "ilac"
    if stem.endswith("enat") and folded.endswith("enata"):
        return stem[:-2] + "t"
    if stem.endswith("stav") and folded.endswith("stava"):  # a neuter -stvo noun's: sredstava, društava
        return stem[:-2] + "v"
    plural = folded.endswith(("ici", "icima", "oci", "ocima"))
    return stem[:-1] + "k" if plural and stem.endswith(("ic", "oc")) else None


def macedonian_key(word: str) -> str:
    """A Macedonian word folded, without its definite article, final vowel and a final j (`трансакцијата`,
    `трансакции` and `transakcija` all give `transakci`; a -ст noun's `-та` only its vowel: `усогласеноста` as
    `усогласеност`; `-та`/`-то` of a base form kept: `валута` as `валути`, `место` as `местото`), the masculine
    plural's -ov/-ev (`судови` as `суд`) and the fleeting e of -en (`сомнителен` as `сомнителна`): enough to find a
    glossary entry's inflected forms; `помошта` as `помош`: folding makes ш an s, so the -шта of a -ш noun is told
    from a -ст noun's -ста before folding); a neuter -ште keeps its ш+т (`пристаниште` as `пристаништата`, not
    read as -ш + the plural article -те); a verb's 3rd person plural -аат as its singular (`пријавуваат` as
    `пријавува`); a verbal noun's -ње keeps its њ (`фалсификување` is not its participle `фалсификувани`); ќ and ѓ as
    к and г, as a keyboard without them types them (`мегународна` as `меѓународна`); a -ии plural's article only
    -те (`трансакциите` as `трансакции`, `извештаите` as `извештаи`); the fleeting а of -изам (`тероризмот` as
    `тероризам`)."""
    if word.lower().endswith("шта") and len(word) > 5:
        word = word[:-2]
    elif word.lower().endswith("ште") and len(word) > 5:  # a neuter -ште's e is its own (пристаниште, засолниште)
        word = word[:-1]
    key = _MK_THIRD_PLURAL.sub("", fold(word).replace("kj", "k").replace("gj", "g"))
    for pattern in (_MK_ARTICLE, _MK_VOWEL):
        cut = pattern.sub("", key)
        key = cut if len(cut) >= 3 else key
    key = key[:-1] if key.endswith("j") and not key.endswith("nj") and len(key) > 3 else key
    return _MK_ISM.sub("am", _MK_FLEETING.sub("n", _MK_PLURAL.sub("", key)))


def albanian_key(word: str) -> str:
    """An Albanian word folded, without one case or plural ending and a final vowel where at least four letters stay
    (`transaksionit`, `transaksionet`, `transaksioneve` give `transaksion`), a verb's passive and participle stems
    read as its active one (`raportohet`, `raportuar` as `raportoj`, `raportojnë`; a mediopassive of a short stem too:
    `hetohet` as `hetoj`); the connecting articles i/e/të/së share one key: enough to find a glossary entry's
    inflected forms."""
    key = fold(word)
    if key in _SQ_LINKS:
        return "e"
    passive = _SQ_MEDIOPASSIVE.match(key)
    if passive and len(passive.group(1)) >= 3:  # its active verb's key: hetohet as hetoj, paguhet as paguaj
        stem = passive.group(1)
        key = stem + ("aj" if stem.endswith("u") else "j")
    for ending in _SQ_ENDINGS:
        if key.endswith(ending) and len(key) - len(ending) >= 4:
            key = key[: -len(ending)]
            break
    key = key[:-1] if key[-1:] in ("a", "e", "i") and len(key) > 4 else key
    return _SQ_VERB.sub("oj", key)


def albanian_mediopassive_key(word: str) -> str | None:
    """The key of an Albanian mediopassive form of a vowel-stem verb (`kërkohet`, `kërkohen`, `kërkohej` give
    `kerko~h`: "is required", not the active `kërkoj` "request"), None for any other word."""
    found = _SQ_MEDIOPASSIVE.match(fold(word))
    return found.group(1) + MEDIOPASSIVE if found else None


def macedonian_plural_key(key: tuple[str, ...]) -> tuple[str, ...]:
    """The key of a Macedonian term's plural: each word's final velar after a vowel as its plural's -ц/-з
    (`сопственик` as `сопственици`, `вистински сопственик` as `вистински сопственици`)."""
    return tuple(_MK_VELAR.sub(lambda m: _MK_PALATAL[m.group()], w) for w in key)


def without(key: tuple[str, ...], optional: frozenset[str]) -> tuple[str, ...]:
    """A term's key without the linking words a practitioner may leave out inside it (not its first or last)."""
    return tuple(w for i, w in enumerate(key) if not (0 < i < len(key) - 1 and w in optional))


LIGHT_KEYS = {"light-mk": macedonian_key, "light-sq": albanian_key}  # languages without a Snowball stemmer
# Linking words inside a term a practitioner may leave out: Macedonian "на" ("спречување перење пари" is the
# glossary's "спречување на перење пари", AML; it was "prevention money laundering"), found without them too where no
# entry has that key
OPTIONAL_WORDS = {"light-mk": frozenset({"na"})}
# Keys a term's entry is also found by (its plural's stem), where no other entry has them
PLURAL_KEYS: dict[str, Callable[[tuple[str, ...]], tuple[str, ...]]] = {"light-mk": macedonian_plural_key}
VOICE_KEYS = {"light-sq": albanian_mediopassive_key}  # forms with a key of their own, the light key their fallback
# forms with a second key (from the word and its plain key), tried after the plain key finds nothing
ALTERNATE_KEYS: dict[str, Callable[[str, str], str | None]] = {"serbian": hbs_plural_key}


def key_algorithm(language: str | None) -> str | None:
    """How a language's dictionary keys are made: its Snowball stemmer, a light key (mk, sq), or folding only."""
    light = f"light-{language}"
    return light if light in LIGHT_KEYS else stemmer_for(language)


def dictionary_for(dirs: list[Path], language: str | None) -> Dictionary | None:
    """The merged dictionary for a query language (cached per process), None when no file covers it. A file that
    cannot be read is left out with a warning naming it: a broken dictionary never breaks search."""
    if not language:
        return None
    stamped = []
    for p in find_dictionaries(dirs, language):
        stem = p.name[: -len(".index")] if p.suffix == ".index" else None
        companions = [p.with_name(stem + ".dict.dz"), p.with_name(stem + ".dict")] if stem else []
        try:
            stamp = [p.stat().st_mtime_ns] + [c.stat().st_mtime_ns if c.exists() else 0 for c in companions]
        except OSError:
            continue
        stamped.append((p, stamp))
    if not stamped:
        return None
    key = tuple(f"{p}:{m}" for p, m in stamped) + (str(key_algorithm(language)),)
    with _CACHE_LOCK:
        if key not in _CACHE:
            glossary: list[tuple[str, list[str]]] = []
            entries: list[tuple[str, list[str]]] = []
            for p, _ in stamped:
                try:
                    (glossary if p.suffix == ".tsv" else entries).extend(read_any(p))
                except DictionaryError as exc:
                    log.warning("dictionary left out: %s", exc)
            if len(_CACHE) > 16:
                _CACHE.clear()
            _CACHE[key] = Dictionary(entries, key_algorithm(language), glossary)
        return _CACHE[key] if len(_CACHE[key]) else None
