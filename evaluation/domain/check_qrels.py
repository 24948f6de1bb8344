#!/usr/bin/env python3
"""Validate the domain retrieval evaluation set (queries.jsonl + qrels.tsv).

Usage:
    python check_qrels.py                 # validate, exit 1 on any problem
    python check_qrels.py --corpus DIR    # corpus PDF directory (default: <repo>/../shared/corpus/pdf)
    python check_qrels.py --show d017     # print the query and the text of every judged page
    python check_qrels.py --show d017 --max-chars 1500

Checks:
  * queries.jsonl: valid JSON per line, required fields, unique _id,
    lang and difficulty from the allowed sets
  * qrels.tsv: exact header, 5 columns, known query ids, existing PDF files,
    1 <= page-start <= page-end <= page count (physical, 1-based), grade in {1, 2},
    no duplicate / overlapping ranges for the same query and file
  * every answerable query has at least one grade-2 row; no-answer queries have no rows
  * pool-judgments.tsv (pooled judgments, if present): exact header, known answerable query ids, existing
    PDF files and pages, grades in {0, 1, 2} with one round each, grade = their lower median, one row per
    need and page, no page a listed query's own qrels rows already cover

Only the standard library and pypdf are used. Encrypted PDFs are opened with an empty password.
"""

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]  # .../main  (evaluation/domain/check_qrels.py)
DEFAULT_CORPUS = (REPO_ROOT / ".." / "shared" / "corpus" / "pdf").resolve()

HEADER = ["query-id", "file", "page-start", "page-end", "grade"]
POOL_HEADER = ["query-id", "queries", "file", "page", "grade", "grades", "rounds", "found-by", "reason"]
LANGS = {"en", "sr", "hr", "bs", "sq", "mk", "es"}
DIFFICULTIES = {"keyword", "paraphrase", "hard", "no-answer"}
REQUIRED = ("_id", "text", "lang", "difficulty", "kind")
QrelRow = tuple[int, str, str, int, int, int]  # line number, query id, file, first page, last page, grade


def open_pdf(path: Path) -> Any:
    from pypdf import PdfReader  # imported lazily so --help works without pypdf

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        reader.decrypt("")
    return reader


def load_queries(path: Path, errors: list[str]) -> dict[str, dict[str, Any]]:
    queries: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"queries.jsonl:{lineno}: invalid JSON ({exc})")
                continue
            missing = [k for k in REQUIRED if not str(obj.get(k, "")).strip()]
            if missing:
                errors.append(f"queries.jsonl:{lineno}: missing/empty field(s) {missing}")
                continue
            qid = obj["_id"]
            if qid in queries:
                errors.append(f"queries.jsonl:{lineno}: duplicate _id {qid}")
            if obj["lang"] not in LANGS:
                errors.append(f"{qid}: invalid lang {obj['lang']!r} (allowed: {sorted(LANGS)})")
            if obj["difficulty"] not in DIFFICULTIES:
                errors.append(f"{qid}: invalid difficulty {obj['difficulty']!r} (allowed: {sorted(DIFFICULTIES)})")
            queries[qid] = obj
    return queries


def load_qrels(path: Path, errors: list[str]) -> list[QrelRow]:
    rows: list[QrelRow] = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if header != HEADER:
            errors.append(f"qrels.tsv: header must be {HEADER!r}, got {header!r}")
        for lineno, rec in enumerate(reader, 2):
            if not rec or all(not c.strip() for c in rec):
                continue
            if len(rec) != 5:
                errors.append(f"qrels.tsv:{lineno}: expected 5 columns, got {len(rec)}")
                continue
            qid, fname, start, end, grade_text = rec
            try:
                ps, pe, grade = int(start), int(end), int(grade_text)
            except ValueError:
                errors.append(f"qrels.tsv:{lineno}: page-start/page-end/grade must be integers")
                continue
            rows.append((lineno, qid, fname, ps, pe, grade))
    return rows


