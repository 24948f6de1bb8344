"""Evaluate on page-level judgments over real PDFs (evaluation/domain format).

qrels.tsv: query-id, file, page-start, page-end, grade (physical 1-based pages). A retrieved chunk is
relevant when it comes from a judged file and its page span overlaps a judged range; each judged
range is credited once (to the first chunk that reaches it). Also reported: document-level
Recall@10, breakdowns by language, difficulty and half (each with a 95% bootstrap confidence interval of
its nDCG@10 over queries), the users' languages beside the same queries asked in English (with paired intervals of
the gap), and the top dense score of no-answer queries against answerable ones, with a calibrated "no good answer"
threshold.
"""

from __future__ import annotations

import csv
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.evaluation.metrics import ci95, paired_diff_ci95, per_query, percentile
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import SEARCH_MODES

K = 10
MAX_FLAGGED_ANSWERABLE = 0.10  # calibration: flag at most this share of answerable queries


class DomainSetError(ValueError):
    """The folder is not a usable domain set or the store lacks judged files."""


@dataclass(frozen=True)
class Judged:
    """One judged page range."""

    file: str
    start: int
    end: int
    grade: int


POOL_FILE = "pool-judgments.tsv"  # pooled judgments (evaluation/pooling.py), applied when the set is loaded
POOL_FIELDS = ("query-id", "queries", "file", "page", "grade", "grades", "rounds", "found-by", "reason")


