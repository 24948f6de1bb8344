"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25) fused with reciprocal-rank fusion.

Filters and the caller's clearance are applied inside both retrievers. Results carry the page span,
a highlighted snippet, near-duplicates from other documents ('also in') and optional grouping.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pactkb.index.bridge import Bridge, Translation, bridge_wanted
from pactkb.index.dense import AllowedSet, DenseIndex
from pactkb.index.embed import Encoder, is_multilingual, similarity_calibration
from pactkb.index.families import query_edition
from pactkb.index.filters import Filters
from pactkb.index.fold import fold_word, porter_stem, query_terms, stemmer_for, thread_stemmer
from pactkb.index.lexical import lexical_search
from pactkb.index.snippet import closest_sentence, lexical_snippet, sentence_snippet, sentences
from pactkb.index.store import Store, blob_vector
from pactkb.index.synonyms import Expansion, load_synonyms
from pactkb.index.translate import Translator
from pactkb.settings import SEARCH_MODES, Settings

WORD = re.compile(r"\w+", re.UNICODE)


MODES = SEARCH_MODES
# (dense, lexical) RRF weights for queries not in English, chosen on the domain set's dev half
# (python -m pactkb.evaluation.tune_languages); English queries keep weight_dense / weight_lexical.
MULTILINGUAL_FUSION: dict[str, tuple[float, float]] = {"*": (1.0, 0.5)}
ENGLISH_MODEL_FUSION: dict[str, tuple[float, float]] = {"*": (0.2, 0.5)}
# (bridged BM25, dense search of the dictionary translation) RRF weights, chosen the same way
MULTILINGUAL_BRIDGE: tuple[float, float] = (1.0, 0.5)
ENGLISH_MODEL_BRIDGE: tuple[float, float] = (1.0, 0.5)
FACETS = ("doc_type", "area", "language", "year", "publisher")
SEMANTIC_SNIPPET_HITS = 3
DF_CAP = 2000  # document frequencies above this change the IDF little; counting stops there
COLLAPSE_BLOCK = 64  # hits compared with the kept ones per matrix product


def rrf(lists: list[tuple[list[tuple[int, float]], float]], k: int) -> list[tuple[int, float]]:
    """Weighted reciprocal-rank fusion: score = sum of weight / (k + rank)."""
    scores: dict[int, float] = {}
    for ranked, weight in lists:
        for rank, (cid, _) in enumerate(ranked, start=1):
            scores[cid] = scores.get(cid, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def demote_regions(fused: list[tuple[int, float]], rows: Mapping[int, Any], weights: Mapping[str, float]) -> list[tuple[int, float]]:
    """Scale each passage's fused score by its region's weight (footnotes, contents, indexes and reference lists
    rank below the body text that says the same), keeping the order stable among equals."""
    if not weights:
        return fused
    scaled = [(cid, sc * weights.get(rows[cid]["region"], 1.0) if cid in rows else sc) for cid, sc in fused]
    return sorted(scaled, key=lambda kv: (-kv[1], kv[0]))


def support_sections(fused: list[tuple[int, float]], rows: Mapping[int, Any], share: float) -> list[tuple[int, float]]:
    """Let passages of one section support each other: each gains `share` of the best score among the other
    candidates from the same document and section (an answer spread over a section ranks with its neighbours)."""
    if share <= 0:
        return fused
    top: dict[tuple[str, str], list[tuple[int, float]]] = {}  # the two best candidates of each section
    for cid, sc in fused:
        row = rows.get(cid)
        if row is not None and row["section"]:
            best = top.setdefault((row["doc_id"], row["section"]), [])
            if len(best) < 2:
                best.append((cid, sc))
    out = []
    for cid, sc in fused:
        row = rows.get(cid)
        best = top.get((row["doc_id"], row["section"]), []) if row is not None and row["section"] else []
        others = [s for c, s in best if c != cid]
        out.append((cid, sc + share * others[0] if others else sc))
    return sorted(out, key=lambda kv: (-kv[1], kv[0]))


MAX_TWIN_CANDIDATES = 60  # candidates per family compared pairwise for near-identical twins


def superseded_by(row: Any, newest: Mapping[str, Any]) -> dict[str, Any] | None:
    """The newest visible edition of a row's family when it is newer than the row's document, else None."""
    editions = newest.get(row["family"]) if row["family"] else None
    if not editions or editions[0]["edition_rank"] <= row["edition_rank"]:
        return None
    top = editions[0]
    return {"document_id": top["id"], "title": top["title"], "year": top["year"]}


def prefer_editions(fused: list[tuple[int, float]], rows: Mapping[int, Any], newest: Mapping[str, Any],
                    asked: tuple[int | None, bool, bool], weight: float) -> list[tuple[int, float]]:
    """Demote editions the query did not ask for: superseded ones for an undated query, others than the named year's
    for a dated one ('before 2025': those of 2025 and later)."""
    year, before, named = asked
    if not newest or weight >= 1.0:
        return fused

    def factor(row: Any) -> float:
        if not row["family"] or row["family"] not in newest:
            return 1.0
        if year is not None:
            row_year = row["year"]
            if before:
                return weight if row_year is not None and row_year >= year else 1.0
            return 1.0 if row_year == year else weight
        if named:
            return 1.0
        return weight if superseded_by(row, newest) else 1.0

    scaled = [(cid, sc * factor(rows[cid]) if cid in rows else sc) for cid, sc in fused]
    return sorted(scaled, key=lambda kv: (-kv[1], kv[0]))


def order_twins(fused: list[tuple[int, float]], rows: Mapping[int, Any], newest: Mapping[str, Any],
                asked: tuple[int | None, bool, bool], dup_cos: float) -> list[tuple[int, float]]:
    """Put the wanted edition's passage above its near-identical twin in another edition of the same family: the
    newer one for an undated query, the named year's for a dated one (the twins trade scores, nothing else moves)."""
    year, before, named = asked
    if not newest or (named and year is None):
        return fused
    score = dict(fused)
    by_family: dict[str, list[int]] = {}
    for cid, _ in fused:
        row = rows.get(cid)
        if row is not None and row["family"] in newest:
            by_family.setdefault(row["family"], []).append(cid)

    def wanted(row: Any) -> float:
        """How much the query wants this edition (higher first)."""
        if year is None:
            return float(row["edition_rank"])
        if before:
            return float(row["edition_rank"]) if (row["year"] or 0) < year else -float(row["edition_rank"])
        return 1.0 if row["year"] == year else 0.0

    for cids in by_family.values():
        if len(cids) < 2:
            continue
        cids = cids[:MAX_TWIN_CANDIDATES]
        vecs = np.stack([blob_vector(rows[c]["vector"]) for c in cids])
        sims = vecs @ vecs.T
        for i in range(len(cids)):
            for j in range(i + 1, len(cids)):
                a, b = rows[cids[i]], rows[cids[j]]
                if a["doc_id"] == b["doc_id"] or sims[i, j] < dup_cos:
                    continue
                hi, lo = (cids[i], cids[j]) if score[cids[i]] >= score[cids[j]] else (cids[j], cids[i])
                if wanted(rows[lo]) > wanted(rows[hi]):
                    score[hi], score[lo] = score[lo], score[hi]
    return sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))


