"""Distributed ingestion (index/distributed.py) on a simulated two-node Ray cluster: one CPU a node, on this machine."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import ray
from ray.cluster_utils import Cluster
from typer.testing import CliRunner

from pactkb.cli.main import app
from pactkb.corpus.generate import SAMPLE_DIR
from pactkb.index.distributed import RayIngest, RayUnavailable, check_reachable, extract_task
from pactkb.index.filters import Filters
from pactkb.index.kb import KnowledgeBase
from pactkb.index.pipeline import SourceFile
from pactkb.index.store import Store
from pactkb.settings import Settings
from tests.conftest import scanned_pdf

pytestmark = pytest.mark.ray
STORE_MB = 80  # object store per node: the sample corpus is a few hundred kB
FAST_FAILURE = {"health_check_period_ms": 500, "health_check_failure_threshold": 4}  # a removed node noticed in ~2 s


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A head node without CPUs (the driver: this test process) and two worker nodes with one CPU each."""
    c = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 0,
            "object_store_memory": STORE_MB << 20,
            "include_dashboard": False,
            "_system_config": FAST_FAILURE,
        },
    )
    for _ in range(2):
        c.add_node(num_cpus=1, object_store_memory=STORE_MB << 20)
    ray.init(address=c.address, log_to_driver=False)
    c.wait_for_nodes()
    yield c
    ray.shutdown()
    c.shutdown()


TEST_ENV = {"PACTKB_MODEL": "fake:64", "PACTKB_PARSE_WORKERS": "0", "PACTKB_DICTIONARIES": "", "PACTKB_APERTIUM": ""}
# the --json fields that may differ: timings, and vectors computed (the same text in two documents in flight at once is
# embedded by both, where the local path, one document at a time, reuses the first one's vector)
TIMING = {"seconds", "encode_seconds", "chunks_embedded", "stages", "worker_cpu_seconds"}  # how long, not what
NOT_IN_JSON = {"documents", "removed_documents"}  # IngestSummary fields the command does not print


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, dict]:
    """The local path's ingestion of the sample corpus, once per module: its data directory and --json summary."""
    data = tmp_path_factory.mktemp("local") / "data"
    out = run_cli(["ingest", str(SAMPLE_DIR), "--data", str(data), "--json"])
    return data, out


