"""peer_txtai's --collections switch (the comparisons themselves need txtai and the real model: `make bench`)."""

from __future__ import annotations

import argparse
import sys

import pytest

from pactkb.evaluation.bench import peer_txtai


def test_collections_are_parsed_in_run_order_and_unknown_ones_named() -> None:
    assert peer_txtai.collections_arg("domain") == ("domain",)
    assert peer_txtai.collections_arg("domain, scifact") == ("scifact", "domain")
    with pytest.raises(argparse.ArgumentTypeError, match="'beir'"):
        peer_txtai.collections_arg("domain,beir")
    with pytest.raises(argparse.ArgumentTypeError, match="at least one"):
        peer_txtai.collections_arg(",")


@pytest.mark.parametrize(
    ("argv", "ran"),
    [([], ["scifact", "domain"]), (["--collections", "domain"], ["domain"]), (["--only", "scifact"], ["scifact"])],
)
def test_main_runs_only_the_chosen_comparisons(monkeypatch, capsys, argv, ran) -> None:
    called: list[str] = []
    row = {
        "collection": "x",
        "pactkb": {"index_s": None, "ndcg@10": 0.5, "p50_ms": 1.0, "p95_ms": 2.0},
        "txtai": {"index_s": None, "ndcg@10": 0.4, "p50_ms": 1.5, "p95_ms": 2.5},
        "ratio_pactkb_to_txtai": {"index_time": None, "ndcg@10": 1.25, "p50_latency": 0.67},
    }
    monkeypatch.setattr(peer_txtai, "scifact", lambda *a: called.append("scifact") or row)
    monkeypatch.setattr(peer_txtai, "domain", lambda *a: called.append("domain") or row)
    monkeypatch.setattr(sys, "argv", ["peer_txtai", *argv, "--json"])
    peer_txtai.main()
    assert called == ran and capsys.readouterr().out.count('"collection"') == len(ran)
