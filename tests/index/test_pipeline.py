"""Ingestion into the store: incremental, replacing, pruning, deduplicating, robust to bad files."""

import shutil
from pathlib import Path

import pytest

from pactkb.index.check import check
from pactkb.index.kb import KnowledgeBase
from pactkb.index.store import ModelMismatchError, PdfTextMismatchError
from pactkb.settings import Settings
from tests.conftest import content_pdf


def kb_for(settings: Settings) -> KnowledgeBase:
    return KnowledgeBase(settings)


def test_second_run_embeds_nothing(settings, sample_dir):
    kb = kb_for(settings)
    first = kb.indexer.ingest([sample_dir])
    assert first.indexed == 9 and not first.failed and first.chunks_embedded > 0
    second = kb_for(settings).indexer.ingest([sample_dir])
    assert (second.indexed, second.unchanged, second.chunks_embedded) == (0, 9, 0)
    assert check(kb.store, kb.dense) == []


def test_changed_file_replaces_its_chunks_and_keeps_the_id(settings, make_pdf):
    pdf = make_pdf("guide.pdf", [["old text about cash couriers at border crossings"]])
    kb = kb_for(settings)
    kb.indexer.ingest([pdf])
    (doc_id,) = [r[0] for r in kb.store.conn().execute("SELECT id FROM documents")]
    make_pdf("guide.pdf", [["new text about virtual asset service providers"]])
    summary = kb.indexer.ingest([pdf])
    assert summary.indexed == 1
    rows = kb.store.conn().execute("SELECT id FROM documents").fetchall()
    assert [r[0] for r in rows] == [doc_id]
    texts = " ".join(r["text"] for r in kb.store.doc_chunks(doc_id))
    assert "virtual asset" in texts and "cash couriers" not in texts
    assert check(kb.store, kb.dense) == []


def test_identical_files_under_two_names_are_stored_once(settings, make_pdf, tmp_path):
    pdf = make_pdf("a.pdf", [["the same guideline text on non-profit organisations"]])
    copy = tmp_path / "pdfs" / "b-copy.pdf"
    shutil.copy(pdf, copy)
    kb = kb_for(settings)
    summary = kb.indexer.ingest([pdf.parent])
    assert summary.indexed == 1 and summary.unchanged == 1
    assert kb.store.counts()["documents"] == 1
    (rec,) = [kb.store.document(r[0]) for r in kb.store.conn().execute("SELECT id FROM documents")]
    assert sorted(Path(f).name for f in rec.files) == ["a.pdf", "b-copy.pdf"]


def test_prune_removes_documents_whose_files_are_gone(settings, make_pdf):
    a = make_pdf("a.pdf", [["document a about drugs trafficking"]])
    b = make_pdf("b.pdf", [["document b about migrant smuggling"]])
    kb = kb_for(settings)
    kb.indexer.ingest([a.parent])
    b.unlink()
    summary = kb.indexer.ingest([a.parent], prune=True)
    assert summary.removed == 1 and kb.store.counts()["documents"] == 1
    assert check(kb.store, kb.dense) == []


def test_bad_files_do_not_stop_the_batch_or_touch_the_store(settings, make_pdf, tmp_path):
    good = make_pdf("good.pdf", [["a good guideline on joint investigation teams"]])
    kb = kb_for(settings)
    kb.indexer.ingest([good])
    before = kb.store.counts()
    folder = good.parent
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "renamed.pdf").write_bytes(b"PK\x03\x04 this is really a zip file" * 10)
    (folder / "truncated.pdf").write_bytes(good.read_bytes()[:200])
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n%garbage garbage\n" * 30)
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    make_pdf("good2.pdf", [["another good guideline on cash couriers"]])
    summary = kb.indexer.ingest([folder])
    failed = {Path(f["file"]).name: f["error"] for f in summary.failed}
    assert set(failed) == {"empty.pdf", "renamed.pdf", "truncated.pdf", "corrupt.pdf", "binary.txt"}
    assert all(msg and "\n" not in msg for msg in failed.values())
    assert summary.indexed == 1 and summary.unchanged == 1
    after = kb.store.counts()
    assert after["documents"] == before["documents"] + 1
    assert check(kb.store, kb.dense) == []


