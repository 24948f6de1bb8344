"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25) fused with reciprocal-rank fusion.

Filters and the caller's clearance are applied inside both retrievers. The Searcher wires the retrievers, the
query's language, translation and expansion, and its caches; fusion (index/fusion.py), result shaping
(index/shaping.py) and the no-good-answer evidence (index/evidence.py) are pure functions it calls.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from pactkb.index import evidence, fusion, shaping
from pactkb.index.bridge import Bridge, Context, Translation, bridge_wanted
from pactkb.index.cache import Memo
from pactkb.index.dense import AllowedSet
from pactkb.index.dictionary import dictionary_dirs
from pactkb.index.embed import similarity_calibration
from pactkb.index.encoder import Encoder
from pactkb.index.families import query_edition
from pactkb.index.feedback import feedback_ids, rescore, rocchio, row_vector
from pactkb.index.filters import Filters
from pactkb.index.fold import porter_stem, query_terms, stemmer_for
from pactkb.index.fusion import (
    demote_regions,
    demote_short,
    fold_pages,
    order_twins,
    prefer_editions,
    rrf,
    superseded_by,
    support_sections,
)
from pactkb.index.lexical import lexical_index
from pactkb.index.profile import StageTimer
from pactkb.index.results import Hit, SearchError, SearchResult
from pactkb.index.snippet import TermMatcher, closest_sentence, lexical_snippet, sentence_snippet, sentences
from pactkb.index.store import Store, blob_vector
from pactkb.index.synonyms import Expansion, load_synonyms
from pactkb.index.translate import Translator
from pactkb.index.vectors import VectorIndex
from pactkb.settings import SEARCH_MODES, Settings

MODES: tuple[str, ...] = SEARCH_MODES
SEMANTIC_SNIPPET_HITS = 3
SECTION_SPANS_CACHE = 4096  # (document, section) page spans kept in memory, each valid until the store changes
# a section this long or longer is a part or the whole document: "open the whole section" would not help
SECTION_SPAN_PAGES = 30


def row_vectors(rows: Mapping[int, Mapping[str, Any]]) -> dict[int, np.ndarray]:
    """Each hit row's vector by chunk id, read from one joined buffer (one numpy call, not one per row)."""
    if not rows:
        return {}
    blob = b"".join(r["vector"] for r in rows.values())
    return dict(zip(rows, np.frombuffer(blob, dtype=np.float32).reshape(len(rows), -1), strict=True))


def useful_span(span: tuple[int, int] | None) -> tuple[int, int] | None:
    """A section's page span as results show it: None for one of SECTION_SPAN_PAGES pages or more (a regulation's
    single heading spans all its 97 pages; opening them all answers nothing)."""
    return span if span is not None and span[1] - span[0] + 1 < SECTION_SPAN_PAGES else None


