"""Hard questions, cause by cause: what each ranking measure of pactkb moves on the domain set.

Each cause of a wrong first answer has a query-time measure with a setting that switches it off (wrong edition:
`superseded_weight`, twin ordering included; footnotes, contents pages and reference lists: `region_weights`;
vocabulary mismatch: `synonyms`; answers spread over a section: `section_support`; one page listed twice:
`same_page_weight`; the answer worded unlike the query: `feedback_weight`; an answer over neighbouring pages of sibling
subsections: `section_support_levels`, measured with section support at its default share; a cover, title or
imprint page first: the "front" entry of `region_weights`, measured on its own as `region_weights.front`, while the
`region_weights` row measures the other regions with front matter at 1.0; a bare heading or one-line footnote first:
`short_passage_weight`). This scores the domain set (hybrid
nDCG@10) with all measures off, then with each one alone, then with all, and lists the queries each measure moved;
each row's change against all measures off has a 95% paired bootstrap interval on the dev and on the test half
(resampling the half's queries), so a measure whose interval spans 0 is not told apart from noise.
Hyphenated query words searched as phrases (index/lexical.py) are not a setting: on in every row. With `--tune`, the
weights are chosen on the dev half only (coordinate ascent over small grids) and the test half is
reported. Layout recognition at ingest (footnotes cut out of the body, headings by typography) changes the index
itself; compare two stores for it with `--baseline DIR` (a store built without it, e.g. by an older pactkb).

    python -m pactkb.evaluation.causes --data DIR [--baseline DIR] [--tune] [--split dev] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.evaluation.domain import interval, load, score_mode
from pactkb.evaluation.metrics import ci95, paired_diff_ci95
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

ROOT = Path(__file__).resolve().parent / "domain"
OFF: dict[str, Any] = {
    "superseded_weight": 1.0,
    "region_weights": {},
    "synonyms": False,
    "section_support": 0.0,
    "same_page_weight": 1.0,
    "feedback_weight": 0.0,
    "section_support_levels": 0,
    "region_weights.front": 1.0,
    "short_passage_weight": 1.0,
}
CAUSES: dict[str, str] = {
    "superseded_weight": "the wrong edition",
    "region_weights": "footnotes, contents pages, indexes, reference lists and lists of acronyms",
    "synonyms": "vocabulary mismatch",
    "section_support": "answers spread over a section",
    "same_page_weight": "one page listed twice (another chunk of a page already listed)",
    "feedback_weight": "the answer worded unlike the query (dense feedback from the first pages of one document)",
    "section_support_levels": "answers over neighbouring pages of sibling subsections (section support by top heading)",
    "region_weights.front": "cover, title and imprint pages (front matter)",
    "short_passage_weight": "passages too short to answer (bare headings, one-line footnotes, cover titles)",
}
GRIDS: dict[str, list[Any]] = {
    "superseded_weight": [1.0, 0.95, 0.9, 0.8, 0.6],
    "region_weights": [
        {},
        {"footnote": 0.7, "contents": 0.5, "index": 0.5, "references": 0.7, "acronyms": 0.5},
        {"footnote": 0.5, "contents": 0.3, "index": 0.3, "references": 0.5, "acronyms": 0.3},
        {"footnote": 0.3, "contents": 0.2, "index": 0.2, "references": 0.3, "acronyms": 0.2},
    ],
    "weight_expansion": [0.25, 0.5, 1.0],
    "section_support": [0.0, 0.05, 0.1, 0.2, 0.3],
    "same_page_weight": [1.0, 0.8, 0.5, 0.0],
    "feedback_weight": [0.0, 0.5, 0.6, 0.7],
    "section_support_levels": [0, 1],
    "region_weights.front": [1.0, 0.7, 0.5, 0.3, 0.2],
    "short_passage_weight": [1.0, 0.8, 0.6, 0.4],
}
HALVES = ("dev", "test")
MOVED = 0.05  # a query 'moved' when its nDCG@10 changed by at least this much
# value of an opt-in measure (off by default) in its own row, so the table still shows what it would move
OPT_IN: dict[str, Any] = {"feedback_weight": 0.6, "section_support_levels": 1}
# a measure that only refines another one: its row switches that one on too (at the tuned value, else its default)
NEEDS: dict[str, str] = {"synonyms": "weight_expansion", "section_support_levels": "section_support"}


def field_and_entry(key: str) -> tuple[str, str | None]:
    """A measure's Settings field and, for a measure of one entry of a dict setting ('region_weights.front'), that
    entry (None: the whole setting)."""
    field, _, entry = key.partition(".")
    return field, entry or None


def entries_apart(field: str) -> set[str]:
    """The entries of a dict setting that are measures of their own ('front' of region_weights)."""
    return {entry for f, entry in map(field_and_entry, [*CAUSES, *GRIDS]) if f == field and entry is not None}


def default_of(key: str) -> Any:
    """A measure's default: the setting's, an entry's own, or a dict setting's without the entries measured apart."""
    field, entry = field_and_entry(key)
    value = Settings.model_fields[field].get_default(call_default_factory=True)
    if entry is not None:
        return value[entry]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in entries_apart(field)}
    return value


def settings_of(measures: dict[str, Any]) -> dict[str, Any]:
    """Settings values for measure values: an entry measured apart goes into its dict setting, beside the setting's
    other entries (given, or their defaults); a dict setting given without it keeps that entry's default."""
    out = {k: v for k, v in measures.items() if field_and_entry(k)[1] is None}
    for key in dict.fromkeys([*CAUSES, *GRIDS, *measures]):
        field, entry = field_and_entry(key)
        if entry is not None and (key in measures or field in out):
            out[field] = {**out.get(field, default_of(field)), entry: measures.get(key, default_of(key))}
    return out


