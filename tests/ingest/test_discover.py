"""Discovery and manifest lookup: the first stage of the pipeline, without a store."""

from pathlib import Path

from pactkb.ingest.discover import discover
from pactkb.ingest.manifest import ManifestLookup


def test_discovery_lists_supported_files_once_and_says_why_others_are_skipped(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    for name in ("b.pdf", "a.md", "sub/c.txt", ".hidden/d.pdf", ".secret.pdf", "slides.pptx", "MANIFEST.tsv"):
        (folder / name).write_bytes(b"x")
    found = discover([folder, folder / "a.md", tmp_path / "missing", folder / "slides.pptx"])
    assert [p.name for p in found.files] == ["a.md", "b.pdf", "c.txt"]  # sorted, recursive, unique, no hidden files
    assert found.skipped == [
        {"file": str(folder / "slides.pptx"), "reason": "unsupported file type .pptx (PDF, .txt, .md)"}
    ]
    assert {Path(e["file"]).name: e["error"] for e in found.errors} == {
        "missing": "no such file or directory",
        "slides.pptx": "unsupported file type .pptx (PDF, .txt, .md)",
    }


def test_nearest_manifest_wins_and_its_warnings_are_reported_once(tmp_path):
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "MANIFEST.tsv").write_text(
        "file\tyear\ttype\na.pdf\t2020\tguideline\nb.pdf\t2019\tnonsense\n", encoding="utf-8"
    )
    (root / "sub" / "manifest.csv").write_text("file,year\na.pdf,2024\n", encoding="utf-8")
    lookup = ManifestLookup([root])
    assert lookup.for_file((root / "sub" / "a.pdf").resolve())[0] == {"year": 2024}
    assert lookup.for_file((root / "a.pdf").resolve())[0] == {"year": 2020, "doc_type": "guideline"}
    lookup.for_file((root / "b.pdf").resolve())
    lookup.for_file((root / "b.pdf").resolve())
    assert len(lookup.warnings) == 1 and "nonsense" in lookup.warnings[0]["warning"]
    assert lookup.for_file((root / "other.pdf").resolve())[0] == {}


def test_an_explicit_manifest_replaces_the_folder_ones(tmp_path):
    (tmp_path / "MANIFEST.tsv").write_text("file\tyear\na.pdf\t2020\n", encoding="utf-8")
    explicit = tmp_path / "mine.tsv"
    explicit.write_text("file\tyear\na.pdf\t2001\n", encoding="utf-8")
    assert ManifestLookup([tmp_path], explicit).for_file(tmp_path / "a.pdf")[0] == {"year": 2001}
