"""The contract every LexicalIndex (index/lexical.py) keeps, run against each registered implementation."""

from __future__ import annotations

from pathlib import Path

import pytest

from pactkb.index.filters import Filters
from pactkb.index.fold import porter_stem
from pactkb.index.lexical import LEXICAL_INDEXES, LexicalIndex, lexical_index
from pactkb.index.store import Store
from tests.index.contracts.conftest import add_document, new_store, remove_document

TEXTS = {
    "cash": (
        ["Cash couriers carry money across border crossings.", "Customs check undeclared cash at the border."],
        "Cash controls",
        "en",
        "guideline",
        "public",
    ),
    "cyber": (
        ["Ransomware encrypts hospital servers and demands payment.", "Investigations of ransomware gangs."],
        "Cyber threats",
        "en",
        "report",
        "restricted",
    ),
    "sr": (
        ["Čokolada i kokain su zaplenjeni na granici.", "Финансијске истраге прања новца."],
        "Finansijske istrage",
        "sr",
        "manual",
        "public",
    ),
}


@pytest.fixture(params=sorted(LEXICAL_INDEXES))
def indexed(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[LexicalIndex, Store, dict[str, list[int]]]:
    """(index, store, chunk ids per document) over the small corpus above, for each implementation."""
    store = new_store(tmp_path / "data")
    ids = {
        doc: add_document(store, doc, texts, title=title, language=lang, doc_type=dtype, sensitivity=sens)
        for doc, (texts, title, lang, dtype, sens) in TEXTS.items()
    }
    return lexical_index(store, request.param), store, ids


def test_results_are_ranked_chunk_ids_with_higher_better_scores(indexed: tuple) -> None:
    index, _, ids = indexed
    found = index.search("cash border", 10, Filters())
    assert {cid for cid, _ in found} == set(ids["cash"])
    assert all(isinstance(cid, int) and isinstance(score, float) for cid, score in found)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert found[0][0] == ids["cash"][0]  # both words, and the title's 'cash'
    assert len(index.search("cash border", 1, Filters())) == 1


def test_text_is_matched_folded_across_diacritics_and_scripts(indexed: tuple) -> None:
    index, _, ids = indexed
    assert [cid for cid, _ in index.search("cokolada", 5, Filters())] == [ids["sr"][0]]
    assert [cid for cid, _ in index.search("finansijske istrage", 5, Filters())][:1] == [ids["sr"][1]]  # Cyrillic text
    assert [cid for cid, _ in index.search("investigation", 5, Filters())] == [ids["cyber"][1]]  # English stems


def test_filters_and_clearance_are_applied_inside_the_search(indexed: tuple) -> None:
    index, _, ids = indexed
    assert index.search("ransomware", 5, Filters(clearance="public")) == []
    assert {c for c, _ in index.search("ransomware", 5, Filters(clearance="restricted"))} == set(ids["cyber"])
    assert {c for c, _ in index.search("cash ransomware", 5, Filters(doc_types=("report",)))} == set(ids["cyber"])
    assert {c for c, _ in index.search("cash ransomware", 5, Filters(document_ids=("cash",)))} == set(ids["cash"])


def test_phrases_dropped_terms_and_malformed_queries(indexed: tuple) -> None:
    index, _, ids = indexed
    assert [c for c, _ in index.search('"cash couriers"', 5, Filters())] == [ids["cash"][0]]
    assert {c for c, _ in index.search("customs ransomware", 5, Filters(), drop={"ransomware"})} == {ids["cash"][1]}
    assert {c for c, _ in index.search('cash AND ( "border', 5, Filters())} <= set(ids["cash"])  # no error
    assert index.search("", 5, Filters()) == [] and index.search("?!", 5, Filters()) == []


def test_the_query_language_stemmer_finds_other_inflections(indexed: tuple) -> None:
    index, _, ids = indexed
    assert index.search("granicom", 5, Filters()) == []
    assert [c for c, _ in index.search("granicom", 5, Filters(), stemmers=("serbian",))] == [ids["sr"][0]]


def test_term_counts_count_only_chunks_the_filters_admit(indexed: tuple) -> None:
    index, _, _ = indexed
    stems = [porter_stem("ransomware"), porter_stem("cash"), porter_stem("quasar")]
    everyone = index.term_counts(stems, Filters())
    assert everyone.get(stems[0]) == 2 and everyone.get(stems[1]) == 2 and everyone.get(stems[2], 0) == 0
    public = index.term_counts(stems, Filters(clearance="public"))
    assert public.get(stems[0], 0) == 0 and public.get(stems[1]) == 2


def test_chunks_deleted_from_the_store_leave_the_index(indexed: tuple) -> None:
    index, store, _ = indexed
    remove_document(store, "cash")
    assert index.search("cash", 5, Filters()) == []
    add_document(store, "cash2", ["Cash smuggling by couriers."])
    assert len(index.search("cash", 5, Filters())) == 1


def test_prefixes_and_title_weight(indexed: tuple) -> None:
    index, _, ids = indexed
    assert {c for c, _ in index.search("courie*", 5, Filters())} == {ids["cash"][0]}
    assert {c for c, _ in index.search("ransom*", 5, Filters())} == set(ids["cyber"])
    plain = dict(index.search("controls investigations", 5, Filters()))
    weighted = dict(index.search("controls investigations", 5, Filters(), title_weight=5.0))
    assert set(plain) == set(weighted) == {*ids["cash"], ids["cyber"][1]}  # 'controls' is in the cash title only
    assert weighted[ids["cash"][0]] / weighted[ids["cyber"][1]] > plain[ids["cash"][0]] / plain[ids["cyber"][1]]


def test_a_new_title_or_language_is_searchable(indexed: tuple) -> None:
    index, store, ids = indexed
    with store.transaction() as tx:
        tx.update_document("cyber", {"title": "Extortion software"})
    assert {c for c, _ in index.search("extortion", 5, Filters())} == set(ids["cyber"])
    assert index.search("threats", 5, Filters()) == []
    add_document(store, "hr", ["Policija je zaplijenila drogu na granici."], language=None)
    unstemmed = {c for c, _ in index.search("granicom", 5, Filters(), stemmers=("serbian",))}
    with store.transaction() as tx:
        tx.update_document("hr", {"language": "hr"})
    found = {c for c, _ in index.search("granicom", 5, Filters(), stemmers=("serbian",))}
    hr = set(store.filtered_chunk_ids(Filters(document_ids=("hr",))).tolist())
    assert not hr & unstemmed and hr <= found  # indexed by the Serbian stemmer once its language is known


def test_a_document_ingested_again_is_found_once(indexed: tuple) -> None:
    index, store, _ = indexed
    remove_document(store, "cash")
    new = add_document(store, "cash", ["Cash couriers again."], title="Cash controls")
    assert [c for c, _ in index.search("couriers", 5, Filters())] == new


def test_a_restricted_document_never_comes_back_and_shifts_nothing_else(indexed: tuple) -> None:
    index, store, ids = indexed
    add_document(store, "secret", ["Cash couriers cash border cash."] * 3, title="Cash", sensitivity="confidential")
    public = index.search("cash border couriers", 10, Filters(clearance="public"))
    assert [c for c, _ in public] and {c for c, _ in public} == set(ids["cash"])
    top1 = index.search("cash border couriers", 1, Filters(clearance="public"))
    assert top1 == public[:1]  # filtered inside retrieval: k results of what the caller may see


def test_words_porter_conflates_wrongly_stay_apart(tmp_path: Path) -> None:
    for name in sorted(LEXICAL_INDEXES):
        store = new_store(tmp_path / name)
        customs = add_document(store, "customs", ["Customs officers seize undeclared cash."], title="Border")
        customer = add_document(store, "customer", ["Customer due diligence of a bank customer."], title="Banks")
        crime = add_document(store, "crime", ["Organized criminal groups and organised crime."], title="Crime")
        npo = add_document(store, "npo", ["Non-profit organisations and organizations."], title="NPOs")
        index = lexical_index(store, name)
        assert {c for c, _ in index.search("customs", 5, Filters())} == set(customs), name
        assert {c for c, _ in index.search("customers", 5, Filters())} == set(customer), name
        assert {c for c, _ in index.search("organized crime", 5, Filters())} == set(crime), name  # not the NPOs
        assert {c for c, _ in index.search("organization", 5, Filters())} == set(npo), name  # either spelling
        counts = index.term_counts([porter_stem("customs"), porter_stem("customer")], Filters())
        assert counts == {porter_stem("customs"): 1, porter_stem("customer"): 1}, name
