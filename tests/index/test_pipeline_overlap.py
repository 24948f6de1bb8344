"""The ingestion pipeline's overlap: parsing ahead in workers, several documents' chunks encoded together, per-stage
timings; the result equals ingesting one document at a time."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

from pactkb.index.embed import FakeEncoder
from pactkb.index.kb import KnowledgeBase
from pactkb.index.pipeline import STAGES, IngestSummary, chunk, portable_chunker
from pactkb.ingest.guard import ParseStream
from pactkb.ingest.parse import ParseOptions, parse_file
from pactkb.settings import Settings

TOPICS = ("hawala brokers", "cash couriers", "trade invoices", "crypto mixers", "shell companies", "casino chips")


class CountingEncoder(FakeEncoder):
    """The fake encoder, remembering the texts of each encode call."""

    def __init__(self) -> None:
        super().__init__(dim=64, max_tokens=64)
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        self.calls.append(list(texts))
        return super().encode(texts, batch_size, progress)


def _folder(tmp_path: Path, make_pdf) -> Path:
    """Six PDFs with distinct text (so a vector given to the wrong chunk would show), one text file."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, topic in enumerate(TOPICS):
        pdf = make_pdf(
            f"d{i}.pdf", [[f"Guideline {i} on {topic} and their routes. " * 12], [f"Indicators {i} of {topic}. " * 9]]
        )
        (folder / pdf.name).write_bytes(pdf.read_bytes())
    (folder / "note.txt").write_text("A short note on cash smuggling at the airport. " * 5, encoding="utf-8")
    return folder


def _rows(kb: KnowledgeBase) -> dict[tuple[str, str], tuple[int, int, bytes]]:
    """Every stored chunk by (file name, text): pages and vector bytes."""
    return {
        (r["source_name"], r["text"]): (r["page_start"], r["page_end"], bytes(r["vector"]))
        for r in kb.store.all_chunks()
    }


def test_pooled_ingest_with_parse_workers_equals_one_document_at_a_time(tmp_path, make_pdf):
    folder = _folder(tmp_path, make_pdf)
    pooled = KnowledgeBase(
        Settings(data=tmp_path / "a", model="fake:64", parse_workers=2, dictionaries="", apertium=""),
        encoder=FakeEncoder(64, 64),
    )
    summary = pooled.indexer.ingest([folder])
    assert summary.indexed == 7 and not summary.failed
    sequential = KnowledgeBase(
        Settings(data=tmp_path / "b", model="fake:64", parse_workers=0, dictionaries="", apertium=""),
        encoder=FakeEncoder(64, 64),
    )
    for path in sorted(folder.iterdir()):
        doc = parse_file(path, ParseOptions.from_settings(sequential.settings, {}))
        sequential.indexer.add_parsed(doc, path_key=str(path), summary=IngestSummary())
    sequential.indexer.publish()
    a, b = _rows(pooled), _rows(sequential)
    assert len(a) > 14 and a == b


def test_one_encoder_call_crosses_documents_and_each_chunk_keeps_its_own_vector(settings, tmp_path, make_pdf):
    folder = _folder(tmp_path, make_pdf)
    encoder = CountingEncoder()
    kb = KnowledgeBase(settings, encoder=encoder)
    summary = kb.indexer.ingest([folder])
    assert summary.indexed == 7
    # in-process parsing is always ready: all seven documents fill one pool, encoded in one call
    assert len(encoder.calls) == 1 and len(encoder.calls[0]) == summary.chunks_embedded
    texts = encoder.calls[0]
    assert [len(t) for t in texts] == sorted((len(t) for t in texts), reverse=True)  # longest first: little padding
    for row in kb.store.all_chunks():
        expected = FakeEncoder(64, 64).encode([row["text"]])[0]
        assert np.allclose(np.frombuffer(row["vector"], dtype=np.float32), expected)
        assert row["source_name"] in ("note.txt", *(f"d{i}.pdf" for i in range(len(TOPICS))))
    assert kb.searcher.search("crypto mixers", k=1).results[0].file == "d3.pdf"


