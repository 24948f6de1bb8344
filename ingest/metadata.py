"""Infer document metadata (title, publisher, year, type, thematic areas) from the text and PDF info."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

from pactkb.ingest.types import AREAS, DocumentMeta, Heading

_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright)([^\n]{0,60})", re.I)
_BAD_TITLE = re.compile(r"^(untitled|microsoft word|document\d*|title|slide \d+|\W*)$|\.(docx?|pdf|indd|pptx?)$", re.I)

PUBLISHERS: list[tuple[str, str]] = [
    (r"\bCEPOL\b|European Union Agency for Law Enforcement Training", "CEPOL"),
    (r"\bEuropol\b|European Union Agency for Law Enforcement Cooperation", "Europol"),
    (r"\bFATF\b|Financial Action Task Force", "FATF"),
    (r"\bEgmont Group\b", "Egmont Group"),
    (r"\bMONEYVAL\b", "MONEYVAL (Council of Europe)"),
    (r"\bUNODC\b|United Nations Office on Drugs and Crime", "UNODC"),
    (r"\bUnited Nations\b|\bSecurity Council\b", "United Nations"),
    (r"Official Journal of the European Union", "European Union (Official Journal)"),
    (r"\bEuropean Commission\b", "European Commission"),
    (r"\bEuropean Banking Authority\b|\bEBA\b", "European Banking Authority"),
    (r"\bFrontex\b", "Frontex"),
    (r"\bEurojust\b", "Eurojust"),
    (r"\bINTERPOL\b", "INTERPOL"),
    (r"\bOSCE\b", "OSCE"),
    (r"\bCouncil of Europe\b", "Council of Europe"),
    (r"\bBasel Committee on Banking Supervision\b|\bBank for International Settlements\b", "Basel Committee (BIS)"),
    (r"\bBasel Institute on Governance\b", "Basel Institute on Governance"),
    (r"\bWolfsberg Group\b", "Wolfsberg Group"),
    (r"\bWorld Bank\b", "World Bank"),
    (r"\bInternational Monetary Fund\b|\bIMF\b", "IMF"),
    (r"\bFinancial Conduct Authority\b", "UK Financial Conduct Authority"),
    (r"\bFinCEN\b|Financial Crimes Enforcement Network", "FinCEN"),
    (r"\bJoint Money Laundering Steering Group\b|\bJMLSG\b", "JMLSG"),
    (r"\bPolaris\b", "Polaris Project"),
    (r"\bInternational Association of Chiefs of Police\b", "IACP"),
    (r"\bDepartment of Homeland Security\b", "US Department of Homeland Security"),
    (r"\bSENA\b|Servicio Nacional de Aprendizaje", "SENA"),
]

DOC_TYPE_RULES: list[tuple[str, str]] = [
    (
        "legislation",  # (?<!\w) ... (?!\w), not \b: "regulation (eu)" ends in a bracket, after which \b never holds
        r"(?<!\w)(regulation \(eu\)|directive \(eu\)|delegated regulation|implementing regulation|"
        r"official journal|directive|law on|act of|zakon o|ligji|закон|gazette|reshumot|decree)(?!\w)",
    ),
    ("threat assessment", r"\b(threat assessment|socta|iocta|te-sat|threat analysis|risk assessment)\b"),
    (
        "training material",
        r"\b(training|course|curriculum|module|syllabus|catalogue|otna|lesson|e-learning|"
        r"componente formativo|obuka|trajnim|обука)\b",
    ),
    ("booklet", r"\b(booklet|brochure|leaflet|fact ?sheets?)\b"),
    (
        "guideline",
        r"\b(guidelines?|guidance|good practices?|best practices?|manual|handbook|guide|"
        r"recommendations|principles|methodology|smjernice|smernice|udhëzues|упатство)\b",
    ),
    (
        "report",
        r"\b(report|analysis|study|survey|review|notice|order|codebook|index|assessment|observatory|"
        r"izvještaj|izveštaj|raport|извештај)\b",
    ),
]

AREA_TERMS: dict[str, list[str]] = {
    AREAS[0]: [
        "money laundering",
        "laundering",
        "fraud",
        "corruption",
        "financial crime",
        "economic crime",
        "tax evasion",
        "beneficial owner",
        "bribery",
        "embezzlement",
        "aml",
        "sanctions screening",
        "pranje novca",
        "pranja novca",
        "korupcij",
        "prevar",
        "pastrim",
        "перење пари",
        "прање новца",
    ],
    AREAS[1]: [
        "drug",
        "narcotic",
        "cocaine",
        "heroin",
        "cannabis",
        "precursor",
        "methamphetamine",
        "opioid",
        "droga",
        "narkoti",
        "дрога",
        "наркоти",
    ],
    AREAS[2]: [
        "organised crime",
        "organized crime",
        "criminal network",
        "criminal group",
        "mafia",
        "trafficking in",
        "human trafficking",
        "trafficking in persons",
        "sex trafficking",
        "firearms",
        "arms trafficking",
        "organizovani kriminal",
        "organizirani kriminal",
        "krim të organizuar",
        "организиран криминал",
    ],
    AREAS[3]: [
        "cyber",
        "malware",
        "ransomware",
        "hacking",
        "phishing",
        "botnet",
        "deepfake",
        "dark web",
        "darknet",
        "ddos",
        "sajber",
        "kibern",
        "сајбер",
    ],
    AREAS[4]: [
        "migrant smuggling",
        "smuggling of migrants",
        "irregular migration",
        "illegal immigration",
        "border crossing",
        "frontex",
        "krijumčarenje migranata",
        "krijumcarenje migranata",
        "kontrabandë me migrantë",
        "шверц на мигранти",
    ],
    AREAS[5]: [
        "terroris",
        "isil",
        "da'esh",
        "daesh",
        "al-qaida",
        "al-qaeda",
        "radicali",
        "violent extremism",
        "foreign terrorist fighter",
        "terorizm",
        "терори",
    ],
    AREAS[6]: [
        "financial investigation",
        "international cooperation",
        "mutual legal assistance",
        "joint investigation team",
        "asset recovery",
        "confiscation",
        "information exchange",
        "extradition",
        "eurojust",
        "interpol",
        "međunarodna saradnja",
        "меѓународна соработка",
    ],
}


_NOT_A_TITLE = re.compile(
    r"^(contents|table of contents|foreword|preface|summary|executive summary|acknowledg\w*|abbreviations|"
    r"(front|back) cover.*|.*\bversion|\d{1,2} \w+ \d{4}|[\d\W]+)$",
    re.I,
)


def clean_title(raw: str | None) -> str | None:
    """A usable title from PDF metadata, or None for empty / file-name / tool-generated titles."""
    if not raw:
        return None
    title = re.sub(r"^microsoft (word|powerpoint) - ", "", raw.strip(), flags=re.I)
    title = re.sub(r"\s+", " ", title).strip()
    if len(title) < 4 or _BAD_TITLE.search(title) or _NOT_A_TITLE.match(title):
        return None
    return title


def title_from_filename(path: Path) -> str:
    """A readable title made from a file name."""
    stem = re.sub(r"[_\-]+", " ", path.stem).strip()
    return stem[:1].upper() + stem[1:] if stem else path.name


def infer_title(info: dict[str, str], headings: list[Heading], path: Path, display: str | None = None) -> str:
    """Title from PDF metadata, else the cover's largest text or first heading, else the file name."""
    for candidate in (info.get("Title"), display):
        title = clean_title(candidate)
        if title and len(title.split()) >= 2:
            return title[:1] + title[1:].lower() if title.isupper() else title
    for h in headings:
        text = h.title.strip()
        if h.page <= 3 and len(text.split()) >= 3 and not _NOT_A_TITLE.match(text):
            return text[:1] + text[1:].lower() if text.isupper() else text
    return title_from_filename(path)


