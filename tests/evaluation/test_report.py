"""The report (evaluation/report.py) reads the latency benchmark's profile, recall, RSS and soak fields and shows each
issue-18 target beside the measured figure."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest

from pactkb.evaluation import report


def latency_ms(p50: float, p95: float) -> dict[str, dict[str, float]]:
    return {m: {"p50": p50, "p95": p95, "p99": p95} for m in ("hybrid", "dense", "lexical")}


def store(chunks: int, p50: float, p95: float, **extra: Any) -> dict[str, Any]:
    return {
        "chunks": chunks,
        "index": "ivf",
        "latency_ms": latency_ms(p50, p95),
        "profile_ms": {"hybrid": {"encode": 6.0, "dense": 0.5, "lexical": 3.0, "total": p50}},
        "recall@10_vs_exact": 0.99,
        "dense_build_seconds": 1.0,
        "rss_mb_after_load": 300.0,
        "disk_mb": 10.0,
        "faiss_disk_mb": 5.0,
        **extra,
    }


RESULTS = {
    "bench-latency": {
        "queries": 95,
        "real": {"chunks": 5259, "index": "flat", "in_process_ms": latency_ms(12, 20), "profile_ms": {}},
        "synthetic": [
            store(10_000, 10.0, 20.0),
            store(100_000, 14.0, 29.0, http_ms=latency_ms(25, 40)),
            store(
                1_000_000,
                26.0,
                70.0,
                rss_mb_after_queries=3000.0,
                rss_mb_peak=3500.0,
                soak={
                    "rss_mb_start": 3000.0,
                    "rss_mb_end": 3010.0,
                    "seconds": 600.2,
                    "queries": 9000,
                    "rss_mb_growth": 10.0,
                },
            ),
        ],
    },
    "bench-load": [
        {
            "clients": 8,
            "mode": "hybrid",
            "throughput_rps": 120.0,
            "throughput_min": 110,
            "throughput_max": 125,
            "errors": 0,
        }
    ],
}


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "load", lambda name: RESULTS.get(name))


def test_each_target_is_shown_with_its_measured_figure_and_whether_it_is_met(saved) -> None:
    rows = {target: (measured, met) for target, _, measured, met, _ in report.issue18_rows()}
    assert rows["in-process hybrid p50 ≤ 15 ms at 100k"] == ("14.0 ms", True)
    assert rows["in-process hybrid p95 ≤ 60 ms at 1M"] == ("70.0 ms", False)
    assert rows["p50 at 100k ≤ 1.5 × p50 at 10k"] == (1.4, True)
    assert rows["p50 at 1M ≤ 2.5 × p50 at 10k"] == (2.6, False)
    assert rows["HTTP hybrid p50 ≤ 30 ms at 100k (loopback)"] == (25, True)
    assert rows["8 clients, shared corpus: ≥ 100 req/s hybrid, zero errors (range of 3 runs)"][1] is True
    assert rows["RSS at 1M chunks reported"] == ("3000.0 MB (peak 3500.0)", True)
    assert rows["no RSS growth over a 10-minute query soak (1M)"][1] is True  # 10 MB of 3,000: within 2%
    assert rows["ingest ≥ 0.90 of the raw encoder throughput (default encoder)"] == (None, None)  # not run


def test_the_rendered_sections_show_targets_commands_and_stages(saved) -> None:
    out: list[str] = []
    report.issue18_section(out)
    report.stage_section(out, RESULTS["bench-latency"])
    text = "\n".join(out)
    assert "| in-process hybrid p50 ≤ 15 ms at 100k | 53 ms | 14.0 ms | yes | bench-latency |" in text
    assert "- bench-latency: `python -m pactkb.evaluation.bench.latency" in text and "--soak 600" in text
    assert "| store | chunks | encode | dense | lexical | total |" in text
    assert "| synthetic | 1,000,000 | 6.0 (23%) | 0.5 (2%) | 3.0 (12%) | 26.0 (100%) |" in text


def test_the_dense_sweep_of_each_approximate_index_is_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    row = {"recall@10": 0.98, "recall@100": 0.95, "filtered_recall@10": 0.99, "dense_search_p50_ms": 4.0}
    lat = dict(RESULTS["bench-latency"])
    lat["synthetic"] = [
        store(100_000, 14.0, 29.0, ivf_sweep={"64": row}, ivf_nprobe=64),
        store(1_000_000, 26.0, 70.0, index="hnsw", hnsw_m=32, hnsw_ef_search=768, hnsw_sweep={"768": row}),
    ]
    monkeypatch.setattr(report, "load", lambda name: lat if name == "bench-latency" else None)
    out: list[str] = []
    report.speed_sections(out, {})
    text = "\n".join(out)
    assert (
        "IVF nprobe sweep at 100,000 chunks (in use: nprobe 64" in text and "| 64 | 0.98 | 0.95 | 0.99 | 4.0 |" in text
    )
    assert "HNSW efSearch sweep at 1,000,000 chunks (M 32; in use: efSearch 768" in text
    assert "| 768 | 0.98 | 0.95 | 0.99 | 4.0 |" in text
    lat["synthetic"][1]["hnsw_ef_construction"] = 200  # newer results name the graph's construction list too
    out = []
    report.speed_sections(out, {})
    assert "HNSW efSearch sweep at 1,000,000 chunks (M 32, efConstruction 200; in use: efSearch 768" in "\n".join(out)


def test_the_throughput_target_needs_the_cold_run_too(monkeypatch: pytest.MonkeyPatch) -> None:
    cold = [{**RESULTS["bench-load"][0], "throughput_rps": 80.0, "throughput_min": 70, "throughput_max": 90}]
    monkeypatch.setattr(report, "load", lambda name: {**RESULTS, "bench-load-cold": cold}.get(name))
    rows = {target: (measured, met) for target, _, measured, met, _ in report.issue18_rows()}
    measured, met = rows["8 clients, shared corpus: ≥ 100 req/s hybrid, zero errors (range of 3 runs)"]
    assert met is False and "caches of one entry: 80.0 req/s (70–90)" in measured


def test_http_breakdown_and_the_method_are_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    lat = dict(RESULTS["bench-latency"])
    first = {"p50": 30.0, "p95": 50.0, "p99": 60.0}
    lat["real"] = {
        **lat["real"],
        "in_process_ms": {m: {**v, "first_pass": first} for m, v in lat["real"]["in_process_ms"].items()},
        "http_ms": {m: {**v, "first_pass": {**first, "p50": 33.0}} for m, v in latency_ms(20, 40).items()},
        "http_breakdown_ms": {
            "hybrid": {
                "client": 20.0,
                "server_total": 18.5,
                "search": 16.0,
                "client_minus_server": 1.5,
                "server_minus_search": 2.5,
                "part_auth": 0.0,
                "part_dispatch": 0.4,
            }
        },
    }
    monkeypatch.setattr(report, "load", lambda name: lat if name == "bench-latency" else None)
    out: list[str] = []
    report.speed_sections(out, {})
    text = "\n".join(out)
    assert report.HTTP_METHOD in text and "### Where an HTTP request's time goes" in text
    assert report.HTTP_METHOD_BEFORE not in text
    assert "| shared corpus 5,259 | hybrid | 20.0 | 18.5 | 16.0 | 1.5 | 2.5 | dispatch 0.4 | 30.0 / 33.0 |" in text


def test_a_partial_peer_run_keeps_the_other_collections_rows() -> None:
    earlier = [{"collection": "scifact (test)", "p": 1}, {"collection": "domain set", "p": 2}]
    merged = report.merge_rows(earlier, [{"collection": "domain set", "p": 3}], "collection")
    assert merged == [
        {"collection": "scifact (test)", "p": 1, "earlier_run": True},
        {"collection": "domain set", "p": 3},
    ]
    assert report.merge_rows(None, [{"collection": "domain set"}], "collection") == [{"collection": "domain set"}]
    full = report.merge_rows(merged, [{"collection": "scifact (test)", "p": 4}], "collection")
    assert {"collection": "scifact (test)", "p": 4} in full  # a fresh measurement drops the earlier-run mark


def test_the_peer_step_runs_the_configured_collections() -> None:
    cmd = report.steps()["bench-peer"]["cmd"]
    assert cmd[cmd.index("--collections") + 1] == report.PEER_COLLECTIONS
    assert report.steps()["bench-peer"]["merge"] == "collection"


def test_http_figures_of_the_earlier_method_are_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    lat = {**RESULTS["bench-latency"], "real": {**RESULTS["bench-latency"]["real"], "http_ms": latency_ms(30, 50)}}
    monkeypatch.setattr(report, "load", lambda name: lat if name == "bench-latency" else None)
    out: list[str] = []
    report.speed_sections(out, {})
    text = "\n".join(out)
    assert report.HTTP_METHOD_BEFORE in text and report.HTTP_METHOD not in text
    assert "### Where an HTTP request's time goes" not in text


def test_the_vocabulary_pass_rates_are_shown_with_the_command_listing_failures(monkeypatch) -> None:
    saved = {
        "vocabulary": {"summary": {"hr": {"terms": 4, "passed": 3, "rate": 0.75}}, "terms": []},
        "vocabulary-synonyms": {"summary": {"en-synonyms": {"terms": 5, "passed": 4, "rate": 0.8}}, "in_corpus": 3},
        "vocabulary-heldout": {"summary": {"hr": {"terms": 2, "passed": 1, "rate": 0.5}}, "terms": []},
    }
    monkeypatch.setattr(report, "load", lambda name: saved.get(name))
    out: list[str] = []
    report.vocabulary_section(out)
    text = "\n".join(out)
    assert "| hr | 4 | 3 | 75% |  |" in text and "| en-synonyms (expansion) | 5 | 4 | 80% | 3 of 5 |" in text
    assert "--synonyms --failures`" in text and "| hr (held out) | 2 | 1 | 50% |  |" in text
    assert "`python -m pactkb.evaluation.vocabulary --data" in text and "--failures`" in text
    out = []
    monkeypatch.setattr(report, "load", lambda name: None)
    report.vocabulary_section(out)
    assert out == []  # not run: no section


def test_the_parallel_agreement_is_shown_with_held_out_rows(monkeypatch) -> None:
    row = {"pairs": 30, "agreement": 0.6123, "ci95": [0.51, 0.7], "top1": 0.4}
    saved = {
        "parallel": {"summary": {"mk": row}, "pairs": []},
        "parallel-heldout": {"summary": {"mk": {**row, "pairs": 15, "ci95": None}}},
    }
    monkeypatch.setattr(report, "load", lambda name: saved.get(name))
    out: list[str] = []
    report.parallel_section(out)
    text = "\n".join(out)
    assert "| mk | 30 | 0.612 | [0.510, 0.700] | 40% |" in text and "| mk (held out) | 15 | 0.612 |" in text
    assert "`python -m pactkb.evaluation.parallel --data" in text and "--worst 20`" in text
    out = []
    monkeypatch.setattr(report, "load", lambda name: None)
    report.parallel_section(out)
    assert out == []  # not run: no section


def test_each_step_records_its_machine_and_the_report_groups_steps_by_machine(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(report, "DATA", tmp_path)
    for step in ("domain", "beir-scifact"):
        (tmp_path / f"{step}.json").write_text("{}\n", encoding="utf-8")
    spec = {"cmd": [sys.executable, "-c", "print('{\"queries\": 1}')"]}
    report.run_step("bench-latency", spec)  # a step run now records this machine
    machines = json.loads((tmp_path / "machines.json").read_text(encoding="utf-8"))
    assert set(machines) == {"bench-latency"} and machines["bench-latency"]["cores"] == os.cpu_count()
    assert {"cpu", "bf16", "vnni", "date"} <= set(machines["bench-latency"])
    out: list[str] = []
    report.machines_section(out)
    here = f"- {report.describe_machine(machines['bench-latency'])}: bench-latency"
    assert here in out and f"- {report.UNRECORDED}: beir-scifact, domain" in out  # machines.json is no step
