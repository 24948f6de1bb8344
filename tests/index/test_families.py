"""Document families: editions recognised at ingest, the current one preferred unless the query names another."""

from __future__ import annotations

from pathlib import Path

import pytest

from pactkb.index.families import edition_ordinal, edition_rank, family_key, query_edition
from pactkb.index.filters import Filters
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

FATF = "FATF"
REC_2020 = (
    "International Standards on Combating Money Laundering and the Financing of Terrorism & Proliferation – "
    "The FATF Recommendations (updated October 2020)"
)
REC_2025 = REC_2020.replace("2020", "2025")


def test_editions_of_one_text_share_a_family_and_are_ordered():
    assert family_key(REC_2020, FATF) == family_key(REC_2025, FATF) is not None
    threat = "report of the Secretary-General on the threat posed by ISIL (Da'esh) to international peace"
    sg20 = f"S/2025/72 – Twentieth {threat}"
    sg21 = f"S/2025/496 – Twenty-first {threat}"
    un = "United Nations Secretary-General"
    assert family_key(sg20, un) == family_key(sg21, un)
    assert edition_ordinal(sg21) == 21 and edition_ordinal("36th report of the Monitoring Team") == 36
    assert edition_rank(sg21, 2025) > edition_rank(sg20, 2025)
    assert edition_rank(REC_2025, 2025) > edition_rank(REC_2020, 2020)
    assert family_key(REC_2020, FATF) != family_key("Guidance on Correspondent Banking Services", FATF)
    assert family_key(REC_2020, FATF) != family_key(REC_2020, "Another publisher")
    assert family_key("Annual report", FATF) is None  # too little left to tell one text from another
    assert family_key("Booklet A", None, series="EMPACT booklets") == family_key(
        "Booklet B", "x", series="EMPACT Booklets"
    )


@pytest.mark.parametrize(
    ("query", "asked"),
    [
        ("What do the FATF standards now require for bearer shares?", (None, False, False)),
        ("FATF payment transparency 2025: LEI or BIC?", (2025, False, True)),
        ("Before the 2025 payment-transparency overhaul, which originator details were required?", (2025, True, True)),
        ("What did the previous edition say about PEPs?", (None, True, True)),
    ],
)
def test_what_a_query_says_about_editions(query, asked):
    assert query_edition(query) == asked


BODY = (
    "Cash couriers crossing the border must declare cash of 10 000 euro or more. Customs officers should check "
    "declarations against the travel documents and record every seizure of undeclared cash. "
)


@pytest.fixture
def editions_kb(tmp_path: Path) -> KnowledgeBase:
    """Three editions of one guidance (2019, 2022 public; 2025 confidential) and an unrelated document."""
    docs = tmp_path / "docs"
    docs.mkdir()
    rows = ["file\ttitle\tpublisher\tyear\tsensitivity"]
    for year, sens in ((2019, "public"), (2022, "public"), (2025, "confidential")):
        (docs / f"guide-{year}.txt").write_text(f"{BODY}Edition note {year}.", encoding="utf-8")
        rows.append(f"guide-{year}.txt\tGuidance on cash couriers at borders ({year} edition)\tCEPOL\t{year}\t{sens}")
    (docs / "other.txt").write_text("Correspondent banking needs due diligence on respondent banks.", encoding="utf-8")
    (docs / "MANIFEST.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    kb = KnowledgeBase(Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, dictionaries=""))
    kb.indexer.ingest([docs])
    return kb


def years(res) -> list[int]:
    """Years of the results' documents, in rank order."""
    return [h.year for h in res.results]


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_the_newest_edition_leads_an_undated_query_and_the_named_year_a_dated_one(editions_kb, mode):
    s = editions_kb.searcher
    res = s.search("declare cash couriers border customs", mode=mode, collapse=False)
    assert years(res)[0] == 2025
    older = [h for h in res.results if h.year in (2019, 2022)]
    assert older and all(h.superseded_by and h.superseded_by["year"] == 2025 for h in older)
    assert s.search("declare cash couriers border customs 2022", mode=mode, collapse=False).results[0].year == 2022
    assert s.search("before 2025: declare cash couriers border", mode=mode, collapse=False).results[0].year in (
        2019,
        2022,
    )
    current = s.search(
        "declare cash couriers border customs", mode=mode, collapse=False, filters=Filters(current_only=True)
    )
    assert {h.year for h in current.results if h.year} == {2025}


def test_superseded_weight_one_switches_the_whole_edition_preference_off(editions_kb):
    s = editions_kb.searcher
    s.settings = editions_kb.settings.model_copy(update={"superseded_weight": 1.0})
    res = s.search("declare cash couriers border customs", mode="lexical", collapse=False)
    assert years(res)[0] != 2025  # neither demotion nor twin ordering: the older twins keep their (tied) places
    assert any(h.superseded_by for h in res.results)  # older editions are still labelled


def test_editions_above_the_callers_clearance_change_nothing_the_caller_sees(editions_kb):
    s = editions_kb.searcher
    public = Filters(clearance="public")
    res = s.search("declare cash couriers border customs", mode="lexical", collapse=False, filters=public)
    assert 2025 not in years(res)
    assert years(res)[0] == 2022  # the newest edition this caller may see
    assert all(h.superseded_by is None or h.superseded_by["year"] == 2022 for h in res.results)
    current = s.search(
        "declare cash couriers border customs",
        mode="lexical",
        collapse=False,
        filters=Filters(clearance="public", current_only=True),
    )
    assert {h.year for h in current.results if h.year} == {2022}


def test_the_current_filter_is_a_named_filter_with_a_clear_error():
    assert Filters.from_mapping({"current": "true"}).current_only is True
    with pytest.raises(ValueError, match="current"):
        Filters.from_mapping({"current": "maybe"})


def test_a_version_2_store_gains_regions_and_families_without_reingesting(editions_kb):
    import sqlite3

    from pactkb.index.store import DB_NAME, SCHEMA_VERSION, Store

    data = editions_kb.settings.data
    editions_kb.store.close()
    con = sqlite3.connect(data / DB_NAME)
    con.execute("DROP INDEX documents_family")
    for table, column in (
        ("chunks", "region"),
        ("documents", "series"),
        ("documents", "edition"),
        ("documents", "family"),
        ("documents", "edition_rank"),
    ):
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()
    store = Store(data)
    assert store.conn().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    families = {r[0] for r in store.conn().execute("SELECT family FROM documents WHERE title LIKE 'Guidance%'")}
    assert len(families) == 1 and None not in families
    assert {r[0] for r in store.conn().execute("SELECT DISTINCT region FROM chunks")} == {"body"}
    kb2 = KnowledgeBase(editions_kb.settings)
    assert (
        kb2.searcher.search("declare cash couriers border customs", mode="lexical", collapse=False).results[0].year
        == 2025
    )