def test_guarded_workers_report_timeouts_and_bombs(tmp_path):
    settings = Settings(data=tmp_path / "data", model="fake:64", parse_workers=1, file_timeout=2.0, file_memory_mb=1024)
    folder = tmp_path / "in"
    folder.mkdir()
    slow_ops = b"BT /F1 1 Tf " + b"(x) Tj 1 0 Td " * 3_000_000 + b"ET"
    (folder / "slow.pdf").write_bytes(content_pdf(slow_ops, compress=True))
    (folder / "bomb.pdf").write_bytes(content_pdf(b"0" * 1_500_000_000, compress=True))
    (folder / "ok.txt").write_text("A plain text guideline on crowdfunding platforms and takedown.", encoding="utf-8")
    summary = KnowledgeBase(settings).indexer.ingest([folder])
    failed = {Path(f["file"]).name: f["error"] for f in summary.failed}
    assert "slow.pdf" in failed and ("time" in failed["slow.pdf"] or "limit" in failed["slow.pdf"])
    assert summary.indexed >= 1  # ok.txt; the bomb either fails cleanly or yields an empty page
    assert "ok.txt" not in failed


def test_model_mismatch_is_refused_with_a_clear_message(settings, sample_dir):
    KnowledgeBase(settings).indexer.ingest([sample_dir / "otna-2024-cyber-attacks.pdf"])
    other = settings.model_copy(update={"model": "fake:32"})
    with pytest.raises(ModelMismatchError, match="fake-hash-64"):
        KnowledgeBase(other).indexer.ingest([sample_dir])


def test_sensitivity_flag_and_manifest_take_the_stricter(settings, sample_dir, tmp_path):
    kb = kb_for(settings)
    kb.indexer.ingest([sample_dir], sensitivity="restricted")
    sens = dict(kb.store.conn().execute("SELECT source_name, sensitivity FROM documents").fetchall())
    assert sens["strategic-analysis-vat-carousel-fraud-2025.pdf"] == "confidential"  # manifest is stricter
    assert sens["otna-2024-cyber-attacks.pdf"] == "restricted"  # flag is stricter than manifest 'public'


def test_manifest_in_the_sample_corpus_is_applied(settings, sample_dir):
    kb = kb_for(settings)
    kb.indexer.ingest([sample_dir])
    row = (
        kb.store.conn()
        .execute(
            "SELECT language, doc_type, areas, sensitivity, inferred FROM documents WHERE source_name=?",
            ("finansijske-istrage-prirucnik-sr.pdf",),
        )
        .fetchone()
    )
    assert (row["language"], row["doc_type"], row["sensitivity"]) == ("sr", "training material", "public")
    assert "language" not in row["inferred"] and "title" in row["inferred"]


def test_text_and_markdown_files_are_ingested(settings, sample_dir):
    kb = kb_for(settings)
    kb.indexer.ingest([sample_dir / "nasoki-trgovija-so-droga-mk.md", sample_dir / "udhezues-krimi-kibernetik-sq.txt"])
    kinds = {r[0] for r in kb.store.conn().execute("SELECT kind FROM documents")}
    assert kinds == {"markdown", "text"}


def test_missing_path_and_unsupported_type_are_reported(settings, tmp_path):
    (tmp_path / "slides.pptx").write_bytes(b"x")
    summary = kb_for(settings).indexer.ingest([tmp_path / "nope", tmp_path / "slides.pptx"])
    assert {Path(f["file"]).name for f in summary.failed} == {"nope", "slides.pptx"}


def test_indexer_requires_no_model_for_unchanged_runs(settings, sample_dir):
    kb_for(settings).indexer.ingest([sample_dir])
    kb = kb_for(settings)
    kb.indexer.ingest([sample_dir])
    assert not kb.encoder.loaded