def infer_year(title: str, pages: list[str], info: dict[str, str]) -> int | None:
    """Publication year from the title, a copyright line, the PDF creation date, or the first pages."""
    this_year = dt.date.today().year
    ok = [int(y) for y in _YEAR.findall(title) if int(y) <= this_year + 1]
    if ok:
        return max(ok)
    edges = " ".join(pages[:3] + pages[-2:])
    cr = [int(y) for span in _COPYRIGHT.findall(edges) for y in _YEAR.findall(span) if int(y) <= this_year + 1]
    if cr:
        return max(cr)
    m = re.match(r"D?:?(\d{4})", info.get("CreationDate", "") or "")
    if m and 1980 <= int(m.group(1)) <= this_year + 1:
        return int(m.group(1))
    years = [int(y) for y in _YEAR.findall(" ".join(pages[:2])) if int(y) <= this_year + 1]
    return Counter(years).most_common(1)[0][0] if years else None


def infer_publisher(info: dict[str, str], pages: list[str]) -> str | None:
    """The best-known organisation named on the first pages (or in the PDF author field)."""
    text = " ".join([info.get("Author", ""), info.get("Subject", "")] + pages[:3] + pages[-1:])
    best: tuple[int, int, str] | None = None
    for pattern, name in PUBLISHERS:
        hits = list(re.finditer(pattern, text))
        if hits:
            key = (-len(hits), hits[0].start(), name)
            best = key if best is None or key < best else best
    return best[2] if best else None


