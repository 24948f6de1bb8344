"""Schema 4 migration benchmark: the time and the peak WAL size of re-indexing a schema-3 store's keyword text, in one
transaction (the shape of the migration before session 13) and in batches (Store.reindex_all_text), on a synthetic
store grown from a real one (evaluation/bench/latency.py's build_synthetic; a third of its documents each in English,
Serbian and Albanian, so the stemmers run as on the shared corpus).

    python -m pactkb.evaluation.bench.migration --data DATA_DIR --chunks 200000 --batches 0,5000 [--json]

`--batches 0` is one transaction for the whole store. Each run migrates a fresh copy of the same schema-3 file in this
process, while a thread reads the size of its `-wal` file every 20 ms.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from pactkb.evaluation.bench.latency import SYNTHETIC_PER_DOC, build_synthetic
from pactkb.index.store import DB_NAME, SCHEMA_VERSION, Store

ONE_TRANSACTION = 10**12  # a batch no store reaches
LANGUAGES = ("en", "sr", "sq")


class WalWatcher(threading.Thread):
    """The largest size a database's WAL file reaches while it runs (polled)."""

    def __init__(self, db: Path, every: float = 0.02) -> None:
        """Watch `db`-wal every `every` seconds until stopped."""
        super().__init__(daemon=True)
        self.wal = db.with_name(db.name + "-wal")
        self.every = every
        self.peak = 0
        self._done = threading.Event()

    def run(self) -> None:
        """Poll until stopped."""
        while not self._done.is_set():
            self.sample()
            time.sleep(self.every)

    def sample(self) -> None:
        """Read the WAL's size once."""
        try:
            self.peak = max(self.peak, self.wal.stat().st_size)
        except OSError:
            pass

    def stop(self) -> int:
        """Stop and return the peak in bytes."""
        self._done.set()
        self.join()
        self.sample()
        return self.peak


def schema_3_template(source: Path, target: Path, n: int) -> dict[str, Any]:
    """A synthetic store of n chunks (built once, reused with --keep) marked schema 3, checkpointed into one file."""
    db = target / DB_NAME
    info: dict[str, Any] = {"chunks": n}
    if not db.exists():
        info.update(build_synthetic(Store(source), target, n))
        store = Store(target)
        with store.transaction() as tx:  # build_synthetic's documents: syn0000000, ... of SYNTHETIC_PER_DOC chunks
            for doc in range(-(-n // SYNTHETIC_PER_DOC)):
                tx.update_document(f"syn{doc:07d}", {"language": LANGUAGES[doc % len(LANGUAGES)]})
        store.close()
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 3")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    info["store_mb"] = round(db.stat().st_size / 1e6, 1)
    return info


def migrate_copy(template: Path, run: Path, batch: int) -> dict[str, Any]:
    """Migrate a fresh copy of the template with this batch size (0: one transaction): seconds, CPU, peak WAL."""
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    shutil.copyfile(template / DB_NAME, run / DB_NAME)
    watcher = WalWatcher(run / DB_NAME)
    watcher.start()
    wall, cpu = time.perf_counter(), time.process_time()
    store = Store(run, reindex_batch=batch or ONE_TRANSACTION)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = watcher.stop()
    version = store.conn().execute("PRAGMA user_version").fetchone()[0]
    store.close()
    if version != SCHEMA_VERSION:
        raise SystemExit(f"{run}: the migration ended at schema {version}")
    return {
        "batch": batch or "all",
        "seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "peak_wal_mb": round(peak / 1e6, 1),
    }


def main() -> None:
    """Build (or reuse) the synthetic store, migrate a copy per batch size, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="A store with real documents (texts and vectors reused).")
    ap.add_argument("--chunks", type=int, default=200_000, help="Chunks in the synthetic store.")
    ap.add_argument("--batches", default="0,5000", help="Comma-separated batch sizes; 0 = one transaction.")
    ap.add_argument("--work", type=Path, default=Path("/tmp/pactkb-migration"), help="Where the stores are built.")
    ap.add_argument("--keep", action="store_true", help="Keep the synthetic store (reused on the next run).")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    template = args.work / f"schema3-{args.chunks}"
    result: dict[str, Any] = {"store": schema_3_template(args.data, template, args.chunks), "runs": []}
    try:
        for batch in (int(b) for b in args.batches.split(",") if b.strip()):
            result["runs"].append(migrate_copy(template, args.work / f"run-{batch}", batch))
            shutil.rmtree(args.work / f"run-{batch}", ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(template, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    s = result["store"]
    print(f"schema 3 -> {SCHEMA_VERSION}, {s['chunks']:,} chunks ({s['store_mb']} MB)")
    print(f"{'batch':>8} {'seconds':>8} {'cpu s':>8} {'peak WAL MB':>12}")
    for r in result["runs"]:
        print(f"{r['batch']:>8} {r['seconds']:>8} {r['cpu_seconds']:>8} {r['peak_wal_mb']:>12}")


if __name__ == "__main__":
    main()