def page_counts(files: set[str], corpus: Path, errors: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for fname in sorted(files):
        path = corpus / fname
        if not path.is_file():
            errors.append(f"file not found in corpus: {fname} ({path})")
            continue
        try:
            counts[fname] = len(open_pdf(path).pages)
        except Exception as exc:  # noqa: BLE001 - report any PDF problem
            errors.append(f"cannot open {fname}: {exc}")
    return counts


def validate(corpus: Path) -> tuple[dict[str, dict[str, Any]], list[QrelRow], list[str]]:
    errors: list[str] = []
    queries = load_queries(HERE / "queries.jsonl", errors)
    rows = load_qrels(HERE / "qrels.tsv", errors)
    counts = page_counts({r[2] for r in rows}, corpus, errors)

    seen_pages: dict[tuple[str, str, int], int] = {}
    grade2: set[str] = set()
    judged: set[str] = set()
    for lineno, qid, fname, ps, pe, grade in rows:
        where = f"qrels.tsv:{lineno} ({qid})"
        if qid not in queries:
            errors.append(f"{where}: unknown query id")
        if grade not in (1, 2):
            errors.append(f"{where}: grade must be 1 or 2, got {grade}")
        if ps < 1 or pe < ps:
            errors.append(f"{where}: bad page range {ps}-{pe}")
        n = counts.get(fname)
        if n is not None and pe > n:
            errors.append(f"{where}: page-end {pe} > page count {n} of {fname}")
        for p in range(max(ps, 1), pe + 1):
            key = (qid, fname, p)
            if key in seen_pages:
                errors.append(f"{where}: page {p} of {fname} already judged on line {seen_pages[key]}")
            seen_pages[key] = lineno
        judged.add(qid)
        if grade == 2:
            grade2.add(qid)

    errors += check_pool(HERE / "pool-judgments.tsv", queries, rows, corpus)
    for qid, q in queries.items():
        if q["difficulty"] == "no-answer":
            if qid in judged:
                errors.append(f"{qid}: no-answer query must not have qrels rows")
        elif qid not in grade2:
            errors.append(f"{qid}: answerable query has no grade-2 judgment")
    return queries, rows, errors


def check_pool(path: Path, queries: dict[str, dict[str, Any]], rows: list[QrelRow], corpus: Path) -> list[str]:
    """Problems in the pooled judgments file (none if there is no such file)."""
    if not path.exists():
        return []
    errors: list[str] = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, [])
        if header != POOL_HEADER:
            return [f"pool-judgments.tsv: header must be {POOL_HEADER}, got {header}"]
        lines = list(enumerate(reader, 2))
    counts = page_counts({r[2] for _, r in lines if len(r) == len(POOL_HEADER)}, corpus, errors)
    own = {(r[1], r[2], p) for r in rows for p in range(r[3], r[4] + 1)}
    seen: dict[tuple[str, str, int], int] = {}
    for n, r in lines:
        where = f"pool-judgments.tsv:{n}"
        if len(r) != len(POOL_HEADER):
            errors.append(f"{where}: expected {len(POOL_HEADER)} columns, got {len(r)}")
            continue
        need, members, fname, page_s, grade_s, grades_s, rounds_s = r[:7]
        try:
            page, grade = int(page_s), int(grade_s)
            grades = [int(x) for x in grades_s.split(",")]
            rounds = [int(x) for x in rounds_s.split(",")]
        except ValueError:
            errors.append(f"{where}: page, grade, grades and rounds must be integers")
            continue
        if len(grades) != len(rounds) or any(g not in (0, 1, 2) for g in grades):
            errors.append(f"{where}: grades must be 0, 1 or 2, with one round each")
        elif grade != sorted(grades)[(len(grades) - 1) // 2]:
            errors.append(f"{where}: grade {grade} is not the lower median of {grades}")
        qids = members.split(",")
        if need not in qids:
            errors.append(f"{where}: the need {need} is not among its queries")
        for q in qids:
            if q not in queries:
                errors.append(f"{where}: unknown query id {q}")
            elif queries[q]["difficulty"] == "no-answer":
                errors.append(f"{where}: {q} is a no-answer query")
            elif (q, fname, page) in own:
                errors.append(f"{where}: page {page} of {fname} is already in qrels.tsv for {q}")
        if fname in counts and not 1 <= page <= counts[fname]:
            errors.append(f"{where}: page {page} outside 1..{counts[fname]} of {fname}")
        if (need, fname, page) in seen:
            errors.append(f"{where}: {need}, {fname} p. {page} already on line {seen[(need, fname, page)]}")
        seen[(need, fname, page)] = n
    return errors


def show(qid: str, queries: dict[str, dict[str, Any]], rows: list[QrelRow], corpus: Path, max_chars: int) -> int:
    q = queries.get(qid)
    if q is None:
        print(f"unknown query id {qid}", file=sys.stderr)
        return 1
    print(f"# {qid} [{q['lang']}/{q['difficulty']}] {q['text']}")
    print(f"# kind: {q['kind']}")
    mine = [r for r in rows if r[1] == qid]
    if not mine:
        print("# (no judged pages)")
        return 0
    readers: dict[str, Any] = {}
    for _, _, fname, ps, pe, grade in mine:
        if fname not in readers:
            readers[fname] = open_pdf(corpus / fname)
        for p in range(ps, pe + 1):
            text = readers[fname].pages[p - 1].extract_text() or ""
            if max_chars and len(text) > max_chars:
                text = text[:max_chars] + f"\n[... {len(text) - max_chars} more chars]"
            print(f"\n===== {fname}  page {p} (physical)  grade {grade} =====")
            print(text)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="directory holding the corpus PDFs")
    ap.add_argument("--show", metavar="QID", help="print the judged pages of one query")
    ap.add_argument("--max-chars", type=int, default=0, help="truncate each page printed by --show")
    args = ap.parse_args()
    corpus = args.corpus.resolve()

    queries, rows, errors = validate(corpus)
    if args.show:
        rc = show(args.show, queries, rows, corpus, args.max_chars)
        if errors:
            print(f"\n# note: validation found {len(errors)} problem(s); run without --show", file=sys.stderr)
        return rc or (1 if errors else 0)

    for e in errors:
        print("ERROR:", e)
    n_ans = sum(1 for q in queries.values() if q["difficulty"] != "no-answer")
    print(
        f"{len(queries)} queries ({n_ans} answerable), {len(rows)} qrels rows, "
        f"{len({r[2] for r in rows})} judged files, corpus={corpus}"
    )
    if errors:
        print(f"FAILED: {len(errors)} problem(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
