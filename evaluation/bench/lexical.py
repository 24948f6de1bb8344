"""Lexical engines side by side: SQLite FTS5 (`Fts5Index`), tantivy (`TantivyIndex`) and bm25s, over the same
folded and stemmed tokens (index/lexical.py `index_tokens`), as the search calls them (top 100 candidates).

- Quality: nDCG@10 of BM25 alone on SciFact and ObliQA (BEIR layout, test split; one chunk per document: title and
  text) and on the domain set (page-level judgments over the shared corpus, test half and all queries; queries
  stemmed in their language as searches do).
- Speed: p50/p95 per engine on synthetic stores (built as evaluation/bench/latency.py builds them) at each size,
  without filters, for an anonymous caller (clearance public) and restricted to one document type (a third of the
  documents); FTS5 also with the terms in more than lexical_prune_df of the chunks dropped, as searches above
  lexical_prune_above chunks do. Build time and disk size.
- Incremental cost: adding a 100-chunk document, renaming it (its chunks' titles are re-indexed) and deleting it —
  the store's transaction (FTS5's rows are written inside it) and tantivy's sync after it; bm25s has no incremental
  update, so its cost is a rebuild.
- Filters inside retrieval: on the domain store one document is made restricted; a public caller's results must never
  hold it and must equal the results without it in the index (checked for every engine, counted in `filter_leaks`).

    python -m pactkb.evaluation.bench.lexical --data DATA_DIR --synthetic 100000,1000000 --work DIR [--keep] [--json]

DATA_DIR is a store of the shared corpus (pactkb ingest ../shared/corpus/pdf); synthetic stores reuse its texts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from pactkb.evaluation.beir import Collection
from pactkb.evaluation.bench.latency import build_synthetic, pct
from pactkb.evaluation.domain import credit
from pactkb.evaluation.domain import load as load_domain
from pactkb.evaluation.metrics import evaluate, per_query
from pactkb.index import evidence
from pactkb.index.filters import Filters
from pactkb.index.fold import porter_stem, query_terms, stemmed_text, stemmer_for
from pactkb.index.lexical import Fts5Index, LexicalIndex, index_tokens, parse_query
from pactkb.index.store import NewChunk, Store, Tx, fts_title
from pactkb.index.tantivy_index import FOLDER, TantivyIndex
from pactkb.settings import Settings

ENGINES = ("fts5", "tantivy", "bm25s")
BENCHMARKS = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
DOMAIN = Path(__file__).resolve().parents[1] / "domain"
DEPTH = 100  # candidates per retriever, as searches ask (Settings.candidates)
K = 10


class Bm25s:
    """bm25s over the same tokens (a bench-only engine: words and stems only, no phrases or prefixes, no incremental
    update); filters through its weight mask, from the store's admitted chunks."""

    def __init__(self, store: Store) -> None:
        """Index every chunk of the store."""
        self.store = store
        vocab: dict[str, int] = {}
        ids: list[np.ndarray] = []  # int32 token ids per chunk (Python int lists take ~8x the memory at 1M)
        rows: list[int] = []
        with store.snapshot() as con:
            for cid, _, title, section, text, lang in store.lexical_rows(con):
                toks = index_tokens(fts_title(title, section)) + index_tokens(stemmed_text(text, lang))
                ids.append(np.fromiter((vocab.setdefault(t, len(vocab)) for t in toks), np.int32, len(toks)))
                rows.append(cid)
        self.chunk_ids = np.array(rows, dtype=np.int64)
        self.vocab = vocab
        self.model = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
        self.model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)

    def search(
        self,
        query: str,
        k: int,
        filters: Filters,
        title_weight: float = 1.0,
        drop: set[str] | frozenset[str] = frozenset(),
        stemmers: tuple[str, ...] = (),
        con: sqlite3.Connection | None = None,
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, score) of the query's words and stems (phrases and prefixes as plain words)."""
        q = parse_query(query, drop, stemmers)
        toks = [t for part in (*q.phrases, *q.prefixes, *q.terms, *q.stems) for t in index_tokens(part)]
        toks = list(dict.fromkeys(t for t in toks if t in self.vocab))
        if not toks:
            return []
        mask = None
        if not filters.is_empty():
            mask = np.isin(self.chunk_ids, self.store.filtered_chunk_ids(filters)).astype(np.float32)
        scores = self.model.get_scores(toks, weight_mask=mask)
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(self.chunk_ids[i]), float(scores[i])) for i in top if scores[i] > 0]

    def sync(self, con: sqlite3.Connection | None = None) -> int:
        """Nothing: bm25s has no incremental update (a change means building it again)."""
        return 0

    def term_counts(self, stems: list[str], filters: Filters, con: sqlite3.Connection | None = None) -> dict[str, int]:
        """Chunks holding each token among those the filters admit."""
        admitted = None if filters.is_empty() else set(self.store.filtered_chunk_ids(filters).tolist())
        out = {}
        for stem in stems:
            if stem in self.vocab:
                rows = self.model.get_scores([stem]) > 0
                held = self.chunk_ids[rows]
                out[stem] = len(held) if admitted is None else len(admitted.intersection(held.tolist()))
        return out


