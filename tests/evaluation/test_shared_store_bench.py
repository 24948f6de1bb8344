"""Search quality on the PostgreSQL store against the embedded default, on a BEIR collection: the benchmark builds the
collection in both and compares scores and rankings."""

from __future__ import annotations

from pathlib import Path

import pytest

from pactkb.evaluation.beir import Collection, build_index, cache_dir_for
from pactkb.evaluation.bench.shared_store import beir_run
from pactkb.settings import SEARCH_MODES, Settings

pytestmark = pytest.mark.postgres


def test_a_beir_collection_scores_and_ranks_the_same_on_both_stores(
    tiny_beir: Path, pg_database: str, tmp_path: Path
) -> None:
    """Every mode: nDCG and the other metrics equal, rankings identical, the vectors read back from PostgreSQL equal the
    embedded index's, and one encoding pass served both stores."""
    s = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, cache_dir=tmp_path / "cache")
    report = beir_run(tiny_beir, pg_database, tmp_path / "work", s)
    assert report["queries"] == 3 and report["embedded_index"]["documents"] == 4
    assert report["shared_ingest"]["documents"] == 4 and report["shared_ingest"]["chunks_encoded"] == 0
    assert report["chunks"] == {"embedded": 4, "shared": 4} and report["same_chunks"]
    assert report["max_vector_difference"] == 0.0
    assert [m["mode"] for m in report["modes"]] == list(SEARCH_MODES)
    for m in report["modes"]:
        assert m["embedded"] == m["replica_A"] == m["replica_B"], m["mode"]
        assert m["same_ranking"] == {"embedded_vs_replica_A": True, "embedded_vs_replica_B": True}
        assert m["queries_ranked_differently"] == 0
    lexical = next(m for m in report["modes"] if m["mode"] == "lexical")
    assert lexical["replica_B"]["ndcg@10"] == 1.0  # scored for real: the tiny collection's lexical answers are exact
    assert cache_dir_for(Collection(tiny_beir, "test"), s).exists()  # the embedded side is the cached eval index


def test_a_ranking_that_differs_is_reported(
    tiny_beir: Path, pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison can fail: a document missing from the shared store shows in the scores and the rankings."""
    s = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, cache_dir=tmp_path / "cache")
    build_index(Collection(tiny_beir, "test"), s)  # the embedded index holds all four documents
    every = Collection.corpus
    monkeypatch.setattr(Collection, "corpus", lambda self: (r for r in every(self) if r.id != "d1"))
    report = beir_run(tiny_beir, pg_database, tmp_path / "work", s)
    assert report["chunks"] == {"embedded": 4, "shared": 3} and not report["same_chunks"]
    lexical = next(m for m in report["modes"] if m["mode"] == "lexical")
    assert lexical["same_ranking"]["embedded_vs_replica_B"] is False and lexical["queries_ranked_differently"] == 1
    assert lexical["replica_B"]["ndcg@10"] < lexical["embedded"]["ndcg@10"]
