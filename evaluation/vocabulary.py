"""The field's vocabulary in the users' languages: does each term's English rendering carry the words it should?

    python -m pactkb.evaluation.vocabulary --data DIR [--lang hr] [--failures] [--json]
    python -m pactkb.evaluation.vocabulary --data DIR --synonyms [--failures] [--json]

evaluation/vocabulary/<lang>.tsv lists terms as practitioners type them (inflected, in either script, with or without
diacritics) beside the English words their rendering must contain: `term<TAB>english`, where `english` gives one or
more alternatives separated by " | " ("suspicious transaction | suspected transaction"). A term passes when every word
of one alternative is among the rendering's words (`query_translation`), compared by Porter stem. The lists are
written from the field's vocabulary (FATF, EU, UNODC, Europol usage), never from the domain set's queries, so their
pass rate measures how far the translation of queries nobody has seen yet can be trusted; the tests run part of them.

`--synonyms` checks evaluation/vocabulary/en-synonyms.tsv instead: English practitioner terms ("smurfing", "CDD",
"bitcoin ATM") beside the documents' wording ("structuring", "customer due diligence", "virtual asset kiosk"). The
rendering is the query plus the words the field synonym list adds (`query_expansion`, index/synonyms/en.tsv); the
report also counts the terms whose document wording the store's lexical index holds (an expansion to words no
document uses cannot help).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pactkb.index.filters import Filters
from pactkb.index.fold import fold_tokens, porter_stem
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

LISTS = Path(__file__).resolve().parent / "vocabulary"
SYNONYM_LIST = "en-synonyms.tsv"  # English practitioner terms vs the documents' wording (not a query language's list)


@dataclass(frozen=True)
class Term:
    """One listed term: its language, the text as typed, and the English alternatives its rendering must contain."""

    lang: str
    text: str
    english: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Checked:
    """One term's rendering and whether it carries an expected alternative."""

    lang: str
    text: str
    expected: str
    rendering: str
    passed: bool


class VocabularyListError(ValueError):
    """A vocabulary list line is malformed (the message names the file and line)."""


def load_terms(path: Path) -> list[Term]:
    """The terms of one list (`<lang>.tsv`); comments (#) and blank lines skipped."""
    lang = path.stem
    terms: list[Term] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise VocabularyListError(f"{path}:{n}: expected 'term<TAB>english', got {line!r}")
        english = tuple(a.strip() for a in parts[1].split("|") if a.strip())
        terms.append(Term(lang, parts[0].strip(), english, n))
    return terms


def list_paths(root: Path = LISTS, languages: list[str] | None = None) -> list[Path]:
    """The lists under `root`, of the given languages (all when None)."""
    paths = [p for p in sorted(root.glob("*.tsv")) if p.name != SYNONYM_LIST]
    return [p for p in paths if languages is None or p.stem in languages]


def stems(text: str) -> set[str]:
    """Porter stems of a text's folded words."""
    return {porter_stem(w) for w in fold_tokens(text)}


def carries(rendering: str, alternatives: tuple[str, ...]) -> bool:
    """True when every word of one alternative is among the rendering's words (by stem)."""
    have = stems(rendering)  # hyphenated words split as the index splits them ("cross-border")
    return any(stems(a) <= have for a in alternatives)


def check(render: Callable[[str, str], str], terms: list[Term]) -> list[Checked]:
    """Each term rendered by `render(text, lang)` and checked against its alternatives."""
    out = []
    for t in terms:
        rendering = render(t.text, t.lang)
        out.append(Checked(t.lang, t.text, " | ".join(t.english), rendering, carries(rendering, t.english)))
    return out


def kb_renderer(kb: KnowledgeBase) -> Callable[[str, str], str]:
    """The searcher's rendering of a term in a given language (`query_translation`, as a search would show it)."""
    searcher = kb.searcher

    def render(text: str, lang: str) -> str:
        return searcher.translation(text, lang, lambda: kb.encoder.encode_queries([text])[0]).text

    return render


def expansion_renderer(kb: KnowledgeBase) -> Callable[[str, str], str]:
    """An English query with the field synonyms a search adds to it (`query_expansion`)."""
    searcher = kb.searcher

    def render(text: str, lang: str) -> str:
        return " ".join([text, *searcher.expansion(text, "en", None).added])

    return render


def corpus_uses(kb: KnowledgeBase) -> Callable[[tuple[str, ...]], bool]:
    """Whether the store's lexical index holds one of the alternatives (each searched as a phrase, by stem)."""
    lexical = kb.searcher.lexical

    def uses(alternatives: tuple[str, ...]) -> bool:
        return any(lexical.search(f'"{a.replace(chr(34), " ")}"', 1, Filters()) for a in alternatives)

    return uses


def summary(checked: list[Checked]) -> dict[str, dict[str, Any]]:
    """Per language: terms listed, passed, and the pass rate."""
    out: dict[str, dict[str, Any]] = {}
    for lang in sorted({c.lang for c in checked}):
        mine = [c for c in checked if c.lang == lang]
        passed = sum(c.passed for c in mine)
        out[lang] = {"terms": len(mine), "passed": passed, "rate": round(passed / len(mine), 4)}
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line: check the lists against a store's translation and print the failures and pass rates."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="a data directory (its vocabulary feeds the bridge)")
    ap.add_argument("--lang", action="append", help="only this language's list (repeatable)")
    ap.add_argument("--lists", type=Path, default=LISTS, help="folder of <lang>.tsv lists")
    ap.add_argument("--failures", action="store_true", help="print only the terms that fail")
    ap.add_argument("--synonyms", action="store_true", help=f"check {SYNONYM_LIST} against the synonym expansion")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    kb = KnowledgeBase(Settings(data=args.data))
    if args.synonyms:
        terms = load_terms(args.lists / SYNONYM_LIST)
        checked = check(expansion_renderer(kb), terms)
        uses = corpus_uses(kb)
        in_corpus = {t.text: uses(t.english) for t in terms}
    else:
        terms = [t for p in list_paths(args.lists, args.lang) for t in load_terms(p)]
        checked = check(kb_renderer(kb), terms)
        in_corpus = {}
    if args.json:
        rows = [{**asdict(c), **({"in_corpus": in_corpus[c.text]} if in_corpus else {})} for c in checked]
        out: dict[str, Any] = {"summary": summary(checked), "terms": rows}
        if in_corpus:
            out["in_corpus"] = sum(in_corpus.values())
        print(json.dumps(out, ensure_ascii=False))
        return
    for c in checked:
        if not (args.failures and c.passed):
            where = "" if not in_corpus else "" if in_corpus[c.text] else "   (no document uses it)"
            mark = "ok  " if c.passed else "FAIL"
            print(f"{mark} {c.lang}  {c.text}  ->  {c.rendering}   [want: {c.expected}]{where}")
    for lang, s in summary(checked).items():
        print(f"{lang}: {s['passed']}/{s['terms']} passed ({s['rate']:.0%})")
    if in_corpus:
        print(f"document wording found in the store: {sum(in_corpus.values())}/{len(in_corpus)} terms")


if __name__ == "__main__":
    main()
