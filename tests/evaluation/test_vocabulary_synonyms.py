"""The English field synonyms list: read apart from the users' languages, rendered with the expansion, and checked
against what the documents use."""

from __future__ import annotations

from pathlib import Path

from pactkb.evaluation.vocabulary import (
    LISTS,
    SYNONYM_LIST,
    check,
    corpus_uses,
    expansion_renderer,
    list_paths,
    load_terms,
)
from pactkb.index.kb import KnowledgeBase
from pactkb.index.synonyms import load_synonyms
from pactkb.settings import Settings


def test_the_synonym_list_is_well_formed_and_not_a_query_language():
    terms = load_terms(LISTS / SYNONYM_LIST)
    assert len(terms) >= 150 and all(t.english for t in terms)
    assert all(p.name != SYNONYM_LIST for p in list_paths())  # `--lang` lists stay the users' languages


def test_the_builtin_synonyms_carry_most_of_the_listed_document_wording():
    """A floor under the shipped list's coverage (257 of 324 when written): a group dropped or broken fails here."""
    syn = load_synonyms()
    checked = check(lambda text, lang: " ".join([text, *syn.expand(text).added]), load_terms(LISTS / SYNONYM_LIST))
    assert sum(c.passed for c in checked) / len(checked) >= 0.75
    passed = {c.text for c in checked if c.passed}
    assert {"smurfing", "CDD", "bitcoin ATM", "terror financing", "organized crime", "UBOs"} <= passed


def test_the_renderer_adds_the_expansion_and_the_corpus_check_searches_phrases(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kiosks.txt").write_text(
        "Virtual asset kiosks let customers buy bitcoin for cash. Structuring keeps deposits under thresholds.",
        encoding="utf-8",
    )
    kb = KnowledgeBase(Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, dictionaries=""))
    kb.indexer.ingest([docs])
    render = expansion_renderer(kb)
    assert "virtual asset kiosk" in render("bitcoin ATM", "en-synonyms")
    assert render("nothing listed here", "en-synonyms") == "nothing listed here"
    uses = corpus_uses(kb)
    assert uses(("radiological dispersal device", "virtual asset kiosk"))  # one alternative is enough
    assert not uses(("radiological dispersal device",))
    assert not uses(("kiosk asset virtual",))  # a phrase, not a bag of words
