"""Parallel questions: does a question in the users' language find what the same question in English finds?

    python -m pactkb.evaluation.parallel --data DIR [--lang hr] [--lists DIR] [--worst N] [--summary] [--json]

evaluation/parallel/<lang>.tsv lists a practitioner's question as typed in the language beside the same question in
English: `native<TAB>english`. Both are searched as a user would (default hybrid search); the native ranking is then
judged by the English one: nDCG@10 with the English first ten passages as the judgments, graded by rank (the first
10, the tenth 1), a passage counting when it is the same document with overlapping pages. 1.0 means the same pages
in the same order. No relevance judgments are needed, so the lists can be long and written independently of the
domain set; the gap the languages issue measures (English original − native) closes exactly as agreement rises.
The English questions are checked by hand to be answered by the corpus (agreement with a useless ranking means
nothing). evaluation/parallel/heldout/ holds pairs written with the others but kept out of every fix: look at their
aggregates only (`--summary`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.evaluation.domain import Judged, credit
from pactkb.evaluation.metrics import ci95, per_query
from pactkb.evaluation.vocabulary import VocabularyListError, kb_renderer, list_paths, load_terms
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

LISTS = Path(__file__).resolve().parent / "parallel"
K = 10  # the English ranking's depth that judges, and the native ranking's depth that is judged

Span = tuple[str, int, int]  # document id, first page, last page


@dataclass(frozen=True)
class Pair:
    """One question in a language and the same question in English."""

    lang: str
    native: str
    english: str
    line: int


@dataclass(frozen=True)
class Agreement:
    """How far one native question's ranking agrees with its English question's ranking."""

    lang: str
    native: str
    english: str
    rendering: str
    ndcg: float  # nDCG@10 of the native ranking judged by the English one
    top1: bool  # the native first passage is the English first passage (same document, overlapping pages)


def load_pairs(path: Path) -> list[Pair]:
    """The pairs of one list (`<lang>.tsv`: native<TAB>english); a malformed line names the file and line."""
    try:
        terms = load_terms(path)
    except VocabularyListError as e:
        raise VocabularyListError(str(e).replace("'term<TAB>english'", "'native<TAB>english'")) from None
    for t in terms:
        if len(t.english) != 1:  # "|" separates alternatives in vocabulary lists; a question has one English form
            raise VocabularyListError(f"{path}:{t.line}: one English question expected, got {' | '.join(t.english)!r}")
    return [Pair(t.lang, t.text, t.english[0], t.line) for t in terms]


def agreement(native: list[Span], english: list[Span]) -> tuple[float, bool]:
    """nDCG@10 of a native ranking judged by an English ranking's first K passages (graded K..1), and whether both
    rankings start with the same passage."""
    if not english:
        return (1.0 if not native else 0.0), not native
    judged = [Judged(doc, a, b, K - n) for n, (doc, a, b) in enumerate(english[:K])]
    credited = credit(native[:K], judged)
    run = {"q": {(f"r{c}" if c is not None else f"x{n}"): float(K - n) for n, c in enumerate(credited)}}
    qrels = {"q": {f"r{j}": j_.grade for j, j_ in enumerate(judged)}}
    ndcg = per_query(qrels, run, "ndcg@10")["q"]
    return round(ndcg, 4), bool(credited) and credited[0] == 0


def kb_ranker(kb: KnowledgeBase) -> Callable[[list[str]], list[list[Span]]]:
    """The default hybrid search's first K passages for each question, as (document, first page, last page)."""
    searcher = kb.searcher

    def rank(texts: list[str]) -> list[list[Span]]:
        vecs = kb.encoder.encode_queries(texts)
        out = []
        for text, vec in zip(texts, vecs, strict=True):
            res = searcher.search(text, k=K, mode="hybrid", collapse=False, snippets=False, qvec=vec)
            out.append([(h.document_id, h.page_start, h.page_end) for h in res.results])
        return out

    return rank


def search_renderer(kb: KnowledgeBase) -> Callable[[str, str], str]:
    """A question's English rendering as its search made it: in the language the search detects, marked where that
    is not the list's (a misdetected question is searched, and shown, untranslated or through another pair)."""
    render = kb_renderer(kb)

    def rendering(text: str, lang: str) -> str:
        found = kb.searcher.query_language(text)
        shown = render(text, found) if found else ""
        return shown if found == lang else f"[searched as {found or 'language unsure'}] {shown}".rstrip()

    return rendering


def compare(
    pairs: list[Pair], rank: Callable[[list[str]], list[list[Span]]], render: Callable[[str, str], str]
) -> list[Agreement]:
    """Each pair's agreement, with the native question's English rendering."""
    natives = rank([p.native for p in pairs])
    englishes = rank([p.english for p in pairs])
    out = []
    for p, n, e in zip(pairs, natives, englishes, strict=True):
        ndcg, top1 = agreement(n, e)
        out.append(Agreement(p.lang, p.native, p.english, render(p.native, p.lang), ndcg, top1))
    return out


def summary(rows: Iterable[Agreement]) -> dict[str, dict[str, Any]]:
    """Per language (and all together): pairs, mean agreement with its 95% interval, and the top-1 agreement rate."""
    rows = list(rows)
    groups = {lang: [r for r in rows if r.lang == lang] for lang in sorted({r.lang for r in rows})}
    if len(groups) > 1:
        groups["all"] = rows
    out = {}
    for name, mine in groups.items():
        scores = [r.ndcg for r in mine]
        out[name] = {
            "pairs": len(mine),
            "agreement": round(float(np.mean(scores)), 4),
            "ci95": ci95(scores),
            "top1": round(sum(r.top1 for r in mine) / len(mine), 4),
        }
    return out


def format_summary(s: dict[str, dict[str, Any]]) -> str:
    """The per-language summary as aligned lines."""
    lines = []
    for name, v in s.items():
        ci = "" if v["ci95"] is None else f" [{v['ci95'][0]:.3f}, {v['ci95'][1]:.3f}]"
        lines.append(f"{name:>4}: {v['pairs']:3d} pairs  agreement {v['agreement']:.3f}{ci}  top-1 {v['top1']:.0%}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line: compare each list's native and English rankings and print the agreement per language."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="a data directory")
    ap.add_argument("--lang", action="append", help="only this language's list (repeatable)")
    ap.add_argument("--lists", type=Path, default=LISTS, help="folder of <lang>.tsv lists (heldout/ for held-out)")
    ap.add_argument("--worst", type=int, default=0, metavar="N", help="print the N least agreeing pairs")
    ap.add_argument("--summary", action="store_true", help="print the aggregates only (for held-out lists)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    pairs = [p for path in list_paths(args.lists, args.lang) for p in load_pairs(path)]
    if not pairs:
        ap.error(f"no pairs under {args.lists}" + (f" for {', '.join(args.lang)}" if args.lang else ""))
    kb = KnowledgeBase(Settings(data=args.data))
    rows = compare(pairs, kb_ranker(kb), search_renderer(kb))
    s = summary(rows)
    if args.json:
        out: dict[str, Any] = {"summary": s}
        if not args.summary:
            out["pairs"] = [asdict(r) for r in rows]
        print(json.dumps(out, ensure_ascii=False))
        return
    if args.worst and not args.summary:
        for r in sorted(rows, key=lambda r: r.ndcg)[: args.worst]:
            print(f"{r.ndcg:.3f} {r.lang}  {r.native}\n      en: {r.english}\n      ->  {r.rendering}")
    print(format_summary(s))


if __name__ == "__main__":
    main()