def open_engine(name: str, store: Store, fresh: bool = True) -> tuple[LexicalIndex, float]:
    """(engine over a store, seconds to build its index; FTS5's is written with the chunks)."""
    t0 = time.perf_counter()
    engine: LexicalIndex
    if name == "fts5":
        engine = Fts5Index(store)
    elif name == "tantivy":
        engine = TantivyIndex(store)
        engine.rebuild() if fresh else engine.sync()
    else:
        engine = Bm25s(store)
    return engine, round(time.perf_counter() - t0, 2)


# -- quality -------------------------------------------------------------------------------------------------------
def record_store(target: Path, records: Iterable[tuple[str, str, str]], language: str = "en") -> Store:
    """A store of one document per (id, title, text), one chunk each, zero vectors (lexical engines only)."""
    store = Store(target)
    batch: list[tuple[str, str, str]] = []

    def flush() -> None:
        with store.transaction() as tx:
            for doc_id, title, text in batch:
                tx.insert_document(
                    {
                        "id": doc_id,
                        "sha256": doc_id,
                        "title": title,
                        "language": language,
                        "kind": "record",
                        "source_name": doc_id,
                        "size": len(text),
                        "pages": 1,
                        "origin": "record",
                    }
                )
                h = hashlib.sha256(text.encode()).hexdigest()
                vec = np.zeros(1, dtype=np.float32)
                tx.insert_chunks(doc_id, title, [NewChunk(0, text, h, 1, 1, None, None, "", 1, vec)], language)
        batch.clear()

    for rec in records:
        batch.append(rec)
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()
    return store


def beir_quality(root: Path, work: Path) -> dict[str, Any]:
    """nDCG@10 of each engine on a BEIR collection's test split (one chunk per document)."""
    coll = Collection(root, "test")
    coll.validate()
    target = work / f"beir-{root.name}"
    if not (target / "pactkb.sqlite3").exists():
        shutil.rmtree(target, ignore_errors=True)
        record_store(target, ((r.id, r.title, r.text) for r in coll.corpus()))
    store = Store(target)
    qrels = coll.qrels()
    queries = coll.queries(set(qrels))
    out: dict[str, Any] = {"collection": root.name, "split": "test", "queries": len(queries)}
    for name in ENGINES:
        engine, build = open_engine(name, store)
        run: dict[str, dict[str, float]] = {}
        lat: list[float] = []
        for qid, text in queries.items():
            t0 = time.perf_counter()
            found = engine.search(text, DEPTH, Filters())
            lat.append((time.perf_counter() - t0) * 1000)
            run[qid] = {f"{cid}": s for cid, s in found}
        doc_of = {str(cid): doc for cid, doc in store.chunk_documents().items()}
        run = {q: {doc_of[c]: s for c, s in hits.items()} for q, hits in run.items()}
        out[name] = {"ndcg@10": round(evaluate(qrels, run, ("ndcg@10",))["ndcg@10"], 4), "build_s": build, **pct(lat)}
    return out


