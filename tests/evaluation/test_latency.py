"""The latency benchmark's measurements (evaluation/bench/latency.py) on a small store with the fake encoder."""

from __future__ import annotations

import pytest

from pactkb.evaluation.bench.latency import (
    build_synthetic,
    dense_recall,
    in_process,
    measure_size,
    median_stages,
    over_http,
    print_tables,
    server_timing,
    soak,
)
from pactkb.evaluation.bench.load import load_queries
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import SEARCH_MODES

TOTAL = "total;dur=8.00"
QUERIES = ["cash couriers at the border", "money laundering through casinos", "terrorist financing indicators"]


@pytest.fixture
def sample_kb(settings, sample_dir) -> KnowledgeBase:
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([sample_dir])
    return kb


def test_in_process_reports_latency_and_the_median_stages_per_mode(sample_kb, monkeypatch) -> None:
    encoded: list[str] = []
    encode = sample_kb.encoder.encode_queries
    monkeypatch.setattr(sample_kb.encoder, "encode_queries", lambda texts: encoded.extend(texts) or encode(texts))
    latency, stages = in_process(sample_kb, QUERIES, repeat=2)
    assert set(latency) == set(stages) == set(SEARCH_MODES)
    assert all(0 < latency[m]["p50"] <= latency[m]["p95"] <= latency[m]["p99"] for m in SEARCH_MODES)
    assert {"encode", "dense", "lexical", "fusion", "rows", "snippets", "total"} <= set(stages["hybrid"])
    assert "dense" not in stages["lexical"] and "lexical" not in stages["dense"]  # stages that never ran are left out
    assert all(encoded.count(q) == 4 for q in QUERIES)  # encoded anew each time: twice in hybrid, twice in dense
    assert all(0 < latency[m]["first_pass"]["p50"] <= latency[m]["first_pass"]["p99"] for m in SEARCH_MODES)


def test_median_stages_takes_each_stage_median() -> None:
    profiles = [{"encode": 1.0, "dense": 0.0, "total": 2.0}, {"encode": 3.0, "dense": 0.0, "total": 5.0}]
    profiles.append({"encode": 2.0, "dense": 0.0, "total": 9.0})
    assert median_stages(profiles) == {"encode": 2.0, "total": 5.0}


def test_synthetic_store_recall_against_exact_search_for_each_index(
    settings, sample_kb, tmp_path, monkeypatch, capsys
) -> None:
    for name, value in {"MODEL": "fake:64", "DICTIONARIES": "", "APERTIUM": ""}.items():
        monkeypatch.setenv(f"PACTKB_{name}", value)  # measure_size reads its settings from the environment
    build_synthetic(sample_kb.store, tmp_path / "syn", 2000)
    flat = measure_size(tmp_path / "syn", QUERIES, {"ivf": [4, 64], "hnsw": [16]})
    assert flat["index"] == "flat" and flat["recall@10_vs_exact"] == flat["filtered_recall@10_vs_exact"] == 1.0
    assert flat["vectors"] == 2000 and flat["rss_mb_after_queries"] > 0 and "hybrid" in flat["profile_ms"]
    real = {"chunks": 40, "index": "flat", "in_process_ms": flat["latency_ms"], "profile_ms": flat["profile_ms"]}
    print_tables(
        {
            "queries": 3,
            "real": {
                **real,
                "deep_paging": {},
                "max_result_window": 200,
                "http_breakdown_ms": {
                    "hybrid": {
                        "client": 9.5,
                        "server_total": 8.0,
                        "search": 7.0,
                        "client_minus_server": 1.5,
                        "server_minus_search": 1.0,
                        "part_dispatch": 0.5,
                    }
                },
            },
            "synthetic": [{"chunks": 2000, **flat}],
        }
    )
    printed = capsys.readouterr().out
    assert "| synthetic | 2000 | flat | hybrid |" in printed and "Median ms per search stage" in printed
    assert "| 2000 | flat | 1.0 | 1.0 |" in printed
    assert "| shared corpus 40 | hybrid | 9.5 | 8.0 | 7.0 | 1.5 | 1.0 | dispatch 0.5 |" in printed
    ivf = KnowledgeBase(settings.model_copy(update={"data": tmp_path / "syn", "dense_index": "ivf"}))
    ivf.dense.build(kind="ivf")  # the published file is measure_size's flat index
    got = dense_recall(ivf, ivf.encoder.encode_queries(QUERIES), {"ivf": [1, 4096]})
    assert ivf.dense.kind == "ivf" and set(got["ivf_sweep"]) == {"1", "4096"}
    assert got["ivf_sweep"]["4096"]["recall@10"] == got["ivf_sweep"]["4096"]["filtered_recall@10"] == 1.0
    assert got["ivf_sweep"]["1"]["recall@100"] < 1.0  # one list of many misses neighbours: the sweep measures
    assert got["ivf_nprobe"] == ivf.dense.nprobe and got["recall_depth"] == 100
    hnsw = KnowledgeBase(settings.model_copy(update={"data": tmp_path / "syn", "dense_index": "hnsw"}))
    hnsw.dense.build(kind="hnsw")
    got = dense_recall(hnsw, hnsw.encoder.encode_queries(QUERIES), {"hnsw": [16, 1024]})
    assert hnsw.dense.kind == "hnsw" and set(got["hnsw_sweep"]) == {"16", "1024"} and "ivf_sweep" not in got
    assert got["hnsw_ef_construction"] == hnsw.dense.hnsw.ef_construction
    assert got["hnsw_sweep"]["1024"]["recall@100"] >= 0.99 and got["hnsw_sweep"]["1024"]["filtered_recall@10"] == 1.0
    assert got["hnsw_ef_search"] == hnsw.dense.ef_search and got["hnsw_tombstones"] == 0


