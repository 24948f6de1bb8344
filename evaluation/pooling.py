"""Pooled judging for the domain set (TREC-style): the pages several systems rank highest that nobody has judged yet
are written as packets for blind judges, and their grades are kept in pool-judgments.tsv, which the domain set's
loader applies on top of qrels.tsv (evaluation/domain.py `load`).

The set's first judgments came from grepping synonyms, so pages that answer in other words could be missing, and a
system that finds them was scored as if it had found nothing. Pooling judges exactly those pages: every run's top
`depth` hits (each store's hybrid, dense and lexical runs of the native queries, its hybrid run of the English
originals), less what is judged, shown to judges with the question but not which system found them, mixed with
already-judged pages (controls, kept in pool-controls.tsv) and a few pages given to two judges. A page's grade is
the lower median of its judges' grades. Queries that ask one information need in several languages (`same
information need as dNNN`, or identical first judgments) share a pooled page's grade, as they share the first ones.
A later round may give pooled pages another judge's grade (key items of origin "pool" whose page is already in the
file): the grades are appended, once per round.

    python -m pactkb.evaluation.pooling packets --data STORE [--data STORE ...] --out DIR
    (judges write DIR/judgmentsN.tsv: item, grade, reason)
    python -m pactkb.evaluation.pooling merge --out DIR --round N
    python -m pactkb.evaluation.pooling compare --data STORE [--data STORE ...]
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
from dataclasses import replace
from pathlib import Path
from typing import Any

from pactkb.evaluation.domain import BALKAN, POOL_FIELDS, POOL_FILE, Judged, PoolJudgment, load, read_pool

DOMAIN = Path(__file__).resolve().parent / "domain"
CONTROLS = "pool-controls.tsv"
CONTROL_FIELDS = ("round", "query-id", "file", "page", "first-grade", "judge-grade")
SAME_NEED = re.compile(r"same information need as (d\d+)")
# version-specific FATF questions (README table): their grades hinge on the edition, judged by hand only
HAND_ONLY = frozenset({"d057", "d058", "d059", "d060", "d061", "d062"})

Page = tuple[str, str, int]  # (need, file, physical page)
Control = tuple[int, str, str, int, int, int]  # round, need, file, page, first judge's grade, this judge's


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


def judged_pages(qrels: Mapping[str, list[Judged]], groups: Mapping[str, str]) -> dict[Page, int]:
    """Every page the set's judgments cover, per need, with its grade."""
    return {(groups[q], r.file, p): r.grade for q, rs in qrels.items() for r in rs for p in range(r.start, r.end + 1)}


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


def members_of(groups: Mapping[str, str]) -> dict[str, list[str]]:
    """Each need's queries, in id order."""
    out: dict[str, list[str]] = defaultdict(list)
    for q, g in sorted(groups.items()):
        out[g].append(q)
    return dict(out)


def merge(
    key: Mapping[str, Mapping[str, Any]],
    grades: Mapping[str, int],
    reasons: Mapping[str, str],
    round_no: int,
    earlier: list[PoolJudgment],
    members: Mapping[str, list[str]],
    found: Mapping[str, list[str]],
) -> list[PoolJudgment]:
    """The pooled judgments after a round: a new page gets this round's grades, its need's queries and the runs that
    found it; a page judged in an earlier round gets this round's grades appended, unless they are already there.
    ValueError names an item no judge graded, or a graded item the key does not hold."""
    missing = sorted(item for item in key if item not in grades)
    if missing:
        raise ValueError(f"{len(missing)} item(s) have no grade, e.g. {missing[0]}")
    stray = sorted(item for item in grades if item not in key)
    if stray:
        raise ValueError(f"{len(stray)} graded item(s) are not in key.json, e.g. {stray[0]}")
    by_page: dict[Page, list[str]] = defaultdict(list)
    for item, v in key.items():
        if v["origin"] == "pool":
            by_page[(v["group"], v["file"], int(v["page"]))].append(item)
    out = {(j.group, j.file, j.page): j for j in earlier}
    for (group, file, page), items in sorted(by_page.items()):
        items.sort()
        gs = tuple(grades[i] for i in items)
        old = out.get((group, file, page))
        if old is None:
            runs = ";".join(found.get(f"{group}|{file}|{page}", []))
            out[(group, file, page)] = PoolJudgment(
                group, tuple(members[group]), file, page, gs, (round_no,) * len(gs), runs, reasons.get(items[0], "")
            )
        elif round_no not in old.rounds:
            out[(group, file, page)] = replace(old, grades=old.grades + gs, rounds=old.rounds + (round_no,) * len(gs))
    return sorted(out.values(), key=lambda j: (j.group, j.file, j.page))


