"""Choose fusion defaults on a training/dev split (never on test).

Retrieves dense and lexical candidates once per query from the cached evaluation index, then sweeps
RRF k, the fusion weights and the title weight offline, printing nDCG@10 per setting.

    python -m pactkb.evaluation.tune ../shared/benchmarks/scifact --split train
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from pactkb.evaluation.beir import Collection, judged_index
from pactkb.evaluation.metrics import evaluate
from pactkb.index.filters import Filters
from pactkb.index.fusion import convex_fusion as convex
from pactkb.index.fusion import rrf
from pactkb.index.lexical import lexical_index
from pactkb.settings import Settings


def doc_run(ranked: list[tuple[int, float]], doc_of: dict[int, str], k: int = 100) -> dict[str, float]:
    """Best-passage document ranking from a ranked chunk list."""
    out: dict[str, float] = {}
    for cid, _ in ranked:
        d = doc_of[cid]
        if d not in out:
            out[d] = float(k - len(out))
            if len(out) == k:
                break
    return out


def main() -> None:
    """Sweep and print the best settings."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("collection", type=Path)
    ap.add_argument("--split", default="train")
    ap.add_argument("--cache-dir", type=Path, default=None)
    ap.add_argument("--depth", type=int, default=300)
    ap.add_argument("--title-weights", action="store_true", help="Also sweep the BM25 title weight.")
    args = ap.parse_args()
    settings = Settings(cache_dir=args.cache_dir) if args.cache_dir else Settings()
    coll = Collection(args.collection, args.split)
    qrels, queries, kb, doc_of = judged_index(coll, settings)
    ids = list(queries)
    vecs = kb.encoder.encode_queries([queries[q] for q in ids])
    kb.dense.sync()
    from pactkb.index.dense import AllowedSet

    dense = {q: kb.dense.search(vecs[i], args.depth, AllowedSet.everything()) for i, q in enumerate(ids)}
    weights = (0.5, 1.0, 2.0, 3.0) if args.title_weights else (1.0,)
    fts = lexical_index(kb.store, kb.settings.lexical)
    lexical = {tw: {q: fts.search(queries[q], args.depth, Filters(), tw) for q in ids} for tw in weights}
    print(f"dense only: {evaluate(qrels, {q: doc_run(dense[q], doc_of) for q in ids}, ('ndcg@10',))}")
    for tw, lex in lexical.items():
        print(
            f"lexical only, title weight {tw}: "
            f"{evaluate(qrels, {q: doc_run(lex[q], doc_of) for q in ids}, ('ndcg@10',))}"
        )
    rows = []
    for tw, rrf_k, wd, wl in itertools.product(lexical, (5, 10, 20, 40, 60, 100), (0.6, 0.8, 1.0, 1.2, 1.5), (1.0,)):
        run = {q: doc_run(rrf([(dense[q], wd), (lexical[tw][q], wl)], rrf_k), doc_of) for q in ids}
        rows.append((evaluate(qrels, run, ("ndcg@10",))["ndcg@10"], tw, rrf_k, wd, wl))
    rows.sort(reverse=True)
    print("ndcg@10  title_w  rrf_k  w_dense  w_lexical")
    for row in rows[:15]:
        score, tw, rrf_k, wd, wl = row
        print(f"{score:.4f}   {tw:.1f}      {rrf_k:<5d}  {wd:.1f}      {wl:.1f}")
    for label, key in (
        ("classic RRF (k 60, 1.0/1.0)", (1.0, 60, 1.0, 1.0)),
        ("pactkb default (k 5, 0.8/1.0)", (1.0, 5, 0.8, 1.0)),
    ):
        print(f"{label}: {next(r for r in rows if r[1:] == key)[0]:.4f}")
    print("convex fusion (title weight 1.0):")
    for alpha in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
        run = {q: doc_run(convex(dense[q], lexical[1.0][q], alpha), doc_of) for q in ids}
        print("  alpha {:.1f}: {:.4f}".format(alpha, evaluate(qrels, run, ("ndcg@10",))["ndcg@10"]))


if __name__ == "__main__":
    main()