def test_soak_reports_rss_at_start_and_end(sample_kb) -> None:
    out = soak(sample_kb, QUERIES, 1.0)
    assert out["queries"] > 0 and out["seconds"] >= 1.0
    assert out["rss_mb_start"] > 0 and out["rss_mb_end"] > 0 and len(out["rss_mb_samples"]) >= 2
    assert out["rss_mb_growth"] == pytest.approx(out["rss_mb_end"] - out["rss_mb_start"], abs=0.11)


def test_over_http_asks_as_in_process_does_and_splits_each_request(tmp_path, monkeypatch) -> None:
    """Comparable with in_process: one fresh server, modes in the same order, each query `repeat` times, with caches
    too small for a query's vector or translation to come back; each mode's median breakdown from Server-Timing."""
    from pactkb.evaluation.bench import latency

    servers: list[dict[str, str]] = []
    asked: list[tuple[str, str]] = []

    class Proc:
        def terminate(self) -> None:
            pass

        def wait(self, timeout: float) -> None:
            pass

    class Client:
        def __init__(self, url: str) -> None:
            assert url == "http://server"

        def get(self, path: str, params: dict) -> str:
            asked.append((params["q"], params.get("mode", "hybrid")))
            return "auth;dur=0.10, dispatch;dur=0.50, search;dur=7.00, search.encode;dur=5.00, other;dur=0.40, " + TOTAL

        def close(self) -> None:
            pass

    def start_server(data, workers, env):
        servers.append(env)
        return Proc(), "http://server"

    monkeypatch.setattr(latency, "start_server", start_server)
    monkeypatch.setattr(latency, "LoopbackClient", Client)
    out, parts = over_http(tmp_path, QUERIES, repeat=2)
    assert len(servers) == 1 and servers[0] == latency.FORGETFUL_CACHES
    cache = int(servers[0]["PACTKB_QUERY_CACHE"])  # a query's vector and its rendering's: evicted before it returns
    assert 2 <= cache < len(load_queries()) and servers[0]["PACTKB_TRANSLATION_CACHE"] == str(cache)
    measured = asked[1:]  # the first request warms the server up
    expected = [(q, m) for m in latency.MODES for _ in range(2) for q in QUERIES]
    assert measured == expected
    assert set(out) == set(parts) == set(SEARCH_MODES)
    assert all({"p50", "p95", "p99", "first_pass"} <= set(out[m]) for m in SEARCH_MODES)
    b = parts["hybrid"]
    assert b["server_total"] == 8.0 and b["search"] == 7.0 and b["server_minus_search"] == 1.0
    assert b["client_minus_server"] == pytest.approx(b["client"] - 8.0, abs=0.01)
    assert b["part_dispatch"] == 0.5 and not any(k.startswith("part_search") for k in b)


def test_loopback_client_reads_server_timing_and_fails_on_an_error_status(tmp_path, sample_dir) -> None:
    """The measuring client against a real app on loopback (uvicorn in a thread)."""
    import socket
    import threading

    import uvicorn

    from pactkb.api.app import create_app
    from pactkb.evaluation.bench.latency import LoopbackClient
    from pactkb.evaluation.bench.load import free_port
    from pactkb.settings import Settings

    settings = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0)
    KnowledgeBase(settings).indexer.ingest([sample_dir])
    port = free_port()
    app = create_app(settings, load_in_background=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            thread.join(0.05)
        client = LoopbackClient(f"http://127.0.0.1:{port}")
        timing = server_timing(client.get("/search", {"q": "cash couriers", "k": 10, "mode": "hybrid"}))
        assert {"search", "search.encode", "total"} <= set(timing)
        assert server_timing(client.get("/search", {"q": "money laundering"}))["total"] > 0  # the connection is reused
        client.con.sock.shutdown(socket.SHUT_RDWR)  # as when the server closes an idle keep-alive connection
        assert server_timing(client.get("/search", {"q": "terrorist financing"}))["total"] > 0
        with pytest.raises(SystemExit, match="HTTP 422"):
            client.get("/search", {"q": "x", "k": 0})
        client.close()
    finally:
        server.should_exit = True
        thread.join(10)


def test_server_timing_header_parses_names_and_ms() -> None:
    assert server_timing("auth;dur=0.05, search.encode;dur=12.30, total;dur=20.00") == {
        "auth": 0.05,
        "search.encode": 12.3,
        "total": 20.0,
    }
    assert server_timing("") == {}