def domain_quality(data: Path, work: Path) -> dict[str, Any]:
    """nDCG@10 (page-level credit, as evaluation/domain.py) of each engine on the domain set, on a copy of the
    shared-corpus store; and the filter check (a restricted document never reaches a public caller, and hiding it
    changes nothing else)."""
    target = work / "domain-store"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with sqlite3.connect(data / "pactkb.sqlite3") as src, sqlite3.connect(target / "pactkb.sqlite3") as dst:
        src.backup(dst)
    store = Store(target)
    queries, qrels = load_domain(DOMAIN)
    doc_file = store.source_names()
    out: dict[str, Any] = {"collection": "domain", "queries": len(queries)}
    engines = {name: open_engine(name, store) for name in ENGINES}
    for name, (engine, build) in engines.items():
        per: dict[str, dict[str, float]] = {}
        q_r: dict[str, dict[str, int]] = {}
        for qid, q in queries.items():
            if not qrels.get(qid):
                continue
            stem = stemmer_for(q.get("lang"))
            found = engine.search(q["text"], DEPTH, Filters(), stemmers=(stem,) if stem else ())[:K]
            rows = store.hit_rows([c for c, _ in found], Filters(), text=False)
            hits = [(doc_file[rows[c]["doc_id"]], rows[c]["page_start"], rows[c]["page_end"]) for c, _ in found]
            credited = credit(hits, qrels[qid])
            per[qid] = {(f"r{c}" if c is not None else f"x{n}"): float(K - n) for n, c in enumerate(credited)}
            q_r[qid] = {f"r{j}": r.grade for j, r in enumerate(qrels[qid])}
        scores = per_query(q_r, per, "ndcg@10")
        test = [s for q, s in scores.items() if queries[q].get("split") == "test"]
        out[name] = {
            "ndcg@10_test": round(float(np.mean(test)), 4),
            "ndcg@10_all": round(float(np.mean(list(scores.values()))), 4),
            "test_queries": len(test),
            "build_s": build,
        }
    out["filter_leaks"] = filter_check(store, engines, [q["text"] for q in queries.values()])
    return out


def filter_check(store: Store, engines: dict[str, tuple[LexicalIndex, float]], texts: list[str]) -> dict[str, int]:
    """Per engine: queries where a public caller saw the restricted document, or saw other results than with that
    document's chunks left out by a document filter (0 is right)."""
    top_doc = store.document_ids(Filters())[0]
    with store.transaction() as tx:
        tx.update_document(top_doc, {"sensitivity": "restricted"})
    others = tuple(d for d in store.document_ids(Filters()) if d != top_doc)
    hidden = set(store.filtered_chunk_ids(Filters(document_ids=(top_doc,))).tolist())
    leaks: dict[str, int] = {}
    for name, (engine, _) in engines.items():
        bad = 0
        for text in texts:
            public = [c for c, _ in engine.search(text, K, Filters(clearance="public"))]
            without = [c for c, _ in engine.search(text, K, Filters(document_ids=others))]
            bad += int(bool(hidden & set(public)) or public != without)
        leaks[name] = bad
    with store.transaction() as tx:
        tx.update_document(top_doc, {"sensitivity": "public"})
    return leaks


# -- speed ---------------------------------------------------------------------------------------------------------
def timed(
    engine: LexicalIndex, queries: list[tuple[str, tuple[str, ...]]], filters: Filters, drops: list[set[str]]
) -> dict[str, float]:
    """p50/p95/p99 ms of top-DEPTH searches (after one warm-up pass over the first ten)."""
    for text, stems in queries[:10]:
        engine.search(text, DEPTH, filters, stemmers=stems)
    lat = []
    for (text, stems), drop in zip(queries, drops, strict=True):
        t0 = time.perf_counter()
        engine.search(text, DEPTH, filters, drop=drop, stemmers=stems)
        lat.append((time.perf_counter() - t0) * 1000)
    return pct(lat)


def common_terms(index: LexicalIndex, text: str, n: int, share: float) -> set[str]:
    """The query terms a search above lexical_prune_above chunks leaves out (index/hybrid.py common_terms)."""
    terms = query_terms(text)
    if len(terms) <= 2:
        return set()
    return evidence.too_common(terms, index.term_counts(sorted({porter_stem(t) for t in terms}), Filters()), n, share)


