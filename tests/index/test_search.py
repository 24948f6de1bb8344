"""Retrieval: filters inside retrieval, diacritics folding, fusion, near-duplicates, page fields, snippets."""

from pathlib import Path

import numpy as np
import pytest

from pactkb.index.encoder import NoQueryWarmUp
from pactkb.index.filters import FilterError, Filters
from pactkb.index.kb import KnowledgeBase
from pactkb.index.lexical import build_match
from pactkb.index.results import SearchError
from pactkb.index.store import ModelMismatchError
from pactkb.settings import Settings


@pytest.fixture
def sample_kb(settings, sample_dir) -> KnowledgeBase:
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([sample_dir])
    return kb


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# -- filters inside retrieval -----------------------------------------------------------------
@pytest.fixture
def needle_kb(tmp_path) -> KnowledgeBase:
    """400 chunks about cash couriers, and one legislation document of 3 chunks about something else."""
    hay = tmp_path / "hay"
    filler = {
        f"h{i:03d}.txt": f"Cash couriers at the border carry undeclared cash for smuggling {i}. " * 3
        for i in range(400)
    }
    write_docs(hay, filler)
    needle = "\f".join(
        [
            "Article 1. Crypto-asset service providers keep the travel rule records for five years " * 2 + "and cash.",
            "Article 2. Transfers of crypto-assets carry originator and beneficiary information always " * 2
            + "and cash.",
            "Article 3. Member states designate competent supervisors for these service providers now " * 2
            + "and cash.",
        ]
    )
    write_docs(tmp_path / "law", {"regulation.txt": needle})
    (tmp_path / "law" / "MANIFEST.tsv").write_text(
        "file\ttype\tyear\nregulation.txt\tlegislation\t2023\n", encoding="utf-8"
    )
    s = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, chunk_tokens=40)
    kb = KnowledgeBase(s)
    kb.indexer.ingest([hay, tmp_path / "law"])
    return kb


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_filter_returns_the_only_matching_chunks_even_if_they_rank_last(needle_kb, mode):
    query = "cash couriers border smuggling"
    unfiltered = needle_kb.searcher.search(query, k=10, mode=mode, collapse=False)
    assert all(h.doc_type != "legislation" for h in unfiltered.results)
    res = needle_kb.searcher.search(query, k=10, mode=mode, filters=Filters(doc_types=("legislation",)), collapse=False)
    assert len(res.results) == 3
    assert {h.page_start for h in res.results} == {1, 2, 3}
    assert all(h.doc_type == "legislation" for h in res.results)


def test_filters_inside_an_ivf_index_too(tmp_path, needle_kb):
    s = needle_kb.settings.model_copy(update={"dense_index": "ivf", "small_filter": 10})
    kb = KnowledgeBase(s)
    kb.dense.build(kind="ivf")
    assert kb.dense.kind == "ivf"
    res = kb.searcher.search("cash couriers border", k=10, mode="dense", filters=Filters(year_min=2023), collapse=False)
    assert len(res.results) == 3  # 3 <= small_filter: scored exactly
    big = kb.searcher.search(
        "crypto travel rule", k=5, mode="dense", filters=Filters(doc_types=("other",)), collapse=False
    )
    assert len(big.results) == 5 and all(h.doc_type == "other" for h in big.results)


def test_filter_parsing_names_bad_keys_and_values():
    f = Filters.parse(["type=guideline", "area=terrorism", "year=2018-2022", "language=sr", "publisher=Europol"])
    assert (
        f.doc_types == ("guideline",) and f.areas == ("counter-terrorism",) and (f.year_min, f.year_max) == (2018, 2022)
    )
    for bad, word in [
        (["colour=red"], "colour"),
        (["type=poem"], "poem"),
        (["year=20x0"], "year"),
        (["nokey"], "key=value"),
    ]:
        with pytest.raises(FilterError, match=word):
            Filters.parse(bad)


