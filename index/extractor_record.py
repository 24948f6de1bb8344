"""Which PDF text extractor a store's PDFs are read by: recorded in the store like its encoder, kept on incremental
ingest and uploads whatever the default says, switched only deliberately (`pactkb ingest --reparse` with
PACTKB_PDF_TEXT / --pdf-text naming the other one, over every stored PDF), so one store never mixes two extractors'
text (a file PDFium cannot open still falls back to pypdf, as a warning on that file)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pactkb.index.store import PDF_TEXT_KEY, PdfTextMismatchError, Store
from pactkb.settings import Settings

SHOWN_MISSING = 3  # stored PDFs named in the error of a switch that would leave some unparsed


@dataclass(frozen=True)
class ExtractorChoice:
    """The extractor one ingestion reads PDFs with, and the one the store recorded before it."""

    name: str
    recorded: str

    @property
    def switch(self) -> bool:
        """Whether this run moves the store from its recorded extractor to another one (a re-parse)."""
        return self.recorded != self.name


def explicit(settings: Settings) -> bool:
    """Whether the extractor was chosen (PACTKB_PDF_TEXT or --pdf-text) rather than left at the default."""
    return "pdf_text" in settings.model_fields_set


def stored_extractor(store: Store, settings: Settings, record: bool = False) -> str:
    """The extractor new PDFs of this store are read by: the recorded one; for a store that recorded none, the
    configured one when it holds no PDFs yet, else pypdf (every store from before the record was read by pypdf unless
    built with the opt-in PDFium, which cannot be told apart: naming PDFium then needs a re-parse, failing closed),
    then recorded when `record` says so."""
    recorded = store.get_meta(PDF_TEXT_KEY)
    if recorded is not None:
        return recorded
    current = store.pdf_text_record() or settings.pdf_text  # pypdf for a store holding PDFs (the store's rule)
    if record:
        store.record_pdf_text(current)
    return current


def choose_extractor(store: Store, settings: Settings, reparse: bool) -> ExtractorChoice:
    """The extractor an ingestion of files reads PDFs with: the store's, unless the setting explicitly names another
    one, which needs `reparse` (PdfTextMismatchError otherwise: nothing is parsed)."""
    current = stored_extractor(store, settings, record=True)
    if not explicit(settings) or settings.pdf_text == current:
        return ExtractorChoice(current, current)
    if not reparse:
        raise PdfTextMismatchError(
            f"the PDFs in {store.data_dir} were read by {current}; the configured PDF text extractor is "
            f"{settings.pdf_text}. One store keeps one extractor's text: leave PACTKB_PDF_TEXT / --pdf-text unset "
            f"(new files are read by {current}), or switch this store with 'pactkb ingest FOLDER… --reparse "
            f"--pdf-text {settings.pdf_text}' over every folder it was built from."
        )
    return ExtractorChoice(settings.pdf_text, current)


def check_switch_covers(store: Store, choice: ExtractorChoice, files: Iterable[Path]) -> None:
    """Refuse a switch that would leave stored PDFs with the old extractor's text (not under the given paths, or
    uploaded: the re-parse reads files from their folders)."""
    if not choice.switch:
        return
    covered = {entry["doc_id"] for entry in map(store.file_entry, map(str, files)) if entry is not None}
    missing = [name for doc_id, name in store.pdf_documents().items() if doc_id not in covered]
    if missing:
        shown = ", ".join(missing[:SHOWN_MISSING]) + (", …" if len(missing) > SHOWN_MISSING else "")
        raise PdfTextMismatchError(
            f"switching {store.data_dir} from {choice.recorded} to {choice.name} re-parses every stored PDF, but "
            f"{len(missing)} are not under the given paths ({shown}); give every folder the store was built from "
            "(uploaded PDFs cannot be re-parsed from a folder: keep the store's extractor)."
        )


def finish_switch(store: Store, choice: ExtractorChoice, failed: Iterable[str]) -> str | None:
    """After a re-parse: record the new extractor, unless a stored PDF failed to parse again (it keeps the old text;
    the warning returned says so and the record stays, so the next ingestion keeps the old extractor)."""
    if not choice.switch:
        return None
    left = [f for f in failed if f.lower().endswith(".pdf")]
    if left:
        return (
            f"{len(left)} PDF(s) failed to re-parse and keep {choice.recorded}'s text: the store stays recorded as "
            f"{choice.recorded}; run the re-parse again"
        )
    store.record_pdf_text(choice.name)
    return None
