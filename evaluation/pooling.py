"""Pooled judging for the domain set (TREC-style): the pages several systems rank highest that nobody has judged yet
are written as packets for blind judges, and their grades are merged into qrels.tsv.

The set's first judgments came from grepping synonyms, so pages that answer in other words could be missing, and a
system that finds them was scored as if it had found nothing. Pooling judges exactly those pages: every run's top
`depth` pages (each run on the native queries, the hybrid runs also on the English originals), less what is
judged, are shown to judges with the question but not which system found them, mixed with already-judged pages
(controls, to measure agreement with the first judge) and a few pages given to two judges (agreement between
judges). A page's grade is the lowest any judge gave it. Queries that ask one information need in several languages
(`same information need as dNNN`, or identical judgments) share their pooled grades, as they share the first ones.

    python -m pactkb.evaluation.pooling packets --data STORE [--data STORE ...] --out DIR
    (judges write DIR/judgmentsN.tsv: item, grade, reason)
    python -m pactkb.evaluation.pooling merge --out DIR --round 1
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pactkb.evaluation.domain import Judged, load

DOMAIN = Path(__file__).resolve().parent / "domain"
JUDGMENTS = "pool-judgments.tsv"
JUDGMENT_FIELDS = ("query-id", "file", "page", "grade", "grades", "round", "reason")
SAME_NEED = re.compile(r"same information need as (d\d+)")
# version-specific FATF questions (README table): their grades hinge on the edition, judged by hand only
HAND_ONLY = frozenset({"d057", "d058", "d059", "d060", "d061", "d062"})

Page = tuple[str, str, int]  # (group, file, physical page)


@dataclass(frozen=True)
class PoolJudgment:
    """One pooled page's grade for an information need (its group's first query id)."""

    group: str
    file: str
    page: int
    grade: int
    grades: tuple[int, ...]
    round: int
    reason: str


def need_groups(queries: Mapping[str, Mapping[str, Any]], qrels: Mapping[str, list[Judged]]) -> dict[str, str]:
    """Each query's information need, named by its group's smallest id: queries linked by 'same information need as'
    in `kind`, or judged identically, are one need."""
    parent = {q: q for q in queries}

    def find(q: str) -> str:
        while parent[q] != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for q, v in queries.items():
        m = SAME_NEED.search(str(v.get("kind", "")))
        if m and m.group(1) in parent:
            union(q, m.group(1))
    by_judgments: dict[frozenset[Judged], str] = {}
    for q in queries:
        if qrels.get(q):
            key = frozenset(qrels[q])
            union(q, by_judgments.setdefault(key, q))
    return {q: find(q) for q in queries}


def judged_pages(qrels: Mapping[str, list[Judged]], groups: Mapping[str, str]) -> set[Page]:
    """Every page the set's judgments cover, per need."""
    return {(groups[q], r.file, p) for q, rs in qrels.items() for r in rs for p in range(r.start, r.end + 1)}


def pool(
    runs: Mapping[str, Mapping[str, list[tuple[str, int, int]]]],
    groups: Mapping[str, str],
    judged: set[Page],
    depth: int,
    skip: Iterable[str] = (),
) -> dict[Page, list[str]]:
    """The unjudged pages in each run's top `depth` hits (run name -> query -> ranked (file, first, last page)), each
    with the runs and ranks that found it; queries in `skip` are left out."""
    skipped = set(skip)
    found: dict[Page, list[str]] = defaultdict(list)
    for name, per_query in runs.items():
        for qid, hits in per_query.items():
            if qid in skipped:
                continue
            for rank, (file, first, last) in enumerate(hits[:depth], 1):
                for page in range(first, last + 1):
                    key = (groups[qid], file, page)
                    if key not in judged:
                        found[key].append(f"{name}@{rank}")
    return dict(found)


