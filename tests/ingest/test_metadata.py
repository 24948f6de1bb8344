"""Metadata inference, language detection and manifests that override inferred values."""

from pathlib import Path

import pytest

from pactkb.ingest.language import detect_language
from pactkb.ingest.manifest import ManifestError, find_manifests, load_manifest
from pactkb.ingest.metadata import infer_areas, infer_doc_type, infer_meta, infer_title, infer_year
from pactkb.ingest.parse import ParseOptions, parse_file
from pactkb.ingest.types import AREAS, Heading


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Customs officers should treat undeclared cash above the threshold as a trigger for checks.", "en"),
        ("Uprava za sprečavanje pranja novca prima izveštaje o sumnjivim transakcijama od banaka.", None),
        ("Управа за спречавање прања новца прима извештаје о сумњивим трансакцијама од банака.", "sr"),
        ("Ky udhëzues u drejtohet hetuesve të policisë dhe prokurorëve që hetojnë sulme kibernetike.", "sq"),
        ("Овие насоки се наменети за полициски службеници и обвинители кои водат истраги.", "mk"),
        ("El lavado de activos y la financiación del terrorismo son riesgos para las organizaciones.", "es"),
    ],
)
def test_language_detection(text, lang):
    got = detect_language(text)
    if lang is None:  # Serbian/Croatian/Bosnian Latin are one language in practice; any of the three is right
        assert got in {"sr", "hr", "bs"}
    else:
        assert got == lang


def test_title_order_metadata_then_heading_then_filename():
    assert infer_title({"Title": "Guidance on Cash Couriers"}, [], Path("x.pdf")) == "Guidance on Cash Couriers"
    assert (
        infer_title(
            {"Title": "Microsoft Word - draft3.docx"}, [Heading(1, "Guidance on Cash Couriers", 1)], Path("x.pdf")
        )
        == "Guidance on Cash Couriers"
    )
    assert infer_title({}, [], Path("cash_courier-guide.pdf")) == "Cash courier guide"


def test_year_from_title_copyright_or_creation_date():
    assert infer_year("SOCTA 2021", [], {}) == 2021
    assert infer_year("Guidelines", ["© 2012-2025 FATF/OECD. All rights reserved."], {}) == 2025
    assert infer_year("Guidelines", ["no year here"], {"CreationDate": "D:20191102"}) == 2019


def test_doc_type_and_areas():
    assert infer_doc_type("Good Practice Guidelines on CFT", []) == "guideline"
    assert infer_doc_type("Serious and Organised Crime Threat Assessment", []) == "threat assessment"
    assert (
        infer_doc_type("Untitled", ["OFFICIAL JOURNAL OF THE EUROPEAN UNION ... HAVE ADOPTED THIS REGULATION"])
        == "legislation"
    )
    for title in (
        "Regulation (EU) 2024/1620 establishing the Authority for Anti-Money Laundering",
        "Directive (EU) 2024/1640 on the mechanisms to be put in place by Member States",
        "Reshumot – Kovetz HaTakanot 11527 (Israeli official gazette, regulations, 5 Nov 2024)",
    ):
        assert infer_doc_type(title, ["training of staff: a guide"]) == "legislation", title
    areas = infer_areas("Countering terrorist financing", ["terrorist financing " * 5 + "money laundering " * 3])
    assert areas[0] == "counter-terrorism" and set(areas) <= set(AREAS)


def test_all_inferred_fields_are_marked():
    meta = infer_meta(Path("a.pdf"), ["text about ransomware and cyber attacks " * 3], [], {}, "en")
    assert set(meta.inferred) == {"title", "publisher", "year", "language", "doc_type", "areas"}


def test_manifest_overrides_and_unmarks(tmp_path, make_pdf):
    pdf = make_pdf("g.pdf", [["ransomware investigation guidance for police " * 5]])
    (pdf.parent / "MANIFEST.tsv").write_text(
        "file\ttitle\tyear\ttype\tareas\tsensitivity\tpages\n"
        "g.pdf\tRansomware Handbook\t2022\ttraining\tcyber;cross-cutting\trestricted\t1\n",
        encoding="utf-8",
    )
    entry = load_manifest(pdf.parent / "MANIFEST.tsv")["g.pdf"]
    doc = parse_file(pdf, ParseOptions(overrides=entry.values))
    m = doc.meta
    assert (m.title, m.year, m.doc_type, m.sensitivity) == (
        "Ransomware Handbook",
        2022,
        "training material",
        "restricted",
    )
    assert m.areas == ["cyber-attacks", "cross-cutting"]
    assert "title" not in m.inferred and "year" not in m.inferred and "language" in m.inferred