def test_year_bounds_under_two_names_both_apply_and_one_name_repeated_keeps_its_last_value():
    for pairs, bounds in [
        (["year=2024-", "year_min=2000"], (2024, None)),
        (["year_min=2000", "year=2024-"], (2024, None)),
        (["year=2018-2025", "year_to=2023"], (2018, 2023)),
        (["year=2020", "year_from=2015"], (2020, 2020)),
        (["year=2020", "year=2022"], (2022, 2022)),  # as before: the last value of one name
    ]:
        f = Filters.parse(pairs)
        assert (f.year_min, f.year_max) == bounds, pairs


def test_language_filter_takes_codes_names_and_rejects_the_rest():
    asked: list[int] = []

    def held() -> list[str | None]:
        asked.append(1)
        return ["sr", "en", None, "SRP-old"]

    assert Filters.parse(["language=sr", "language=de"], held).languages == ("sr", "de") and not asked
    f = Filters.parse(["language=SR", "language=Serbian", "language=hrv", "language=de"], held)
    assert f.languages == ("sr", "hr", "de") and len(asked) == 1  # asked once, for values that are no ISO 639-1 code
    assert Filters.parse(["language=srp-old"], held).languages == ("srp-old",)  # a value the corpus holds as it is
    with pytest.raises(FilterError) as err:
        Filters.from_mapping({"language": ["sr", "srb"]}, held)
    assert err.value.field == "language" and "unknown language 'srb'" in err.value.reason
    assert "the documents you may see are in: en (English), sr (Serbian), srp-old" in err.value.reason
    with pytest.raises(FilterError, match="unknown language 'xx'"):
        Filters.parse(["language=xx"])  # without a corpus: no hint


def test_each_filter_field_restricts_results(sample_kb):
    s = sample_kb.searcher
    cases = {
        Filters(doc_types=("booklet",)): lambda h: h.doc_type == "booklet",
        Filters(areas=("cyber-attacks",)): lambda h: "cyber-attacks" in h.areas,
        Filters(languages=("sr",)): lambda h: h.language == "sr",
        Filters(year_min=2025, year_max=2025): lambda h: h.year == 2025,
        Filters(publishers=("europol",)): lambda h: h.publisher == "Europol",
        Filters(sensitivities=("restricted",)): lambda h: h.sensitivity == "restricted",
        Filters(clearance="public"): lambda h: h.sensitivity == "public",
    }
    for filters, ok in cases.items():
        res = s.search("investigation good practice money", k=50, filters=filters)
        assert res.results and all(ok(h) for h in res.results), filters
    doc = s.search("cash", k=1).results[0].document_id
    assert {h.document_id for h in s.search("money", k=50, filters=Filters(document_ids=(doc,))).results} == {doc}


# -- lexical folding --------------------------------------------------------------------------
def test_words_match_with_and_without_diacritics_and_across_scripts(tmp_path):
    folder = write_docs(
        tmp_path / "bs",
        {
            "a.txt": "Služba za finansiranje projekata i đačke stipendije.",
            "b.txt": "Agencija za financiranje i razvoj.",
            "c.txt": "Управа за спречавање прања новца.",
        },
    )
    kb = KnowledgeBase(Settings(data=tmp_path / "data", model="fake:64", parse_workers=0))
    kb.indexer.ingest([folder])

    def files(q: str) -> set[str]:
        return {h.file for h in kb.searcher.search(q, mode="lexical", k=10).results}

    assert files("sluzba") == {"a.txt"}
    assert files("SLUŽBA") == {"a.txt"}
    assert files("служба") == {"a.txt"}  # Cyrillic query, Latin text
    assert files("sprecavanje") == {"c.txt"}  # Latin query without diacritics, Cyrillic text
    assert files("dacke") == {"a.txt"}  # đ folds to d
    assert files("finansiranje") == {"a.txt"}  # a different word from financiranje
    assert files("financiranje") == {"b.txt"}


def test_match_expression_handles_phrases_prefixes_and_syntax():
    assert build_match('"money laundering" risk') == '"money laundering" OR "risk"'
    assert build_match("launder* the") == '"launder"*'
    assert build_match('AND OR NOT ( ) " :') is not None
    assert build_match("   ") is None