def test_uploads_and_path_ingestion_stay_independent(settings, make_pdf):
    from pactkb.ingest.parse import parse_file

    pdf = make_pdf("shared.pdf", [["A finding on crowdfunding for fighters' families."]])
    kb = kb_for(settings)
    status, upload_id, _ = kb.indexer.add_upload(
        parse_file(pdf), owner="analyst", source_name="shared.pdf", visible=("public",)
    )
    assert status == "indexed"
    kb.indexer.ingest([pdf])  # the same bytes from a folder become their own path document
    make_pdf("shared.pdf", [["A rewritten finding on charity fraud."]])
    kb.indexer.ingest([pdf])  # the changed file replaces the path document only
    up = kb.store.document(upload_id)
    assert up is not None and up.owner == "analyst"
    assert "crowdfunding" in " ".join(r["text"] for r in kb.store.doc_chunks(upload_id))
    assert kb.store.counts()["documents"] == 2
    assert check(kb.store, kb.dense) == []


def test_progress_counts_pages_of_the_files_that_need_work(settings, make_pdf, tmp_path, capsys):
    from pactkb.ingest.parse import estimate_pages

    topics = ["cash couriers", "hawala brokers", "trade invoices", "virtual assets", "shell companies"]
    pdf = make_pdf("five.pdf", [[f"This page explains how investigators trace {t} across borders."] for t in topics])
    txt = tmp_path / "pdfs" / "note.txt"
    txt.write_text("A short note on hawala.", encoding="utf-8")
    assert estimate_pages(pdf) == 5 and estimate_pages(txt) == 1
    bad = tmp_path / "pdfs" / "broken.pdf"
    bad.write_bytes(b"not a pdf")
    assert estimate_pages(bad) == 1  # an estimate never fails; parsing reports the error
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([pdf.parent], progress=True)
    err = capsys.readouterr().err
    assert "7/7" in err and "page" in err  # 5 + 1 + 1 pages, counted in pages, not files
    kb.indexer.ingest([pdf.parent], progress=True)
    err = capsys.readouterr().err
    assert "1/1" in err  # the second run only has the broken file left to try: unchanged files are no work


def test_embedding_reports_progress_within_a_document(tmp_path):
    s = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, batch_size=1, chunk_tokens=20)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "long.txt").write_text(
        " ".join(f"Sentence {i} about hawala brokers and couriers." for i in range(60)), encoding="utf-8"
    )
    kb = KnowledgeBase(s)
    shares: list[float] = []
    original = kb.indexer.embed

    def watched(chunks, summary):
        kb.indexer.on_embedded = shares.append
        return original(chunks, summary)

    kb.indexer.embed = watched
    kb.indexer.ingest([folder])
    assert len(shares) >= 3 and shares == sorted(shares) and shares[-1] == 1.0  # slices of 4 chunks, in order


def test_parse_options_come_from_the_settings_with_the_files_overrides(settings):
    from pactkb.ingest.parse import ParseOptions

    s = settings.model_copy(update={"ocr": "off", "ocr_languages": "eng+srp", "ocr_min_chars": 7})
    opts = ParseOptions.from_settings(s, {"year": 2020})
    assert (opts.ocr, opts.ocr_languages, opts.ocr_min_chars, opts.overrides) == ("off", "eng+srp", 7, {"year": 2020})


def test_chunk_and_embed_stages_reuse_stored_vectors_of_identical_text(settings, fake_encoder, tmp_path):
    from pactkb.index.pipeline import Embedder, chunk
    from pactkb.ingest.record import Record, record_document

    kb = KnowledgeBase(settings, encoder=fake_encoder)
    kb.indexer.add_records([Record("r1", "Cash", "Cash couriers cross borders with undeclared money.")])
    stored = record_document(Record("r2", "Cash", "Cash couriers cross borders with undeclared money."))
    new = record_document(Record("r3", "Hawala", "Hawala brokers settle debts without moving money."))
    chunks = chunk(stored, fake_encoder, settings) + chunk(new, fake_encoder, settings)
    assert len(chunks) == 2
    shares: list[float] = []
    out = Embedder(fake_encoder, kb.store, batch_size=1)(chunks, shares.append)
    assert out.embedded == 1 and len(out.chunks) == 2 and shares == [1.0]  # r2's text was stored already
    assert out.chunks[0].vector.tobytes() == fake_encoder.encode([chunks[0].text])[0].tobytes()


