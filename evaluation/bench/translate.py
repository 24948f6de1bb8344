"""Query translation benchmark: per language, the time Apertium takes to render a query in English (its result cache
cleared before each query; the pairs' programs already running), and with a store, the whole translation the search
uses (glossary, Apertium, the bridge's dictionaries for the words Apertium left), on the domain set's queries.

    python -m pactkb.evaluation.bench.translate [--data DATA_DIR] [--show] [--json]

--show prints each query's English words.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pactkb.evaluation.domain import load
from pactkb.evaluation.metrics import percentile
from pactkb.index.translate import PAIRS, Translator, run_apertium
from pactkb.settings import Settings

DOMAIN = Path(__file__).resolve().parents[1] / "domain"


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """Milliseconds a call takes, and its result."""
    t0 = time.perf_counter()
    out = fn(*args)
    return (time.perf_counter() - t0) * 1000, out


def run(settings: Settings, with_store: bool, show: bool = False) -> dict[str, Any]:
    """Per query language: count, p50/p95 ms of Apertium alone (uncached) and of the search's whole translation."""
    queries, _ = load(DOMAIN)
    translator = Translator.from_settings(settings)
    bridge = None
    if with_store:
        from pactkb.index.kb import KnowledgeBase

        bridge = KnowledgeBase(settings).searcher.bridge
    for lang, text in (("sr", "warm-up"), ("sr", "загревање"), ("mk", "загревање")):  # start each pair's programs
        translator.render(text, lang)
    rows: dict[str, dict[str, list[float]]] = {}
    for q in queries.values():
        lang = q["lang"]
        if lang not in PAIRS:
            continue
        run_apertium.cache_clear()
        ms, rendering = timed(translator.render, q["text"], lang)
        times = rows.setdefault(lang, {"apertium": [], "search": []})
        times["apertium"].append(ms)
        if bridge is not None:
            run_apertium.cache_clear()
            ms, translation = timed(bridge.translate, q["text"], lang)
            times["search"].append(ms)
            words = translation.words
        else:
            words = rendering.words(lambda w: []) if rendering is not None else []
        if show:
            print(f"{q['_id']} [{lang}] {q['text']}\n      -> {' '.join(words)}")
    return {
        lang: {
            "queries": len(t["apertium"]),
            **{f"{k}_p{p}": round(percentile(v, p), 1) for k, v in t.items() if v for p in (50, 95)},
        }
        for lang, t in sorted(rows.items())
    }


def main() -> None:
    """Print per-language translation latency."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--data", type=Path, help="a store (e.g. the shared corpus ingested): also time the whole translation"
    )
    ap.add_argument("--show", action="store_true", help="print each query's English words")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    settings = Settings(data=args.data) if args.data else Settings()
    result = run(settings, args.data is not None, args.show)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'lang':6} {'queries':>7} {'apertium p50/p95 ms':>20} {'search translation p50/p95 ms':>30}")
    for lang, r in result.items():
        search = f"{r['search_p50']:.1f} / {r['search_p95']:.1f}" if "search_p50" in r else "-"
        print(f"{lang:6} {r['queries']:>7} {r['apertium_p50']:>9.1f} / {r['apertium_p95']:<8.1f} {search:>30}")


if __name__ == "__main__":
    main()