def test_a_hyphenated_word_is_also_searched_as_a_phrase_keeping_its_stopword_part():
    assert build_match("de-risking") == '"de risking" OR "risking"'  # 'de' alone is a stopword: risk matched anything
    assert build_match("cross-border wire") == '"cross" OR "border" OR "wire"'  # both parts kept: no phrase


def test_a_hyphenated_query_ranks_the_passage_with_the_compound_first(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "risk.txt").write_text("Risk risk risk: assess the risk, rate the risking customer.", encoding="utf-8")
    (docs / "derisk.txt").write_text(
        "Banks terminate whole client categories (de-risking) instead of managing the risk of each customer. "
        "Supervisors publish guidance on correspondent relationships and the exclusion of customers.",
        encoding="utf-8",
    )
    kb = KnowledgeBase(Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, dictionaries=""))
    kb.indexer.ingest([docs])
    assert kb.searcher.search("de-risking", mode="lexical", collapse=False).results[0].file == "derisk.txt"


# -- fusion ------------------------------------------------------------------------------------
class TableEncoder(NoQueryWarmUp):
    """An encoder whose vectors are chosen by hand, so dense and lexical rankings can disagree."""

    name, dim, max_tokens = "table-3", 3, 200

    def __init__(self, table: dict[str, list[float]]):
        self.table = table

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def encode(self, texts, batch_size=32, progress=False):
        out = []
        for t in texts:
            v = np.array(next((vec for key, vec in self.table.items() if key in t), [0.0, 0.0, 1.0]), dtype=np.float32)
            out.append(v / np.linalg.norm(v))
        return np.stack(out)

    def encode_queries(self, texts):
        return self.encode(texts)


def test_hybrid_fusion_when_dense_and_lexical_disagree(tmp_path):
    docs = {
        "lex.txt": "hawala hawala hawala transfers recorded by brokers",  # best lexical, poor dense
        "sem.txt": "informal value transfer system operated through trust",  # best dense, no shared term
        "both.txt": "hawala networks move value informally",  # second in both
        "none.txt": "annual report of the football association",
    }
    folder = write_docs(tmp_path / "f", docs)
    table = {
        "hawala hawala": [0.2, 1.0, 0.0],
        "informal value": [1.0, 0.05, 0.0],
        "hawala networks": [0.9, 0.4, 0.0],
        "football": [0.0, 0.0, 1.0],
        "QUERY hawala": [1.0, 0.0, 0.0],
    }
    enc = TableEncoder(table)
    kb = KnowledgeBase(
        Settings(
            data=tmp_path / "data",
            model="table",
            parse_workers=0,
            rrf_k=60,
            weight_dense=1.0,
            weight_lexical=1.0,
            fusion_by_language={},
            synonyms=False,
            short_passage_weight=1.0,
        ),
        encoder=enc,
    )  # same weights in any language; no synonym list ('hawala' would find sem.txt); the RRF scores undemoted
    kb.indexer.ingest([folder])
    q = "QUERY hawala"

    def order(mode: str) -> list[str]:
        return [h.file for h in kb.searcher.search(q, mode=mode, k=4, collapse=False).results]

    dense, lexical, hybrid = order("dense"), order("lexical"), order("hybrid")
    assert dense[:3] == ["sem.txt", "both.txt", "lex.txt"]
    assert lexical == ["lex.txt", "both.txt"]  # sem.txt shares no term
    # RRF: both = 1/62 + 1/62; lex = 1/63 + 1/61; sem = 1/61 (dense only)
    assert hybrid[:3] == ["lex.txt", "both.txt", "sem.txt"] or hybrid[:3] == ["both.txt", "lex.txt", "sem.txt"]
    scores = {h.file: h.score for h in kb.searcher.search(q, mode="hybrid", k=4, collapse=False).results}
    assert scores["both.txt"] == pytest.approx(2 / 62)
    assert scores["lex.txt"] == pytest.approx(1 / 61 + 1 / 63)
    assert scores["sem.txt"] == pytest.approx(1 / 61)
    dense_only = KnowledgeBase(kb.settings.model_copy(update={"weight_lexical": 0.0}), encoder=enc)
    assert [h.file for h in dense_only.searcher.search(q, mode="hybrid", k=3, collapse=False).results] == dense[:3]
    # convex fusion: alpha * min-max(cosine) + (1 - alpha) * min-max(BM25)
    cx = KnowledgeBase(kb.settings.model_copy(update={"fusion": "convex", "convex_alpha": 0.5}), encoder=enc)
    res = cx.searcher.search(q, mode="hybrid", k=4, collapse=False).results
    d = {h.file: h.dense_score for h in res}
    lx = {h.file: h.lexical_score or 0.0 for h in res}
    lo_d, hi_d = min(d.values()), max(d.values())
    hi_l = max(lx.values())
    lo_l = min(v for v in lx.values() if v)
    for h in res:
        want = 0.5 * (d[h.file] - lo_d) / (hi_d - lo_d) + 0.5 * (
            (lx[h.file] - lo_l) / (hi_l - lo_l) if lx[h.file] else 0.0
        )
        assert h.score == pytest.approx(want, abs=1e-6), h.file


