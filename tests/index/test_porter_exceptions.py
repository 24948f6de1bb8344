"""The words Porter conflates wrongly (index/fold.py PORTER_EXCEPTIONS, read by `index_word`): customs is not customer,
organised crime is not an organisation; in the index, in queries, in highlighting, and after a store made before them
is opened."""

import sqlite3

from pactkb.index.fold import PORTER_EXCEPTIONS, porter_stem, protect, stemmed_text
from pactkb.index.kb import KnowledgeBase
from pactkb.index.lexical import build_match, porter_token
from pactkb.index.snippet import matches
from pactkb.index.store import DB_NAME, SCHEMA_VERSION, Store
from pactkb.settings import Settings


def test_each_exception_has_its_own_token_that_porter_leaves_alone():
    for word, token in PORTER_EXCEPTIONS.items():
        assert porter_stem(word) == porter_token(word) == porter_stem(token) == token
    assert porter_stem("customer") == porter_stem("customers") == "custom" != porter_stem("customs")
    assert porter_stem("organised") == porter_stem("organized") != porter_stem("organisation")
    assert porter_stem("organisation") == porter_stem("organizations")  # British and American spellings meet
    assert porter_stem("international") != porter_stem("internal") and porter_stem("informal") != "inform"


def test_other_american_spellings_keep_porters_stem():
    assert porter_stem("organization") == porter_stem("organisation") and porter_stem("organized") == "organiseqq"
    assert porter_stem("offense") != porter_stem("offence")  # the synonym list groups those (index/synonyms/en.tsv)


def test_text_and_queries_are_protected_alike():
    assert protect("customs and customer care") == "customsqq and customer care"
    assert protect("organized crime, 2 organizations") == "organiseqq crime, 2 organisationqq"
    assert protect("accustoms") == "accustoms"  # whole words only
    assert protect("customs_office customs2") == "customsqq_office customs2"  # tokens as FTS5's unicode61 cuts them
    assert build_match("customs*") == '"customsqq"*'  # a prefix too (FTS5 would stem it to "custom*")
    assert "customsqq" in stemmed_text("Customs officers", "en") and "customsqq" in stemmed_text("Customs", "sr")
    assert build_match('customs "organised crime"') == '"organiseqq crime" OR "customsqq"'


def test_highlighting_keeps_them_apart():
    text = "Customs officers asked the customer."
    assert [text[a:b] for a, b in matches(text, ["customs"])] == ["Customs"]
    assert [text[a:b] for a, b in matches(text, ["customers"])] == ["customer"]
    assert [t[a:b] for t in ["The organisation"] for a, b in matches(t, ["organization"])] == ["organisation"]


def test_a_store_made_before_them_is_reindexed_when_opened(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "customs.txt").write_text("Customs officers seize undeclared cash at the border.", encoding="utf-8")
    (docs / "bank.txt").write_text("Customer due diligence: the bank knows its customers.", encoding="utf-8")
    settings = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, field_glossaries=False)
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([docs])
    kb.store.close()
    con = sqlite3.connect(settings.data / DB_NAME)  # as version 3 indexed it: folded, no exceptions
    con.execute("UPDATE chunks_fts SET body = lower((SELECT c.text FROM chunks c WHERE c.id = chunks_fts.rowid))")
    con.execute("UPDATE chunks_fts SET title = lower(title)")
    con.execute("PRAGMA user_version = 3")
    con.commit()
    con.close()
    assert Store(settings.data).conn().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    found = KnowledgeBase(settings).searcher.search("customs", mode="lexical", k=5).results
    assert [h.file for h in found] == ["customs.txt"]