def speed(store: Store, queries: list[tuple[str, tuple[str, ...]]], engines: tuple[str, ...]) -> dict[str, Any]:
    """Latency per engine and filter, build time and disk, on one store."""
    settings = Settings.model_construct()
    n = store.counts()["chunks"]
    filters = {
        "none": Filters(),
        "public": Filters(clearance="public"),
        "type=report": Filters(doc_types=("report",)),
    }
    none: list[set[str]] = [set() for _ in queries]
    out: dict[str, Any] = {"chunks": n}
    for name in engines:
        engine, build = open_engine(name, store)
        row: dict[str, Any] = {"build_s": build}
        print(f"{n} chunks: {name} built in {build} s", file=sys.stderr, flush=True)
        for label, f in filters.items():
            row[label] = timed(engine, queries, f, none)
        if name == "fts5":
            assert isinstance(engine, Fts5Index)
            t0 = time.perf_counter()
            drops = [common_terms(engine, t, n, settings.lexical_prune_df) for t, _ in queries]
            row["drop_lookup_ms_per_query"] = round((time.perf_counter() - t0) * 1000 / len(queries), 2)
            row["none, common terms dropped"] = timed(engine, queries, Filters(), drops)
        if name == "tantivy":
            row["disk_mb"] = round(
                sum(p.stat().st_size for p in (store.data_dir / "index" / FOLDER).rglob("*")) / 1e6, 1
            )
        out[name] = row
        del engine
    out["store_disk_mb"] = round((store.data_dir / "pactkb.sqlite3").stat().st_size / 1e6, 1)
    return out


def incremental(store: Store, engines: tuple[str, ...], repeat: int = 5) -> dict[str, Any]:
    """Median ms to add a 100-chunk document, rename it and delete it: the store's transaction (FTS5 rows inside) and
    tantivy's sync after each; bm25s: one rebuild."""
    rows = store.all_chunks()[:100]
    chunks = [
        NewChunk(j, r["text"], f"inc-{j}", 1, 1, None, None, "", 10, np.zeros(1, dtype=np.float32))
        for j, r in enumerate(rows)
    ]
    tantivy = TantivyIndex(store) if "tantivy" in engines else None
    if tantivy is not None:
        tantivy.sync()
    steps: dict[str, dict[str, list[float]]] = {s: {"store": [], "tantivy": []} for s in ("add", "update", "delete")}

    def step(label: str, write: Callable[[Tx], None]) -> None:
        t0 = time.perf_counter()
        with store.transaction() as tx:
            write(tx)
        steps[label]["store"].append((time.perf_counter() - t0) * 1000)
        if tantivy is not None:
            t0 = time.perf_counter()
            tantivy.sync()
            steps[label]["tantivy"].append((time.perf_counter() - t0) * 1000)

    for i in range(repeat):
        doc = f"incremental-{i}"

        def add(tx: Tx, doc: str = doc) -> None:
            record = {"id": doc, "sha256": doc, "title": "Incremental", "kind": "record", "source_name": doc}
            tx.insert_document({**record, "size": 1, "pages": 1})
            tx.insert_chunks(doc, "Incremental", chunks, "en")

        def rename(tx: Tx, doc: str = doc) -> None:
            tx.update_document(doc, {"title": "Incremental, renamed"})

        def delete(tx: Tx, doc: str = doc) -> None:
            tx.delete_document(doc)

        step("add", add)
        step("update", rename)
        step("delete", delete)
    out: dict[str, Any] = {
        s: {k: round(float(np.median(v)), 1) for k, v in parts.items() if v} for s, parts in steps.items()
    }
    if "bm25s" in engines:
        out["bm25s_rebuild_s"] = open_engine("bm25s", store)[1]
    return out


def query_set() -> list[tuple[str, tuple[str, ...]]]:
    """The domain queries with the stemmer of their language, as searches stem them."""
    queries, _ = load_domain(DOMAIN)
    return [(q["text"], (s,) if (s := stemmer_for(q.get("lang"))) else ()) for q in queries.values()]