def test_another_pdf_text_extractor_parses_stored_files_again_only_when_asked(settings, make_pdf, monkeypatch):
    from pactkb.ingest.pdf_text import PdfiumText

    pdf = make_pdf("guide.pdf", [["Guidance on cash couriers at border crossings. " * 12], ["Virtual assets. " * 20]])
    kb = kb_for(settings.model_copy(update={"pdf_text": "pypdf"}))
    kb.indexer.ingest([pdf])
    (doc_id,) = [r[0] for r in kb.store.conn().execute("SELECT id FROM documents")]
    calls: list[str] = []
    pages = PdfiumText.pages
    monkeypatch.setattr(PdfiumText, "pages", lambda self, *a: calls.append("pdfium") or pages(self, *a))
    with_pdfium = settings.model_copy(update={"pdf_text": "pdfium"})
    quiet = kb_for(settings).indexer.ingest([pdf])  # the store's extractor (pypdf) stays: nothing parsed again
    assert (quiet.indexed, quiet.unchanged, quiet.chunks_embedded, calls) == (0, 1, 0, [])
    with pytest.raises(PdfTextMismatchError):  # another one, chosen without --reparse (tests/index/test_extractor_...)
        kb_for(with_pdfium).indexer.ingest([pdf])
    assert calls == []
    again = kb_for(with_pdfium).indexer.ingest([pdf], reparse=True)
    assert (again.indexed, again.unchanged, calls) == (1, 0, ["pdfium"])
    assert again.chunks_embedded == 0  # both extractors read the same text: the stored vectors are reused
    assert [r[0] for r in kb.store.conn().execute("SELECT id FROM documents")] == [doc_id]
    assert check(kb.store, kb.dense) == []


def test_a_manifest_language_is_stored_as_its_code_and_a_typo_warns_without_losing_anything(settings, make_pdf):
    """The manifest's language column is read like the API's ("Serbian" -> "sr"); a value that names no language
    ("srb") is a warning naming the manifest, its line and column, and is not applied: an indexed document keeps the
    language it had, a new one keeps the detected one."""
    text = "Financial investigators trace the proceeds of organised crime through bank records and company registers."
    pdf = make_pdf("guide.pdf", [[text]])
    manifest = pdf.parent / "mine.tsv"
    manifest.write_text("file\ttitle\tlanguage\nguide.pdf\tGuide\tSerbian\n", encoding="utf-8")
    kb = kb_for(settings)
    first = kb.indexer.ingest([pdf], manifest=manifest)
    assert first.indexed == 1 and not first.warnings
    (doc_id,) = first.documents
    assert kb.store.document(doc_id).language == "sr"
    other = make_pdf("other.pdf", [[text.replace("Financial", "Customs")]])
    manifest.write_text("file\ttitle\tlanguage\nguide.pdf\tGuide 2\tsrb\nother.pdf\tOther\tsrb\n", encoding="utf-8")
    again = kb_for(settings).indexer.ingest([pdf, other], manifest=manifest)
    assert (again.unchanged, again.indexed) == (1, 1)
    warned = {Path(w["file"]).name: w["warning"] for w in again.warnings}
    assert warned["guide.pdf"].startswith("mine.tsv line 2, column 'language' (guide.pdf): unknown language 'srb'")
    assert warned["other.pdf"].startswith("mine.tsv line 3, column 'language' (other.pdf): unknown language 'srb'")
    kept = kb.store.document(doc_id)
    assert (kept.title, kept.language) == ("Guide 2", "sr")  # the row's other values still apply
    (new_id,) = [d for d in again.documents if d != doc_id]
    assert kb.store.document(new_id).language == "en"  # detected