def test_a_given_title_decides_the_inferred_type_areas_and_year_where_the_files_own_title_said_nothing(make_pdf):
    pdf = make_pdf("reg.pdf", [["Staff training and course material on reporting duties. " * 5]])
    own = parse_file(pdf, ParseOptions()).meta
    assert own.doc_type == "training material"
    doc = parse_file(pdf, ParseOptions(overrides={"title": "Regulation (EU) 2024/1624 on money laundering"}))
    assert doc.meta.doc_type == "legislation" and "doc_type" in doc.meta.inferred
    assert AREAS[0] in doc.meta.areas and doc.meta.year == 2024
    typed = parse_file(pdf, ParseOptions(overrides={"title": "Regulation (EU) 2024/1624", "doc_type": "guideline"}))
    assert typed.meta.doc_type == "guideline"


def test_manifest_bad_values_are_warnings_naming_line_and_column_and_a_bad_sensitivity_refuses_the_file(tmp_path):
    path = tmp_path / "manifest.csv"
    path.write_text("file,year,type,sensitivity,area\na.pdf,20x1,poem,secret,astrology\n", encoding="utf-8")
    entry = load_manifest(path)["a.pdf"]
    assert entry.values == {}
    text = " | ".join(entry.warnings)
    for field in ("'year'", "'type'", "'area'"):
        assert field in text
    assert "manifest.csv line 2" in text and "sensitivity" not in text
    refusal = entry.refusal or ""  # fail closed: no guessed sensitivity
    assert refusal.startswith("manifest.csv line 2, column 'sensitivity' (a.pdf): 'secret' is not one of public")


def test_yaml_manifest(tmp_path):
    path = tmp_path / "manifest.yaml"
    path.write_text(
        "documents:\n  - file: x.pdf\n    publisher: Europol\n    areas: [drugs, terrorism]\n", encoding="utf-8"
    )
    assert load_manifest(path)["x.pdf"].values == {
        "publisher": "Europol",
        "areas": ["drugs trafficking", "counter-terrorism"],
    }


def test_manifest_without_file_column_is_an_error(tmp_path):
    path = tmp_path / "manifest.tsv"
    path.write_text("name\ttitle\na.pdf\tX\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="file"):
        load_manifest(path)


def test_manifest_found_in_parent_folder(tmp_path):
    (tmp_path / "corpus" / "pdf").mkdir(parents=True)
    (tmp_path / "corpus" / "MANIFEST.tsv").write_text("file\n", encoding="utf-8")
    assert find_manifests(tmp_path / "corpus" / "pdf", tmp_path / "corpus") == [tmp_path / "corpus" / "MANIFEST.tsv"]


def test_manifest_languages_are_read_as_codes_and_a_typo_names_the_line_and_column(tmp_path):
    path = tmp_path / "MANIFEST.tsv"
    path.write_text(
        "file\ttitle\tlanguage\na.pdf\tA\tSerbian\nb.pdf\tB\tsrb\nc.pdf\tC\tsr-Latn\nd.pdf\tD\tMKD\n", encoding="utf-8"
    )
    entries = load_manifest(path)
    assert {name: entries[name].values.get("language") for name in ("a.pdf", "b.pdf", "c.pdf", "d.pdf")} == {
        "a.pdf": "sr",
        "b.pdf": None,
        "c.pdf": "sr",
        "d.pdf": "mk",
    }
    assert entries["b.pdf"].values == {"title": "B"}
    assert entries["b.pdf"].warnings == [
        "MANIFEST.tsv line 3, column 'language' (b.pdf): unknown language 'srb' (use a two-letter ISO 639-1 code "
        "such as en, sr, hr, bs, sq, mk, or a name such as Serbian)"
    ]


def test_a_yaml_manifest_warning_names_the_line_of_the_field(tmp_path):
    path = tmp_path / "manifest.yaml"
    path.write_text(
        "# labels\ndocuments:\n  - file: x.pdf\n    language: Albanian\n"
        "  - file: y.pdf\n    title: Y\n\n    lang: xx\n",
        encoding="utf-8",
    )
    entries = load_manifest(path)
    assert entries["x.pdf"].values == {"language": "sq"}
    (warning,) = entries["y.pdf"].warnings
    assert warning.startswith("manifest.yaml line 8, field 'lang' (y.pdf): unknown language 'xx'")
    bare = tmp_path / "list.yml"
    bare.write_text("- file: z.pdf\n  year: 20x1\n", encoding="utf-8")
    assert load_manifest(bare)["z.pdf"].warnings == ["list.yml line 2, field 'year' (z.pdf): not a year: '20x1'"]