# -- results -----------------------------------------------------------------------------------
def test_every_hit_has_page_fields_within_its_document(sample_kb):
    res = sample_kb.searcher.search("financial investigation cooperation", k=30)
    pages = dict(sample_kb.store.conn().execute("SELECT id, pages FROM documents").fetchall())
    assert res.results
    for h in res.results:
        assert 1 <= h.page_start <= h.page_end <= pages[h.document_id]
        assert h.file and h.title and h.chunk_id and h.text
    labelled = [h for h in sample_kb.searcher.search("cash couriers", k=5).results if h.file.startswith("cft")]
    assert labelled[0].page_start == 4 and labelled[0].page_label == "2"


def test_near_duplicates_collapse_into_also_in(sample_kb):
    res = sample_kb.searcher.search("undeclared cash couriers border crossing", k=10)
    top = res.results[0]
    assert top.file.startswith("cft-good-practice-")
    assert [a["file"] for a in top.also_in] and top.also_in[0]["file"].startswith("cft-good-practice-")
    assert top.also_in[0]["file"] != top.file
    assert (top.year, top.also_in[0]["year"]) == (2025, 2023)  # the newer edition leads, the older is 'also in'
    assert len({(h.document_id, h.chunk_id) for h in res.results}) == len(res.results)
    raw = sample_kb.searcher.search("undeclared cash couriers border crossing", k=10, collapse=False)
    assert raw.results[0].file == "cft-good-practice-2025.pdf"  # the current edition leads even before collapsing
    older = [h for h in raw.results if h.file == "cft-good-practice-2023.pdf"]
    assert older and all(h.superseded_by and h.superseded_by["year"] == 2025 for h in older)


def test_group_by_document(sample_kb):
    res = sample_kb.searcher.search("terrorism financing", k=10, group_by_document=True, collapse=False)
    docs = [h.document_id for h in res.results]
    assert len(docs) == len(set(docs))
    assert any(h.more_pages for h in res.results)


def test_snippets_highlight_query_terms(sample_kb):
    res = sample_kb.searcher.search("stablecoin wallets", k=1, mode="lexical")
    assert "<mark>stablecoin</mark>" in res.results[0].snippet.lower()
    assert "<mark>wallets</mark>" in res.results[0].snippet.lower()


def test_snippet_is_html_escaped(tmp_path):
    folder = write_docs(tmp_path / "x", {"x.txt": "Use <script>alert(1)</script> & beware of hawala brokers."})
    kb = KnowledgeBase(Settings(data=tmp_path / "d", model="fake:64", parse_workers=0))
    kb.indexer.ingest([folder])
    snip = kb.searcher.search("hawala", k=1).results[0].snippet
    assert "<script>" not in snip and "&lt;script&gt;" in snip and "<mark>hawala</mark>" in snip


def test_facets_count_documents(sample_kb):
    res = sample_kb.searcher.search("good practice", k=5)
    assert sum(res.facets["doc_type"].values()) == len(
        {h.document_id for h in sample_kb.searcher.search("good practice", k=100).results}
    )
    assert set(res.facets) == {"doc_type", "area", "language", "year", "publisher"}


