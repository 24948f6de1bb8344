"""Fold text for lexical matching: case, diacritics (č→c, đ→d) and Serbian/Macedonian Cyrillic → Latin."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import snowballstemmer

_CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "ђ": "d",
    "е": "e",
    "ж": "z",
    "з": "z",
    "и": "i",
    "ј": "j",
    "к": "k",
    "л": "l",
    "љ": "lj",
    "м": "m",
    "н": "n",
    "њ": "nj",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "ћ": "c",
    "у": "u",
    "ф": "f",
    "х": "h",
    "ц": "c",
    "ч": "c",
    "џ": "dz",
    "ш": "s",
    # Macedonian
    "ѓ": "gj",
    "ќ": "kj",
    "ѕ": "dz",
    # Russian / Ukrainian / Bulgarian letters, so queries in those scripts still fold consistently
    "ё": "e",
    "й": "j",
    "щ": "st",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "ju",
    "я": "ja",
    "і": "i",
    "ї": "ji",
    "є": "je",
    "ґ": "g",
}
_SPECIAL = {"đ": "d", "ß": "ss", "æ": "ae", "ø": "o", "ł": "l", "þ": "th", "œ": "oe", "ı": "i", "ħ": "h"}
_TABLE = str.maketrans({**_CYRILLIC, **_SPECIAL})
_WORD = re.compile(r"\w+", re.UNICODE)
_LOCAL = threading.local()

STOPWORDS = frozenset(
    """a about an and are as at be been but by can could do does for from had has have how i if in into
    is it its may might must no not of on or our shall should so such than that the their them then there
    these they this to was we were what when where which who whom why will with would you your
    i ili je se na u za od do da li su koji koja koje kako sto sta što šta kao po pri iz o ima imaju
    dhe e i të te në ne me për nga se si një nje ose kur ku kush cili cila cilat cilët cilet çfarë cfare është eshte
    janë jane ishte duhet mund nuk ka kanë kane kishte këtë kete kjo ky këto keto ata ato tyre saj tij nëse nese
    deri pas mbi nën nen pa tek prej gjatë gjate sipas duke që qe edhe po ndaj sa
    и или на во за од до да се што како кој која кое
    el la los las de del y o en un una que por para con se al lo""".split()
)


@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """Fold one token (cached: vocabularies are small compared with texts)."""
    return fold(word)


# Passages whose distinct words are kept: a result page's snippets and its no-good-answer evidence read the same
# passages, and paging or facet clicks show them again (a passage's words take ~30 kB; 512 of them ~15 MB).
PASSAGE_WORDS_CACHE = 512


@lru_cache(maxsize=PASSAGE_WORDS_CACHE)
def passage_words(text: str) -> frozenset[str]:
    """The distinct \\w+ words of a passage, as typed (cached per text)."""
    return frozenset(_WORD.findall(text))


def fold(text: str) -> str:
    """Lower-case, transliterate Cyrillic to Latin and strip diacritics, keeping everything else."""
    text = text.casefold().translate(_TABLE)
    if unicodedata.is_normalized("NFKD", text):  # nothing to decompose (e.g. ASCII): no combining marks to strip
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold_tokens(text: str) -> list[str]:
    """Folded word tokens of a text."""
    return _WORD.findall(fold(text))


def query_terms(text: str) -> list[str]:
    """Folded, de-duplicated content terms of a query (stopwords dropped unless nothing else is left)."""
    tokens = fold_tokens(text)
    seen: list[str] = []
    for t in tokens:
        if t not in seen:
            seen.append(t)
    content = [t for t in seen if t not in STOPWORDS]
    return content or seen


# Languages whose documents are indexed by their own Snowball stemmer (ISO 639-1 → algorithm). English is left to
# FTS5's porter tokenizer; Albanian and Macedonian have no well-kept stemmer and are only folded.
SNOWBALL = {
    "sr": "serbian",
    "hr": "serbian",
    "bs": "serbian",
    "es": "spanish",
    "fr": "french",
    "de": "german",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "ro": "romanian",
    "hu": "hungarian",
    "tr": "turkish",
    "ru": "russian",
    "el": "greek",
    "ar": "arabic",
    "pl": "polish",
    "cs": "czech",
}


def stemmer_for(language: str | None) -> str | None:
    """The Snowball algorithm pactkb uses for a language code, or None (English, unknown, no stemmer)."""
    return SNOWBALL.get((language or "").lower())


@lru_cache(maxsize=65536)
def stem_word(word: str, algorithm: str) -> str:
    """A word stemmed in its language and then folded: Serbian 'službi', 'службе' and 'sluzbi' all give 'sluzb'."""
    return fold(thread_stemmer(algorithm).stemWord(word.casefold()))


def stemmed_text(text: str, language: str | None) -> str:
    """The text as the lexical index stores it: folded; when its language has a stemmer, followed by the stems of
    its words that differ from the words themselves. Queries then match the surface forms (any language, phrases)
    and, stemmed in the query's language, the other inflections (FTS5's porter step treats both sides alike)."""
    folded = protect(fold(text))
    algorithm = stemmer_for(language)
    if algorithm is None:
        return folded
    stems = [st for w in _WORD.findall(text) if (st := stem_word(w, algorithm)) != fold_word(w)]
    return f"{folded}\n{protect(' '.join(stems))}" if stems else folded  # queries' stems are read alike


def thread_stemmer(algorithm: str) -> snowballstemmer.stemmer:
    """This thread's Snowball stemmer for an algorithm ("porter", "english"): stemmers keep state while stemming,
    so threads must not share one."""
    stemmers = getattr(_LOCAL, "stemmers", None)
    if stemmers is None:
        stemmers = _LOCAL.stemmers = {}
    if algorithm not in stemmers:
        stemmers[algorithm] = snowballstemmer.stemmer(algorithm)
    return stemmers[algorithm]


# Words Porter conflates with a commoner word of another meaning in this field, and the token each is indexed and
# searched as instead (a suffix no Porter rule strips): customs (the authority) is not customer, organised crime is
# not an organisation (British and American spellings of these two share their token), an informal value transfer
# system is not information, international is not internal, securities are not security, an accountant is not an
# account. A change here changes the index's tokens: bump store.SCHEMA_VERSION and tantivy_index.LAYOUT. (Reading
# every American spelling as British, with breame's list, was tried: domain dev English queries 0.6652 -> 0.6642 and
# the native queries' English originals 0.718 -> 0.709, as "offences" and "recognise" then matched US texts too.)
PORTER_EXCEPTIONS = {
    "customs": "customsqq",
    **dict.fromkeys(
        ("organised", "organized", "organise", "organize", "organises", "organizes", "organising", "organizing"),
        "organiseqq",
    ),
    **dict.fromkeys(
        ("organisation", "organization", "organisations", "organizations", "organisational", "organizational"),
        "organisationqq",
    ),
    **dict.fromkeys(("informal", "informally"), "informalqq"),
    **dict.fromkeys(("international", "internationally"), "internationalqq"),
    "securities": "securitiesqq",
    **dict.fromkeys(("accountant", "accountants", "accountancy"), "accountantqq"),
}
# whole tokens as FTS5's unicode61 cuts them: "_" separates words there (Python's \b would count it a letter)
_EXCEPTION = re.compile(r"(?<![^\W_])(?:" + "|".join(sorted(PORTER_EXCEPTIONS, key=len, reverse=True)) + r")(?![^\W_])")


def index_word(folded_word: str) -> str:
    """A folded word as the keyword index reads it: the words of PORTER_EXCEPTIONS as their own tokens."""
    return PORTER_EXCEPTIONS.get(folded_word, folded_word)


def protect(folded: str) -> str:
    """Folded text with each word as the keyword index reads it (`index_word`): done before FTS5's own Porter step,
    on indexed text and on queries alike."""
    return _EXCEPTION.sub(lambda m: PORTER_EXCEPTIONS[m.group(0)], folded)


def porter_stem(folded_word: str) -> str:
    """A folded word as the FTS index stores it (Porter, the algorithm of FTS5's porter tokenizer, of `index_word`)."""
    return thread_stemmer("porter").stemWord(index_word(folded_word))