class Searcher:
    """Answers queries over one store; safe to share between threads."""

    def __init__(self, store: Store, encoder: Encoder, dense: VectorIndex, settings: Settings) -> None:
        """Wire the retrievers; the reranker loads only if configured."""
        self.store = store
        self.encoder = encoder
        self.dense = dense
        self.lexical = lexical_index(store, settings.lexical)
        self.settings = settings
        self._allowed: Memo[tuple[Any, ...], AllowedSet] = Memo(settings.filter_cache)
        self._vectors: Memo[str, np.ndarray] = Memo(settings.query_cache)
        self._languages: Memo[str, str | None] = Memo(settings.language_cache)
        self._translations: Memo[tuple[Any, ...], Translation] = Memo(settings.translation_cache)
        self._corpus_stemmers: Memo[tuple[int, str | None], tuple[str, ...]] = Memo(settings.filter_cache)
        self._visible_counts: Memo[tuple[str, int, int], int] = Memo(settings.filter_cache)
        self._editions: Memo[tuple[str, int], dict[str, list[Any]]] = Memo(settings.filter_cache)
        self._section_spans: Memo[tuple[str, str, int, int], tuple[int, int] | None] = Memo(SECTION_SPANS_CACHE)
        self.bridge = None
        if bridge_wanted(settings, encoder.name):
            self.bridge = Bridge(
                store,
                encoder,
                settings.bridge_min_cosine,
                dictionary_dirs(settings),
                settings.dictionary_translations,
                Translator.from_settings(settings),
            )
        self._reranker = None
        if settings.reranker:
            from pactkb.index.rerank import Reranker

            self._reranker = Reranker(settings.reranker)

    # -- pieces --------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load what the first query would otherwise wait for: the model, the query-language models (about 2 s) and
        the bridge's vocabulary and dictionaries (about 1 s for Debian's Croatian one)."""
        self.encode_query("warm-up query")
        self.encoder.warm_up_queries()  # e.g. OpenVINO's graphs for the usual query shapes
        self.query_language("warm-up query")
        self.lexical.sync()  # tantivy: open the index (built from the store if it has none)
        if self.settings.synonyms:
            load_synonyms(tuple(self.settings.synonym_files))
        if self.bridge is not None:
            for language in self.settings.query_languages.split(","):
                if language.strip() != "en":
                    self.bridge.translate("warm-up", language.strip())

    def translation(self, query: str, language: str | None, qvec: Context, clearance: str | None = None) -> Translation:
        """The bridge's English words for a query, from the vocabulary of what a caller of this clearance may see
        (retrieval, snippets and the result share one; cached while the bridge is unchanged); empty for English or
        unsure queries and without a bridge. `qvec` may be a function giving the query's vector: the same translation,
        the vector computed only if a dictionary entry's translations need it."""
        if self.bridge is None or language in (None, "en"):
            return Translation([], False)
        bridge = self.bridge
        key = (query, language, qvec is None, clearance, bridge.version())
        return self._translations.get(key, lambda: bridge.translate(query, language, qvec, clearance))

    def expansion(
        self, query: str, language: str | None, qvec: np.ndarray | None, clearance: str | None = None
    ) -> Expansion:
        """Field synonyms and acronyms of the query's terms (of its English translation for other languages; the list
        itself depends on no document)."""
        if not self.settings.synonyms:
            return Expansion()
        text = query if language in (None, "en") else " ".join(self.translation(query, language, qvec, clearance).words)
        return load_synonyms(tuple(self.settings.synonym_files)).expand(text)

    def encode_query(self, query: str) -> np.ndarray:
        """The query vector (LRU cache: paging and facet clicks repeat queries)."""
        return self.encode_queries([query])[0]

    def encode_queries(self, texts: list[str]) -> list[np.ndarray]:
        """Query vectors through the LRU cache; the texts it lacks are encoded in one encoder call (one fixed cost)."""
        return self._vectors.get_many(texts, lambda missing: list(self.encoder.encode_queries(missing)))

    def query_vector(self, query: str, mode: str, clearance: str | None, timer: StageTimer) -> np.ndarray:
        """The query's vector. In hybrid mode, when the bridge renders the query in English for a dense search too,
        the rendering is found first and encoded in the same encoder call as the query (the translation asks for
        the query's vector only if a dictionary entry's translations need it to choose)."""
        texts = [query]
        if mode == "hybrid" and self.bridge is not None:
            with timer.stage("language"):
                language = self.query_language(query)
            if language not in (None, "en"):
                with timer.stage("translate"):
                    translation = self.translation(query, language, self._timed_encoder(query, timer), clearance)
                if self.dense_bridged(translation, mode):
                    texts.append(translation.dense_text)
        with timer.stage("encode"):
            return self.encode_queries(texts)[0]

    def _timed_encoder(self, query: str, timer: StageTimer) -> Callable[[], np.ndarray]:
        """A function giving the query's vector, timed as `encode`."""

        def encode() -> np.ndarray:
            """The query's vector (cached)."""
            with timer.stage("encode"):
                return self.encode_query(query)

        return encode

    def allowed(self, filters: Filters, con: sqlite3.Connection) -> AllowedSet:
        """The chunk ids the filters admit, as a FAISS selector (cached per store state)."""
        if filters.is_empty():
            return AllowedSet.everything()
        key = (filters.key(), self.store.docs_version(con), self.store.log_seq(con))
        return self._allowed.get(
            key, lambda: AllowedSet.of(self.store.filtered_chunk_ids(filters, con), self.store.chunk_ids(con))
        )

    def query_language(self, query: str) -> str | None:
        """The query's language (ISO 639-1), None when unsure; cached like query vectors."""
        from pactkb.ingest.language import detect_query_language

        languages = tuple(self.settings.query_languages.split(","))
        return self._languages.get(query, lambda: detect_query_language(query, languages))

    def query_stemmers(
        self, language: str | None, con: sqlite3.Connection, clearance: str | None = None
    ) -> tuple[str, ...]:
        """Snowball stemmers for a query's words: its language's; when unsure, those of the non-English documents a
        caller of this clearance may see (a one-word Serbian query still finds inflected forms); none for English."""
        if language == "en":
            return ()
        if language is not None:
            algorithm = stemmer_for(language)
            return (algorithm,) if algorithm else ()
        key = (self.store.docs_version(con), clearance)

        def corpus_stemmers() -> tuple[str, ...]:
            languages = self.store.document_languages(Filters(clearance=clearance), con)
            return tuple(sorted({a for a in map(stemmer_for, languages) if a}))

        return self._corpus_stemmers.get(key, corpus_stemmers)

    def visible_chunks(self, clearance: str | None, con: sqlite3.Connection) -> int:
        """Chunks a caller of this clearance may see (all for None): the collection size their IDFs are computed on."""
        if clearance is None:
            return self.dense.ntotal
        key = (clearance, self.store.docs_version(con), self.store.log_seq(con))
        return self._visible_counts.get(key, lambda: self.store.count_chunks(Filters(clearance=clearance), con))

    def section_spans(self, sections: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
        """First and last page of each (document, section) of a result page (index/store.py), cached while the
        store is unchanged (its documents version and change-log head are in the key: chunks come and go only
        through the log)."""
        state = (self.store.docs_version(), self.store.log_seq())
        keys = [(doc_id, section, *state) for doc_id, section in sorted(sections)]

        def compute(missing: list[tuple[str, str, int, int]]) -> list[tuple[int, int] | None]:
            found = self.store.section_spans([(d, s) for d, s, *_ in missing])
            return [found.get((d, s)) for d, s, *_ in missing]

        spans = self._section_spans.get_many(keys, compute)
        return {(d, s): span for (d, s, *_), span in zip(keys, spans, strict=True) if span is not None}

    def fusion_weights(self, language: str | None) -> tuple[float, float]:
        """(dense, lexical) RRF weights for a query language (index/fusion.py)."""
        return fusion.fusion_weights(self.settings, self.encoder.name, language)

    def bridged_search(
        self,
        query: str,
        language: str | None,
        mode: str,
        depth: int,
        filters: Filters,
        con: sqlite3.Connection,
        qvec: np.ndarray | None = None,
        rendering_hits: list[tuple[int, float]] | None = None,
    ) -> list[tuple[list[tuple[int, float]], float]]:
        """Ranked lists for the query translated to English, with their RRF weights: BM25 over its English words and,
        in hybrid mode when a dictionary translated part of it, the encoder's search for that English rendering
        (`rendering_hits` when the dense stage already ran it). Empty for English, unsure or dense-only queries, and
        without a bridge (index/bridge.py)."""
        if self.bridge is None or mode == "dense" or language in (None, "en"):
            return []
        translation = self.translation(query, language, qvec, filters.clearance)
        if not translation.words:
            return []
        coverage = translation.coverage if mode == "hybrid" else 0.0  # lexical mode fuses its BM25 lists as before
        w_bridge, w_translated = self.bridge_weights(translation.by_machine, coverage)
        lists = [
            (
                self.lexical.search(translation.text, depth, filters, self.settings.lexical_title_weight, con=con),
                w_bridge,
            )
        ]
        if self.dense_bridged(translation, mode):
            if rendering_hits is None:
                vec = self.encode_query(translation.dense_text)  # usually cached: encoded with the query (query_vector)
                rendering_hits = self.dense.search(vec, depth, self.allowed(filters, con), con)
            lists.append((rendering_hits, w_translated))
        return lists

    def rendering_vector(
        self, query: str, language: str | None, mode: str, clearance: str | None, qvec: np.ndarray | None
    ) -> np.ndarray | None:
        """The vector of the query's English rendering when this search also runs the encoder's search for it (see
        bridged_search), else None; cached, as query_vector encoded it with the query."""
        if self.bridge is None or mode != "hybrid" or language in (None, "en"):
            return None
        translation = self.translation(query, language, qvec, clearance)
        return self.encode_query(translation.dense_text) if self.dense_bridged(translation, mode) else None

    def dense_bridged(self, translation: Translation, mode: str) -> bool:
        """Whether a search of this mode also runs the encoder's search for the translation's English rendering: in
        hybrid mode, when a dictionary (or machine) translated part of the query and that list has weight."""
        return (
            mode == "hybrid"
            and bool(translation.words)
            and translation.by_dictionary
            and self.bridge_weights(translation.by_machine, translation.coverage)[1] > 0
        )

    def bridge_weights(self, machine_translated: bool = False, coverage: float = 0.0) -> tuple[float, float]:
        """RRF weights of the bridged BM25 list and of the dense search for a dictionary (or machine) translation
        covering this share of the query (index/fusion.py)."""
        return fusion.bridge_weights(self.settings, self.encoder.name, machine_translated, coverage)

    def _rows(
        self, ids: list[int], filters: Filters, con: sqlite3.Connection, text: bool = True
    ) -> dict[int, dict[str, Any]]:
        """Chunk + document rows for ids, re-checked against the filters (visibility is never assumed); without the
        chunk text when `text` is off (fetched later, only for the hits that are shown: see with_text)."""
        return self.store.hit_rows(ids, filters, con, text)

    def with_text(self, hits: list[Hit], con: sqlite3.Connection) -> None:
        """Fill in the text of hits fetched without it."""
        found = self.store.chunk_texts([h.chunk_id for h in hits if h.text is None], con)
        for h in hits:
            if h.text is None:
                h.text = found.get(h.chunk_id, "")

    def duplicate_cosine(self) -> float:
        """Cosine above which two passages count as near-duplicates (the setting, else the encoder's calibration)."""
        if self.settings.dedup_threshold is not None:
            return self.settings.dedup_threshold
        return similarity_calibration(self.encoder.name)[0]

    def collapse(
        self, hits: list[Hit], vectors: Mapping[int, np.ndarray], need: int | None = None, by_document: bool = False
    ) -> list[Hit]:
        """Near-duplicates folded and overlapping chunks of a shown page dropped, at this encoder's calibrated cosines
        (index/shaping.py)."""
        _, same_page_cos = similarity_calibration(self.encoder.name)  # overlapping chunks of one page: shown once
        return shaping.collapse(hits, vectors, self.duplicate_cosine(), same_page_cos, need, by_document)

    def snippets(self, hits: list[Hit], query: str, qvec: np.ndarray | None, clearance: str | None = None) -> None:
        """Highlight query terms; for passages matched only by meaning, show the closest sentence
        (by character trigrams, or by the encoder when semantic_snippets is on)."""
        terms = query_terms(query)
        language = self.query_language(query) if hits and terms else None
        stemmers = self.query_stemmers(language, self.store.conn(), clearance) if hits and terms else ()
        bridged = self.translation(query, language, qvec, clearance).words
        terms = terms + [w for w in bridged if w not in terms]  # highlight the bridged words too
        semantic: list[tuple[Hit, list[tuple[int, int]]]] = []
        matcher = TermMatcher(terms, stemmers)  # each distinct word of the page's passages is stemmed once
        for h in hits:
            text = h.text or ""
            snip = lexical_snippet(text, terms, stemmers=stemmers, matcher=matcher)
            h.snippet = snip.html
            if snip.matched or not query.strip():
                continue
            spans = sentences(text)
            if len(spans) < 2:
                continue
            if self.settings.semantic_snippets and qvec is not None and len(semantic) < SEMANTIC_SNIPPET_HITS:
                semantic.append((h, spans))
            else:
                h.snippet = sentence_snippet(text, closest_sentence(text, spans, query)).html
        if semantic:
            semantic = [(h, spans[:6]) for h, spans in semantic]
            texts = [(h.text or "")[a:b][:300] for h, spans in semantic for a, b in spans]
            vecs = self.encoder.encode(texts)
            pos = 0
            for h, spans in semantic:
                scores = vecs[pos : pos + len(spans)] @ qvec
                pos += len(spans)
                h.snippet = sentence_snippet(h.text or "", spans[int(np.argmax(scores))]).html

    # -- search --------------------------------------------------------------------------------
    def _retrieve(
        self,
        query: str,
        mode: str,
        filters: Filters,
        depth: int,
        qvec: np.ndarray | None,
        con: sqlite3.Connection,
        timer: StageTimer,
    ) -> tuple[list[Hit], dict[int, dict[str, Any]], dict[int, float], bool]:
        """Fused hits (filters applied inside both retrievers), their rows, the dense scores, and whether the hits are
        every match (no retriever's list reached `depth`: else more may lie deeper); each stage timed."""
        s = self.settings
        dense_hits: list[tuple[int, float]] = []
        lex_hits: list[tuple[int, float]] = []
        rendering_hits: list[tuple[int, float]] | None = None
        with timer.stage("language"):
            language = self.query_language(query) if mode != "dense" else None
        exact = True  # every retriever's list is complete up to depth (an exact search, no query term pruned)
        if mode in ("hybrid", "dense"):
            if qvec is None:
                raise ValueError(f"a {mode} search needs the query's vector")
            with timer.stage("dense"):
                rendering = self.rendering_vector(query, language, mode, filters.clearance, qvec)
                allowed = self.allowed(filters, con)
                exact = self.dense.exhaustive(allowed)
                if rendering is None:
                    dense_hits = self.dense.search(qvec, depth, allowed, con)
                else:  # the query and its English rendering in one FAISS call: its threads search both at once
                    dense_hits, rendering_hits = self.dense.search_many(
                        np.stack([qvec, rendering]), depth, allowed, con
                    )
        if mode in ("hybrid", "lexical"):
            with timer.stage("lexical"):
                dropped = self.common_terms(query, con, filters.clearance)
                exact = exact and not dropped
                lex_hits = self.lexical.search(
                    query,
                    depth,
                    filters,
                    s.lexical_title_weight,
                    drop=dropped,
                    stemmers=self.query_stemmers(language, con, filters.clearance),
                    con=con,
                )
        if mode != "dense":
            with timer.stage("translate"):  # cached: the bridge, the expansion and the snippets reuse it
                self.translation(query, language, qvec, filters.clearance)
        with timer.stage("bridge"):
            bridged = self.bridged_search(query, language, mode, depth, filters, con, qvec, rendering_hits)
        with timer.stage("expand"):
            expansion = self.expansion(query, language, qvec, filters.clearance) if mode != "dense" else Expansion()
            if expansion.added:
                bridged.append(
                    (
                        self.lexical.search(expansion.text, depth, filters, s.lexical_title_weight, con=con),
                        s.weight_expansion,
                    )
                )
        machine, coverage = False, 0.0  # whether a translator rendered the query, and how much: fusion weighs by it
        with timer.stage("fusion"):
            if mode == "dense":
                fused = dense_hits
            elif mode == "lexical":
                fused = rrf([(lex_hits, 1.0), *bridged], s.rrf_k) if bridged else lex_hits
            else:
                translation = self.translation(query, language, qvec, filters.clearance)
                machine, coverage = translation.by_machine, translation.coverage
                fused = fusion.fuse(s, self.encoder.name, dense_hits, lex_hits, language, bridged, machine, coverage)
        with timer.stage("rows"):
            rows = self._rows([cid for cid, _ in fused], filters, con, text=False)  # texts: only for the hits shown
            newest = self.newest_editions(rows, filters, con)
        with timer.stage("fusion"):
            dmap, lmap = dict(dense_hits), dict(lex_hits)
            if mode == "hybrid" and s.feedback_weight > 0 and qvec is not None:
                feedback = self.feedback_list(fused, rows, qvec)
                if feedback is not None:  # the rescored candidates take the dense search's place
                    fused = fusion.fuse(s, self.encoder.name, feedback, lex_hits, language, bridged, machine, coverage)
            fused = demote_regions(fused, rows, s.region_weights)
            fused = demote_short(fused, rows, s.short_passage_tokens, s.short_passage_weight)
            # tuned on hybrid's fused scores; a share of a neighbour's cosine or BM25 score outweighs those rankings
            fused = support_sections(
                fused, rows, s.section_support if mode == "hybrid" else 0.0, s.section_support_levels
            )
            asked = query_edition(query)
            if s.superseded_weight < 1.0:  # the edition preference: demote unasked editions, order their twins
                fused = prefer_editions(fused, rows, newest, asked, s.superseded_weight)
                fused = order_twins(fused, rows, newest, asked, self.duplicate_cosine())
            fused = fold_pages(fused, rows, s.same_page_weight)
            hits = [Hit.from_row(rows[cid], sc, dmap.get(cid), lmap.get(cid)) for cid, sc in fused if cid in rows]
            for h in hits:
                h.superseded_by = superseded_by(rows[h.chunk_id], newest)
        lists = [dense_hits, lex_hits, rendering_hits or [], *(hl for hl, _ in bridged)]
        return hits, rows, dmap, exact and all(len(hl) < depth for hl in lists)

    def feedback_list(
        self, fused: list[tuple[int, float]], rows: Mapping[int, Any], qvec: np.ndarray
    ) -> list[tuple[int, float]] | None:
        """The fused candidates rescored by the query vector moved towards the first passages of the first passage's
        document (dense pseudo-relevance feedback, index/feedback.py); None when nothing feeds back."""
        ids = feedback_ids(fused, rows, self.settings.feedback_passages)
        if not ids:
            return None
        moved = rocchio(qvec, [row_vector(rows[c]) for c in ids], self.settings.feedback_weight)
        return rescore(moved, [c for c, _ in fused], rows)

    def newest_editions(self, rows: Mapping[int, Any], filters: Filters, con: sqlite3.Connection) -> dict[str, Any]:
        """Per family among the rows: the editions the caller may see (clearance only, not the facet filters), newest
        first; families with one visible edition are left out."""
        families = {r["family"] for r in rows.values() if r["family"]}
        if not families:
            return {}
        visible = Filters(clearance=filters.clearance)
        key = (visible.key(), self.store.docs_version(con))  # every family's editions, read once per documents version
        every = self._editions.get(key, lambda: self.store.family_editions(None, visible, con))
        return {f: every[f] for f in sorted(families) if len(every.get(f, ())) > 1}

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
        """Ranked passages for a query (see SearchResult; its `timings` are the time per stage)."""
        timer = StageTimer()
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise SearchError(f"unknown mode {mode!r} (allowed: {', '.join(MODES)})")
        filters = filters or Filters()
        s = self.settings
        self.check_window(offset, k)
        need = offset + k  # results (documents when grouped) the page needs; offset + k <= the window bounds the work
        depth = depth or max(s.shared_depth, need * (4 if group_by_document else 2))
        shared = depth == s.shared_depth  # every page this shallow ranks the same candidates
        if mode != "lexical" and qvec is None:
            qvec = self.query_vector(query, mode, filters.clearance, timer)
        with self.store.snapshot() as con:
            with timer.stage("sync"):  # the store's changes since the last search, into the vector index
                self.dense.sync(con)
            hits, rows, dmap, every = self._retrieve(query, mode, filters, depth, qvec, con, timer)
            with timer.stage("rows"):
                visible = self.visible_chunks(filters.clearance, con)
            facet_pool = None
            if filters.facet_filtered():  # disjunctive facets: each facet counted without its own filter
                facet_pool, facet_rows, _, _ = self._retrieve(
                    query, mode, filters.without_facets(), depth, qvec, con, timer
                )
            if self._reranker is not None and hits:
                with timer.stage("rerank"):
                    self.with_text(hits[: s.rerank_top], con)
                    hits = self._reranker.rerank(query, hits, s.rerank_top)
            with timer.stage("collapse"):
                upto = None if shared else need  # the shared candidates collapse whole: the same total on every page
                if collapse:
                    hits = self.collapse(hits, row_vectors(rows), upto, group_by_document)
                if facet_pool is not None and collapse:
                    facet_pool = self.collapse(
                        facet_pool,
                        row_vectors(facet_rows),
                        upto,
                        group_by_document,
                    )
            with timer.stage("facets"):
                facets = shaping.facets(hits) if facet_pool is None else shaping.facets(facet_pool, filters)
                if group_by_document:
                    hits = shaping.group(hits)
                page = hits[offset : offset + k]
            with timer.stage("rows"):
                self.with_text(page + hits[:3], con)
        for i, h in enumerate(page):
            h.rank = offset + i + 1
        if snippets:
            with timer.stage("snippets"):
                self.snippets(page, query, qvec, filters.clearance)
        with timer.stage("rows"):
            spans = self.section_spans({(h.document_id, h.section) for h in page if h.section})
            for h in page:
                h.section_pages = useful_span(spans.get((h.document_id, h.section)))
        best = max(dmap.values()) if dmap else None
        language = self.query_language(query) if mode != "dense" else None
        translation = self.translation(query, language, qvec, filters.clearance).words
        with timer.stage("evidence"):
            measured = self.evidence(query, hits[:3], filters, visible)
            rendering = self.evidence_rendering(measured, language, translation)
            if rendering is not None:  # the query's own words left untranslated and unknown do not count against it
                leftovers = frozenset(query_terms(query)) & frozenset(query_terms(rendering))
                measured = self.evidence(rendering, hits[:3], filters, visible, leftovers)
        expansion = list(self.expansion(query, language, qvec, filters.clearance).added) if mode != "dense" else []
        timings = timer.timings()
        return SearchResult(
            query=query,
            mode=mode,
            took_ms=timings["total"],
            timings=timings,
            total=len(hits),
            total_relation="eq" if every else "gte",
            offset=offset,
            k=k,
            results=page,
            facets=facets,
            best_dense=best,
            evidence=measured,
            no_good_answer=self.judge(measured),
            language=language,
            translation=translation,
            expansion=expansion,
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
        return evidence.too_common(terms, df, n, self.settings.lexical_prune_df)

    def document_frequencies(self, stems: list[str], filters: Filters) -> dict[str, int]:
        """Chunks containing each (stemmed) term, counting only chunks the filters admit (capped for speed),
        so the answer never reveals vocabulary of documents the caller may not see."""
        return self.lexical.term_counts(stems, filters)

    def evidence(
        self,
        query: str,
        top: list[Hit],
        filters: Filters | None = None,
        visible: int | None = None,
        leftovers: frozenset[str] = frozenset(),
    ) -> dict[str, float]:
        """How much of the query the visible corpus knows ('known') and the top passages cover ('coverage'),
        IDF-weighted over the `visible` chunks (those the caller may see; all by default: index/evidence.py). Terms
        among `leftovers` that the visible corpus does not know are left out (a translator's untranslated words)."""
        stems = evidence.query_stems(query)
        df = self.document_frequencies(sorted(set(stems.values())), filters or Filters()) if stems else {}
        stems = {t: st for t, st in stems.items() if t not in leftovers or df.get(st, 0) > 0}
        if not stems:
            return dict(evidence.NO_EVIDENCE)
        n = visible if visible is not None else self.dense.ntotal
        return evidence.measure(stems, df, n, [h.text or "" for h in top])

    def evidence_rendering(
        self, measured: dict[str, float], language: str | None, translation: list[str]
    ) -> str | None:
        """The English rendering to judge 'no good answer' on instead of the query's own words: for a translated
        query whose own words the corpus mostly does not know (no_answer_translated; a query whose words it knows,
        e.g. one in a language some documents are in, keeps its own)."""
        s = self.settings
        if s.no_answer_translated and language not in (None, "en") and translation:
            return " ".join(translation) if measured["known"] < s.no_answer_known else None
        return None

    def judge(self, measured: dict[str, float]) -> bool | None:
        """The no-good-answer flag for measured evidence, at the settings' thresholds (index/evidence.py)."""
        return evidence.judge(measured, self.settings.no_answer_known, self.settings.no_answer_coverage)

    def check_window(self, offset: int, k: int) -> None:
        """SearchError (field 'offset') for a page beyond the deep-paging window, which bounds every search's work."""
        window = self.settings.max_result_window
        if offset + k > window:
            raise SearchError(
                f"offset + k = {offset + k} is beyond the result window (max_result_window = {window}); "
                "narrow the query or its filters instead",
                field="offset",
            )

    def similar(self, chunk_id: int, k: int = 10, filters: Filters | None = None, offset: int = 0) -> SearchResult:
        """'More like this': passages closest to a chunk, under the same filters (the chunk itself excluded)."""
        t0 = time.perf_counter()
        self.check_window(offset, k)
        filters = filters or Filters()
        with self.store.snapshot() as con:
            row = self.store.visible_chunk(chunk_id, Filters(clearance=filters.clearance), con)  # visible, not filtered
            if row is None:
                raise SearchError(f"no chunk {chunk_id}")
            vec = blob_vector(row["vector"])
            self.dense.sync(con)
            s = self.settings
            depth = max(s.shared_depth, (offset + k) * 2 + 1)
            shared = depth == s.shared_depth  # as search: one total for every shallow page
            allowed = self.allowed(filters, con)
            near = self.dense.search(vec, depth, allowed, con)
            every = len(near) < depth and self.dense.exhaustive(allowed)
            found = [(c, sc) for c, sc in near if c != chunk_id]
            rows = self._rows([c for c, _ in found], filters, con)
        hits = [Hit.from_row(rows[c], sc, sc, None) for c, sc in found if c in rows]
        hits = self.collapse(hits, row_vectors(rows), None if shared else offset + k)
        page = hits[offset : offset + k]
        for i, h in enumerate(page):
            h.rank = offset + i + 1
        self.snippets(page, "", None)
        return SearchResult(
            query=f"similar:{chunk_id}",
            mode="dense",
            took_ms=round((time.perf_counter() - t0) * 1000, 2),
            total=len(hits),
            total_relation="eq" if every else "gte",
            offset=offset,
            k=k,
            results=page,
            facets=shaping.facets(hits),
        )
