"""Document language detection with lingua, limited to the languages this corpus meets."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

CANDIDATES: tuple[Language, ...] = (
    Language.ENGLISH,
    Language.SERBIAN,
    Language.CROATIAN,
    Language.BOSNIAN,
    Language.ALBANIAN,
    Language.MACEDONIAN,
    Language.SLOVENE,
    Language.BULGARIAN,
    Language.RUSSIAN,
    Language.UKRAINIAN,
    Language.GERMAN,
    Language.FRENCH,
    Language.ITALIAN,
    Language.SPANISH,
    Language.PORTUGUESE,
    Language.DUTCH,
    Language.POLISH,
    Language.CZECH,
    Language.ROMANIAN,
    Language.HUNGARIAN,
    Language.GREEK,
    Language.TURKISH,
    Language.ARABIC,
    Language.HEBREW,
)
SAMPLE_CHARS = 6000


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    """The shared detector (built once per process)."""
    return (
        LanguageDetectorBuilder.from_languages(*CANDIDATES)
        .with_minimum_relative_distance(0.05)
        .with_low_accuracy_mode()  # trigram models: same answers on document-length text, 46 MB not 550 MB
        .build()
    )


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the dominant language of a text sample, or None when unsure."""
    sample = " ".join(text.split())[:SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < 20:
        return None
    lang = _detector().detect_language_of(sample)
    return lang.iso_code_639_1.name.lower() if lang is not None else None


_MACEDONIAN_LETTERS = set("ѓќѕѐѝ")
_SERBIAN_LETTERS = set("ђћ")
# A letter of Albanian's alphabet and of no other query language's (French has it only in a few names: Noël): it
# decides for Albanian where the detector is unsure ("pagesat e ransomware në asete virtuale": German 0.46)
_ALBANIAN_LETTERS = set("ë")


# Macedonian typed in Latin letters (a keyboard without Cyrillic): lingua's Macedonian is Cyrillic only, so such a
# query came out Croatian or Bosnian and went through hbs-eng ("peraci na pari" -> "peak on couple"). Words only
# Macedonian has (prepositions во/со/преку/според, the clitic ги, колку, зошто, дека, ќе typed "kje", пари, каде,
# кои, кој) count two, a word ending in its definite article or its 3rd person plural -аат one (-ите/-иот/-ната/
# -ниот: "kriminalnite", "vrbuvaat"); two make the query Macedonian. Endings alone do not overrule a detector sure of
# Serbo-Croatian: its genitive plurals and imperatives end alike ("dokumenata klijenata", "navedite"). "ke" (ќе typed
# with k) is left out: it is also Albanian ("a ke dokumente").
_MACEDONIAN_LATIN_WORDS = frozenset(
    {"vo", "so", "gi", "kolku", "zosto", "zoshto", "deka", "preku", "spored", "megu", "megju", "pomegu", "kje"}
    | {"pari", "kade", "koi", "koj"}  # пари (money), каде, кои, кој: Serbo-Croatian says novac/pare, gdje, koji
)
_MACEDONIAN_LATIN_ENDING = re.compile(r"[a-z]{3,}(?:ite|iot|aat|nata|niot)")
# The same in Cyrillic, where a short query without ѓ ќ ѕ or ђ ћ can read either way to the detector ("Кои се
# индикатори за криптовалути": Serbian 0.53): words only one of the two languages has. Macedonian: кои/кој/кое
# (Serbian који/које), е (is; је), во/со (у/са), ги, колку (колико), каде (где), кога (када), зошто (зашто), дека,
# преку (преко), според (према), пари (новац). The side with more of its own words decides; a tie is the detector's.
_MACEDONIAN_WORDS = frozenset("кои кој кое е во со ги колку каде кога зошто дека преку според помеѓу пари".split())
_SERBIAN_WORDS = frozenset("који које је су у са колико где гдје када зашто преко према новац новца".split())
LETTERS = re.compile(r"[^\W\d_]+")  # a run of letters, in any script (index/translate.py too)


QUERY_LANGUAGES = ("en", "sr", "hr", "bs", "sq", "mk", "es", "fr", "de", "it")
EXAMPLE_CODES = ", ".join(QUERY_LANGUAGES[:6])  # the users' languages, for help texts and errors
SERBO_CROATIAN = frozenset({"sr", "hr", "bs"})  # one language family to a detector: decided together
QUERY_CONFIDENCE = 0.5


@lru_cache(maxsize=8)
def _query_detector(codes: tuple[str, ...]) -> LanguageDetector:
    """A high-accuracy detector limited to the languages queries are expected in: a query is a few words, where
    trigram-only models guess wrong (an English sentence came out French) and 24 candidates are too many. Its
    models take about 275 MB for ten languages, loaded on the first query."""
    from lingua import IsoCode639_1

    langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    return LanguageDetectorBuilder.from_languages(*langs).build()


def detect_query_language(text: str, languages: tuple[str, ...] = QUERY_LANGUAGES) -> str | None:
    """ISO 639-1 code of a short query's language among `languages`, or None when unsure (names, acronyms).
    Serbian, Croatian and Bosnian count as one family against the others (a query rarely tells them apart);
    letters only one Cyrillic alphabet has decide Macedonian vs Serbian outright; Albanian's ë decides where the
    detector is unsure (an Albanian keyword query with an English loanword)."""
    letters = set(text.casefold())
    if letters & _MACEDONIAN_LETTERS and "mk" in languages:
        return "mk"
    if letters & _SERBIAN_LETTERS and "sr" in languages:
        return "sr"
    if "mk" in languages and "sr" in languages and (side := cyrillic_side(text)):
        return side
    if sum(ch.isalpha() for ch in text) < 4 or len(languages) < 2:
        return None
    values = [
        (v.language.iso_code_639_1.name.lower(), v.value)
        for v in _query_detector(tuple(sorted(languages))).compute_language_confidence_values(text)
    ]
    family = [(c, v) for c, v in values if c in SERBO_CROATIAN]
    others = [(c, v) for c, v in values if c not in SERBO_CROATIAN]
    best, confidence = max(others, key=lambda cv: cv[1], default=(None, 0.0))
    if family and sum(v for _, v in family) > confidence:
        best, confidence = family[0][0], sum(v for _, v in family)
    best = best if confidence >= QUERY_CONFIDENCE else None
    if best is None and letters & _ALBANIAN_LETTERS and "sq" in languages:  # no Macedonian in Latin has ë
        return "sq"
    if (best is None or best in SERBO_CROATIAN) and "mk" in languages and macedonian_in_latin(text, best is not None):
        return "mk"
    return best


def cyrillic_side(text: str) -> str | None:
    """ "mk" or "sr" when a Cyrillic query has more words only that language has (_MACEDONIAN_WORDS,
    _SERBIAN_WORDS), else None."""
    words = [w.casefold() for w in LETTERS.findall(text)]
    mk, sr = sum(w in _MACEDONIAN_WORDS for w in words), sum(w in _SERBIAN_WORDS for w in words)
    return "mk" if mk > sr else "sr" if sr > mk else None


def macedonian_in_latin(text: str, detector_sure: bool = False) -> bool:
    """Whether a query in Latin letters reads as Macedonian: two points of Macedonian-only words and endings
    (_MACEDONIAN_LATIN_WORDS, _MACEDONIAN_LATIN_ENDING), one of them a word where the detector is sure of another
    language."""
    words = [w.casefold() for w in LETTERS.findall(text)]
    own = sum(w in _MACEDONIAN_LATIN_WORDS for w in words)
    endings = sum(bool(_MACEDONIAN_LATIN_ENDING.fullmatch(w)) for w in words if w not in _MACEDONIAN_LATIN_WORDS)
    return 2 * own + endings >= 2 and (own > 0 or not detector_sure)


# -- language values people type (the `language` filter) ------------------------------------------------------------
_TAG = re.compile(r"([a-z]{2,3})(?:-[a-z0-9]{1,8})+")  # a BCP 47 tag with a script or region: sr-latn, sr-rs
# Serbo-Croatian as one language (ISO 639-1's withdrawn "sh", 639-3's macrolanguage "hbs") and Montenegrin ("cnr",
# no two-letter code): pactkb files documents under sr, hr or bs, so these ask which (a document stored as "sh"
# was found by no sr/hr/bs filter and stemmed by no stemmer)
_SERBO_CROATIAN_NAMES = frozenset(
    {"sh", "hbs", "cnr", "serbo croatian", "serbocroatian", "croato serbian", "montenegrin"}
)


def names_serbo_croatian(value: str) -> bool:
    """Whether a typed language is Serbo-Croatian as one language or Montenegrin ("sh", "hbs", "cnr-ME",
    "Serbo-Croatian", "Montenegrin")."""
    v = " ".join(value.strip().lower().replace("_", " ").replace("-", " ").split())
    return v in _SERBO_CROATIAN_NAMES or v.split(" ")[0] in _SERBO_CROATIAN_NAMES


@lru_cache(maxsize=1)
def _detector_names() -> dict[str, str]:
    """The detector's English language names -> ISO 639-1 code ("greek", "slovene": shorter than ISO's names)."""
    return {lang.name.lower(): lang.iso_code_639_1.name.lower() for lang in Language.all()}


@lru_cache(maxsize=512)
def language_code(value: str) -> str | None:
    """The ISO 639-1 code a typed language means: a code in any case ("sr", "SR"), an ISO 639-2/3 code ("srp"), a
    tag with a script or region ("sr-Latn"), or an English name ("Serbian"); None when it names no language that has
    a two-letter code ("srb" is ISO 639-3 for Sora, which has none)."""
    import pycountry  # ISO 639 tables (Debian's iso-codes data); imported on first use

    v = " ".join(value.strip().lower().replace("_", "-").split())
    if tag := _TAG.fullmatch(v):
        v = tag.group(1)
    if names_serbo_croatian(value):
        return None  # several of the users' languages at once: unknown_language asks for one
    languages = pycountry.languages
    if len(v) == 2:
        found = languages.get(alpha_2=v)
    elif len(v) == 3:
        found = languages.get(alpha_3=v) or languages.get(bibliographic=v)
    elif v in _detector_names():
        return _detector_names()[v]
    else:
        try:
            found = languages.lookup(v)  # name, common name or inverted name, case-insensitive
        except LookupError:
            found = None
    return getattr(found, "alpha_2", None)


def language_name(code: str) -> str | None:
    """The English name of an ISO 639-1 code ("sr" -> "Serbian"), None for another value."""
    import pycountry

    found = pycountry.languages.get(alpha_2=code.lower()) if len(code) == 2 else None
    return getattr(found, "name", None)


def unknown_language(value: str, held: Iterable[str]) -> str:
    """The error for a value that names no language, with the languages of the documents the caller may see."""
    shown = ", ".join(f"{c} ({n})" if (n := language_name(c)) else c for c in sorted(held))
    hint = f"; the documents you may see are in: {shown}" if shown else ""
    if names_serbo_croatian(value):
        return (
            f"{value.strip()!r} names more than one language here: use sr (Serbian), hr (Croatian) or bs (Bosnian), "
            f"whichever the text follows; they are searched, stemmed and translated alike{hint}"
        )
    return (
        f"unknown language {value.strip()!r} (use a two-letter ISO 639-1 code such as {EXAMPLE_CODES}, "
        f"or a name such as Serbian{hint})"
    )


def stored_language(value: str) -> str:
    """The code a document's language is stored as when someone sets it (upload, edit, manifest): language_code of
    the typed value ("SR", "srp", "sr-Latn", "Serbian" -> "sr"); a ValueError (unknown_language) when it names no
    language, so that no typo ("srb") is stored where no language filter finds it and no stemmer applies."""
    code = language_code(value)
    if code is None:
        raise ValueError(unknown_language(value, ()))
    return code