def row_settings(data: Path, overrides: dict[str, Any]) -> Settings:
    """The settings of one row: the defaults with its measures; the deprecated PACTKB_FRONT_MATTER_WEIGHT, if set in
    the environment, must not override the row's region weights (a keyword beats the environment)."""
    return Settings(data=data, **{"database_url": None, "front_matter_weight": None, **settings_of(overrides)})


def scores(
    data: Path, overrides: dict[str, Any], queries: dict[str, dict[str, Any]], qrels: dict[str, Any]
) -> dict[str, float]:
    """Per-query hybrid nDCG@10 of the store in `data` with the given settings."""
    kb = KnowledgeBase(row_settings(data, overrides))
    doc_file = kb.store.source_names()
    per = score_mode(kb, queries, qrels, "hybrid", doc_file)["per_query"]
    kb.store.close()
    return {q: v["ndcg@10"] for q, v in per.items()}


def mean(per: dict[str, float], qs: list[str]) -> float:
    """Mean over the given queries (0 when none)."""
    return round(float(np.mean([per[q] for q in qs])), 4) if qs else 0.0


def summary(per: dict[str, float], queries: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Means overall, and per half (dev, test) overall, for hard queries and for English queries."""
    ids = list(per)
    out = {"all": mean(per, ids)}
    for half in HALVES:
        qs = [q for q in ids if queries[q].get("split") == half]
        out[half] = mean(per, qs)
        out[f"{half}_hard"] = mean(per, [q for q in qs if queries[q].get("difficulty") == "hard"])
        out[f"{half}_en"] = mean(per, [q for q in qs if queries[q].get("lang") == "en"])
    return out


def summary_ci95(per: dict[str, float], queries: dict[str, dict[str, Any]]) -> dict[str, list[float] | None]:
    """95% bootstrap intervals of the per-half means of `summary` (None for fewer than two queries)."""
    out: dict[str, list[float] | None] = {}
    for half in HALVES:
        qs = [q for q in per if queries[q].get("split") == half]
        out[half] = ci95([per[q] for q in qs])
        out[f"{half}_hard"] = ci95([per[q] for q in qs if queries[q].get("difficulty") == "hard"])
        out[f"{half}_en"] = ci95([per[q] for q in qs if queries[q].get("lang") == "en"])
    return out


def change(before: dict[str, float], after: dict[str, float], queries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per half (dev, test): the change of mean nDCG@10 from `before` to `after` and its 95% paired bootstrap interval
    (None for a half without queries)."""
    out: dict[str, Any] = {}
    for half in HALVES:
        qs = [q for q in after if queries[q].get("split") == half]
        diff = round(mean(after, qs) - mean(before, qs), 4) if qs else None
        out[half] = {"change": diff, "ci95": paired_diff_ci95([after[q] for q in qs], [before[q] for q in qs])}
    return out


def moved(before: dict[str, float], after: dict[str, float]) -> dict[str, list[str]]:
    """Queries whose nDCG@10 rose or fell by at least MOVED."""
    return {
        "up": sorted(q for q in after if after[q] - before.get(q, 0) >= MOVED),
        "down": sorted(q for q in after if before.get(q, 0) - after[q] >= MOVED),
    }


def alone_value(key: str, chosen: dict[str, Any]) -> Any:
    """A measure's value in its own row: the tuned one, else its default, else (off by default) its OPT_IN value."""
    default = default_of(key)
    return chosen.get(key, OPT_IN.get(key, default) if default == OFF[key] else default)


def alone_settings(key: str, chosen: dict[str, Any]) -> dict[str, Any]:
    """The settings of a measure's own row: every measure off but this one (and the one it refines, see NEEDS)."""
    alone = {**OFF, key: alone_value(key, chosen)}
    if key in NEEDS:
        alone[NEEDS[key]] = chosen.get(NEEDS[key], default_of(NEEDS[key]))
    return alone


def tune(data: Path, queries: dict[str, dict[str, Any]], qrels: dict[str, Any]) -> dict[str, Any]:
    """Coordinate ascent over the grids on the dev half (ties keep the gentler value, listed first)."""
    dev = {q: v for q, v in queries.items() if v.get("split") == "dev"}
    chosen: dict[str, Any] = {}
    best = mean(scores(data, chosen, dev, qrels), list(dev))
    for name, grid in GRIDS.items():
        for value in grid:
            trial = {**chosen, name: value}
            s = mean(scores(data, trial, dev, qrels), [q for q in dev if qrels.get(q)])
            if s > best + 1e-4:
                best, chosen = s, trial
    return {"chosen": chosen, "dev_ndcg": best}


def run(data: Path, baseline: Path | None, do_tune: bool, split: str | None = None) -> dict[str, Any]:
    """All measures off, each alone, all on (default settings or tuned), and the baseline store if given; only the
    queries of one half when `split` says so (dev: tuning never sees a test query)."""
    queries, qrels = load(ROOT)
    queries = {q: v for q, v in queries.items() if qrels.get(q) and split in (None, v.get("split"))}
    out: dict[str, Any] = {"data": str(data), "split": split}
    tuned = tune(data, queries, qrels) if do_tune else None
    full = tuned["chosen"] if tuned else {}
    off = scores(data, OFF, queries, qrels)
    on = scores(data, full, queries, qrels)
    out["off"], out["on"] = summary(off, queries), summary(on, queries)
    out["off_ci95"], out["on_ci95"] = summary_ci95(off, queries), summary_ci95(on, queries)
    out["on_change"] = change(off, on, queries)
    out["tuned"] = tuned
    rows = []
    for key, cause in CAUSES.items():
        per = scores(data, alone_settings(key, full), queries, qrels)
        rows.append(
            {
                "cause": cause,
                "setting": key,
                **summary(per, queries),
                **moved(off, per),
                "change": change(off, per, queries),
            }
        )
    if baseline is not None:
        base = scores(baseline, OFF, queries, qrels)
        rows.insert(
            0,
            {
                "cause": "footnotes glued into the body; numbered paragraphs as headings (layout at ingest)",
                "setting": "(index)",
                **summary(off, queries),
                **moved(base, off),
                "baseline": summary(base, queries),
                "change": change(base, off, queries),  # this row's change is the index's: against the baseline store
            },
        )
    out["causes"] = rows
    out["moved_by_all"] = moved(off, on)
    return out


def change_cell(ch: dict[str, Any] | None) -> str:
    """A change with its 95% interval, starred when the interval excludes 0 ('' when not measured)."""
    if not ch or ch.get("change") is None:
        return ""
    ci = ch.get("ci95")
    star = "*" if ci and (ci[0] > 0 or ci[1] < 0) else ""
    return f"{ch['change']:+.4f}{star} {interval(ci, signed=True, places=4)}".rstrip()


def table(res: dict[str, Any]) -> str:
    """Markdown table of the causes (the test half's columns; the dev half's for a dev-only run), with each row's
    change against all measures off on each half that has queries (95% paired bootstrap interval; * excludes 0)."""
    h = res.get("split") or "test"
    rows = [*res["causes"], {"change": res.get("on_change")}]
    halves = [x for x in HALVES if any(((r.get("change") or {}).get(x) or {}).get("change") is not None for r in rows)]
    lines = [
        f"| cause | setting | nDCG@10 all | {h} | {h} hard | {h} English | "
        + "".join(f"{x} change vs off (95% CI) | " for x in halves)
        + "queries up | queries down |",
        "|---|---|---|---|---|---|" + "---|" * len(halves) + "---|---|",
    ]

    def changes(r: dict[str, Any]) -> str:
        return "".join(f"{change_cell((r.get('change') or {}).get(x))} | " for x in halves)

    off = res["off"]
    lines.append(
        f"| all measures off | | {off['all']} | {off[h]} | {off[f'{h}_hard']} | {off[f'{h}_en']} | "
        + "| " * len(halves)
        + "| |"
    )
    for r in res["causes"]:
        lines.append(
            f"| {r['cause']} | `{r['setting']}` | {r['all']} | {r[h]} | {r[f'{h}_hard']} | {r[f'{h}_en']} | "
            f"{changes(r)}{', '.join(r['up']) or '–'} | {', '.join(r['down']) or '–'} |"
        )
    on = res["on"]
    lines.append(
        f"| **all measures on** | | **{on['all']}** | **{on[h]}** | **{on[f'{h}_hard']}** | **{on[f'{h}_en']}** | "
        f"{changes({'change': res.get('on_change')})}"
        f"{', '.join(res['moved_by_all']['up']) or '–'} | {', '.join(res['moved_by_all']['down']) or '–'} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(prog="python -m pactkb.evaluation.causes", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="A store holding the shared corpus.")
    ap.add_argument("--baseline", type=Path, help="A store of the same corpus built without layout recognition.")
    ap.add_argument("--tune", action="store_true", help="Choose the weights on the dev half first.")
    ap.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    ap.add_argument("--split", choices=HALVES, help="Only the queries of one half (dev: while tuning).")
    args = ap.parse_args(argv)
    res = run(args.data, args.baseline, args.tune, args.split)
    print(json.dumps(res, indent=2) if args.json else table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
