"""The parse benchmark reports parse-only CPU seconds per PDF and in total for each page-text extractor."""

from pactkb.evaluation.bench.parse import run


def test_parse_benchmark_reports_cpu_per_file_and_extractor(tmp_path, make_pdf):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(2):
        pdf = make_pdf(f"g{i}.pdf", [[f"Guideline {i} on cash couriers at the border. " * 15], ["Second page text."]])
        (folder / pdf.name).write_bytes(pdf.read_bytes())
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")
    r = run(folder, ["pypdf", "pdfium"])
    assert r["files"] == 3 and [row["file"] for row in r["per_file"]] == ["broken.pdf", "g0.pdf", "g1.pdf"]
    for name in ("pypdf", "pdfium"):
        total = r["totals"][name]
        assert (total["pages"], total["failed"]) == (4, 1)
        # CPU seconds, rounded to 0.01: four small pages can take less than that (0.0), never a negative or a text
        # share above the whole parse
        assert 0 <= total["text_cpu_s"] <= total["parse_cpu_s"] and total["pages_per_cpu_s"] > 0
        assert all(row[name]["extractor_used"] == name for row in r["per_file"][1:])
        assert "corrupt" in r["per_file"][0][name]["error"]
    assert r["parse_cpu_ratio_pypdf_to_pdfium"] > 0
