"""A store keeps the PDF text extractor its PDFs were read by: recorded like its encoder, kept on incremental ingest
and uploads whatever the default says, switched only by a re-parse of every stored PDF."""

from pathlib import Path

import pytest

from pactkb.index.check import check
from pactkb.index.kb import KnowledgeBase
from pactkb.index.pipeline import Upload
from pactkb.index.store import PDF_TEXT_KEY, PdfTextMismatchError
from pactkb.ingest.pdf_text import PdfiumText, PypdfText
from pactkb.settings import Settings

GUIDE = [["Guidance on cash couriers at border crossings. " * 12], ["Virtual assets and their providers. " * 20]]
OTHER = [["Trafficking in human beings for forced labour in agriculture. " * 15]]


def chosen(settings: Settings, extractor: str) -> Settings:
    """The settings with PACTKB_PDF_TEXT / --pdf-text naming this extractor."""
    return settings.model_copy(update={"pdf_text": extractor})


def defaulting_to(settings: Settings, extractor: str) -> Settings:
    """The settings of a release whose default extractor is this one (not chosen by the user)."""
    values = {**dict(settings), "pdf_text": extractor}
    return Settings.model_construct(_fields_set=set(settings.model_fields_set), **values)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The extractors that read a PDF's pages, in order."""
    calls: list[str] = []
    for name, cls in (("pdfium", PdfiumText), ("pypdf", PypdfText)):
        pages = cls.pages
        monkeypatch.setattr(cls, "pages", lambda self, *a, _n=name, _p=pages: calls.append(_n) or _p(self, *a))
    return calls


def pdf_text_of(kb: KnowledgeBase) -> str | None:
    """The extractor the store recorded."""
    return kb.store.get_meta(PDF_TEXT_KEY)


def test_a_new_store_records_its_extractor_and_keeps_it_when_the_default_changes(settings, make_pdf, reads):
    guide = make_pdf("guide.pdf", GUIDE)
    kb = KnowledgeBase(defaulting_to(settings, "pypdf"))
    kb.indexer.ingest([guide.parent])
    assert pdf_text_of(kb) == "pypdf" and reads == ["pypdf"]
    make_pdf("other.pdf", OTHER)
    later = KnowledgeBase(defaulting_to(settings, "pdfium"))  # a release that reads new stores with PDFium
    summary = later.indexer.ingest([guide.parent])
    assert (summary.indexed, summary.unchanged, reads) == (1, 1, ["pypdf", "pypdf"])  # the new file too, by pypdf
    assert pdf_text_of(later) == "pypdf" and later.store.pdf_text_record() == "pypdf"


def test_a_store_from_before_the_record_counts_as_pypdf(settings, make_pdf, reads):
    guide = make_pdf("guide.pdf", GUIDE)
    kb = KnowledgeBase(chosen(settings, "pypdf"))
    kb.indexer.ingest([guide])
    kb.store.conn().execute("DELETE FROM meta WHERE key=?", (PDF_TEXT_KEY,))  # as an older pactkb left it
    kb.store.conn().commit()
    assert kb.store.pdf_text_record() == "pypdf"
    other = make_pdf("other.pdf", OTHER)
    with pytest.raises(PdfTextMismatchError):  # naming PDFium does not relabel a store whose reader is unknown
        KnowledgeBase(chosen(settings, "pdfium")).indexer.ingest([other])
    assert reads == ["pypdf"] and pdf_text_of(kb) == "pypdf"
    KnowledgeBase(defaulting_to(settings, "pdfium")).indexer.ingest([other])
    assert reads == ["pypdf", "pypdf"] and pdf_text_of(kb) == "pypdf"


