"""The bundled sample corpus: page-exact chunks and token limits with the real tokenizer."""

import re

import pytest

from pactkb.corpus.generate import FACTS, PDFS, generate
from pactkb.index.kb import KnowledgeBase
from pactkb.ingest.parse import parse_file


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_generator_reproduces_the_committed_text(tmp_path, sample_dir):
    generate(tmp_path)
    for name in PDFS:
        fresh = [p.text for p in parse_file(tmp_path / name).pages]
        committed = [p.text for p in parse_file(sample_dir / name).pages]
        assert fresh == committed, name


def test_every_chunk_cites_the_pages_its_text_came_from(settings, sample_dir):
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([sample_dir])
    con = kb.store.conn()
    for doc_id, npages in con.execute("SELECT id, pages FROM documents").fetchall():
        pages = {r["number"]: squash(r["text"]) for r in kb.store.pages(doc_id)}
        for c in kb.store.doc_chunks(doc_id):
            assert 1 <= c["page_start"] <= c["page_end"] <= npages
            head, tail = squash(c["text"])[:40], squash(c["text"])[-40:]
            assert head in pages[c["page_start"]], (head, c["page_start"])
            assert tail in pages[c["page_end"]], (tail, c["page_end"])


@pytest.mark.parametrize(("file", "phrase", "page"), FACTS)
def test_known_facts_are_found_on_their_pages(settings, sample_dir, file, phrase, page):
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([sample_dir / file])
    rows = kb.store.conn().execute("SELECT text, page_start, page_end FROM chunks").fetchall()
    hits = [r for r in rows if phrase in squash(r["text"])]
    assert hits, phrase
    assert all(r["page_start"] <= page <= r["page_end"] for r in hits)


@pytest.mark.model
def test_real_tokenizer_limit_is_never_exceeded(tmp_path, sample_dir, real_encoder):
    from pactkb.settings import Settings

    kb = KnowledgeBase(Settings(data=tmp_path / "d", parse_workers=0), encoder=real_encoder)
    kb.indexer.ingest([sample_dir])
    for (text,) in kb.store.conn().execute("SELECT text FROM chunks"):
        assert real_encoder.count_tokens(text) + 2 <= real_encoder.model.max_seq_length
