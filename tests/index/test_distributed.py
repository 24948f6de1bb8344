"""Distributed ingestion (index/distributed.py) on a simulated two-node Ray cluster: one CPU a node, on this machine."""

from __future__ import annotations

import json
import os
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
from pactkb.index.distributed import RayIngest, extract_task
from pactkb.index.filters import Filters
from pactkb.index.kb import KnowledgeBase
from pactkb.index.pipeline import IngestSummary, SourceFile
from pactkb.index.store import Store
from pactkb.settings import Settings

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


def ingest_local(settings: Settings, paths: list[Path]) -> IngestSummary:
    """The local path's ingestion (the reference)."""
    return KnowledgeBase(settings).indexer.ingest(paths)


def assert_same_store(local: Path, distributed: Path) -> None:
    """Same documents and chunks, vectors within 1e-5, and no chunk twice."""
    rows_a, vec_a = contents(local)
    rows_b, vec_b = contents(distributed)
    assert rows_a == rows_b and len(rows_a) == len(set(rows_a))
    assert vec_a.keys() == vec_b.keys() and len(vec_a) == sum(1 for r in rows_b if len(r) == 6)
    worst = max(float(np.abs(vec_a[k] - vec_b[k]).max()) for k in vec_a)
    assert worst <= 1e-5


def test_two_nodes_ingest_what_the_local_path_does(cluster, settings, sample_dir, tmp_path):
    local = ingest_local(settings.model_copy(update={"data": tmp_path / "local"}), [sample_dir])
    s = ray_settings(settings, tmp_path / "ray")
    kb = KnowledgeBase(s)
    runner = RayIngest(kb.indexer)
    summary = kb.indexer.ingest([sample_dir], run_todo=runner)
    assert not summary.failed and summary.indexed == local.indexed == 9
    assert (summary.chunks, summary.pages, summary.files) == (local.chunks, local.pages, local.files)
    assert sorted(summary.documents) == sorted(local.documents)
    assert len({ray.get(a.node.remote()) for a in runner.actors}) == 2  # the actors were spread over both nodes
    assert_same_store(tmp_path / "local", tmp_path / "ray")
    again = kb.indexer.ingest([sample_dir], run_todo=RayIngest(kb.indexer))  # incremental: nothing to do
    assert (again.indexed, again.unchanged, again.chunks_embedded) == (0, 9, 0)


def test_file_bytes_reach_workers_through_the_object_store(cluster, settings, sample_dir):
    """A worker parses a file it cannot see (a path that exists nowhere) from the bytes put in the object store."""
    original = sample_dir / "otna-2024-cyber-attacks.pdf"
    elsewhere = SourceFile(Path("/nowhere/on/the/workers") / original.name)
    doc, needs_ocr = ray.get(extract_task.remote(ray.put(original.read_bytes()), elsewhere, settings))
    assert not isinstance(doc, str) and not needs_ocr
    assert doc.path == elsewhere.path and doc.pages and doc.meta.title
    shared = settings.model_copy(update={"ray_shared_paths": True})  # a declared shared path is read where it is
    assert ray.get(extract_task.remote(str(original), SourceFile(original), shared))[0].sha256 == doc.sha256
    missing, _ = ray.get(extract_task.remote(str(elsewhere.path), elsewhere, shared))
    assert missing == "not a file or not readable"


def test_cli_ray_json_summary_equals_the_local_one(cluster, settings, sample_dir, tmp_path, monkeypatch):
    for key, value in {"MODEL": "fake:64", "PARSE_WORKERS": "0", "DICTIONARIES": "", "APERTIUM": ""}.items():
        monkeypatch.setenv(f"PACTKB_{key}", value)
    monkeypatch.setenv("PACTKB_RAY_EMBEDDERS", "2")
    monkeypatch.setenv("PACTKB_RAY_EMBEDDER_CPUS", "0.25")
    monkeypatch.setenv("PACTKB_RAY_PARSE_CPUS", "0.25")
    runner = CliRunner()
    local = runner.invoke(app, ["ingest", str(sample_dir), "--data", str(tmp_path / "a"), "--json"])
    distributed = runner.invoke(
        app, ["ingest", str(sample_dir), "--data", str(tmp_path / "b"), "--json", "--ray", cluster.address]
    )
    assert local.exit_code == distributed.exit_code == 0, distributed.output
    a, b = json.loads(local.stdout), json.loads(distributed.stdout)
    assert a.keys() == b.keys()
    timing = {"seconds", "encode_seconds"}
    assert {k: v for k, v in a.items() if k not in timing} == {k: v for k, v in b.items() if k not in timing}
    assert ray.is_initialized()  # a cluster the command joined is left running


def test_losing_a_node_mid_run_loses_and_duplicates_nothing(cluster, settings, sample_dir, tmp_path):
    ingest_local(settings.model_copy(update={"data": tmp_path / "local"}), [sample_dir])
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
        assert_same_store(tmp_path / "local", tmp_path / "ray")
    finally:
        cluster.add_node(num_cpus=1, object_store_memory=STORE_MB << 20)


def test_without_ray_nothing_of_ray_is_imported(sample_dir, tmp_path):
    """`pactkb ingest` without --ray, run in a fresh interpreter: Ray stays out of sys.modules."""
    script = f"""
import sys
from typer.testing import CliRunner
from pactkb.cli.main import app
result = CliRunner().invoke(app, ["ingest", {str(sample_dir)!r}, "--data", {str(tmp_path / "d")!r}, "--json"])
assert result.exit_code == 0, result.output
print(sorted(m for m in sys.modules if m == "ray" or m.startswith("ray.")))
"""
    env = {**os.environ, "PACTKB_MODEL": "fake:64", "PACTKB_DICTIONARIES": "", "PACTKB_APERTIUM": ""}
    env.pop("PACTKB_RAY_ADDRESS", None)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