def test_a_store_without_pdfs_takes_the_configured_extractor(settings, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# Couriers\n\nCash couriers cross borders.", encoding="utf-8")
    kb = KnowledgeBase(defaulting_to(settings, "pdfium"))
    kb.indexer.ingest([notes])
    assert pdf_text_of(kb) == "pdfium" and kb.store.pdf_text_record() == "pdfium"


def test_choosing_another_extractor_without_a_reparse_is_refused_before_parsing(settings, make_pdf, reads):
    guide = make_pdf("guide.pdf", GUIDE)
    KnowledgeBase(chosen(settings, "pypdf")).indexer.ingest([guide])
    make_pdf("other.pdf", OTHER)
    kb = KnowledgeBase(chosen(settings, "pdfium"))
    with pytest.raises(PdfTextMismatchError, match=r"read by pypdf.*configured PDF text extractor is pdfium.*reparse"):
        kb.indexer.ingest([guide.parent])
    assert reads == ["pypdf"] and pdf_text_of(kb) == "pypdf" and kb.store.counts()["documents"] == 1


def test_a_reparse_over_every_stored_pdf_switches_the_store(settings, make_pdf, reads):
    guide = make_pdf("guide.pdf", GUIDE)
    make_pdf("other.pdf", OTHER)
    KnowledgeBase(chosen(settings, "pypdf")).indexer.ingest([guide.parent])
    reads.clear()
    kb = KnowledgeBase(chosen(settings, "pdfium"))
    summary = kb.indexer.ingest([guide.parent], reparse=True)
    assert (summary.indexed, summary.failed, sorted(reads)) == (2, [], ["pdfium", "pdfium"])
    assert pdf_text_of(kb) == "pdfium" and check(kb.store, kb.dense) == []
    reads.clear()
    make_pdf("third.pdf", [["Hawala brokers settle debts without moving money. " * 15]])
    KnowledgeBase(defaulting_to(settings, "pypdf")).indexer.ingest([guide.parent])  # the default no longer matters
    assert reads == ["pdfium"]


def test_a_reparse_that_would_leave_stored_pdfs_behind_is_refused(settings, make_pdf, reads):
    guide = make_pdf("guide.pdf", GUIDE)
    other = make_pdf("other.pdf", OTHER)
    KnowledgeBase(chosen(settings, "pypdf")).indexer.ingest([guide.parent])
    reads.clear()
    kb = KnowledgeBase(chosen(settings, "pdfium"))
    with pytest.raises(PdfTextMismatchError, match=r"1 are not under the given paths \(other\.pdf\)"):
        kb.indexer.ingest([guide], reparse=True)
    assert reads == [] and pdf_text_of(kb) == "pypdf"
    assert kb.indexer.ingest([guide, other], reparse=True).indexed == 2 and pdf_text_of(kb) == "pdfium"


def test_a_reparse_with_the_stored_extractor_keeps_it(settings, make_pdf, reads):
    guide = make_pdf("guide.pdf", GUIDE)
    KnowledgeBase(chosen(settings, "pypdf")).indexer.ingest([guide])
    kb = KnowledgeBase(defaulting_to(settings, "pdfium"))
    assert kb.indexer.ingest([guide], reparse=True).indexed == 1
    assert reads == ["pypdf", "pypdf"] and pdf_text_of(kb) == "pypdf"


def test_uploads_are_read_by_the_stores_extractor_whatever_is_configured(settings, make_pdf, reads):
    guide = make_pdf("guide.pdf", GUIDE)
    KnowledgeBase(chosen(settings, "pypdf")).indexer.ingest([guide])
    upload = make_pdf("upload.pdf", OTHER)
    kb = KnowledgeBase(chosen(settings, "pdfium"))
    outcomes = list(kb.indexer.ingest_uploads([Upload(Path(upload), "upload.pdf")], owner="ana", visible=("public",)))
    assert [o.status for _, o in outcomes] == ["indexed"]
    assert reads == ["pypdf", "pypdf"] and pdf_text_of(kb) == "pypdf"


def test_the_plan_names_the_stores_extractor_and_the_settings_stay_the_configured_ones(settings, make_pdf, reads):
    """The extractor travels with the plan to whatever runs it (here, or a Ray cluster); nothing swaps the pipeline's
    Settings for a copy naming it while the files are parsed."""
    guide = make_pdf("guide.pdf", GUIDE)
    KnowledgeBase(chosen(settings, "pdfium")).indexer.ingest([guide])
    make_pdf("other.pdf", OTHER)
    later = KnowledgeBase(defaulting_to(settings, "pypdf"))  # a default other than the store's extractor
    configured = later.indexer.settings
    seen: list[tuple[str, Settings]] = []

    def run_todo(plan, bar, summary) -> bool:
        seen.append((plan.pdf_text, later.indexer.settings))
        return later.indexer.run_todo(plan, bar, summary)

    assert later.indexer.ingest([guide.parent], run_todo=run_todo).indexed == 1
    assert seen == [("pdfium", configured)] and seen[0][1] is configured and configured.pdf_text == "pypdf"
    assert reads == ["pdfium", "pdfium"] and pdf_text_of(later) == "pdfium"
