"""Parse-only benchmark: CPU seconds to turn each PDF of a corpus into clean pages, per page-text extractor.

    python -m pactkb.evaluation.bench.parse [--corpus ../shared/corpus/pdf] [--extractor pypdf,pdfium] [--json]

Per PDF and in total: `text` is the page-text extraction with its layout runs (ingest/pdf.read_pdf), `parse` the
whole parse without OCR (text, footnotes, cleaning, headings, metadata: what a parse worker does before OCR). Figures
are CPU seconds of this process (time.process_time), so a busy machine changes them little; the extractors run one
after the other on each file, in the same run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from pactkb.evaluation.bench.ingest import DEFAULT_CORPUS
from pactkb.ingest.parse import ParseOptions, finish, mark_scanned, pdf_pages
from pactkb.ingest.pdf import read_pdf
from pactkb.ingest.types import DocumentMeta, IngestError, ParsedDocument
from pactkb.settings import PDF_TEXT_EXTRACTORS


def parse_cpu(path: Path, extractor: str) -> dict[str, Any]:
    """CPU seconds of one PDF's text extraction and of its whole parse (no OCR) with one extractor."""
    c0 = time.process_time()
    try:
        raw = read_pdf(path, extractor)
    except IngestError as exc:
        return {"error": str(exc)}
    c1 = time.process_time()
    doc = ParsedDocument(path, "", 0, "pdf", pdf_pages(raw), [], DocumentMeta(), info=raw.info)
    doc.outline = [(e.level, e.title, e.page) for e in raw.outline]
    doc.display_title = raw.display_title
    mark_scanned(doc.pages, raw.has_images, ParseOptions().ocr_min_chars)
    try:
        finish(doc)
    except IngestError as exc:
        return {"error": str(exc), "pages": len(raw.texts), "text_cpu_s": round(c1 - c0, 3)}
    c2 = time.process_time()
    return {
        "pages": len(doc.pages),
        "chars": sum(len(p.full_text) for p in doc.pages),
        "extractor_used": raw.extractor,
        "text_cpu_s": round(c1 - c0, 3),
        "parse_cpu_s": round(c2 - c0, 3),
    }


def run(corpus: Path, extractors: list[str]) -> dict[str, Any]:
    """Parse every PDF of a corpus with each extractor in turn; per-file and total CPU seconds."""
    files: list[dict[str, Any]] = []
    totals = {x: {"text_cpu_s": 0.0, "parse_cpu_s": 0.0, "pages": 0, "failed": 0} for x in extractors}
    for path in sorted(corpus.rglob("*.pdf")):
        row: dict[str, Any] = {"file": path.name}
        for x in extractors:
            r = parse_cpu(path, x)
            row[x] = r
            t = totals[x]
            t["failed"] += "error" in r
            t["pages"] += r.get("pages", 0)
            for key in ("text_cpu_s", "parse_cpu_s"):
                t[key] += r.get(key, 0.0)
        files.append(row)
    for t in totals.values():
        t["text_cpu_s"], t["parse_cpu_s"] = round(t["text_cpu_s"], 2), round(t["parse_cpu_s"], 2)
        t["pages_per_cpu_s"] = round(t["pages"] / max(1e-9, t["parse_cpu_s"]), 1)
    out: dict[str, Any] = {"corpus": str(corpus), "files": len(files), "totals": totals, "per_file": files}
    if len(extractors) == 2:
        a, b = (totals[x]["parse_cpu_s"] for x in extractors)
        out[f"parse_cpu_ratio_{extractors[0]}_to_{extractors[1]}"] = round(a / max(1e-9, b), 2)
    return out


def main() -> None:
    """Parse arguments, run, print."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument(
        "--extractor", default=",".join(PDF_TEXT_EXTRACTORS), help="Comma-separated: pypdf, pdfium (default: both)."
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.corpus.is_dir():
        ap.error(f"--corpus {args.corpus}: not a folder")
    extractors = [x.strip() for x in args.extractor.split(",") if x.strip()]
    unknown = [x for x in extractors if x not in PDF_TEXT_EXTRACTORS]
    if unknown or not extractors:
        ap.error(f"--extractor: choose from {', '.join(PDF_TEXT_EXTRACTORS)}")
    result = run(args.corpus, extractors)
    if args.json:
        print(json.dumps(result))
        return
    print(f"Parse benchmark: {result['files']} PDFs, CPU seconds (no OCR)")
    print("| extractor | pages | text CPU s | parse CPU s | pages / CPU s | failed |\n|---|---|---|---|---|---|")
    for x, t in result["totals"].items():
        print(
            f"| {x} | {t['pages']} | {t['text_cpu_s']} | {t['parse_cpu_s']} | {t['pages_per_cpu_s']} | {t['failed']} |"
        )


if __name__ == "__main__":
    main()