def test_paging_is_consistent(sample_kb):
    full = sample_kb.searcher.search("investigation", k=6)
    a = sample_kb.searcher.search("investigation", k=3)
    b = sample_kb.searcher.search("investigation", k=3, offset=3)
    assert [h.chunk_id for h in a.results + b.results] == [h.chunk_id for h in full.results]
    assert [h.rank for h in b.results] == [4, 5, 6]


def test_more_like_this_respects_filters_and_excludes_itself(sample_kb):
    top = sample_kb.searcher.search("virtual assets stablecoin", k=1).results[0]
    sim = sample_kb.searcher.similar(top.chunk_id, k=5)
    assert sim.results and top.chunk_id not in [h.chunk_id for h in sim.results]
    pub = sample_kb.searcher.similar(top.chunk_id, k=20, filters=Filters(clearance="public"))
    assert all(h.sensitivity == "public" for h in pub.results)
    with pytest.raises(SearchError):
        sample_kb.searcher.similar(10**9)


def test_unknown_mode_is_an_error(sample_kb):
    with pytest.raises(SearchError, match="mode"):
        sample_kb.searcher.search("x", mode="fuzzy")


def test_search_refuses_a_different_model(settings, sample_dir):
    KnowledgeBase(settings).indexer.ingest([sample_dir / "otna-2024-cyber-attacks.pdf"])
    with pytest.raises(ModelMismatchError, match="cannot be mixed"):
        KnowledgeBase(settings.model_copy(update={"model": "fake:16"})).searcher.search("x")


def test_searches_see_new_documents_without_restart(sample_kb, sample_dir, tmp_path):
    other = KnowledgeBase(sample_kb.settings)  # another process's view of the same data dir
    assert not other.searcher.search(
        "crowdfunding takedown", k=5, mode="lexical", filters=Filters(languages=("hr",))
    ).results
    folder = write_docs(
        tmp_path / "new", {"novo.txt": "Smjernice o crowdfunding platformama i brzom uklanjanju (takedown)."}
    )
    (folder / "MANIFEST.tsv").write_text("file\tlanguage\nnovo.txt\thr\n", encoding="utf-8")
    sample_kb.indexer.ingest([folder])
    for mode in ("lexical", "dense"):
        res = other.searcher.search("crowdfunding takedown", k=5, mode=mode, filters=Filters(languages=("hr",)))
        assert [h.file for h in res.results] == ["novo.txt"]


def test_meaning_only_hits_show_the_closest_sentence(tmp_path):
    text = (
        "The annual report covers many topics. Staff training improved in all units. "
        "Financing of terrorist organisations through charities was detected twice. The budget was balanced."
    )
    folder = write_docs(tmp_path / "s", {"r.txt": text})
    # no Apertium: its English ("financing of terrorist organisations") would be highlighted as the bridge's words
    kb = KnowledgeBase(Settings(data=tmp_path / "d", model="fake:64", parse_workers=0, apertium=""))
    kb.indexer.ingest([folder])
    hit = kb.searcher.search("finansiranje terorističkih organizacija", k=1, mode="dense").results[0]
    assert "<mark>" not in hit.snippet and hit.snippet.startswith("…Financing of terrorist organisations")


def test_facets_are_disjunctive(sample_kb):
    s = sample_kb.searcher
    plain = s.search("investigation good practice", k=5).facets
    picked = s.search("investigation good practice", k=5, filters=Filters(doc_types=("booklet",)))
    assert all(h.doc_type == "booklet" for h in picked.results)
    # the doc_type facet still offers the other types, with the counts they had before the choice
    assert picked.facets["doc_type"] == plain["doc_type"]
    # other facets count only documents that pass the chosen type
    assert sum(picked.facets["language"].values()) == picked.facets["doc_type"]["booklet"]
    two = s.search("investigation good practice", k=5, filters=Filters(doc_types=("booklet",), languages=("sr",)))
    assert two.results == [] and two.facets["language"].get("en") == picked.facets["doc_type"]["booklet"]