def main() -> None:
    """Parse arguments, run the comparisons and print them (or JSON)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--data", type=Path, required=True, help="A store of the shared corpus (domain set, synthetic texts)."
    )
    ap.add_argument("--beir", type=Path, nargs="*", default=[BENCHMARKS / "scifact", BENCHMARKS / "obliqa"])
    ap.add_argument("--synthetic", default="100000,1000000", help="Comma-separated synthetic store sizes.")
    ap.add_argument("--work", type=Path, default=Path("/tmp/pactkb-lexical"), help="Where bench stores are built.")
    ap.add_argument("--engines", default=",".join(ENGINES), help="Engines for the speed runs (bm25s holds all in RAM).")
    ap.add_argument("--keep", action="store_true", help="Keep synthetic stores (reused on the next run).")
    ap.add_argument("--limit", type=int, default=0, help="Only the first N domain queries for the speed runs.")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-incremental", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (args.data / "pactkb.sqlite3").exists():
        ap.error(f"--data {args.data}: no store (run pactkb ingest first)")
    engines = tuple(e for e in args.engines.split(",") if e)
    result: dict[str, Any] = {"engines": list(engines), "depth": DEPTH}
    if not args.skip_quality:
        result["quality"] = [beir_quality(root, args.work) for root in args.beir]
        result["quality"].append(domain_quality(args.data, args.work))
    queries = query_set()[: args.limit or None]
    result["queries"] = len(queries)
    result["synthetic"] = []
    source = Store(args.data)
    for n in [int(x) for x in args.synthetic.split(",") if x]:
        target = args.work / f"synthetic-{n}"
        if not (target / "pactkb.sqlite3").exists():
            shutil.rmtree(target, ignore_errors=True)
            build_synthetic(source, target, n)
        store = Store(target)
        row = speed(store, queries, engines)
        print(f"{n} chunks: {json.dumps(row)}", file=sys.stderr, flush=True)
        if not args.skip_incremental:
            row["incremental_ms"] = incremental(store, engines)
        result["synthetic"].append(row)
        if not args.keep:
            shutil.rmtree(target, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    print(report(result))


def report(result: dict[str, Any]) -> str:
    """Markdown tables of a result."""
    lines = [
        "nDCG@10 of BM25 alone (top 100 candidates)",
        "| collection | " + " | ".join(ENGINES) + " |",
        "|---|---|---|---|",
    ]
    for q in result.get("quality", []):
        key = "ndcg@10" if q["collection"] != "domain" else "ndcg@10_test"
        label = f"{q['collection']} (test, {q['queries']} queries)" if key == "ndcg@10" else "domain (test half)"
        lines.append(f"| {label} | " + " | ".join(str(q[e][key]) for e in ENGINES) + " |")
        if q["collection"] == "domain":
            lines.append("| domain (all) | " + " | ".join(str(q[e]["ndcg@10_all"]) for e in ENGINES) + " |")
            lines.append(f"\nFilter check (queries with a leak or a shifted result, 0 is right): {q['filter_leaks']}")
    lines += ["", f"Latency of one top-{result['depth']} search, ms ({result.get('queries')} domain queries)"]
    lines += ["| chunks | engine | filter | p50 | p95 | p99 | build s |", "|---|---|---|---|---|---|---|"]
    for s in result["synthetic"]:
        for e in result["engines"]:
            row = s[e]
            for label, v in row.items():
                if isinstance(v, dict):
                    lines.append(
                        f"| {s['chunks']} | {e} | {label} | {v['p50']} | {v['p95']} | {v['p99']} | {row['build_s']} |"
                    )
    lines += ["", "Incremental cost, median ms (store transaction incl. FTS5 rows / tantivy sync after it)"]
    lines += ["| chunks | step | store (FTS5 inside) | tantivy sync |", "|---|---|---|---|"]
    for s in result["synthetic"]:
        inc = s.get("incremental_ms", {"add": {}, "update": {}, "delete": {}})
        for step in ("add", "update", "delete"):
            lines.append(f"| {s['chunks']} | {step} | {inc[step].get('store')} | {inc[step].get('tantivy', '')} |")
        if "bm25s_rebuild_s" in inc:
            lines.append(f"| {s['chunks']} | bm25s (rebuild) | | {inc['bm25s_rebuild_s']} s |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