def test_a_manifest_sensitivity_that_is_no_level_keeps_the_file_out_and_its_stored_document_as_it_was(
    settings, make_pdf
):
    """Fail closed: a sensitivity typo ("confidental") is not guessed, as public would publish a restricted file. The
    file is reported failed, naming the manifest, line and column; a new file is not ingested, a stored one keeps its
    sensitivity and title; the manifest's other files go on."""
    text = "Financial investigators trace the proceeds of organised crime through bank records and company registers."
    pdf = make_pdf("guide.pdf", [[text]])
    make_pdf("other.pdf", [[text.replace("Financial", "Customs")]])
    manifest = pdf.parent / "MANIFEST.tsv"
    manifest.write_text("file\ttitle\tsensitivity\nguide.pdf\tGuide\tconfidential\n", encoding="utf-8")
    kb = kb_for(settings)
    (doc_id,) = kb.indexer.ingest([pdf]).documents
    assert kb.store.document(doc_id).sensitivity == "confidential"
    make_pdf("third.pdf", [[text.replace("Financial", "Border")]])
    manifest.write_text(
        "file\ttitle\tsensitivity\nguide.pdf\tGuide 2\tconfidental\nthird.pdf\tThird\tsecrett\n"
        "other.pdf\tOther\tpublic\n",
        encoding="utf-8",
    )
    again = kb_for(settings).indexer.ingest([pdf.parent])
    failed = {Path(f["file"]).name: f["error"] for f in again.failed}
    assert set(failed) == {"guide.pdf", "third.pdf"} and again.indexed == 1
    assert failed["guide.pdf"].startswith("MANIFEST.tsv line 2, column 'sensitivity' (guide.pdf): 'confidental'")
    assert "not ingested or updated" in failed["third.pdf"]
    kept = kb.store.document(doc_id)
    assert (kept.sensitivity, kept.title) == ("confidential", "Guide")
    assert kb.store.file_entry(str(pdf.parent / "third.pdf")) is None
    assert kb.store.file_entry(str(pdf.parent / "other.pdf")) is not None


def test_an_unreadable_manifest_keeps_the_files_it_may_describe_out(settings, make_pdf):
    """A manifest that cannot be read may set a sensitivity: the files below it are reported failed, not ingested
    with none."""
    pdf = make_pdf("guide.pdf", [["Customs officers check cash declarations at the border crossing points."]])
    (pdf.parent / "MANIFEST.tsv").write_text("title\tsensitivity\nGuide\tsecret\n", encoding="utf-8")  # no file column
    summary = kb_for(settings).indexer.ingest([pdf.parent])
    assert summary.indexed == 0 and len(summary.failed) == 1
    assert "MANIFEST.tsv" in summary.failed[0]["error"] and "no 'file' column" in summary.failed[0]["error"]


def test_a_manifest_title_given_later_decides_the_inferred_type_of_an_unchanged_file_too(settings, make_pdf):
    """Re-parsed or not, the same manifest gives the same type: a title added to the manifest of a file already
    indexed re-infers its type and areas (still marked inferred), as parsing does."""
    pdf = make_pdf("reg.pdf", [["Staff training and course material on reporting duties of banks. " * 5]])
    manifest = pdf.parent / "m.tsv"
    manifest.write_text("file\tlanguage\nreg.pdf\ten\n", encoding="utf-8")
    kb = kb_for(settings)
    (doc_id,) = kb.indexer.ingest([pdf], manifest=manifest).documents
    assert kb.store.document(doc_id).doc_type == "training material"
    manifest.write_text("file\ttitle\nreg.pdf\tRegulation (EU) 2024/1624 on money laundering\n", encoding="utf-8")
    again = kb_for(settings).indexer.ingest([pdf], manifest=manifest)
    assert again.unchanged == 1
    rec = kb.store.document(doc_id)
    assert rec.doc_type == "legislation" and "doc_type" in rec.inferred and "title" not in rec.inferred