def merge(
    key: Mapping[str, Mapping[str, Any]], grades: Mapping[str, int], reasons: Mapping[str, str], round_no: int
) -> list[PoolJudgment]:
    """Pooled pages' grades from the judges' (item -> grade): the lowest grade any judge gave a page; controls (pages
    judged before) are not merged. Raises ValueError naming an item no judge graded."""
    missing = sorted(item for item in key if item not in grades)
    if missing:
        raise ValueError(f"{len(missing)} item(s) have no grade, e.g. {missing[0]}")
    by_page: dict[Page, list[str]] = defaultdict(list)
    for item, v in key.items():
        if v["origin"] == "pool":
            by_page[(v["group"], v["file"], int(v["page"]))].append(item)
    out = []
    for (group, file, page), items in sorted(by_page.items()):
        items.sort()
        gs = tuple(grades[i] for i in items)
        out.append(PoolJudgment(group, file, page, min(gs), gs, round_no, reasons.get(items[0], "")))
    return out


def qrels_rows(
    judgments: Iterable[PoolJudgment], groups: Mapping[str, str], qrels: Mapping[str, list[Judged]]
) -> list[tuple[str, str, int, int, int]]:
    """qrels.tsv rows for pooled pages graded 1 or 2: one per query of the need, unless that query's own judgments
    already cover the page."""
    members: dict[str, list[str]] = defaultdict(list)
    for q, g in sorted(groups.items()):
        members[g].append(q)
    rows = []
    for j in judgments:
        if j.grade < 1:
            continue
        for q in members[j.group]:
            if not any(r.file == j.file and r.start <= j.page <= r.end for r in qrels.get(q, [])):
                rows.append((q, j.file, j.page, j.page, j.grade))
    return rows


def read_judgments(path: Path) -> list[PoolJudgment]:
    """The pooled judgments file (empty when there is none)."""
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return [
            PoolJudgment(
                r["query-id"],
                r["file"],
                int(r["page"]),
                int(r["grade"]),
                tuple(int(x) for x in r["grades"].split(",")),
                int(r["round"]),
                r["reason"],
            )
            for r in csv.DictReader(fh, delimiter="\t")
        ]


def first_judgments(root: Path) -> dict[str, list[Judged]]:
    """The set's judgments without the pooled ones (the rows pool-judgments.tsv accounts for)."""
    queries, qrels = load(root)
    groups = need_groups(queries, qrels)
    pooled = {(q, j.file, j.page) for j in read_judgments(root / JUDGMENTS) for q in groups if groups[q] == j.group}
    return {q: [r for r in rs if not (r.start == r.end and (q, r.file, r.start) in pooled)] for q, rs in qrels.items()}


def collect_runs(
    data_dirs: list[Path], queries: Mapping[str, Mapping[str, Any]], depth: int
) -> dict[str, dict[str, list[tuple[str, int, int]]]]:
    """Each store's hybrid, dense and lexical rankings of the native queries, and its hybrid ranking of the English
    originals (keyed by the native query's id)."""
    from pactkb.index.kb import KnowledgeBase
    from pactkb.settings import Settings

    runs: dict[str, dict[str, list[tuple[str, int, int]]]] = {}
    for data in data_dirs:
        kb = KnowledgeBase(Settings(data=data))
        names = kb.store.source_names()
        for mode in ("hybrid", "dense", "lexical"):
            for tag, field in (("native", "text"), ("en", "en")):
                if tag == "en" and mode != "hybrid":
                    continue
                run = runs.setdefault(f"{data.name}/{mode}/{tag}", {})
                for qid, q in queries.items():
                    if q.get(field):
                        res = kb.searcher.search(q[field], k=depth, mode=mode, collapse=False, snippets=False)
                        run[qid] = [(names.get(h.document_id, h.file), h.page_start, h.page_end) for h in res.results]
    return runs


def page_text(corpus: Path, file: str, page: int, cache: dict[str, Any], limit: int = 6000) -> str:
    """A physical page's text as the judges read it (pypdf, as check_qrels.py shows it)."""
    from pypdf import PdfReader

    if file not in cache:
        reader = PdfReader(str(corpus / file))
        if reader.is_encrypted:
            reader.decrypt("")
        cache[file] = reader
    text = cache[file].pages[page - 1].extract_text() or ""
    return re.sub(r"[ \t]+", " ", text).strip()[:limit]