def test_overlapping_chunks_of_one_page_are_shown_once(tmp_path):
    text = " ".join(f"Sentence {i} on non-profit organisations and terrorist financing risk." for i in range(40))
    folder = write_docs(tmp_path / "o", {"one-page.txt": text})
    kb = KnowledgeBase(Settings(data=tmp_path / "d", model="fake:64", parse_workers=0, chunk_overlap=30))
    kb.indexer.ingest([folder])
    raw = kb.searcher.search("non-profit organisations financing risk", k=10, collapse=False).results
    shown = kb.searcher.search("non-profit organisations financing risk", k=10).results
    assert len(raw) > 1 and len(shown) < len(raw)


def test_no_good_answer_flag(sample_kb):
    s = sample_kb.searcher
    assert s.judge({"known": 0.9, "coverage": 0.2}) is True  # the corpus knows the words, the best passages miss them
    assert s.judge({"known": 0.9, "coverage": 0.8}) is False
    assert s.judge({"known": 0.3, "coverage": 0.0}) is None  # mostly unknown words (another language?): cannot tell
    answered = s.search("undeclared cash couriers border crossing", k=5)
    assert answered.no_good_answer is False and answered.evidence["coverage"] > 0.9
    foreign = s.search("xyzzy plugh quux", k=5)
    assert foreign.no_good_answer is None and foreign.evidence["known"] == 0.0  # cannot tell: unknown vocabulary


def test_no_good_answer_never_reveals_invisible_vocabulary(sample_kb):
    s = sample_kb.searcher
    # 'banana' and 'containers' occur only in the restricted SOCTA extract
    anon = s.search("banana containers", k=5, filters=Filters(clearance="public"))
    assert anon.evidence["known"] == 0.0 and anon.no_good_answer is None
    cleared = s.search("banana containers", k=5, filters=Filters(clearance="restricted"))
    assert cleared.evidence["known"] == 1.0 and cleared.no_good_answer is False


def test_large_stores_drop_very_common_query_terms(sample_kb):
    assert build_match("cash couriers border", drop={"cash"}) == '"couriers" OR "border"'
    small = sample_kb.searcher
    assert small.common_terms("good practice cash couriers border", small.store.conn()) == set()  # small store: never
    pruning = KnowledgeBase(sample_kb.settings.model_copy(update={"lexical_prune_above": 0, "lexical_prune_df": 0.05}))
    dropped = pruning.searcher.common_terms("good practice cash couriers border", pruning.store.conn())
    assert dropped and "couriers" not in dropped and len(dropped) <= 3  # the two rarest terms always stay
    assert pruning.searcher.search("good practice cash couriers border", k=3, mode="lexical").results


def test_section_pages_span_the_body_chunks_of_each_section(sample_kb):
    """Each (document, section) gets the first and last page of its body chunks, several sections of a document
    asked at once (one query per document)."""
    con = sample_kb.store.conn()
    pairs = {(d, s) for d, s in con.execute("SELECT doc_id, section FROM chunks WHERE section != ''")}
    assert len({d for d, _ in pairs}) < len(pairs)  # some document has several sections: they are asked together
    expected = {}
    for d, s in pairs:
        first, last = con.execute(
            "SELECT min(page_start), max(page_end) FROM chunks WHERE doc_id=? AND section=? AND region='body'", (d, s)
        ).fetchone()
        if first is not None:
            expected[(d, s)] = (first, last)
    assert expected and sample_kb.store.section_spans(pairs | {("no-such-doc", "1 Intro")}) == expected
    hit = next(h for h in sample_kb.searcher.search("cash couriers", k=10).results if h.section)
    assert hit.section_pages == expected[(hit.document_id, hit.section)]


def test_a_section_as_long_as_a_document_part_is_not_offered_as_a_span_to_open():
    from pactkb.index.hybrid import SECTION_SPAN_PAGES, useful_span

    assert useful_span((3, 7)) == (3, 7) and useful_span((1, SECTION_SPAN_PAGES - 1)) == (1, SECTION_SPAN_PAGES - 1)
    assert useful_span((1, SECTION_SPAN_PAGES)) is None and useful_span((1, 97)) is None and useful_span(None) is None


