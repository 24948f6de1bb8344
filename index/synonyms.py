"""Field synonyms and acronyms: a query about "bitcoin vending machines" also searches "virtual asset kiosks".

The curated list ships with pactkb (`index/synonyms/en.tsv`, versioned in its header); a team can add its own files
in the same format (`PACTKB_SYNONYM_FILES`). Groups that share a term are merged. A term is looked up with each word
in the singular, so "crypto exchanges" finds the group of "crypto exchange". Expansion is applied at query time to
the lexical side only, as one more BM25 list, and the added terms are shown to the user (`query_expansion`).
Nothing here depends on the indexed documents, so an expansion reveals nothing about them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pactkb.index.fold import fold_tokens, porter_stem

log = logging.getLogger(__name__)
BUILTIN = Path(__file__).with_name("synonyms") / "en.tsv"
_VERSION = re.compile(r"^#\s*version:\s*(\S+)", re.IGNORECASE)
MIN_ADDED_CHARS = 3  # acronyms this short are searched for their long forms, never added themselves
MAX_ADDED = 8  # added terms per query at most (the closest groups first)
_NOT_PLURAL = ("ss", "us", "is")  # 'mass', 'virus', 'analysis': an -s that is no plural ending


class SynonymFileError(ValueError):
    """A synonym file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Expansion:
    """What a query matched in the synonym list and the terms it also searches for."""

    matched: tuple[str, ...] = ()
    added: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The added terms as a lexical query: multi-word terms as quoted phrases."""
        return " ".join(f'"{t}"' if " " in t else t for t in self.added)


@dataclass
class Synonyms:
    """Synonym groups, looked up by the folded word sequence of each term."""

    groups: list[tuple[str, ...]] = field(default_factory=list)
    version: str = ""

    def __post_init__(self) -> None:
        """Index every term of every group by its folded tokens."""
        self._index: dict[tuple[str, ...], int] = {}
        for gi, group in enumerate(self.groups):
            for term in group:
                key = _key(fold_tokens(term))
                if key:
                    self._index[key] = gi
        self._longest = max((len(k) for k in self._index), default=0)

    def expand(self, query: str) -> Expansion:
        """Terms of the query found in the list (longest match first) and the other terms of their groups."""
        tokens = fold_tokens(query)
        keys = _key(tokens)  # each word in the singular once, not once per candidate span
        matched: list[str] = []
        groups: list[int] = []
        i = 0
        while i < len(tokens):
            for n in range(min(self._longest, len(tokens) - i), 0, -1):
                gi = self._index.get(keys[i : i + n])
                if gi is not None:
                    matched.append(" ".join(tokens[i : i + n]))
                    if gi not in groups:
                        groups.append(gi)
                    i += n
                    break
            else:
                i += 1
        present = " " + " ".join(_stems(tokens)) + " "
        seen: set[str] = set()
        added: list[str] = []
        for gi in groups:
            for term in self.groups[gi]:
                words = fold_tokens(term)
                stems = " ".join(_stems(words))
                if f" {stems} " in present or stems in seen:
                    continue  # the query has it already, or another inflection of it is added (BM25 stems anyway)
                if len(words) == 1 and len(words[0]) <= MIN_ADDED_CHARS:
                    continue  # short acronyms find what they stand for, but added they match noise ('ml', 'tf')
                seen.add(stems)
                added.append(" ".join(words))
        return Expansion(tuple(matched), tuple(added[:MAX_ADDED]))


def singular(word: str) -> str:
    """A folded English word without its plural ending ('exchanges' -> 'exchange', 'companies' -> 'company'), so a
    listed term finds its plural and its singular alike; words of three letters ('gas', 'ads') stay as they are."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(_NOT_PLURAL):
        return word[:-1]
    return word


def _key(words: list[str]) -> tuple[str, ...]:
    """The look-up key of a word sequence: each word in the singular."""
    return tuple(singular(w) for w in words)


def _stems(words: list[str]) -> list[str]:
    """Porter stems of folded words, as the lexical index matches them."""
    return [porter_stem(w) for w in words]


def read_groups(path: Path) -> tuple[list[tuple[str, ...]], str]:
    """Groups and version of one synonym file; raises SynonymFileError naming the file and line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SynonymFileError(f"{path}: cannot read synonym file: {exc}") from exc
    groups: list[tuple[str, ...]] = []
    version = ""
    for n, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            m = _VERSION.match(stripped)
            version = m.group(1) if m else version
            continue
        terms = tuple(t.strip().lower() for t in re.split(r"\s*\|\s*|\t", stripped) if t.strip())
        if len(terms) < 2:
            raise SynonymFileError(f"{path}:{n}: a group needs at least two terms separated by ' | ': {stripped!r}")
        groups.append(terms)
    return groups, version


def merge(groups: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Union groups that share a term (a team file can extend a built-in group)."""
    merged: list[list[str]] = []
    where: dict[str, int] = {}
    for group in groups:
        hits = sorted({where[t] for t in group if t in where})
        if not hits:
            merged.append(list(dict.fromkeys(group)))
            target = len(merged) - 1
        else:
            target = hits[0]
            for other in hits[1:]:
                merged[target].extend(t for t in merged[other] if t not in merged[target])
                for t in merged[other]:
                    where[t] = target
                merged[other] = []
            # the team's terms lead: they are what the team calls the thing
            merged[target] = list(dict.fromkeys([*group, *merged[target]]))
        for t in merged[target]:
            where[t] = target
    return [tuple(g) for g in merged if g]


@lru_cache(maxsize=8)
def load_synonyms(extra: tuple[str, ...] = ()) -> Synonyms:
    """The built-in list merged with team files (paths); a broken team file is skipped with a warning naming it."""
    groups, version = read_groups(BUILTIN)
    for name in extra:
        try:
            more, _ = read_groups(Path(name).expanduser())
        except SynonymFileError as exc:
            log.warning("%s (left out)", exc)
            continue
        groups += more
    return Synonyms(merge(groups), version)