@dataclass(frozen=True)
class PoolJudgment:
    """A pooled page's judgments for one information need (named by its first query; `queries` are the need's
    queries it applies to), each judge's grade with the round it was given in."""

    group: str
    queries: tuple[str, ...]
    file: str
    page: int
    grades: tuple[int, ...]
    rounds: tuple[int, ...]
    found_by: str = ""
    reason: str = ""

    def found_only_by(self, system: str) -> bool:
        """Whether every run that pooled this page is one of `system`'s (run names are 'system/mode/queries@rank')."""
        runs = [r for r in self.found_by.split(";") if r]
        return bool(runs) and all(r.split("/", 1)[0] == system for r in runs)

    @property
    def grade(self) -> int:
        """The lower median of the judges' grades (two judges: the lower; three: the middle one)."""
        ordered = sorted(self.grades)
        return ordered[(len(ordered) - 1) // 2]


def read_pool(path: Path) -> list[PoolJudgment]:
    """The pooled judgments file (none when it does not exist); DomainSetError names a bad line."""
    if not path.exists():
        return []
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if tuple(reader.fieldnames or ()) != POOL_FIELDS:
            raise DomainSetError(f"{path}: header must be {' '.join(POOL_FIELDS)}")
        for n, r in enumerate(reader, 2):
            try:
                grades = tuple(int(x) for x in r["grades"].split(","))
                rounds = tuple(int(x) for x in r["rounds"].split(","))
                j = PoolJudgment(
                    r["query-id"],
                    tuple(r["queries"].split(",")),
                    r["file"],
                    int(r["page"]),
                    grades,
                    rounds,
                    r["found-by"],
                    r["reason"],
                )
            except (ValueError, TypeError, AttributeError) as exc:
                raise DomainSetError(f"{path} line {n}: {exc}") from exc
            if len(grades) != len(rounds) or any(g not in (0, 1, 2) for g in grades) or int(r["grade"]) != j.grade:
                raise DomainSetError(
                    f"{path} line {n}: grades must be 0-2, one round each, and grade their lower median"
                )
            out.append(j)
    return out


def with_pool(qrels: dict[str, list[Judged]], pool: list[PoolJudgment]) -> dict[str, list[Judged]]:
    """The first judgments plus each pooled page graded 1 or 2, for every query of its need whose own judgments do
    not already cover the page."""
    out = {q: list(rs) for q, rs in qrels.items()}
    for j in pool:
        if j.grade < 1:
            continue
        for q in j.queries:
            own = qrels.get(q, [])
            if not any(r.file == j.file and r.start <= j.page <= r.end for r in own):
                out.setdefault(q, []).append(Judged(j.file, j.page, j.page, j.grade))
    return out


def is_domain_set(root: Path) -> bool:
    """True for a folder with queries.jsonl and a page-level qrels.tsv."""
    q = root / "qrels.tsv"
    if not (q.is_file() and (root / "queries.jsonl").is_file()):
        return False
    with open(q, encoding="utf-8") as fh:
        return "page-start" in fh.readline()


def load(
    root: Path, pooled: bool = True, pool_without: str | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, list[Judged]]]:
    """Queries (with lang, difficulty) and judged ranges per query: qrels.tsv's, with the pooled judgments
    (pool-judgments.tsv) unless `pooled` is False; `pool_without` leaves out the pooled pages that only that
    system's runs found (a leave-one-out check of the pool's bias)."""
    queries: dict[str, dict[str, Any]] = {}
    with open(root / "queries.jsonl", encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    q = json.loads(line)
                    queries[str(q["_id"])] = q
                except (ValueError, KeyError) as exc:
                    raise DomainSetError(f"{root / 'queries.jsonl'} line {n}: {exc}") from exc
    qrels: dict[str, list[Judged]] = defaultdict(list)
    with open(root / "qrels.tsv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            qrels[row["query-id"]].append(
                Judged(row["file"], int(row["page-start"]), int(row["page-end"]), int(row["grade"]))
            )
    if not pooled:
        return queries, dict(qrels)
    pool = [j for j in read_pool(root / POOL_FILE) if pool_without is None or not j.found_only_by(pool_without)]
    unknown = sorted({q for j in pool for q in j.queries} - set(queries))
    if unknown:
        raise DomainSetError(f"{root / POOL_FILE}: unknown query id {unknown[0]}")
    return queries, with_pool(dict(qrels), pool)


def credit(hits: list[tuple[str, int, int]], judged: list[Judged]) -> list[int | None]:
    """For each retrieved (file, page_start, page_end), the index of the judged range it is credited with."""
    used: set[int] = set()
    out: list[int | None] = []
    for file, ps, pe in hits:
        best = None
        for j, r in enumerate(judged):
            if j not in used and r.file == file and ps <= r.end and pe >= r.start:
                if best is None or r.grade > judged[best].grade:
                    best = j
        if best is not None:
            used.add(best)
        out.append(best)
    return out


def score_mode(
    kb: KnowledgeBase,
    queries: dict[str, dict[str, Any]],
    qrels: dict[str, list[Judged]],
    mode: str,
    doc_file: dict[str, str],
) -> dict[str, Any]:
    """Run every query in one mode; metrics overall, by language, difficulty and half (nDCG@10 with its 95% interval,
    `ci95`), plus top dense scores."""
    searcher = kb.searcher
    ids = list(queries)
    vecs = kb.encoder.encode_queries([queries[q]["text"] for q in ids])
    run_r: dict[str, dict[str, float]] = {}
    run_d: dict[str, dict[str, float]] = {}
    best_dense: dict[str, float] = {}
    flags: dict[str, bool | None] = {}
    lat: list[float] = []
    tops: dict[str, list[dict[str, Any]]] = {}
    for i, qid in enumerate(ids):
        t0 = time.perf_counter()
        res = searcher.search(queries[qid]["text"], k=K, mode=mode, collapse=False, snippets=False, qvec=vecs[i])
        lat.append((time.perf_counter() - t0) * 1000)
        if res.best_dense is None:  # lexical mode: the dense top score still decides 'no good answer'
            res_d = searcher.search(
                queries[qid]["text"], k=1, mode="dense", collapse=False, snippets=False, qvec=vecs[i]
            )
            best_dense[qid] = res_d.best_dense or 0.0
        else:
            best_dense[qid] = res.best_dense
        flags[qid] = res.no_good_answer
        hits = [(doc_file.get(h.document_id, h.file), h.page_start, h.page_end) for h in res.results]
        tops[qid] = [{"file": f, "pages": [a, b]} for f, a, b in hits[:3]]
        credited = credit(hits, qrels.get(qid, []))
        run_r[qid] = {(f"r{c}" if c is not None else f"x{n}"): float(K - n) for n, c in enumerate(credited)}
        files: dict[str, float] = {}
        for n, (f, _, _) in enumerate(hits):
            files.setdefault(f, float(K - n))
        run_d[qid] = files
    answerable = [q for q in ids if qrels.get(q)]
    q_r = {q: {f"r{j}": r.grade for j, r in enumerate(qrels[q])} for q in answerable}
    q_d = {q: {r.file: 1 for r in qrels[q]} for q in answerable}
    rr = {q: run_r[q] for q in answerable}
    rd = {q: run_d[q] for q in answerable}
    per = {
        "ndcg@10": per_query(q_r, rr, "ndcg@10"),
        "mrr@10": per_query(q_r, rr, "mrr@10"),
        "doc_recall@10": per_query(q_d, rd, "recall@10"),
    }
    overall = {m: round(float(np.mean(list(v.values()))), 4) for m, v in per.items()}

    def group(key: str) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        groups: dict[str, list[str]] = defaultdict(list)
        for q in answerable:
            groups[str(queries[q].get(key, "?"))].append(q)
        for g, qs in sorted(groups.items()):
            out[g] = {
                "queries": len(qs),
                **{m: round(float(np.mean([per[m][q] for q in qs])), 4) for m in per},
                "ci95": ci95([per["ndcg@10"][q] for q in qs]),
            }
        return out

    return {
        "mode": mode,
        **overall,
        "latency_p50_ms": percentile(lat, 50),
        "latency_p95_ms": percentile(lat, 95),
        "by_language": group("lang"),
        "by_difficulty": group("difficulty"),
        "by_split": group("split"),
        "per_query": {q: {m: round(per[m][q], 4) for m in per} for q in answerable},
        "best_dense": best_dense,
        "top3": tops,
        "flags": flags,
    }


def calibrate(best_dense: dict[str, float], answerable: set[str], no_answer: set[str]) -> dict[str, Any]:
    """The highest threshold that flags at most 10% of answerable queries, and what it does."""
    ans = sorted(best_dense[q] for q in answerable)
    none = sorted(best_dense[q] for q in no_answer)
    cap = int(MAX_FLAGGED_ANSWERABLE * len(ans))
    threshold = ans[cap] if ans else 0.0  # queries strictly below it are flagged
    flagged_none = sum(1 for s in none if s < threshold)
    flagged_ans = sum(1 for s in ans if s < threshold)
    return {
        "threshold": round(float(threshold), 4),
        "no_answer_queries": len(none),
        "no_answer_flagged": flagged_none,
        "false_answer_rate": round(1 - flagged_none / len(none), 4) if none else None,
        "answerable_queries": len(ans),
        "answerable_wrongly_flagged": flagged_ans,
        "answerable_top_dense": {
            "min": round(ans[0], 4),
            "p10": round(float(np.percentile(ans, 10)), 4),
            "median": round(float(np.median(ans)), 4),
        }
        if ans
        else {},
        "no_answer_top_dense": {
            "min": round(none[0], 4),
            "median": round(float(np.median(none)), 4),
            "max": round(none[-1], 4),
        }
        if none
        else {},
    }


def flag_outcome(flags: dict[str, bool | None], answerable: set[str], no_answer: set[str]) -> dict[str, Any]:
    """How the service's own 'no good answer' flag did: flagged / unknown counts on both kinds of query."""
    return {
        "no_answer_flagged": sum(1 for q in no_answer if flags.get(q) is True),
        "no_answer_unknown": sum(1 for q in no_answer if flags.get(q) is None),
        "no_answer_queries": len(no_answer),
        "false_answer_rate": round(1 - sum(1 for q in no_answer if flags.get(q) is True) / len(no_answer), 4)
        if no_answer
        else None,
        "answerable_wrongly_flagged": sorted(q for q in answerable if flags.get(q) is True),
        "answerable_unknown": sum(1 for q in answerable if flags.get(q) is None),
        "answerable_queries": len(answerable),
        "flagged_no_answer_ids": sorted(q for q in no_answer if flags.get(q) is True),
    }


DOMAIN_SPLITS = ("all", "dev", "test")


def evaluate_domain(
    root: Path,
    kb: KnowledgeBase,
    modes: tuple[str, ...] = SEARCH_MODES,
    split: str = "all",
    pooled: bool = True,
    pool_without: str | None = None,
) -> dict[str, Any]:
    """Score a knowledge base against the domain set (all queries, or its dev or test half; with the pooled
    judgments unless `pooled` is False, less the pages only `pool_without`'s runs found); every judged file must be
    in the store."""
    if split not in DOMAIN_SPLITS:
        raise DomainSetError(f"--split {split!r}: the domain set has the halves {', '.join(DOMAIN_SPLITS)}")
    queries, qrels = load(root, pooled, pool_without)
    if split != "all":
        queries = {q: v for q, v in queries.items() if v.get("split") == split}
    doc_file = kb.store.source_names()
    stored = set(doc_file.values())
    missing = sorted({r.file for rs in qrels.values() for r in rs} - stored)
    if missing:
        raise DomainSetError(
            f"{len(missing)} judged file(s) are not in {kb.settings.data}, e.g. {missing[0]}: ingest the corpus first "
            "(pactkb ingest ../shared/corpus/pdf --data DIR) or pass --corpus"
        )
    reports = [score_mode(kb, queries, qrels, m, doc_file) for m in modes]
    answerable = {q for q in queries if qrels.get(q)}
    no_answer = {q for q in queries if not qrels.get(q)}
    primary = reports[0]
    originals = {q: {**v, "text": v["en"]} for q, v in queries.items() if v.get("en")}
    orig_reports = [score_mode(kb, originals, qrels, m, doc_file) for m in modes] if originals else []
    return {
        "collection": root.name,
        "split": split,
        "queries": len(queries),
        "answerable": len(answerable),
        "no_answer": len(no_answer),
        "judged_files": len({r.file for rs in qrels.values() for r in rs}),
        "model": kb.encoder.name,
        "modes": [
            {k: v for k, v in r.items() if k not in ("per_query", "best_dense", "top3", "flags")} for r in reports
        ],
        "per_query": {r["mode"]: r["per_query"] for r in reports},
        "top3": primary["top3"],
        "no_good_answer": calibrate(primary["best_dense"], answerable, no_answer),
        "no_good_answer_flag": flag_outcome(primary["flags"], answerable, no_answer),
        "best_dense": primary["best_dense"],
        "per_query_english_original": {r["mode"]: r["per_query"] for r in orig_reports},
        "cross_lingual": cross_lingual(
            queries, {r["mode"]: r["per_query"] for r in reports}, {r["mode"]: r["per_query"] for r in orig_reports}
        ),
    }


BALKAN = ("sr", "hr", "bs", "sq", "mk")
# the test half without the queries marked `seen` (a query whose failure was read while fixing something, so its
# figure no longer measures queries nobody has looked at; queries.jsonl says why)
UNSEEN_TEST = "test, unseen"


def gap_row(qs: list[str], per: dict[str, dict[str, float]], eng: dict[str, dict[str, float]]) -> dict[str, Any]:
    """nDCG@10 of these queries asked natively and in English, their gap, and the 95% intervals (the gap's paired)."""
    nats = [per[q]["ndcg@10"] for q in qs]
    ens = [eng[q]["ndcg@10"] for q in qs]
    nat, en = float(np.mean(nats)), float(np.mean(ens))
    return {
        "queries": len(qs),
        "native": round(nat, 4),
        "english_original": round(en, 4),
        "gap": round(en - nat, 4),
        "native_ci95": ci95(nats),
        "english_original_ci95": ci95(ens),
        "gap_ci95": paired_diff_ci95(ens, nats),
    }


def cross_lingual(
    queries: dict[str, dict[str, Any]],
    native: dict[str, dict[str, dict[str, float]]],
    english: dict[str, dict[str, dict[str, float]]],
) -> dict[str, Any]:
    """nDCG@10 of the queries asked in the users' languages beside the same queries asked in English, per language
    and for the five Western Balkan languages together, overall and on the dev/test halves (and the test half
    without the queries marked `seen`, when some are: UNSEEN_TEST, naming those it leaves out); plus the English
    set. Each figure has its 95% bootstrap interval over queries (`native_ci95`, ...; the gap's is paired: the same
    queries resampled on both sides)."""
    out: dict[str, Any] = {}
    for mode, per in native.items():
        eng = english.get(mode, {})
        rows: dict[str, dict[str, Any]] = {}
        groups = {lang: [lang] for lang in sorted({v["lang"] for v in queries.values()} - {"en"})}
        groups["sr+hr+bs+sq+mk"] = list(BALKAN)
        for name, langs in groups.items():
            for split in ("all", "dev", "test"):
                qs = [
                    q
                    for q in per
                    if queries[q]["lang"] in langs and q in eng and split in ("all", queries[q].get("split"))
                ]
                if qs:
                    rows[name if split == "all" else f"{name} ({split})"] = gap_row(qs, per, eng)
        tested = [q for q in per if queries[q]["lang"] in BALKAN and q in eng and queries[q].get("split") == "test"]
        seen = [q for q in tested if queries[q].get("seen")]
        if seen and len(seen) < len(tested):
            unseen = [q for q in tested if q not in seen]
            rows[f"sr+hr+bs+sq+mk ({UNSEEN_TEST})"] = gap_row(unseen, per, eng) | {"left_out": sorted(seen)}
        en_scores = [per[q]["ndcg@10"] for q in per if queries[q]["lang"] == "en"]
        rows["en (the English queries)"] = {
            "queries": len(en_scores),
            "native": round(float(np.mean(en_scores)), 4) if en_scores else None,
            "native_ci95": ci95(en_scores),
        }
        out[mode] = rows
    return out


def interval(ci: list[float] | None, signed: bool = False, places: int = 3) -> str:
    """A 95% interval as the tables write it ('' when there is none: one query, or results saved before intervals)."""
    if not ci:
        return ""
    fmt = f"{{:{'+' if signed else ''}.{places}f}}"
    return f"[{fmt.format(ci[0])}, {fmt.format(ci[1])}]"


def table_row(cells: list[str]) -> str:
    """A markdown table row (an empty cell as '| |')."""
    return ("| " + " | ".join(cells) + " |").replace("|  |", "| |").replace("|  |", "| |")


def format_tables(result: dict[str, Any]) -> str:
    """Markdown tables: modes, by language, by difficulty, by half (each with the first mode's 95% interval), the
    users' languages beside their English originals, no-answer calibration."""
    lines = ["| mode | nDCG@10 | Recall@10 (doc) | MRR@10 | p50 ms | p95 ms |", "|---|---|---|---|---|---|"]
    for m in result["modes"]:
        lines.append(
            f"| {m['mode']} | {m['ndcg@10']:.4f} | {m['doc_recall@10']:.4f} | {m['mrr@10']:.4f} | "
            f"{m['latency_p50_ms']:.1f} | {m['latency_p95_ms']:.1f} |"
        )
    for key, title in (("by_language", "language"), ("by_difficulty", "difficulty"), ("by_split", "half")):
        if key not in result["modes"][0]:  # results saved before the table existed
            continue
        first = result["modes"][0][key]
        with_ci = any("ci95" in g for g in first.values())
        lines += [
            "",
            f"| {title} | queries | "
            + " | ".join(f"{m['mode']} nDCG@10" for m in result["modes"])
            + (f" | {result['modes'][0]['mode']} 95% CI" if with_ci else "")
            + f" | {result['modes'][0]['mode']} Recall@10 (doc) |",
            "|---|---|" + "---|" * (len(result["modes"]) + with_ci) + "---|",
        ]
        for group in first:
            cells = [f"{m[key][group]['ndcg@10']:.4f}" for m in result["modes"]]
            if with_ci:
                cells.append(interval(first[group].get("ci95")))
            lines.append(
                f"| {group} | {first[group]['queries']} | "
                + " | ".join(cells)
                + f" | {first[group]['doc_recall@10']:.4f} |"
            )
    cl = result.get("cross_lingual", {}).get(result["modes"][0]["mode"])
    if cl:
        with_ci = any("native_ci95" in r for r in cl.values())  # not in results saved before the intervals
        ci_note = "; 95% CI: bootstrap over queries, paired for the gap" if with_ci else ""
        ci_head = " 95% CI |" if with_ci else ""
        lines += [
            "",
            "Queries in the users' languages beside the same queries asked in English (nDCG@10, "
            f"{result['modes'][0]['mode']}; gap = English original − native{ci_note}):",
            "",
            f"| language | queries | native |{ci_head} English original |{ci_head} gap |{ci_head}",
            "|---|---|---|---|---|" + "---|---|---|" * with_ci,
        ]
        for name, r in cl.items():
            native = [f"{r['native']:.4f}"]
            english = [f"{r['english_original']:.4f}", f"{r['gap']:+.4f}"] if "english_original" in r else ["", ""]
            if with_ci:
                native.append(interval(r.get("native_ci95")))
                if "english_original" in r:
                    english = [
                        english[0],
                        interval(r.get("english_original_ci95")),
                        english[1],
                        interval(r.get("gap_ci95"), signed=True),
                    ]
                else:
                    english = ["", "", "", ""]
            lines.append(table_row([name, str(r["queries"]), *native, *english]))
    c = result["no_good_answer"]
    f = result.get("no_good_answer_flag")
    if f:
        lines += [
            "",
            "No good answer, as the service flags it (the top 3 passages cover < 40% of the query's IDF mass while "
            "the corpus knows >= 50% of it; otherwise 'cannot tell'):",
            f"- no-answer queries: {f['no_answer_flagged']}/{f['no_answer_queries']} flagged "
            f"({', '.join(f['flagged_no_answer_ids']) or 'none'}), {f['no_answer_unknown']} 'cannot tell'; "
            f"false-answer rate {f['false_answer_rate']}",
            f"- answerable queries wrongly flagged: {len(f['answerable_wrongly_flagged'])}/{f['answerable_queries']} "
            f"({', '.join(f['answerable_wrongly_flagged']) or 'none'}); 'cannot tell' on {f['answerable_unknown']}",
        ]
    lines += [
        "",
        "Top dense cosine (for comparison: a threshold on it cannot separate the two kinds):",
        f"- answerable queries: min {c['answerable_top_dense'].get('min')}, 10th percentile "
        f"{c['answerable_top_dense'].get('p10')}, median {c['answerable_top_dense'].get('median')}",
        f"- no-answer queries: min {c['no_answer_top_dense'].get('min')}, "
        f"median {c['no_answer_top_dense'].get('median')}, "
        f"max {c['no_answer_top_dense'].get('max')}",
        f"- calibrated threshold {c['threshold']} (flags at most {int(MAX_FLAGGED_ANSWERABLE * 100)}% of answerable): "
        f"flags {c['no_answer_flagged']}/{c['no_answer_queries']} no-answer queries (false-answer rate "
        f"{c['false_answer_rate']}), wrongly flags "
        f"{c['answerable_wrongly_flagged']}/{c['answerable_queries']} answerable",
    ]
    return "\n".join(lines)