def _minmax(ranked: list[tuple[int, float]]) -> dict[int, float]:
    """Scores scaled to [0, 1] within one result list."""
    if not ranked:
        return {}
    vals = [sc for _, sc in ranked]
    lo, hi = min(vals), max(vals)
    return {c: (sc - lo) / (hi - lo) if hi > lo else 1.0 for c, sc in ranked}


def convex_fusion(dense: list[tuple[int, float]], lexical: list[tuple[int, float]], alpha: float) -> list[tuple[int, float]]:
    """alpha * min-max(dense) + (1 - alpha) * min-max(BM25); a missing score counts as 0."""
    d, lx = _minmax(dense), _minmax(lexical)
    scores = {c: alpha * d.get(c, 0.0) + (1 - alpha) * lx.get(c, 0.0) for c in set(d) | set(lx)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


class SearchError(ValueError):
    """A search request cannot be answered as asked (bad mode, unknown chunk, beyond the result window...)."""

    def __init__(self, message: str, field: str | None = None):
        """The problem, and the request field it concerns when there is one."""
        super().__init__(message)
        self.field = field


@dataclass
class Hit:
    """One result: a passage with its document, exact pages, snippet and scores."""

    chunk_id: int
    document_id: str
    score: float
    text: str | None  # None until loaded: search fetches texts only for the hits it returns
    title: str
    file: str
    page_start: int
    page_end: int
    label_start: str | None
    label_end: str | None
    section: str
    publisher: str | None
    year: int | None
    doc_type: str
    language: str | None
    areas: list[str]
    sensitivity: str
    dense_score: float | None = None
    lexical_score: float | None = None
    snippet: str = ""
    region: str = "body"  # body, footnote, contents, index or references (ingest/regions.py)
    superseded_by: dict[str, Any] | None = None  # the newest edition of this document's family the caller may see
    section_pages: tuple[int, int] | None = None  # first and last page of the passage's section
    rank: int = 0
    also_in: list[dict[str, Any]] = field(default_factory=list)
    more_pages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def page_label(self) -> str | None:
        """Printed page label(s), e.g. 'iv' or '12–13', when the PDF defines labels."""
        if not self.label_start:
            return None
        if self.label_end and self.label_end != self.label_start:
            return f"{self.label_start}–{self.label_end}"
        return self.label_start

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the `pactkb search --json` result shape plus metadata)."""
        d = asdict(self)
        d["page_label"] = self.page_label
        return d


@dataclass
class SearchResult:
    """A page of results with timing, total, facets and the no-good-answer flag."""

    query: str
    mode: str
    took_ms: float
    total: int
    offset: int
    k: int
    results: list[Hit]
    facets: dict[str, dict[str, int]]
    best_dense: float | None = None
    no_good_answer: bool | None = None
    evidence: dict[str, float] | None = None
    language: str | None = None
    translation: list[str] = field(default_factory=list)  # English words the query was also searched with
    expansion: list[str] = field(default_factory=list)  # field synonyms and acronyms the query was also searched with


class Searcher:
    """Answers queries over one store; safe to share between threads."""

    def __init__(self, store: Store, encoder: Encoder, dense: DenseIndex, settings: Settings):
        """Wire the retrievers; the reranker loads only if configured."""
        self.store = store
        self.encoder = encoder
        self.dense = dense
        self.settings = settings
        self._allowed_cache: OrderedDict[tuple[Any, ...], AllowedSet] = OrderedDict()
        self._qcache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lang_cache: OrderedDict[str, str | None] = OrderedDict()
        self._translation_cache: OrderedDict[tuple[Any, ...], Translation] = OrderedDict()
        self._corpus_stemmers: tuple[tuple[int, str | None], tuple[str, ...]] | None = None
        self._visible_counts: dict[tuple[str, int, int], int] = {}
        self.bridge = None
        if bridge_wanted(settings, encoder.name):
            self.bridge = Bridge(store, encoder, settings.bridge_min_cosine, settings.dictionary_dirs(),
                                 settings.dictionary_translations, Translator.from_settings(settings))
        self._lock = threading.Lock()
        self._reranker = None
        if settings.reranker:
            from pactkb.index.rerank import Reranker

            self._reranker = Reranker(settings.reranker)

    # -- pieces --------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load what the first query would otherwise wait for: the model, the query-language models (about 2 s) and
        the bridge's vocabulary and dictionaries (about 1 s for Debian's Croatian one)."""
        self.encode_query("warm-up query")
        self.query_language("warm-up query")
        if self.settings.synonyms:
            load_synonyms(tuple(self.settings.synonym_files))
        if self.bridge is not None:
            for language in self.settings.query_languages.split(","):
                if language.strip() != "en":
                    self.bridge.translate("warm-up", language.strip())

    def translation(self, query: str, language: str | None, qvec: np.ndarray | None,
                    clearance: str | None = None) -> Translation:
        """The bridge's English words for a query, from the vocabulary of what a caller of this clearance may see
        (retrieval, snippets and the result share one; cached while the bridge is unchanged); empty for English or
        unsure queries and without a bridge."""
        if self.bridge is None or language in (None, "en"):
            return Translation([], False)
        key = (query, language, qvec is None, clearance, self.bridge.version())
        with self._lock:
            hit = self._translation_cache.get(key)
        if hit is None:
            hit = self.bridge.translate(query, language, qvec, clearance)
            with self._lock:
                self._translation_cache[key] = hit
                if len(self._translation_cache) > 1024:
                    self._translation_cache.popitem(last=False)
        return hit

    def expansion(self, query: str, language: str | None, qvec: np.ndarray | None,
                  clearance: str | None = None) -> Expansion:
        """Field synonyms and acronyms of the query's terms (of its English translation for other languages; the list
        itself depends on no document)."""
        if not self.settings.synonyms:
            return Expansion()
        text = query if language in (None, "en") else " ".join(self.translation(query, language, qvec, clearance).words)
        return load_synonyms(tuple(self.settings.synonym_files)).expand(text)

    def encode_query(self, query: str) -> np.ndarray:
        """The query vector (small LRU cache: paging and facet clicks repeat queries)."""
        with self._lock:
            hit = self._qcache.get(query)
            if hit is not None:
                self._qcache.move_to_end(query)
                return hit
        vec = self.encoder.encode_queries([query])[0]
        with self._lock:
            self._qcache[query] = vec
            if len(self._qcache) > 1024:
                self._qcache.popitem(last=False)
        return vec

    def allowed(self, filters: Filters, con: sqlite3.Connection) -> AllowedSet:
        """The chunk ids the filters admit, as a FAISS selector (cached per store state)."""
        if filters.is_empty():
            return AllowedSet.everything()
        key = (filters.key(), self.store.docs_version(con), self.store.log_seq(con))
        with self._lock:
            cached = self._allowed_cache.get(key)
            if cached is not None:
                return cached
        where, params = filters.sql("d")
        ids = np.fromiter(
            (r[0] for r in con.execute(f"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {where}", params)),
            dtype=np.int64,
        )
        allowed = AllowedSet.of(np.sort(ids), self.store.chunk_ids(con))
        with self._lock:
            self._allowed_cache[key] = allowed
            while len(self._allowed_cache) > 64:
                self._allowed_cache.popitem(last=False)
        return allowed

    def query_language(self, query: str) -> str | None:
        """The query's language (ISO 639-1), None when unsure; cached like query vectors."""
        with self._lock:
            if query in self._lang_cache:
                return self._lang_cache[query]
        from pactkb.ingest.language import detect_query_language

        lang = detect_query_language(query, tuple(self.settings.query_languages.split(",")))
        with self._lock:
            self._lang_cache[query] = lang
            if len(self._lang_cache) > 4096:
                self._lang_cache.popitem(last=False)
        return lang

    def query_stemmers(self, language: str | None, con: sqlite3.Connection, clearance: str | None = None) -> tuple[str, ...]:
        """Snowball stemmers for a query's words: its language's; when unsure, those of the non-English documents a
        caller of this clearance may see (a one-word Serbian query still finds inflected forms); none for English."""
        if language == "en":
            return ()
        if language is not None:
            algorithm = stemmer_for(language)
            return (algorithm,) if algorithm else ()
        key = (self.store.docs_version(con), clearance)
        cached = self._corpus_stemmers
        if cached is None or cached[0] != key:
            where, params = Filters(clearance=clearance).sql("d")
            langs = [r[0] for r in con.execute(f"SELECT DISTINCT d.language FROM documents d WHERE {where}", params)]
            cached = self._corpus_stemmers = (key, tuple(sorted({a for a in map(stemmer_for, langs) if a})))
        return cached[1]

    def visible_chunks(self, clearance: str | None, con: sqlite3.Connection) -> int:
        """Chunks a caller of this clearance may see (all for None): the collection size their IDFs are computed on."""
        if clearance is None:
            return self.dense.ntotal
        key = (clearance, self.store.docs_version(con), self.store.log_seq(con))
        with self._lock:
            if key in self._visible_counts:
                return self._visible_counts[key]
        where, params = Filters(clearance=clearance).sql("d")
        n = con.execute(f"SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {where}", params).fetchone()[0]
        with self._lock:
            if len(self._visible_counts) > 64:
                self._visible_counts.clear()
            self._visible_counts[key] = n
        return n

    def fusion_weights(self, language: str | None) -> tuple[float, float]:
        """(dense, lexical) weights for a query language: English and unsure queries use weight_dense/weight_lexical;
        other languages the per-language table (lexical matches rarely cross languages; dense ones do, with a
        multilingual encoder)."""
        s = self.settings
        if language in (None, "en"):
            return s.weight_dense, s.weight_lexical
        table = s.fusion_by_language
        if table is None:
            table = MULTILINGUAL_FUSION if is_multilingual(self.encoder.name) else ENGLISH_MODEL_FUSION
        return tuple(table.get(language, table.get("*", (s.weight_dense, s.weight_lexical))))  # type: ignore[return-value]

    def fuse(self, dense: list[tuple[int, float]], lexical: list[tuple[int, float]], language: str | None = None,
             bridged: list[tuple[list[tuple[int, float]], float]] | None = None) -> list[tuple[int, float]]:
        """Fuse the ranked (id, score) lists as the settings say (RRF by default), weighted for the query language;
        the bridged lists (the query translated to English: BM25, and dense) join with their own weights."""
        s = self.settings
        if s.fusion == "convex":
            return convex_fusion(dense, lexical, s.convex_alpha)
        wd, wl = self.fusion_weights(language)
        return rrf([(dense, wd), (lexical, wl), *(bridged or [])], s.rrf_k)

    def bridged_search(self, query: str, language: str | None, mode: str, depth: int, filters: Filters,
                       con: sqlite3.Connection, qvec: np.ndarray | None = None) -> list[tuple[list[tuple[int, float]], float]]:
        """Ranked lists for the query translated to English, with their RRF weights: BM25 over its English words and,
        in hybrid mode when a dictionary translated part of it, the encoder's search for that English rendering.
        Empty for English, unsure or dense-only queries, and without a bridge (index/bridge.py)."""
        if self.bridge is None or mode == "dense" or language in (None, "en"):
            return []
        translation = self.translation(query, language, qvec, filters.clearance)
        if not translation.words:
            return []
        w_bridge, w_translated = self.bridge_weights()
        lists = [(lexical_search(con, translation.text, depth, filters, self.settings.lexical_title_weight), w_bridge)]
        if mode == "hybrid" and translation.by_dictionary and w_translated > 0:
            vec = self.encode_query(translation.text)
            lists.append((self.dense.search(vec, depth, self.allowed(filters, con), con), w_translated))
        return lists

    def bridge_weights(self) -> tuple[float, float]:
        """RRF weights of the bridged BM25 list and of the dense search for a dictionary translation: the settings',
        else pactkb's defaults for the kind of encoder."""
        s = self.settings
        default = MULTILINGUAL_BRIDGE if is_multilingual(self.encoder.name) else ENGLISH_MODEL_BRIDGE
        return (s.weight_bridge if s.weight_bridge is not None else default[0],
                s.weight_translated_dense if s.weight_translated_dense is not None else default[1])

    def _rows(self, ids: list[int], filters: Filters, con: sqlite3.Connection, text: bool = True) -> dict[int, sqlite3.Row]:
        """Chunk + document rows for ids, re-checked against the filters (visibility is never assumed); without the
        chunk text when `text` is off (fetched later, only for the hits that are shown: see with_text)."""
        out: dict[int, sqlite3.Row] = {}
        where, params = filters.sql("d")
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            q = (
                f"SELECT c.id, c.doc_id, {'c.text' if text else 'NULL AS text'}, c.page_start, c.page_end, c.label_start, "
                "c.label_end, c.section, c.region, c.vector, d.family, d.edition_rank, d.title, d.source_name, d.publisher, "
                "d.year, d.doc_type, d.language, "
                f"d.areas, d.sensitivity FROM chunks c JOIN documents d ON d.id = c.doc_id "
                f"WHERE c.id IN ({','.join('?' * len(part))}) AND {where}"
            )
            out.update({r["id"]: r for r in con.execute(q, [*part, *params])})
        return out

    @staticmethod
    def with_text(hits: list[Hit], con: sqlite3.Connection) -> None:
        """Fill in the text of hits fetched without it."""
        todo = [h for h in hits if h.text is None]
        for i in range(0, len(todo), 500):
            part = todo[i : i + 500]
            found = dict(con.execute(f"SELECT id, text FROM chunks WHERE id IN ({','.join('?' * len(part))})",
                                     [h.chunk_id for h in part]))
            for h in part:
                h.text = found.get(h.chunk_id, "")

    @staticmethod
    def _hit(row: sqlite3.Row, score: float, dense: float | None, lexical: float | None,
             areas: dict[str, list[str]] | None = None) -> Hit:
        """A Hit from a joined row (`areas`: a cache of parsed area lists per document)."""
        doc_areas = areas.get(row["doc_id"]) if areas is not None else None
        if doc_areas is None:
            doc_areas = json.loads(row["areas"] or "[]")
            if areas is not None:
                areas[row["doc_id"]] = doc_areas
        return Hit(
            chunk_id=row["id"], document_id=row["doc_id"], score=score, text=row["text"], title=row["title"],
            file=row["source_name"], page_start=row["page_start"], page_end=row["page_end"],
            label_start=row["label_start"], label_end=row["label_end"], section=row["section"],
            publisher=row["publisher"], year=row["year"], doc_type=row["doc_type"], language=row["language"],
            areas=list(doc_areas), sensitivity=row["sensitivity"], dense_score=dense, lexical_score=lexical,
            region=row["region"],
        )

    def duplicate_cosine(self) -> float:
        """Cosine above which two passages count as near-duplicates (the setting, else the encoder's calibration)."""
        if self.settings.dedup_threshold is not None:
            return self.settings.dedup_threshold
        return similarity_calibration(self.encoder.name)[0]

    def collapse(self, hits: list[Hit], vectors: dict[int, np.ndarray], need: int | None = None,
                 by_document: bool = False) -> list[Hit]:
        """Fold near-duplicate passages from other documents into the best-ranked one ('also in'; the newest edition
        leads), and drop overlapping chunks of a page already shown (the chunk overlap makes them look alike).

        Hits are compared with the hits kept before them, a block at a time (memory O(n·d), never an n×n matrix).
        With `need`, the pass stops once that many results (distinct documents with `by_document`) are kept, and the
        remaining hits are only compared with those: their near-duplicates still fold into them, the others follow
        unfolded. Work is then O(n·need), and need = offset + k is bounded by the result window."""
        if len(hits) < 2:
            return hits
        _, same_page_cos = similarity_calibration(self.encoder.name)  # overlapping chunks of one page: shown once
        dup_cos = self.duplicate_cosine()
        floor = min(same_page_cos, dup_cos)
        kept: list[int] = []  # positions in hits, in rank order
        mat = np.empty((len(hits), len(vectors[hits[0].chunk_id])), dtype=np.float32)  # row r: vector of hits[kept[r]]
        docs: Counter[str] = Counter()
        dropped: set[int] = set()

        def place(i: int, vec: np.ndarray, cos: np.ndarray) -> int | None:
            """Decide hits[i] given its cosines to the first len(cos) kept hits: drop or fold it (None), or keep it
            (-1); after a newer edition takes a kept slot, that slot's row (its vector changed)."""
            h = hits[i]
            near = np.flatnonzero(cos >= floor)
            for r in near:  # an overlapping chunk of a page already shown
                t = hits[kept[r]]
                if t.document_id == h.document_id and h.page_start <= t.page_end and h.page_end >= t.page_start \
                        and cos[r] >= same_page_cos:
                    return None
            dup = next((r for r in near if hits[kept[r]].document_id != h.document_id and cos[r] >= dup_cos), None)
            if dup is None:
                return -1
            target = hits[kept[dup]]
            if any(a["document_id"] == h.document_id for a in target.also_in):
                return None
            if (h.year or 0) <= (target.year or 0):
                target.also_in.append(self._also(h))
                return None
            h.rank, h.score = target.rank, target.score  # the same passage in a newer edition leads; the older is 'also in'
            h.also_in = [*target.also_in, self._also(target)]
            target.also_in = []
            hits[kept[dup]], hits[i] = h, target
            mat[dup] = vec
            docs[target.document_id] -= 1
            if not docs[target.document_id]:
                del docs[target.document_id]
            docs[h.document_id] += 1
            return int(dup)

        def enough() -> bool:
            return need is not None and (len(docs) if by_document else len(kept)) >= need

        stop = len(hits)
        for start in range(0, len(hits), COLLAPSE_BLOCK):  # the full pass, until the page is filled
            block = np.stack([vectors[h.chunk_id] for h in hits[start : start + COLLAPSE_BLOCK]])
            before = len(kept)
            sims = block @ mat[:before].T  # the block against the hits kept before it
            maybe = (sims >= floor).any(axis=1) | np.tril(block @ block.T >= floor, -1).any(axis=1)
            for b in range(len(block)):
                if enough():
                    stop = start + b
                    break
                slot = place(start + b, block[b], np.concatenate([sims[b], mat[before : len(kept)] @ block[b]])) \
                    if maybe[b] else -1
                if slot == -1:
                    mat[len(kept)] = block[b]
                    kept.append(start + b)
                    docs[hits[start + b].document_id] += 1
                elif slot is not None:  # a kept slot's vector changed: so do the later rows' cosines to it
                    later = block[b + 1 :] @ block[b]
                    maybe[b + 1 :] |= later >= floor
                    if slot < before:
                        sims[b + 1 :, slot] = later
            if stop < len(hits):
                break
        page = len(kept)
        for start in range(stop, len(hits), COLLAPSE_BLOCK):  # the rest: folded into the page's hits only
            block = np.stack([vectors[h.chunk_id] for h in hits[start : start + COLLAPSE_BLOCK]])
            sims = block @ mat[:page].T
            maybe = (sims >= floor).any(axis=1)
            for b in range(len(block)):
                slot = place(start + b, block[b], sims[b]) if maybe[b] else -1
                if slot != -1:
                    dropped.add(start + b)  # folded, or the older edition it displaced
                if slot is not None and slot >= 0:
                    later = block[b + 1 :] @ block[b]
                    maybe[b + 1 :] |= later >= floor
                    sims[b + 1 :, slot] = later
        return [hits[i] for i in kept] + [hits[i] for i in range(stop, len(hits)) if i not in dropped]

    @staticmethod
    def _also(h: Hit) -> dict[str, Any]:
        """How a folded near-duplicate is listed under the result it joins."""
        return {"document_id": h.document_id, "title": h.title, "file": h.file, "chunk_id": h.chunk_id,
                "page_start": h.page_start, "page_end": h.page_end, "year": h.year}

    @staticmethod
    def group(hits: list[Hit]) -> list[Hit]:
        """One result per document (its best passage); other passages listed as more_pages."""
        first: dict[str, Hit] = {}
        out: list[Hit] = []
        for h in hits:
            top = first.get(h.document_id)
            if top is None:
                first[h.document_id] = h
                out.append(h)
            else:
                top.more_pages.append({"chunk_id": h.chunk_id, "page_start": h.page_start, "page_end": h.page_end,
                                       "section": h.section, "score": h.score})
        return out

    @staticmethod
    def facets(hits: list[Hit], filters: Filters | None = None) -> dict[str, dict[str, int]]:
        """Counts of distinct documents per facet value among the matches. With facet filters, each
        facet is counted over the matches of all the *other* filters (so unselected values stay visible)."""
        counters: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
        docs = {h.document_id: h for h in reversed(hits)}
        for h in docs.values():
            values = {"doc_type": [h.doc_type], "language": [h.language or "unknown"], "publisher": [h.publisher or "unknown"],
                      "year": [str(h.year) if h.year else "unknown"], "area": h.areas or ["(none)"]}
            for facet, vals in values.items():
                if filters is None or filters.admits(h, skip=facet):
                    counters[facet].update(vals)
        return {f: dict(c.most_common()) for f, c in counters.items()}

    def snippets(self, hits: list[Hit], query: str, qvec: np.ndarray | None, clearance: str | None = None) -> None:
        """Highlight query terms; for passages matched only by meaning, show the closest sentence
        (by character trigrams, or by the encoder when semantic_snippets is on)."""
        terms = query_terms(query)
        language = self.query_language(query) if hits and terms else None
        stemmers = self.query_stemmers(language, self.store.conn(), clearance) if hits and terms else ()
        bridged = self.translation(query, language, qvec, clearance).words
        terms = terms + [w for w in bridged if w not in terms]  # highlight the bridged words too
        semantic: list[tuple[Hit, list[tuple[int, int]]]] = []
        for h in hits:
            snip = lexical_snippet(h.text, terms, stemmers=stemmers)
            h.snippet = snip.html
            if snip.matched or not query.strip():
                continue
            spans = sentences(h.text)
            if len(spans) < 2:
                continue
            if self.settings.semantic_snippets and qvec is not None and len(semantic) < SEMANTIC_SNIPPET_HITS:
                semantic.append((h, spans))
            else:
                h.snippet = sentence_snippet(h.text, closest_sentence(h.text, spans, query)).html
        if semantic:
            semantic = [(h, spans[:6]) for h, spans in semantic]
            texts = [h.text[a:b][:300] for h, spans in semantic for a, b in spans]
            vecs = self.encoder.encode(texts)
            pos = 0
            for h, spans in semantic:
                scores = vecs[pos : pos + len(spans)] @ qvec
                pos += len(spans)
                h.snippet = sentence_snippet(h.text, spans[int(np.argmax(scores))]).html

    # -- search --------------------------------------------------------------------------------
    def _retrieve(self, query: str, mode: str, filters: Filters, depth: int, qvec: np.ndarray | None,
                  con: sqlite3.Connection) -> tuple[list[Hit], dict[int, sqlite3.Row], dict[int, float]]:
        """Fused hits (filters applied inside both retrievers), their rows, and the dense scores."""
        s = self.settings
        dense_hits: list[tuple[int, float]] = []
        lex_hits: list[tuple[int, float]] = []
        language = self.query_language(query) if mode != "dense" else None
        if mode in ("hybrid", "dense"):
            dense_hits = self.dense.search(qvec, depth, self.allowed(filters, con), con)
        if mode in ("hybrid", "lexical"):
            lex_hits = lexical_search(con, query, depth, filters, s.lexical_title_weight,
                                      drop=self.common_terms(query, con, filters.clearance),
                                      stemmers=self.query_stemmers(language, con, filters.clearance))
        bridged = self.bridged_search(query, language, mode, depth, filters, con, qvec)
        expansion = self.expansion(query, language, qvec, filters.clearance) if mode != "dense" else Expansion()
        if expansion.added:
            bridged.append((lexical_search(con, expansion.text, depth, filters, s.lexical_title_weight), s.weight_expansion))
        if mode == "dense":
            fused = dense_hits
        elif mode == "lexical":
            fused = rrf([(lex_hits, 1.0), *bridged], s.rrf_k) if bridged else lex_hits
        else:
            fused = self.fuse(dense_hits, lex_hits, language, bridged)
        dmap, lmap = dict(dense_hits), dict(lex_hits)
        rows = self._rows([cid for cid, _ in fused], filters, con, text=False)  # texts: only for the hits shown
        fused = demote_regions(fused, rows, s.region_weights)
        fused = support_sections(fused, rows, s.section_support)
        newest = self.newest_editions(rows, filters, con)
        asked = query_edition(query)
        fused = prefer_editions(fused, rows, newest, asked, s.superseded_weight)
        fused = order_twins(fused, rows, newest, asked, self.duplicate_cosine())
        areas: dict[str, list[str]] = {}
        hits = [self._hit(rows[cid], sc, dmap.get(cid), lmap.get(cid), areas) for cid, sc in fused if cid in rows]
        for h in hits:
            h.superseded_by = superseded_by(rows[h.chunk_id], newest)
        return hits, rows, dmap

    def newest_editions(self, rows: Mapping[int, Any], filters: Filters, con: sqlite3.Connection) -> dict[str, Any]:
        """Per family among the rows: the editions the caller may see (clearance only, not the facet filters), newest
        first; families with one visible edition are left out."""
        families = {r["family"] for r in rows.values() if r["family"]}
        if not families:
            return {}
        where, params = Filters(clearance=filters.clearance).sql("d")
        return {f: eds for f, eds in self.store.family_editions(con, families, where, params).items() if len(eds) > 1}

    def search(
        self,
        query: str,
        k: int = 10,
        offset: int = 0,
        mode: str | None = None,
        filters: Filters | None = None,
        group_by_document: bool = False,
        collapse: bool = True,
        depth: int | None = None,
        snippets: bool = True,
        qvec: np.ndarray | None = None,
    ) -> SearchResult:
        """Ranked passages for a query (see SearchResult)."""
        t0 = time.perf_counter()
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise SearchError(f"unknown mode {mode!r} (allowed: {', '.join(MODES)})")
        filters = filters or Filters()
        s = self.settings
        self.check_window(offset, k)
        need = offset + k  # results (documents when grouped) the page needs; offset + k <= the window bounds the work
        depth = depth or max(s.candidates, need * (4 if group_by_document else 2))
        if mode != "lexical" and qvec is None:
            qvec = self.encode_query(query)
        with self.store.snapshot() as con:
            self.dense.sync(con)
            hits, rows, dmap = self._retrieve(query, mode, filters, depth, qvec, con)
            visible = self.visible_chunks(filters.clearance, con)
            facet_pool = None
            if filters.facet_filtered():  # disjunctive facets: each facet counted without its own filter
                facet_pool, facet_rows, _ = self._retrieve(query, mode, filters.without_facets(), depth, qvec, con)
            if self._reranker is not None and hits:
                self.with_text(hits[: s.rerank_top], con)
                hits = self._reranker.rerank(query, hits, s.rerank_top)
            if collapse:
                hits = self.collapse(hits, {cid: blob_vector(r["vector"]) for cid, r in rows.items()}, need, group_by_document)
            if facet_pool is None:
                facets = self.facets(hits)
            else:
                if collapse:
                    facet_pool = self.collapse(facet_pool, {cid: blob_vector(r["vector"]) for cid, r in facet_rows.items()},
                                               need, group_by_document)
                facets = self.facets(facet_pool, filters)
            if group_by_document:
                hits = self.group(hits)
            page = hits[offset : offset + k]
            self.with_text(page + hits[:3], con)
        for i, h in enumerate(page):
            h.rank = offset + i + 1
        if snippets:
            self.snippets(page, query, qvec, filters.clearance)
        spans = self.store.section_spans({(h.document_id, h.section) for h in page if h.section})
        for h in page:
            h.section_pages = spans.get((h.document_id, h.section))
        best = max(dmap.values()) if dmap else None
        evidence = self.evidence(query, hits[:3], filters, visible)
        language = self.query_language(query) if mode != "dense" else None
        translation = self.translation(query, language, qvec, filters.clearance).words
        expansion = list(self.expansion(query, language, qvec, filters.clearance).added) if mode != "dense" else []
        return SearchResult(
            query=query, mode=mode, took_ms=round((time.perf_counter() - t0) * 1000, 2), total=len(hits),
            offset=offset, k=k, results=page, facets=facets, best_dense=best, evidence=evidence,
            no_good_answer=self.judge(evidence), language=language, translation=translation, expansion=expansion,
        )

    def common_terms(self, query: str, con: sqlite3.Connection, clearance: str | None = None) -> set[str]:
        """In large stores, query terms in more than lexical_prune_df of the chunks a caller of this clearance may see:
        their BM25 weight is small and their posting lists make FTS5 slow. At least two terms (the rarest) are kept."""
        if self.dense.ntotal <= self.settings.lexical_prune_above:
            return set()
        terms = query_terms(query)
        n = self.visible_chunks(clearance, con)
        if len(terms) <= 2 or n <= self.settings.lexical_prune_above:
            return set()
        df = self.document_frequencies(sorted({porter_stem(t) for t in terms}), Filters(clearance=clearance))
        by_df = sorted(terms, key=lambda t: df.get(porter_stem(t), 0))
        return {t for t in by_df[2:] if df.get(porter_stem(t), 0) > self.settings.lexical_prune_df * n}

    def document_frequencies(self, stems: list[str], filters: Filters) -> dict[str, int]:
        """Chunks containing each (stemmed) term, counting only chunks the filters admit (capped for speed),
        so the answer never reveals vocabulary of documents the caller may not see."""
        con = self.store.conn()
        if filters.is_empty():
            con.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab USING fts5vocab(main, 'chunks_fts', 'row')")
            return dict(con.execute(f"SELECT term, doc FROM temp.fts_vocab WHERE term IN ({','.join('?' * len(stems))})", stems))
        where, params = filters.sql("d")
        out = {}
        for stem in stems:
            out[stem] = con.execute(
                "SELECT count(*) FROM (SELECT 1 FROM chunks_fts f JOIN chunks c ON c.id = f.rowid JOIN documents d "
                f"ON d.id = c.doc_id WHERE chunks_fts MATCH ? AND {where} LIMIT {DF_CAP})", [f'"{stem}"', *params],
            ).fetchone()[0]
        return out

    def evidence(self, query: str, top: list[Hit], filters: Filters | None = None, visible: int | None = None) -> dict[str, float]:
        """How much of the query the visible corpus knows ('known') and the top passages cover ('coverage'), IDF-weighted
        over the `visible` chunks (those the caller may see; all by default)."""
        terms = query_terms(query)
        if not terms:
            return {"known": 0.0, "coverage": 0.0}
        stems = {t: porter_stem(t) for t in terms}
        df = self.document_frequencies(sorted(set(stems.values())), filters or Filters())
        n = max(1, visible if visible is not None else self.dense.ntotal)
        idf = {t: math.log(1 + n / (1 + df.get(stems[t], 0))) for t in terms}
        total = sum(idf.values())
        seen = {porter_stem(fold_word(w)) for h in top for w in WORD.findall(h.text)}
        return {
            "known": round(sum(v for t, v in idf.items() if df.get(stems[t], 0) > 0) / total, 4),
            "coverage": round(sum(v for t, v in idf.items() if stems[t] in seen) / total, 4),
        }

    def judge(self, evidence: dict[str, float]) -> bool | None:
        """True when the corpus knows the query's words but the best passages do not cover them; None when most
        of the query is vocabulary the corpus does not know (e.g. another language): then nobody can tell."""
        if evidence["known"] < self.settings.no_answer_known:
            return None
        return evidence["coverage"] < self.settings.no_answer_coverage

    def check_window(self, offset: int, k: int) -> None:
        """SearchError (field 'offset') for a page beyond the deep-paging window, which bounds every search's work."""
        window = self.settings.max_result_window
        if offset + k > window:
            raise SearchError(f"offset + k = {offset + k} is beyond the result window (max_result_window = {window}); "
                              "narrow the query or its filters instead", field="offset")

    def similar(self, chunk_id: int, k: int = 10, filters: Filters | None = None, offset: int = 0) -> SearchResult:
        """'More like this': passages closest to a chunk, under the same filters (the chunk itself excluded)."""
        t0 = time.perf_counter()
        self.check_window(offset, k)
        filters = filters or Filters()
        with self.store.snapshot() as con:
            where, params = Filters(clearance=filters.clearance).sql("d")  # the source must be visible, not filtered
            row = con.execute(
                f"SELECT c.vector, c.text FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id = ? AND {where}",
                [chunk_id, *params],
            ).fetchone()
            if row is None:
                raise SearchError(f"no chunk {chunk_id}")
            vec = blob_vector(row["vector"])
            self.dense.sync(con)
            depth = max(self.settings.candidates, (offset + k) * 2 + 1)
            found = [(c, sc) for c, sc in self.dense.search(vec, depth, self.allowed(filters, con), con) if c != chunk_id]
            rows = self._rows([c for c, _ in found], filters, con)
        hits = [self._hit(rows[c], sc, sc, None) for c, sc in found if c in rows]
        hits = self.collapse(hits, {c: blob_vector(r["vector"]) for c, r in rows.items()}, offset + k)
        page = hits[offset : offset + k]
        for i, h in enumerate(page):
            h.rank = offset + i + 1
        self.snippets(page, "", None)
        return SearchResult(query=f"similar:{chunk_id}", mode="dense", took_ms=round((time.perf_counter() - t0) * 1000, 2),
                            total=len(hits), offset=offset, k=k, results=page, facets=self.facets(hits))