_LEGAL_TEXT = re.compile(
    r"official journal of the european union|have adopted this (regulation|directive)|"
    r"službeni (glasnik|list)|fletorja zyrtare|службен (весник|гласник)|official gazette",
    re.I,
)


def infer_doc_type(title: str, pages: list[str]) -> str:
    """Document type from the title first, then from the first pages (legislation only on strong markers)."""
    for doc_type, pattern in DOC_TYPE_RULES:
        if re.search(pattern, title.lower()):
            return doc_type
    body = " ".join(pages[:2])[:6000]
    if _LEGAL_TEXT.search(body):
        return "legislation"
    for doc_type, pattern in DOC_TYPE_RULES[1:]:
        if re.search(pattern, body.lower()):
            return doc_type
    return "other"


def infer_areas(title: str, pages: list[str], limit: int = 3) -> list[str]:
    """Thematic priority areas whose vocabulary is frequent in the document."""
    text = (title + " ") * 5 + " ".join(pages).lower()
    text = text.lower()
    scores = {area: sum(text.count(term) for term in terms) for area, terms in AREA_TERMS.items()}
    top = max(scores.values(), default=0)
    if top < 3:
        return []
    chosen = [a for a, s in sorted(scores.items(), key=lambda kv: -kv[1]) if s >= max(3, 0.25 * top)]
    return chosen[:limit]


def infer_meta(
    path: Path,
    pages: list[str],
    headings: list[Heading],
    info: dict[str, str],
    language: str | None,
    display_title: str | None = None,
) -> DocumentMeta:
    """All inferable metadata; every field is marked as inferred."""
    title = infer_title(info, headings, path, display_title)
    return DocumentMeta(
        title=title,
        publisher=infer_publisher(info, pages),
        year=infer_year(title, pages, info),
        language=language,
        doc_type=infer_doc_type(title, pages),
        areas=infer_areas(title, pages),
        sensitivity="public",
        inferred=["title", "publisher", "year", "language", "doc_type", "areas"],
    )


def inferred_from_title(
    title: str, pages: list[str], inferred: list[str], info: dict[str, str] | None = None
) -> dict[str, Any]:
    """The type, areas and (given the PDF's info) year a title says, for those of them still `inferred`: a title
    given by a manifest or an uploader says more than the file's own (at parse time, and for a file already
    indexed whose manifest title changed)."""
    out: dict[str, Any] = {}
    if "doc_type" in inferred:
        out["doc_type"] = infer_doc_type(title, pages)
    if "areas" in inferred:
        out["areas"] = infer_areas(title, pages)
    if "year" in inferred and info is not None:
        out["year"] = infer_year(title, pages, info)
    return out


def apply_overrides(meta: DocumentMeta, overrides: dict[str, object]) -> DocumentMeta:
    """Replace inferred fields with given values and un-mark them as inferred."""
    for key, value in overrides.items():
        if hasattr(meta, key) and key != "inferred":
            setattr(meta, key, value)
            if key in meta.inferred:
                meta.inferred.remove(key)
    return meta