def write_packets(
    items: list[Page],
    controls: list[Page],
    queries: Mapping[str, Mapping[str, Any]],
    groups: Mapping[str, str],
    corpus: Path,
    out: Path,
    judges: int,
    overlap: int,
    prefix: str,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """Blind packets (out/packetN.md), one need's pages together, items shuffled under opaque ids; returns the key
    (item -> group, file, page, origin), also written to out/key.json."""
    rng = random.Random(seed)
    wordings: dict[str, list[str]] = defaultdict(list)
    for q, v in queries.items():
        wordings[groups[q]].append(str(v["text"]))
    entries = [(p, "pool") for p in items] + [(p, "control") for p in controls]
    rng.shuffle(entries)
    rows: list[dict[str, Any]] = [
        {"item": f"{prefix}{n:04d}", "group": g, "file": f, "page": p, "origin": origin}
        for n, ((g, f, p), origin) in enumerate(entries)
    ]
    by_need: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_need[r["group"]].append(r)
    packets: list[list[dict[str, Any]]] = [[] for _ in range(judges)]
    for need in sorted(by_need, key=lambda n: (-len(by_need[n]), n)):
        min(packets, key=len).extend(by_need[need])
    pooled = [r for r in rows if r["origin"] == "pool"]
    if judges > 1:
        for i, r in enumerate(rng.sample(pooled, min(overlap, len(pooled)))):
            src = next(j for j, pk in enumerate(packets) if r in pk)
            packets[(src + 1 + i % (judges - 1)) % judges].append(dict(r, item=r["item"] + "b"))
    out.mkdir(parents=True, exist_ok=True)
    cache: dict[str, Any] = {}
    for n, packet in enumerate(packets):
        packet.sort(key=lambda r: (r["group"], r["item"]))
        lines: list[str] = []
        current = None
        for r in packet:
            if r["group"] != current:
                current = r["group"]
                asked = queries[current]
                lines += [
                    f"\n\n######## QUESTION {current}",
                    f"Information need (English): {asked.get('en') or asked['text']}",
                    f"Asked by users as: {' || '.join(wordings[current])}",
                    f"Judge's note from the set's author (what makes it hard; which documents were found to "
                    f"answer): {asked.get('kind', '')}",
                ]
            text = page_text(corpus, r["file"], r["page"], cache) or "[no extractable text on this page]"
            lines += [
                f"\n==== ITEM {r['item']} | question {r['group']} | {r['file']} | physical page {r['page']}",
                text,
            ]
        (out / f"packet{n}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    key = {r["item"]: {k: r[k] for k in ("group", "file", "page", "origin")} for packet in packets for r in packet}
    (out / "key.json").write_text(json.dumps(key, indent=0), encoding="utf-8")
    return key


def read_grades(out: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Judges' grades and reasons from out/judgments*.tsv (item, grade 0-2, reason); ValueError names a bad line."""
    grades: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for path in sorted(out.glob("judgments*.tsv")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            parts = line.split("\t")
            if not line.strip():
                continue
            if len(parts) < 2 or parts[1].strip() not in ("0", "1", "2"):
                raise ValueError(f"{path} line {n}: expected 'item<TAB>grade (0, 1 or 2)<TAB>reason'")
            grades[parts[0].strip()] = int(parts[1])
            reasons[parts[0].strip()] = parts[2].strip() if len(parts) > 2 else ""
    return grades, reasons


def agreement(
    key: Mapping[str, Mapping[str, Any]], grades: Mapping[str, int], judged: Mapping[Page, int]
) -> dict[str, Any]:
    """How the judges agree with the first judge on controls, and with each other on pages judged twice."""
    controls = [
        (judged[(v["group"], v["file"], int(v["page"]))], grades[i])
        for i, v in key.items()
        if v["origin"] == "control" and i in grades
    ]
    twice = [(grades[i[:-1]], grades[i]) for i in key if i.endswith("b") and i in grades and i[:-1] in grades]
    return {
        "controls": len(controls),
        "controls_exact": sum(a == b for a, b in controls),
        "controls_still_relevant": sum(b >= 1 for _, b in controls),
        "twice": len(twice),
        "twice_exact": sum(a == b for a, b in twice),
        "twice_relevance_agrees": sum((a >= 1) == (b >= 1) for a, b in twice),
    }


def write_judgments(path: Path, judgments: list[PoolJudgment]) -> None:
    """The pooled judgments file, sorted, one row per need and page."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(JUDGMENT_FIELDS)
        for j in sorted(judgments, key=lambda j: (j.group, j.file, j.page)):
            w.writerow([j.group, j.file, j.page, j.grade, ",".join(map(str, j.grades)), j.round, j.reason])


def write_qrels(path: Path, first: Mapping[str, list[Judged]], pooled: list[tuple[str, str, int, int, int]]) -> None:
    """qrels.tsv: the first judgments, then the pooled rows, in query order."""
    rows = [(q, r.file, r.start, r.end, r.grade) for q, rs in first.items() for r in rs] + pooled
    order = {q: n for n, q in enumerate(dict.fromkeys(q for q, *_ in rows))}
    rows.sort(key=lambda r: int(r[0][1:]) if r[0][1:].isdigit() else order[r[0]])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(("query-id", "file", "page-start", "page-end", "grade"))
        w.writerows(rows)


BALKAN = ("sr", "hr", "bs", "sq", "mk")


def summary(result: Mapping[str, Any], queries: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Hybrid nDCG@10 of a domain result by half, by the issues' groups (hard, English, the users' five languages
    and their English originals) and per language on the test half."""
    native = {q: v["ndcg@10"] for q, v in result["per_query"]["hybrid"].items()}
    english = {q: v["ndcg@10"] for q, v in result["per_query_english_original"].get("hybrid", {}).items()}

    def mean(scores: Mapping[str, float], half: str | None, langs: tuple[str, ...] = (), hard: bool = False) -> float:
        """The mean over the queries of a half (None: both), of these languages (all if none), hard ones only."""
        vals = [
            s
            for q, s in scores.items()
            if (half is None or queries[q]["split"] == half)
            and (not langs or queries[q]["lang"] in langs)
            and (not hard or queries[q]["difficulty"] == "hard")
        ]
        return round(sum(vals) / len(vals), 4) if vals else float("nan")

    out = {"all": mean(native, None)}
    for half in ("dev", "test"):
        out[half] = mean(native, half)
        out[f"{half} hard"] = mean(native, half, hard=True)
        out[f"{half} English"] = mean(native, half, ("en",))
        out[f"{half} five languages"] = mean(native, half, BALKAN)
        out[f"{half} five languages asked in English"] = mean(english, half, BALKAN)
        out[f"{half} gap"] = round(out[f"{half} five languages asked in English"] - out[f"{half} five languages"], 4)
    for lang in BALKAN:
        out[f"test {lang}"] = mean(native, "test", (lang,))
    return out


def compare(data_dirs: list[Path], domain: Path, work: Path) -> dict[str, Any]:
    """Each store scored on the set's first judgments and on the judgments with the pooled pages (hybrid mode)."""
    from pactkb.evaluation.domain import evaluate_domain
    from pactkb.index.kb import KnowledgeBase
    from pactkb.settings import Settings

    queries, _ = load(domain)
    first = work / "first-judgments"
    first.mkdir(parents=True, exist_ok=True)
    (first / "queries.jsonl").write_bytes((domain / "queries.jsonl").read_bytes())
    write_qrels(first / "qrels.tsv", first_judgments(domain), [])
    rows = []
    for data in data_dirs:
        kb = KnowledgeBase(Settings(data=data))
        row: dict[str, Any] = {"data": str(data), "model": kb.encoder.name}
        for label, root in (("first", first), ("pooled", domain)):
            row[label] = summary(evaluate_domain(root, kb, modes=("hybrid",)), queries)
        rows.append(row)
    judgments = read_judgments(domain / JUDGMENTS)
    return {
        "pooled_pages": len(judgments),
        "pooled_grades": {g: sum(j.grade == g for j in judgments) for g in (0, 1, 2)},
        "stores": rows,
    }


def main(argv: list[str] | None = None) -> int:
    """`packets`: pool the stores' runs into blind packets; `merge`: fold the judges' grades into the set."""
    ap = argparse.ArgumentParser(prog="python -m pactkb.evaluation.pooling", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    pk = sub.add_parser("packets", help="pool the stores' top pages and write blind judging packets")
    pk.add_argument("--data", type=Path, action="append", required=True, help="a store (repeat: one per system)")
    pk.add_argument("--corpus", type=Path, default=Path("../shared/corpus/pdf"))
    pk.add_argument("--depth", type=int, default=5)
    pk.add_argument("--judges", type=int, default=6)
    pk.add_argument("--controls", type=int, default=150, help="judged pages mixed in to measure agreement")
    pk.add_argument("--overlap", type=int, default=48, help="pooled pages given to a second judge")
    pk.add_argument("--prefix", default="J", help="item id prefix (one per round)")
    pk.add_argument("--seed", type=int, default=22)
    mg = sub.add_parser("merge", help="merge the judges' grades into pool-judgments.tsv and qrels.tsv")
    mg.add_argument("--round", type=int, required=True)
    for p in (pk, mg):
        p.add_argument("--out", type=Path, required=True, help="the packets' directory (key.json, judgments*.tsv)")
        p.add_argument("--domain", type=Path, default=DOMAIN)
    cp = sub.add_parser("compare", help="score stores on the first judgments and with the pooled ones")
    cp.add_argument("--data", type=Path, action="append", required=True, help="a store (repeat)")
    cp.add_argument("--work", type=Path, default=Path("/tmp/pactkb-pooling"), help="scratch folder")
    cp.add_argument("--domain", type=Path, default=DOMAIN)
    cp.add_argument("--json", action="store_true", help="(the output is always JSON)")
    args = ap.parse_args(argv)
    if args.cmd == "compare":
        print(json.dumps(compare(args.data, args.domain, args.work), indent=1))
        return 0
    queries, qrels = load(args.domain)
    first = first_judgments(args.domain)
    groups = need_groups(queries, first)
    earlier = read_judgments(args.domain / JUDGMENTS)
    if args.cmd == "packets":
        judged = judged_pages(qrels, groups) | {(j.group, j.file, j.page) for j in earlier}
        skip = {q for q in queries if not first.get(q)} | HAND_ONLY  # no-answer queries were checked by grep
        found = pool(collect_runs(args.data, queries, args.depth), groups, judged, args.depth, skip)
        rng = random.Random(args.seed)
        controls = rng.sample(sorted(judged_pages(first, groups)), args.controls)
        key = write_packets(
            sorted(found),
            controls,
            queries,
            groups,
            args.corpus,
            args.out,
            args.judges,
            args.overlap,
            args.prefix,
            args.seed,
        )
        (args.out / "runs.json").write_text(
            json.dumps({"|".join(map(str, k)): v for k, v in found.items()}), encoding="utf-8"
        )
        print(json.dumps({"pooled": len(found), "items": len(key), "packets": args.judges}))
        return 0
    key = json.loads((args.out / "key.json").read_text(encoding="utf-8"))
    grades, reasons = read_grades(args.out)
    try:
        new = merge(key, grades, reasons, args.round)
    except ValueError as exc:
        print(f"error: {args.out}: {exc}", file=sys.stderr)
        return 2
    first_grades = {
        (groups[q], r.file, p): r.grade for q, rs in first.items() for r in rs for p in range(r.start, r.end + 1)
    }
    done = {(j.group, j.file, j.page) for j in earlier}
    judgments = earlier + [j for j in new if (j.group, j.file, j.page) not in done]
    write_judgments(args.domain / JUDGMENTS, judgments)
    write_qrels(args.domain / "qrels.tsv", first, qrels_rows(judgments, groups, first))
    print(
        json.dumps(
            {"merged": len(new), "relevant": sum(j.grade >= 1 for j in new), **agreement(key, grades, first_grades)}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