def run_cli(args: list[str]) -> dict:
    """`pactkb …` in a fresh interpreter with the test settings; its --json output (and no Ray without --ray)."""
    script = f"""
import json, sys
from typer.testing import CliRunner
from pactkb.cli.main import app
result = CliRunner().invoke(app, {args!r})
assert result.exit_code == 0, result.output
print(json.dumps({{"summary": json.loads(result.stdout), "ray": "ray" in sys.modules}}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACTKB_")} | TEST_ENV
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def without_timing(summary: dict) -> dict:
    """A --json summary (or an IngestSummary's dict) without its timings (checking the vectors computed are bounded
    by the local run's and the chunks)."""
    assert summary["chunks_embedded"] <= summary["chunks"]
    return {k: v for k, v in summary.items() if k not in TIMING | NOT_IN_JSON}


def ray_settings(settings: Settings, data: Path, **extra: object) -> Settings:
    """The test settings (fake encoder, in-process parsing) with two embedding actors that, with the parse tasks,
    still fit on one node when the other is lost."""
    values = {"ray_embedders": 2, "ray_embedder_cpus": 0.25, "ray_parse_cpus": 0.25, **extra}
    return settings.model_copy(update={"data": data, **values})


def contents(data: Path) -> tuple[list[tuple], dict[tuple[str, int], np.ndarray]]:
    """Documents (id, title, pages, chunks) and chunks (document, ord, text, pages, section), and each chunk's vector
    by (document, ord), from a store."""
    store = Store(data)
    try:
        _, docs = store.list_documents(Filters(), limit=1000)
        rows: list[tuple] = sorted((d.id, d.title, d.pages, d.chunk_count) for d in docs)
        vectors: dict[tuple[str, int], np.ndarray] = {}
        for d in docs:
            chunks = store.doc_chunks(d.id)
            by_id = store.vectors([c["id"] for c in chunks])
            rows += [(d.id, c["ord"], c["text"], c["page_start"], c["page_end"], c["section"]) for c in chunks]
            vectors |= {(d.id, c["ord"]): by_id[c["id"]] for c in chunks}
        return rows, vectors
    finally:
        store.close()


def assert_same_store(local: Path, distributed: Path) -> None:
    """Same documents and chunks, vectors within 1e-5, and no chunk twice."""
    rows_a, vec_a = contents(local)
    rows_b, vec_b = contents(distributed)
    assert rows_a == rows_b and len(rows_a) == len(set(rows_a))
    assert vec_a.keys() == vec_b.keys() and len(vec_a) == sum(1 for r in rows_b if len(r) == 6)
    worst = max(float(np.abs(vec_a[k] - vec_b[k]).max()) for k in vec_a)
    assert worst <= 1e-5


def test_two_nodes_ingest_what_the_local_path_does(cluster, reference, settings, sample_dir, tmp_path):
    local_data, local = reference
    kb = KnowledgeBase(ray_settings(settings, tmp_path / "ray"))
    runner = RayIngest(kb.indexer)
    summary = kb.indexer.ingest([sample_dir], run_todo=runner)
    assert without_timing(summary.to_dict()) == without_timing(local["summary"])
    assert local["summary"]["chunks_embedded"] <= summary.chunks_embedded
    assert summary.indexed == 9 and not summary.failed
    for stage in ("parse", "chunk", "encode", "write", "wait"):  # measured by the tasks, the actors and the driver
        assert summary.stages[stage] > 0, stage
    assert summary.worker_cpu_seconds > 0 and summary.encode_seconds > 0
    assert len({ray.get(a.node.remote()) for a in runner.actors}) == 2  # the actors were spread over both nodes
    assert_same_store(local_data, tmp_path / "ray")
    again = kb.indexer.ingest([sample_dir], run_todo=RayIngest(kb.indexer))  # incremental: nothing to do
    assert (again.indexed, again.unchanged, again.chunks_embedded) == (0, 9, 0)


def test_file_bytes_reach_workers_through_the_object_store(cluster, settings, sample_dir):
    """A worker parses a file it cannot see (a path that exists nowhere) from the bytes put in the object store."""
    original = sample_dir / "otna-2024-cyber-attacks.pdf"
    elsewhere = SourceFile(Path("/nowhere/on/the/workers") / original.name)
    doc, needs_ocr = ray.get(extract_task.remote(ray.put(original.read_bytes()), elsewhere, settings, "pypdf"))
    assert not isinstance(doc, str) and not needs_ocr
    assert doc.path == elsewhere.path and doc.pages and doc.meta.title and doc.pdf_text == "pypdf"
    shared = settings.model_copy(update={"ray_shared_paths": True})  # a declared shared path is read where it is
    by_pdfium, _ = ray.get(extract_task.remote(str(original), SourceFile(original), shared, "pdfium"))
    assert by_pdfium.sha256 == doc.sha256 and by_pdfium.pdf_text == "pdfium"  # the task's extractor, not the settings'
    missing, _ = ray.get(extract_task.remote(str(elsewhere.path), elsewhere, shared, "pypdf"))
    assert missing == "not a file or not readable"


def test_a_bad_file_fails_alone_as_it_does_locally(cluster, settings, tmp_path):
    """A file that cannot be parsed is reported with the local path's reason; the others are written."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("Cash couriers cross the border with undeclared currency.\n" * 20)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a PDF")
    local = KnowledgeBase(settings.model_copy(update={"data": tmp_path / "local"})).indexer.ingest([folder])
    kb = KnowledgeBase(ray_settings(settings, tmp_path / "ray"))
    distributed = kb.indexer.ingest([folder], run_todo=RayIngest(kb.indexer))
    assert distributed.failed == local.failed and [f["file"] for f in local.failed] == [str(folder / "broken.pdf")]
    assert distributed.indexed == local.indexed == 1 and distributed.chunks == local.chunks


def test_scanned_pages_are_ocrd_by_a_task_as_locally(cluster, settings, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    scanned_pdf(folder / "scan.pdf", ["Cash couriers at border", "crossings carry undeclared", "currency in vehicles."])
    local = KnowledgeBase(settings.model_copy(update={"data": tmp_path / "local"})).indexer.ingest([folder])
    kb = KnowledgeBase(ray_settings(settings, tmp_path / "ray"))
    distributed = kb.indexer.ingest([folder], run_todo=RayIngest(kb.indexer))
    assert local.pages_ocr == distributed.pages_ocr == 1 and not distributed.failed
    assert distributed.stages["ocr"] > 0  # the OCR task's time reaches the summary
    assert_same_store(tmp_path / "local", tmp_path / "ray")
    [chunk] = kb.store.doc_chunks(distributed.documents[0])
    assert "undeclared" in chunk["text"]


def test_cli_ray_json_summary_equals_the_local_one(cluster, reference, settings, sample_dir, tmp_path, monkeypatch):
    """`pactkb ingest --ray ADDRESS --json` (joining the running cluster) prints the local run's summary."""
    for key, value in {**TEST_ENV, "PACTKB_RAY_EMBEDDERS": "2", "PACTKB_RAY_EMBEDDER_CPUS": "0.25"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PACTKB_RAY_PARSE_CPUS", "0.25")
    args = ["ingest", str(sample_dir), "--data", str(tmp_path / "b"), "--json", "--ray", cluster.address]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert without_timing(summary) == without_timing(reference[1]["summary"])
    assert summary["stages"]["parse"] > 0 and summary["stages"]["encode"] > 0  # a --ray run's timings are filled
    assert ray.is_initialized()  # a cluster the command joined is left running


def test_losing_a_node_mid_run_loses_and_duplicates_nothing(cluster, reference, settings, sample_dir, tmp_path):
    kb = KnowledgeBase(ray_settings(settings, tmp_path / "ray"))
    removed: list[str] = []

    def remove_a_node(doc_id: str) -> None:
        if not removed:  # after the first document is written: the node running embedding actor 0 goes
            node_id = ray.get(runner.actors[0].node.remote())
            node = next(n for n in cluster.list_all_nodes() if n.node_id == node_id)
            cluster.remove_node(node, allow_graceful=False)
            removed.append(node_id)

    runner = RayIngest(kb.indexer, on_written=remove_a_node)
    try:
        summary = kb.indexer.ingest([sample_dir], run_todo=runner)
        assert removed and not summary.failed and summary.indexed == 9
        assert removed[0] not in {ray.get(a.node.remote()) for a in runner.actors}  # actor 0 restarted elsewhere
        assert_same_store(reference[0], tmp_path / "ray")
    finally:
        cluster.add_node(num_cpus=1, object_store_memory=STORE_MB << 20)


def test_ray_local_from_the_command_line(reference, sample_dir, tmp_path):
    """`pactkb ingest corpus/sample --ray local --json` starts a cluster here and reports the local path's summary;
    without --ray nothing of Ray was imported (the reference run)."""
    out = run_cli(["ingest", str(sample_dir), "--data", str(tmp_path / "d"), "--json", "--ray", "local"])
    assert without_timing(out["summary"]) == without_timing(reference[1]["summary"])
    assert out["ray"] and not reference[1]["ray"]


def test_an_address_where_nothing_listens_fails_fast():
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RayUnavailable, match=f"--ray 127.0.0.1:{port}: no Ray cluster answers there"):
        check_reachable(f"127.0.0.1:{port}", timeout=2)