def controls_of(
    key: Mapping[str, Mapping[str, Any]], grades: Mapping[str, int], first: Mapping[Page, int], round_no: int
) -> list[Control]:
    """The round's controls: the first judge's grade of each beside this round's judge's."""
    out = []
    for item, v in key.items():
        if v["origin"] == "control":
            page = (v["group"], v["file"], int(v["page"]))
            out.append((round_no, *page, first[page], grades[item]))
    return sorted(out)


def read_grades(out: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Judges' grades and reasons from out/judgments*.tsv (item, grade 0-2, reason); ValueError names a bad line or
    an item graded twice."""
    grades: dict[str, int] = {}
    reasons: dict[str, str] = {}
    where: dict[str, str] = {}
    for path in sorted(out.glob("judgments*.tsv")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) < 2 or parts[1].strip() not in ("0", "1", "2"):
                raise ValueError(f"{path} line {n}: expected 'item<TAB>grade (0, 1 or 2)<TAB>reason'")
            item = parts[0].strip()
            if item in grades:
                raise ValueError(f"{path} line {n}: {item} is graded again (first at {where[item]})")
            grades[item] = int(parts[1])
            reasons[item] = parts[2].strip() if len(parts) > 2 else ""
            where[item] = f"{path.name} line {n}"
    return grades, reasons


def read_controls(path: Path) -> list[Control]:
    """The controls file (none when it does not exist)."""
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return [
            (int(r["round"]), r["query-id"], r["file"], int(r["page"]), int(r["first-grade"]), int(r["judge-grade"]))
            for r in csv.DictReader(fh, delimiter="\t")
        ]


def agreement(controls: list[Control], judgments: list[PoolJudgment]) -> dict[str, Any]:
    """How the judges agree with the first judge on controls, and with each other on pages judged more than once,
    per round and in all."""
    out: dict[str, Any] = {}
    rounds = sorted({c[0] for c in controls} | {r for j in judgments for r in j.rounds})
    for label, keep in [("all", lambda r: True)] + [(f"round {r}", lambda x, r=r: x == r) for r in rounds]:
        cs = [c for c in controls if keep(c[0])]
        again = [j for j in judgments if len(j.grades) > 1 and any(keep(r) for r in j.rounds)]
        out[label] = {
            "controls": len(cs),
            "controls_same_grade": sum(c[4] == c[5] for c in cs),
            "controls_still_relevant": sum(c[5] >= 1 for c in cs),
            "pages_judged_more_than_once": len(again),
            "unanimous": sum(len(set(j.grades)) == 1 for j in again),
            "relevance_unanimous": sum(len({g >= 1 for g in j.grades}) == 1 for j in again),
        }
    return out


def write_pool(path: Path, judgments: list[PoolJudgment]) -> None:
    """pool-judgments.tsv, one row per need and page, sorted."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(POOL_FIELDS)
        for j in sorted(judgments, key=lambda j: (j.group, j.file, j.page)):
            w.writerow(
                [
                    j.group,
                    ",".join(j.queries),
                    j.file,
                    j.page,
                    j.grade,
                    ",".join(map(str, j.grades)),
                    ",".join(map(str, j.rounds)),
                    j.found_by,
                    j.reason,
                ]
            )


def write_controls(path: Path, controls: list[Control]) -> None:
    """pool-controls.tsv, sorted."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(CONTROL_FIELDS)
        w.writerows(sorted(controls))


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


def compare(data_dirs: list[Path], domain: Path) -> dict[str, Any]:
    """Each store scored on the set's first judgments, with the pooled ones, and with the pooled ones less the pages
    only its own runs found (hybrid mode)."""
    from pactkb.evaluation.domain import evaluate_domain
    from pactkb.index.kb import KnowledgeBase
    from pactkb.settings import Settings

    queries, _ = load(domain)
    rows = []
    for data in data_dirs:
        kb = KnowledgeBase(Settings(data=data))
        row: dict[str, Any] = {"data": str(data), "model": kb.encoder.name}
        row["first"] = summary(evaluate_domain(domain, kb, modes=("hybrid",), pooled=False), queries)
        row["pooled"] = summary(evaluate_domain(domain, kb, modes=("hybrid",)), queries)
        row["pooled_without_own"] = summary(
            evaluate_domain(domain, kb, modes=("hybrid",), pool_without=data.name), queries
        )
        rows.append(row)
    judgments = read_pool(domain / POOL_FILE)
    return {
        "pooled_pages": len(judgments),
        "pooled_grades": {g: sum(j.grade == g for j in judgments) for g in (0, 1, 2)},
        "agreement": agreement(read_controls(domain / CONTROLS), judgments),
        "stores": rows,
    }


def main(argv: list[str] | None = None) -> int:
    """`packets`: pool the stores' runs into blind packets; `merge`: fold the judges' grades into the set;
    `compare`: score stores with and without the pooled judgments."""
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
    mg = sub.add_parser("merge", help="merge a round's grades into pool-judgments.tsv and pool-controls.tsv")
    mg.add_argument("--round", type=int, required=True)
    for p in (pk, mg):
        p.add_argument("--out", type=Path, required=True, help="the packets' folder (key.json, judgments*.tsv)")
    cp = sub.add_parser("compare", help="score stores on the first judgments and with the pooled ones")
    cp.add_argument("--data", type=Path, action="append", required=True, help="a store (repeat)")
    for p in (pk, mg, cp):
        p.add_argument("--domain", type=Path, default=DOMAIN)
    args = ap.parse_args(argv)
    try:
        return run(args)
    except (ValueError, OSError) as exc:  # DomainSetError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    """One subcommand."""
    if args.cmd == "compare":
        print(json.dumps(compare(args.data, args.domain), indent=1))
        return 0
    queries, first = load(args.domain, pooled=False)
    groups = need_groups(queries, first)
    earlier = read_pool(args.domain / POOL_FILE)
    if args.cmd == "packets":
        first_pages = judged_pages(first, groups)
        judged = set(first_pages) | {(j.group, j.file, j.page) for j in earlier}
        skip = {q for q in queries if not first.get(q)} | HAND_ONLY  # no-answer queries were checked by grep
        found = pool(collect_runs(args.data, queries, args.depth), groups, judged, args.depth, skip)
        candidates = sorted(first_pages)
        controls = random.Random(args.seed).sample(candidates, min(args.controls, len(candidates)))
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
        runs = {"|".join(map(str, k)): v for k, v in found.items()}
        (args.out / "runs.json").write_text(json.dumps(runs), encoding="utf-8")
        print(json.dumps({"pooled": len(found), "items": len(key), "packets": args.judges}))
        return 0
    key = json.loads((args.out / "key.json").read_text(encoding="utf-8"))
    runs_file = args.out / "runs.json"
    finders: dict[str, list[str]] = json.loads(runs_file.read_text(encoding="utf-8")) if runs_file.exists() else {}
    grades, reasons = read_grades(args.out)
    judgments = merge(key, grades, reasons, args.round, earlier, members_of(groups), finders)
    kept = [c for c in read_controls(args.domain / CONTROLS) if c[0] != args.round]
    kept += controls_of(key, grades, judged_pages(first, groups), args.round)
    write_pool(args.domain / POOL_FILE, judgments)
    write_controls(args.domain / CONTROLS, kept)
    added = len(judgments) - len(earlier)
    print(json.dumps({"pages_added": added, "pages": len(judgments), "agreement": agreement(kept, judgments)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
