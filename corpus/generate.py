"""Write pactkb's own sample corpus (corpus/sample): short guideline-style documents with known content.

Run `python -m pactkb.corpus.generate [OUT_DIR]`. The output is deterministic; the committed files in
corpus/sample were produced by it. FACTS lists phrases and the physical page they are printed on,
which the tests use to check page-exact ingestion.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pactkb.corpus.pdfgen import DocSpec, PageSpec, build_pdf

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"

CFT_HEADER_2023 = "EU–Western Balkans Counter-Terrorism Partnership · Good practice on CFT (2023)"
CFT_HEADER_2025 = "EU–Western Balkans Counter-Terrorism Partnership · Good practice on CFT (2025)"

_CFT_INTRO = [
    ("h1", "1. Introduction"),
    (
        "p",
        "These guidelines collect good practice for police officers, prosecutors, customs and border "
        "officers and financial intelligence units in Albania, Bosnia and Herzegovina, Kosovo, Montenegro, "
        "North Macedonia and Serbia who investigate the financing of terrorism. They were drafted with "
        "practitioners from the region during three workshops and reflect what worked in real cases.",
    ),
    ("h2", "1.1 Scope and use"),
    (
        "p",
        "The guidelines do not replace national law or the FATF Recommendations. They describe "
        "investigative practice: how to detect, trace and disrupt funds that support terrorist "
        "organisations, individual attackers and foreign terrorist fighters. Each chapter ends with "
        "points that trainers can turn into exercises.",
    ),
    (
        "p",
        "Throughout the text, 'financial investigation' means the collection and analysis of financial "
        "information to identify the origin, movement and use of funds, carried out in parallel with the "
        "criminal investigation and not after it.",
    ),
]
_CFT_CASH = [
    ("h1", "2. Cash couriers and cross-border declarations"),
    (
        "p",
        "Cash remains the preferred means of moving small amounts for terrorist purposes across the "
        "region. Couriers split sums below the declaration threshold and travel on the same bus lines "
        "repeatedly. Customs officers should treat undeclared cash above EUR 10 000 at border crossing "
        "points as a trigger for a terrorism-financing check, not only as a customs administrative offence.",
    ),
    (
        "p",
        "Good practice: record the identity, route and the stated purpose of every detected courier in a "
        "shared database that the financial intelligence unit can query. Patterns across repeated "
        "crossings reveal structuring that a single stop never shows. Dogs trained to detect banknotes "
        "have proven effective at bus terminals and ferry ports.",
    ),
    (
        "p",
        "Investigators should request the declaration records of the courier's relatives and associates, "
        "since organisers frequently rotate family members as couriers to avoid attention.",
    ),
]
_CFT_NPO = [
    ("h1", "3. Non-profit organisations"),
    (
        "p",
        "A small number of non-profit organisations in the region have been abused to raise or move "
        "funds for terrorist groups, most often through unregistered collections in places of worship "
        "and through transfers to conflict zones labelled as humanitarian aid.",
    ),
    (
        "p",
        "Good practice: supervisors and police should apply risk-based outreach to non-profit "
        "organisations, focusing on the few that present a real risk, and avoid measures that disrupt "
        "legitimate humanitarian activity. Blanket restrictions drive donations into cash and make "
        "them harder to follow.",
    ),
    (
        "p",
        "When an organisation is suspected, obtain its bank statements, donor lists and the invoices of "
        "its foreign partners, and compare the declared projects with satellite images or open-source "
        "reports from the area concerned.",
    ),
]
_CFT_VA = [
    ("h1", "4. Virtual assets"),
    (
        "p",
        "Terrorist groups increasingly solicit donations in virtual assets, especially stablecoins on "
        "low-fee blockchains. Investigators need access to blockchain analytics tools and training to use "
        "them. Tracing stablecoin transfers to unhosted wallets is the most frequent task reported by "
        "financial intelligence units in the region.",
    ),
    (
        "p",
        "Good practice: request the freezing of funds at the virtual asset service provider as soon as "
        "the wallet is identified; issuers of some stablecoins can freeze tokens on request. Seize "
        "hardware wallets and recovery phrases during searches and document the chain of custody of "
        "private keys. Cooperation with the service providers is faster when the request names the "
        "transaction hash, the wallet address and the legal basis of the request in the provider's "
        "own jurisdiction, which requires close and continuous",
    ),
]
_CFT_COOP = [
    ("p", "cooperation between investigators and the national contact points for international requests."),
    ("h1", "5. Inter-agency and international cooperation"),
    (
        "p",
        "Terrorism financing cases cross institutional borders. Joint analysis cells bringing together the "
        "financial intelligence unit, the police counter-terrorism unit, the prosecutor and the customs "
        "administration shortened the time from a suspicious transaction report to a freezing order in "
        "several cases from the region.",
    ),
    (
        "p",
        "Good practice: use Europol's secure channels and the Egmont Group's network for requests, "
        "agree on a single case number across agencies, and hold a short weekly meeting while the case "
        "is active. Joint investigation teams are recommended where two or more countries investigate "
        "the same network.",
    ),
]


def cft_guidelines(year: int) -> DocSpec:
    """The CFT good-practice guidelines, 2023 edition or its 2025 revision (near-duplicate text)."""
    header = CFT_HEADER_2023 if year == 2023 else CFT_HEADER_2025
    cover = PageSpec(
        [
            ("h1", "Good Practice Guidelines on Countering the Financing of Terrorism"),
            (
                "p",
                f"EU–Western Balkans Counter-Terrorism Partnership, implemented by CEPOL with Europol. Edition {year}.",
            ),
            (
                "p",
                "Foreword. This publication was produced with the financial support of the European Union. "
                "It is intended for law-enforcement training and operational use.",
            ),
        ]
    )
    contents = PageSpec(
        [
            ("p", "Contents"),
            (
                "p",
                "1. Introduction 1 · 2. Cash couriers and cross-border declarations 2 · 3. Non-profit "
                "organisations 3 · 4. Virtual assets 4 · 5. Inter-agency and international cooperation 5"
                + (" · 6. Crowdfunding platforms 6" if year == 2025 else ""),
            ),
        ]
    )
    cash = list(_CFT_CASH)
    va = list(_CFT_VA)
    if year == 2025:
        cash[1] = (
            "p",
            cash[1][1] + " Since 2025, mobile teams share courier alerts in real time across the "
            "region through the secure regional messaging channel.",
        )
        va.insert(
            1,
            (
                "p",
                "Since the 2024 revision of the EU rules, providers must collect originator and "
                "beneficiary information for every crypto-asset transfer (the travel rule); "
                "investigators should request that information first.",
            ),
        )
    pages = [
        cover,
        contents,
        PageSpec(_CFT_INTRO),
        PageSpec(cash),
        PageSpec(_CFT_NPO),
        PageSpec(va),
        PageSpec(_CFT_COOP),
    ]
    if year == 2025:
        pages.append(
            PageSpec(
                [
                    ("h1", "6. Crowdfunding platforms"),
                    (
                        "p",
                        "Crowdfunding campaigns disguised as charity for families of detained fighters appeared on "
                        "several platforms in 2024. Good practice: agree a rapid notice-and-takedown procedure with "
                        "the platforms and ask them to preserve donor data before the campaign is removed.",
                    ),
                ]
            )
        )
    return DocSpec(
        title=f"Good Practice Guidelines on Countering the Financing of Terrorism ({year})",
        author="CEPOL",
        header=header,
        pages=pages,
        labels=[(0, "ROMAN_LOWER", 1), (2, "ARABIC", 1)],
    )


def migrant_smuggling_booklet() -> DocSpec:
    """An EMPACT Support Network booklet on migrant smuggling (no outline: headings are detected)."""
    return DocSpec(
        title="EMPACT Support Network Booklet: Countering Migrant Smuggling on the Western Balkans Route",
        author="EMPACT Support Network",
        header="EMPACT Support Network · Migrant smuggling booklet 2024",
        outline=False,
        pages=[
            PageSpec(
                [
                    ("h1", "1. Why this booklet"),
                    (
                        "p",
                        "Migrant smuggling networks along the Western Balkans route adapt quickly to border "
                        "controls. This booklet summarises operational experience shared in the EMPACT "
                        "migrant smuggling priority for investigators and border police.",
                    ),
                    ("h1", "2. Online advertising of smuggling services"),
                    (
                        "p",
                        "Smugglers advertise crossings on social media and messaging apps, using coded price "
                        "lists and short-lived accounts. Investigators should preserve the posts immediately "
                        "and request subscriber data through the platform's law-enforcement portal.",
                    ),
                ]
            ),
            PageSpec(
                [
                    ("h1", "3. Document fraud"),
                    (
                        "p",
                        "Look-alike fraud, where a migrant travels on a genuine passport of a person who "
                        "resembles them, is the most frequent form of document fraud detected at airports in "
                        "the region. Compare facial features systematically and check the travel history "
                        "of the genuine holder.",
                    ),
                    ("h1", "4. Financial flows of smuggling networks"),
                    (
                        "p",
                        "Payments for smuggling services move through hawala-type informal value transfer "
                        "systems and money transfer agents. A parallel financial investigation identifies "
                        "the organisers who never travel with the migrants.",
                    ),
                ]
            ),
            PageSpec(
                [
                    ("h1", "5. Joint investigation teams"),
                    (
                        "p",
                        "Joint investigation teams between countries of origin, transit and destination "
                        "allowed evidence to be shared without formal requests in the largest cases of "
                        "recent years. Eurojust funds travel and translation for such teams.",
                    ),
                ]
            ),
        ],
    )


def socta_extract() -> DocSpec:
    """A restricted SOCTA-style threat assessment extract."""
    return DocSpec(
        title="Serious and Organised Crime Threat Assessment: Western Balkans 2024 (extract)",
        author="Europol",
        header="RESTRICTED · SOCTA Western Balkans 2024 (extract)",
        pages=[
            PageSpec(
                [
                    ("h1", "Key findings"),
                    (
                        "p",
                        "High-risk criminal networks from the region control significant parts of the cocaine "
                        "trade into Europe. Their members rely on encrypted communication platforms and use "
                        "corruption of port workers to extract shipments.",
                    ),
                ]
            ),
            PageSpec(
                [
                    ("h1", "Drugs trafficking"),
                    (
                        "p",
                        "Cocaine shipments are concealed in banana containers arriving through Adriatic "
                        "ports and are extracted by corrupt dock workers before customs controls. Cannabis "
                        "cultivation has shifted to indoor plantations.",
                    ),
                    ("h1", "Money laundering"),
                    (
                        "p",
                        "Criminal proceeds are invested in real estate on the Adriatic coast and in "
                        "cash-intensive businesses such as restaurants and car washes.",
                    ),
                ]
            ),
            PageSpec(
                [
                    ("h1", "Outlook"),
                    (
                        "p",
                        "The networks are expected to diversify into synthetic drugs production and to "
                        "expand their use of professional money launderers.",
                    ),
                ]
            ),
        ],
    )


def otna_cyber() -> DocSpec:
    """Training-needs analysis for cyber-attacks (training material)."""
    return DocSpec(
        title="Operational Training Needs Analysis 2024: Cyber-attacks",
        author="CEPOL",
        header="CEPOL · OTNA 2024 · Cyber-attacks",
        pages=[
            PageSpec(
                [
                    ("h1", "1. Method"),
                    (
                        "p",
                        "Eighteen law-enforcement agencies from the six Western Balkan partners answered the "
                        "training needs survey between February and April 2024.",
                    ),
                    ("h1", "2. Priority training needs"),
                    (
                        "p",
                        "Cryptocurrency tracing courses were ranked as the top training need by 14 of 18 "
                        "agencies, followed by ransomware incident response and the handling of electronic "
                        "evidence from cloud services.",
                    ),
                ]
            ),
            PageSpec(
                [
                    ("h1", "3. Recommended courses"),
                    (
                        "p",
                        "A five-day residential course on ransomware investigations, including negotiation "
                        "tactics, victim support and cooperation with computer emergency response teams, "
                        "should be offered twice a year. Online modules on darknet markets should precede it.",
                    ),
                ]
            ),
        ],
    )


def confidential_fraud() -> DocSpec:
    """A confidential strategic analysis (for access-control tests)."""
    return DocSpec(
        title="Strategic Analysis: VAT Carousel Fraud Schemes 2025",
        author="Europol",
        header="CONFIDENTIAL · Strategic analysis",
        pages=[
            PageSpec(
                [
                    ("h1", "Summary"),
                    (
                        "p",
                        "Missing trader intra-community fraud, also called carousel fraud, cost the budgets of "
                        "the region an estimated EUR 300 million in 2024. Electronic goods and fuel were the "
                        "commodities most used.",
                    ),
                ]
            ),
            PageSpec(
                [
                    ("h1", "Indicators"),
                    (
                        "p",
                        "Newly registered companies with nominee directors, rapid growth in turnover and "
                        "payments routed through payment institutions abroad are the strongest indicators of "
                        "a carousel scheme.",
                    ),
                ]
            ),
        ],
    )


def serbian_course() -> DocSpec:
    """Serbian (Latin script) course material on financial investigations."""
    return DocSpec(
        title="Finansijske istrage: priručnik za obuku",
        author="CEPOL",
        header="Partnerstvo EU–Zapadni Balkan · Priručnik za obuku 2024",
        pages=[
            PageSpec(
                [
                    ("h1", "1. Uvod"),
                    (
                        "p",
                        "Ovaj priručnik je namenjen policijskim službenicima, tužiocima i analitičarima koji "
                        "vode finansijske istrage u predmetima organizovanog kriminala i finansiranja terorizma.",
                    ),
                    ("h1", "2. Uloga finansijsko-obaveštajne službe"),
                    (
                        "p",
                        "Uprava za sprečavanje pranja novca je finansijsko-obaveštajna služba Republike Srbije. "
                        "Ona prima izveštaje o sumnjivim transakcijama od banaka i drugih obveznika i "
                        "prosleđuje analize policiji i tužilaštvu.",
                    ),
                ]
            ),
            PageSpec(
                [
                    ("h1", "3. Oduzimanje imovine"),
                    (
                        "p",
                        "Oduzimanje imovine proistekle iz krivičnog dela mora se planirati od prvog dana "
                        "istrage. Finansijski istražitelj utvrđuje imovinu osumnjičenog, članova njegove "
                        "porodice i povezanih pravnih lica, uključujući nekretnine, vozila i kriptovalute.",
                    ),
                    ("h1", "4. Međunarodna saradnja"),
                    (
                        "p",
                        "Zahtevi za međunarodnu pravnu pomoć šalju se preko centralnog organa, a razmena "
                        "obaveštajnih podataka teče brže preko mreže Egmont grupe i Evropola.",
                    ),
                ]
            ),
        ],
    )


MACEDONIAN_MD = """# Насоки за истраги на трговија со дрога

