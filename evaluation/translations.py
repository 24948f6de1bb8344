"""Query translation, query by query: the users' languages beside their English originals on one half of the domain set.

    python -m pactkb.evaluation.translations --data DIR [--split dev] [--json]

For every query in sr/hr/bs/sq/mk of the half (dev by default: tune on it, read test figures only from
`pactkb eval --split test`), prints the native query, the language pactkb detected, Apertium's rendering with the
words it left untranslated, the English words that were searched (`query_translation`), the English original, and
hybrid nDCG@10 of the native query and of its English original, worst gap first; then per-language means. The
causes of each gap are for a reader to classify (wrong sense, unknown word, inflection, script, word order, encoder).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.evaluation.domain import BALKAN, load, score_mode
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

DOMAIN = Path(__file__).resolve().parent / "domain"


def analyse(kb: KnowledgeBase, root: Path = DOMAIN, split: str = "dev") -> dict[str, Any]:
    """Per query of the half in the users' languages: renderings and native vs English-original nDCG@10 (hybrid)."""
    queries, qrels = load(root)
    chosen = {
        q: v
        for q, v in queries.items()
        if v["lang"] in BALKAN and v.get("en") and qrels.get(q) and v.get("split") == split
    }
    if not chosen:
        return {"split": split, "model": kb.encoder.name, "by_language": {}, "queries": []}
    doc_file = kb.store.source_names()
    native = score_mode(kb, chosen, qrels, "hybrid", doc_file)["per_query"]
    english = score_mode(kb, {q: {**v, "text": v["en"]} for q, v in chosen.items()}, qrels, "hybrid", doc_file)
    searcher = kb.searcher
    translator = searcher.bridge.translator if searcher.bridge is not None else None
    rows = []
    for qid, v in chosen.items():
        detected = searcher.query_language(v["text"])
        rendering = translator.render(v["text"], detected) if translator is not None else None
        translation = searcher.translation(v["text"], detected, lambda t=v["text"]: kb.encoder.encode_queries([t])[0])
        rows.append(
            {
                "id": qid,
                "lang": v["lang"],
                "detected": detected,
                "native": v["text"],
                "apertium": " ".join(p.text for p in rendering.pieces) if rendering is not None else None,
                "untranslated": rendering.unknown if rendering is not None else None,
                "query_translation": translation.text,
                "english": v["en"],
                "ndcg_native": native[qid]["ndcg@10"],
                "ndcg_english": english["per_query"][qid]["ndcg@10"],
            }
        )
    rows.sort(key=lambda r: r["ndcg_native"] - r["ndcg_english"])
    means = {
        lang: {
            "queries": len(rs),
            "native": round(float(np.mean([r["ndcg_native"] for r in rs])), 4),
            "english_original": round(float(np.mean([r["ndcg_english"] for r in rs])), 4),
        }
        for lang in (*BALKAN, "all")
        if (rs := [r for r in rows if lang in ("all", r["lang"])])
    }
    return {"split": split, "model": kb.encoder.name, "by_language": means, "queries": rows}


def main() -> None:
    """Parse arguments, analyse, print."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="A store holding the shared corpus.")
    ap.add_argument("--domain", type=Path, default=DOMAIN)
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = analyse(KnowledgeBase(Settings(data=args.data)), args.domain, args.split)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    for r in result["queries"]:
        print(
            f"{r['id']} {r['lang']} (detected {r['detected']}) native {r['ndcg_native']:.3f} "
            f"English {r['ndcg_english']:.3f}\n  native:   {r['native']}\n  Apertium: {r['apertium']} "
            f"(untranslated: {r['untranslated']})\n  searched: {r['query_translation']}\n  original: {r['english']}"
        )
    print("\n| language | queries | native | English original |\n|---|---|---|---|")
    for lang, m in result["by_language"].items():
        print(f"| {lang} | {m['queries']} | {m['native']:.4f} | {m['english_original']:.4f} |")


if __name__ == "__main__":
    main()