def test_a_page_reads_each_passages_words_once_for_its_snippets_and_its_evidence(sample_kb):
    from pactkb.index import fold, snippet

    fold.passage_words.cache_clear()
    res = sample_kb.searcher.search("stablecoin wallets good practice", k=5)
    shown = [h.text or "" for h in res.results]
    info = fold.passage_words.cache_info()
    assert len(shown) >= 3 and info.misses == len(set(shown))  # scanned once each: the snippets
    assert info.hits >= 3  # the evidence's top 3 passages are the page's first 3: not scanned again
    for text in shown:  # the words a fresh \w+ scan finds
        assert fold.passage_words(text) == frozenset(fold._WORD.findall(text))
    terms = ["stablecoin", "wallets", "good", "practice"]
    assert snippet.lexical_snippet(shown[0], terms).html == res.results[0].snippet
    again = sample_kb.searcher.search("stablecoin wallets good practice", k=5)
    assert fold.passage_words.cache_info().misses == info.misses  # paging back: nothing scanned again
    assert [h.snippet for h in again.results] == [h.snippet for h in res.results]
    assert again.evidence == res.evidence


def translated(s, monkeypatch, words: list[str], language: str = "sr") -> None:
    """Make the searcher take every query for one in `language` rendered in English as `words`."""
    from pactkb.index.bridge import Translation

    monkeypatch.setattr(s, "query_language", lambda query: language)
    monkeypatch.setattr(s, "translation", lambda *a, **kw: Translation(words=words, by_dictionary=True))


def test_a_translated_query_is_judged_on_its_english_rendering(sample_kb, monkeypatch):
    s = sample_kb.searcher
    translated(s, monkeypatch, ["undeclared", "cash", "couriers", "border"])
    res = s.search("neprijavljeni gotovinski kuriri granica", k=5)
    assert res.evidence["known"] == 1.0 and res.no_good_answer is not None  # judged, not 'cannot tell': known words
    off = KnowledgeBase(sample_kb.settings.model_copy(update={"no_answer_translated": False})).searcher
    translated(off, monkeypatch, ["undeclared", "cash", "couriers", "border"])
    assert off.search("neprijavljeni gotovinski kuriri granica", k=5).no_good_answer is None  # its own words: unknown
    known, unknown = {"known": 1.0, "coverage": 1.0}, {"known": 0.0, "coverage": 0.0}
    assert s.evidence_rendering(unknown, "en", ["cash"]) is None  # English: its own words
    assert s.evidence_rendering(known, "es", ["cash"]) is None  # words the corpus knows: its own words
    assert s.evidence_rendering(unknown, "sr", ["cash", "couriers"]) == "cash couriers"


def test_words_a_translator_left_untranslated_do_not_count_against_the_rendering(sample_kb, monkeypatch):
    """A native word the rendering kept as typed and the corpus does not know ('kuriri') is the translator's gap, not
    the user's: it neither lowers 'known' nor leaves 'coverage' short (it used to flag answerable questions); an
    unknown English word of the rendering still counts."""
    s = sample_kb.searcher
    query = "neprijavljeni gotovinski kuriri granica"
    translated(s, monkeypatch, ["undeclared", "cash", "couriers", "border"])
    clean = s.search(query, k=5).evidence
    translated(s, monkeypatch, ["undeclared", "cash", "kuriri", "couriers", "border"])
    assert s.search(query, k=5).evidence == clean
    translated(s, monkeypatch, ["undeclared", "cash", "zzyzx", "couriers", "border"])
    assert s.search(query, k=5).evidence["known"] < clean["known"]


def test_a_translated_querys_evidence_never_reveals_invisible_vocabulary(sample_kb, monkeypatch):
    s = sample_kb.searcher
    translated(s, monkeypatch, ["banana", "containers"])  # only in the restricted SOCTA extract
    anon = s.search("banane kontejneri", k=5, filters=Filters(clearance="public"))
    assert anon.evidence["known"] == 0.0 and anon.no_good_answer is None
    cleared = s.search("banane kontejneri", k=5, filters=Filters(clearance="restricted"))
    assert cleared.evidence["known"] == 1.0 and cleared.no_good_answer is not None