def test_repeated_text_across_documents_is_encoded_once(settings, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    same = "The same disclaimer paragraph printed in every booklet of the series. " * 4
    for i in range(3):
        own = f"Booklet {i} explains {TOPICS[i]} for border guards. " * 6
        (folder / f"b{i}.txt").write_text(same + "\n\n" + own, encoding="utf-8")
    encoder = CountingEncoder()
    kb = KnowledgeBase(settings.model_copy(update={"chunk_overlap": 0}), encoder=encoder)
    summary = kb.indexer.ingest([folder])
    encoded = [t for call in encoder.calls for t in call]
    assert len(encoded) == len(set(encoded)) == summary.chunks_embedded < summary.chunks


def test_summary_reports_time_per_stage(settings, tmp_path, make_pdf):
    folder = _folder(tmp_path, make_pdf)
    summary = KnowledgeBase(settings).indexer.ingest([folder])
    assert tuple(summary.stages) == STAGES
    assert all(summary.stages[s] > 0 for s in ("parse", "chunk", "encode", "write", "publish"))
    assert summary.stages["ocr"] == 0  # nothing was scanned
    assert 0 < summary.worker_cpu_seconds
    again = KnowledgeBase(settings).indexer.ingest([folder])
    assert again.unchanged == 7 and again.stages["parse"] == again.stages["encode"] == 0


def test_cli_ingest_json_has_the_stages(tmp_path, make_pdf):
    folder = _folder(tmp_path, make_pdf)
    env = {**os.environ, "PACTKB_MODEL": "fake:64", "PACTKB_DATA": str(tmp_path / "data"), "PACTKB_APERTIUM": ""}
    out = subprocess.run(
        [sys.executable, "-m", "pactkb.cli", "ingest", str(folder), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    stages = json.loads(out.stdout)["stages"]
    assert set(stages) == set(STAGES) and stages["parse"] > 0 and stages["encode"] >= 0


def test_parse_stream_says_when_its_next_result_is_ready(tmp_path, make_pdf):
    paths = [make_pdf(f"s{i}.pdf", [[f"Page text {i} about {TOPICS[i]}. " * 10]]) for i in range(3)]
    jobs = [(p, ParseOptions()) for p in paths]
    with ParseStream(jobs, workers=1, timeout=60, memory_mb=2048) as stream:
        got = []
        for path, result in stream:
            assert not isinstance(result, str)
            assert result.timings["parse"] > 0
            got.append(path)
            stream.futures[-1][2].result(timeout=60)  # the last file parsed: every result is there now
            assert stream.ready()
    assert got == paths
    with ParseStream(jobs, workers=0, timeout=60, memory_mb=2048) as stream:
        assert stream.ready() and [p for p, _ in stream] == paths


def test_parse_workers_chunk_what_they_parse_as_this_process_would(tmp_path, make_pdf, settings):
    paths = [make_pdf(f"c{i}.pdf", [[f"Section {i} on {TOPICS[i]} and their routes. " * 30]]) for i in range(2)]
    encoder = FakeEncoder(64, 64)
    chunks = portable_chunker(encoder, settings)
    assert chunks is not None
    with ParseStream([(p, ParseOptions()) for p in paths], 1, 60, 2048, chunker=chunks) as stream:
        for path, doc in stream:
            assert not isinstance(doc, str) and doc.chunks is not None and len(doc.chunks) > 1
            assert doc.chunks == chunk(parse_file(path), encoder, settings)
            assert doc.timings["chunk"] > 0


class UnpicklableEncoder(FakeEncoder):
    """An encoder holding a runtime object (like a compiled model) and no tokenizer."""

    def __init__(self) -> None:
        super().__init__(64, 64)
        self.runtime = threading.Lock()


def test_an_encoder_that_cannot_be_sent_to_workers_is_chunked_here(settings, tmp_path, make_pdf):
    assert portable_chunker(UnpicklableEncoder(), settings) is None
    folder = _folder(tmp_path, make_pdf)
    kb = KnowledgeBase(settings.model_copy(update={"parse_workers": 1}), encoder=UnpicklableEncoder())
    summary = kb.indexer.ingest([folder])
    assert summary.indexed == 7 and summary.chunks > 14