## 1. Цел

Овие насоки се наменети за полициски службеници и обвинители кои водат истраги за трговија со дрога
во Северна Македонија и регионот.

## 2. Контролирана испорака

Контролираната испорака овозможува да се идентификуваат организаторите на пратката. Потребна е
претходна согласност од јавниот обвинител и соработка со царинската управа.

## 3. Финансиска истрага

Паралелната финансиска истрага го следи движењето на парите од продажбата на дрога и овозможува
одземање на имотот стекнат со кривично дело.
"""

ALBANIAN_TXT = """Udhëzues për hetimin e krimit kibernetik

1. Qëllimi

Ky udhëzues u drejtohet hetuesve të policisë dhe prokurorëve që hetojnë sulme kibernetike, përfshirë sulmet me ransomware ndaj institucioneve publike.

2. Ruajtja e provave elektronike

Provat elektronike duhet të ruhen menjëherë: kopjoni regjistrat e serverëve, ruani imazhet e diskut dhe dokumentoni zinxhirin e ruajtjes. Kërkesat për të dhëna drejtuar ofruesve të shërbimeve në re duhet të dërgohen sa më shpejt.

3. Bashkëpunimi ndërkombëtar

Bashkëpunimi me Europolin dhe me ekipet kombëtare të reagimit ndaj incidenteve kompjuterike shkurton kohën e hetimit.
"""

MANIFEST = [
    # file, title, publisher, year, language, type, areas, sensitivity
    (
        "cft-good-practice-2023.pdf",
        "Good Practice Guidelines on Countering the Financing of Terrorism (2023)",
        "CEPOL",
        "2023",
        "en",
        "guideline",
        "counter-terrorism;cross-cutting",
        "public",
    ),
    (
        "cft-good-practice-2025.pdf",
        "Good Practice Guidelines on Countering the Financing of Terrorism (2025)",
        "CEPOL",
        "2025",
        "en",
        "guideline",
        "counter-terrorism;cross-cutting",
        "public",
    ),
    (
        "empact-booklet-migrant-smuggling-2024.pdf",
        "",
        "EMPACT Support Network",
        "2024",
        "en",
        "booklet",
        "migrant smuggling",
        "public",
    ),
    (
        "socta-western-balkans-2024-extract.pdf",
        "",
        "Europol",
        "2024",
        "en",
        "threat assessment",
        "high-risk criminal networks;drugs trafficking",
        "restricted",
    ),
    ("otna-2024-cyber-attacks.pdf", "", "CEPOL", "2024", "en", "training material", "cyber-attacks", "public"),
    (
        "strategic-analysis-vat-carousel-fraud-2025.pdf",
        "",
        "Europol",
        "2025",
        "en",
        "report",
        "fraud/economic/financial crime",
        "confidential",
    ),
    (
        "finansijske-istrage-prirucnik-sr.pdf",
        "",
        "CEPOL",
        "2024",
        "sr",
        "training material",
        "cross-cutting;fraud/economic/financial crime",
        "public",
    ),
    ("nasoki-trgovija-so-droga-mk.md", "", "", "2024", "mk", "guideline", "drugs trafficking", "public"),
    ("udhezues-krimi-kibernetik-sq.txt", "", "", "2024", "sq", "guideline", "cyber-attacks", "public"),
]

# (file, phrase, physical page) — what the tests expect to find where
FACTS = [
    ("cft-good-practice-2023.pdf", "undeclared cash above EUR 10 000", 4),
    ("cft-good-practice-2023.pdf", "risk-based outreach to non-profit organisations", 5),
    ("cft-good-practice-2023.pdf", "Tracing stablecoin transfers to unhosted wallets", 6),
    ("cft-good-practice-2023.pdf", "Joint analysis cells", 7),
    ("cft-good-practice-2025.pdf", "Crowdfunding campaigns disguised as charity", 8),
    ("empact-booklet-migrant-smuggling-2024.pdf", "coded price lists", 1),
    ("empact-booklet-migrant-smuggling-2024.pdf", "Look-alike fraud", 2),
    ("empact-booklet-migrant-smuggling-2024.pdf", "Eurojust funds travel", 3),
    ("socta-western-balkans-2024-extract.pdf", "banana containers", 2),
    ("otna-2024-cyber-attacks.pdf", "top training need by 14 of 18", 1),
    ("strategic-analysis-vat-carousel-fraud-2025.pdf", "carousel fraud", 1),
    ("finansijske-istrage-prirucnik-sr.pdf", "Uprava za sprečavanje pranja novca", 1),
    ("finansijske-istrage-prirucnik-sr.pdf", "Oduzimanje imovine proistekle iz krivičnog dela", 2),
]

PDFS = {
    "cft-good-practice-2023.pdf": lambda: cft_guidelines(2023),
    "cft-good-practice-2025.pdf": lambda: cft_guidelines(2025),
    "empact-booklet-migrant-smuggling-2024.pdf": migrant_smuggling_booklet,
    "socta-western-balkans-2024-extract.pdf": socta_extract,
    "otna-2024-cyber-attacks.pdf": otna_cyber,
    "strategic-analysis-vat-carousel-fraud-2025.pdf": confidential_fraud,
    "finansijske-istrage-prirucnik-sr.pdf": serbian_course,
}


def generate(out: Path = SAMPLE_DIR) -> list[Path]:
    """Write every sample document and the manifest into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written = [build_pdf(out / name, make()) for name, make in PDFS.items()]
    (out / "nasoki-trgovija-so-droga-mk.md").write_text(MACEDONIAN_MD, encoding="utf-8")
    (out / "udhezues-krimi-kibernetik-sq.txt").write_text(ALBANIAN_TXT, encoding="utf-8")
    header = "file\ttitle\tpublisher\tyear\tlanguage\ttype\tareas\tsensitivity\n"
    rows = "".join("\t".join(r) + "\n" for r in MANIFEST)
    (out / "MANIFEST.tsv").write_text(header + rows, encoding="utf-8")
    return written + [
        out / "nasoki-trgovija-so-droga-mk.md",
        out / "udhezues-krimi-kibernetik-sq.txt",
        out / "MANIFEST.tsv",
    ]


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE_DIR
    for p in generate(target):
        print(p)
