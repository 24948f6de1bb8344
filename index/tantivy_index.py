"""BM25 with tantivy (Rust; block-max WAND top-k pruning) over the same folded and stemmed tokens as FTS5.

The index lives beside the store (`index/lexical-tantivy/`) and follows it: the store's change log (`index_log`, as
the FAISS index does) says which chunks were added or removed, and documents changed since the last sync (a new title
or language) are re-indexed whole. A small state file records what the index reflects (log sequence number, the
documents' version and newest change time); it is written after tantivy's commit, and replaying the log from an older
state is harmless (each chunk is deleted before it is added), so a crash at any moment leaves an index the next sync
completes. Without a state file (first use, or a crash during a build) the index is rebuilt from the store, which
stays the source of truth. Filters are applied inside retrieval: the store names the documents they admit, and the
search runs restricted to those (or excluding the others, whichever list is shorter).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar, cast

import tantivy
from filelock import FileLock

from pactkb.atomic import write_atomic
from pactkb.index.cache import Memo
from pactkb.index.filters import Filters
from pactkb.index.fold import stemmed_text
from pactkb.index.lexical import DF_CAP, LexicalQuery, index_tokens, parse_query
from pactkb.index.store import Store, fts_title

FOLDER = "lexical-tantivy"
STATE = "state.json"
LOCK = "sync.lock"
LAYOUT = 3  # bump when the schema or the tokens change: the index is then rebuilt (2: fold.PORTER_EXCEPTIONS; 3:
# a section heading repeating the title is not indexed again, store.fts_title)
TOKENS = "pretokenized"  # tantivy splits our token stream on whitespace only
WRITER_HEAP = 64_000_000
COMMIT_EVERY = 200_000  # chunks per commit while (re)building
T = TypeVar("T")
Row = tuple[int, str, str, str, str, str | None]  # Store.lexical_rows: chunk, document, title, section, text, language
BUILD_BATCH = 2000  # chunks per tokenizing task while (re)building
PARALLEL_ABOVE = 20_000  # chunks above which a rebuild tokenizes in worker processes (one per core)


@dataclass(frozen=True)
class SyncState:
    """What the index on disk reflects of the store."""

    layout: int = LAYOUT
    seq: int = 0  # store change-log sequence number applied
    docs_version: int = 0  # the store's documents version seen
    updated: float = 0.0  # newest document change time seen


def chunk_schema() -> tantivy.Schema:
    """chunk id (indexed, fast), document id (a raw term for filters and deletes), title tokens, title+body tokens."""
    b = tantivy.SchemaBuilder()
    b.add_integer_field("chunk", indexed=True, fast=True)
    b.add_text_field("doc", tokenizer_name="raw", index_option="basic")
    b.add_text_field("title", tokenizer_name=TOKENS, index_option="position")
    b.add_text_field("text", tokenizer_name=TOKENS, index_option="position")
    return b.build()


def open_index(schema: tantivy.Schema, folder: Path) -> tantivy.Index:
    """Open (creating) an index in a folder, with the pre-tokenized analyser registered."""
    folder.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(schema, path=str(folder), reuse=True)
    index.register_tokenizer(TOKENS, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
    return index


def tokens_of(title: str, section: str, text: str, language: str | None) -> tuple[str, str]:
    """(title tokens, title + body tokens) as space-separated strings: the FTS5 row's columns, tokenized alike."""
    title_tokens = " ".join(index_tokens(fts_title(title, section)))
    return title_tokens, f"{title_tokens} {' '.join(index_tokens(stemmed_text(text, language)))}"


def tokenize_rows(rows: tuple[Row, ...]) -> list[tuple[int, str, str, str]]:
    """(chunk id, document id, title tokens, title + body tokens) of store rows (run in worker processes)."""
    return [(cid, doc_id, *tokens_of(title, section, text, lang)) for cid, doc_id, title, section, text, lang in rows]


def batched(items: Iterable[T], n: int) -> Iterator[tuple[T, ...]]:
    """Items in tuples of n (the last one shorter)."""
    it = iter(items)
    while batch := tuple(islice(it, n)):
        yield batch


class TantivyIndex:
    """A LexicalIndex in tantivy, kept in step with a store's chunks (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        """Open (building on first use) the index of a store."""
        self.store = store
        self.dir = store.data_dir / "index" / FOLDER
        self.schema = chunk_schema()
        self.state = SyncState(layout=-1)
        self.index: tantivy.Index | None = None
        self._lock = threading.Lock()
        self._admitted: Memo[tuple[Filters, int], tuple[str, list[str]]] = Memo(64)

    # -- keeping in step with the store ----------------------------------------------------------------------------
    def sync(self, con: sqlite3.Connection | None = None) -> int:
        """Bring the index up to the store's state (seen through `con`); returns the chunks (re)indexed."""
        con = con or self.store.conn()
        seq, version = self.store.log_seq(con), self.store.docs_version(con)
        if self.index is not None and (seq, version) == (self.state.seq, self.state.docs_version):
            return 0
        with self._lock, FileLock(str(self._lock_path())):
            disk = self._read_state()
            if disk is None or disk.layout != LAYOUT or (disk.seq > seq and not con.in_transaction):
                return self._rebuild(con)  # none, or of an older layout, or ahead of the store itself (a restore)
            self._open()
            if disk != self.state:  # another process or thread committed since this one last looked
                self.state = disk
                assert self.index is not None
                self.index.reload()
            if disk.seq > seq or disk.docs_version > version or (disk.seq, disk.docs_version) == (seq, version):
                return 0  # up to date, or ahead of this reader's snapshot (rows it cannot see are dropped later)
            return self._apply(disk, seq, version, con)

    def rebuild(self, con: sqlite3.Connection | None = None) -> int:
        """Index every chunk of the store again, from scratch, at one consistent snapshot; returns the chunks."""
        with self._lock, FileLock(str(self._lock_path())):
            return self._rebuild(con)

    def _rebuild(self, con: sqlite3.Connection | None) -> int:
        """rebuild(), under the locks."""
        with self.store.snapshot() as snap:
            con = con or snap
            seq, version = self.store.log_seq(con), self.store.docs_version(con)
            updated = max((t for _, t in self.store.documents_updated_since(0.0, con)), default=0.0)
            building = self.dir.with_name(f"{FOLDER}.building")  # searches keep the old index meanwhile
            shutil.rmtree(building, ignore_errors=True)
            fresh = open_index(self.schema, building)
            writer = fresh.writer(heap_size=WRITER_HEAP, num_threads=1)
            n = 0
            for batch in self._tokenized(con):
                for cid, doc_id, title_tokens, all_tokens in batch:
                    writer.add_document(tantivy.Document(chunk=cid, doc=doc_id, title=title_tokens, text=all_tokens))
                    n += 1
                    if n % COMMIT_EVERY == 0:
                        writer.commit()
            writer.commit()
            writer.wait_merging_threads()
            shutil.rmtree(self.dir, ignore_errors=True)
            building.rename(self.dir)
            state = SyncState(LAYOUT, seq, version, updated)
            write_atomic(self.dir / STATE, json.dumps(asdict(state)).encode())
            self.index, self.state = open_index(self.schema, self.dir), state
            return n

    def _tokenized(self, con: sqlite3.Connection) -> Iterator[list[tuple[int, str, str, str]]]:
        """Every chunk's tokens in batches, in worker processes for a large store (spawned: safe beside a server's
        threads), a few batches in flight at a time."""
        batches = batched(self.store.lexical_rows(con), BUILD_BATCH)
        if self.store.count_chunks(Filters(), con) <= PARALLEL_ABOVE:
            yield from map(tokenize_rows, batches)
            return
        workers = os.cpu_count() or 1
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            for window in batched(batches, 4 * workers):
                yield from pool.map(tokenize_rows, window)

    def _apply(self, disk: SyncState, seq: int, version: int, con: sqlite3.Connection) -> int:
        """Replay the change log after `disk` and re-index the documents changed since it."""
        chunk_ids = sorted({cid for _, cid, _ in self.store.log_since(disk.seq, con)})
        changed = self.store.documents_updated_since(disk.updated, con)
        doc_ids = [d for d, _ in changed]
        writer = self._writer()
        for cid in chunk_ids:
            writer.delete_documents_by_term("chunk", cid)
        for did in doc_ids:
            writer.delete_documents_by_term("doc", did)
        n = 0
        seen: set[int] = set()
        for row in self.store.lexical_rows(con, chunk_ids, doc_ids):
            if row[0] not in seen:
                seen.add(row[0])
                self._add(writer, *row)
                n += 1
        updated = max((t for _, t in changed), default=disk.updated)
        self._finish(writer, SyncState(LAYOUT, seq, version, updated))
        return n

    def _add(
        self, writer: tantivy.IndexWriter, cid: int, doc_id: str, title: str, section: str, text: str, lang: str | None
    ) -> None:
        """Queue one chunk's document."""
        title_tokens, all_tokens = tokens_of(title, section, text, lang)
        writer.add_document(tantivy.Document(chunk=cid, doc=doc_id, title=title_tokens, text=all_tokens))

    def _finish(self, writer: tantivy.IndexWriter, state: SyncState) -> None:
        """Commit, then record the state (a crash in between replays the same changes) and see the new segments."""
        writer.commit()
        writer.wait_merging_threads()
        write_atomic(self.dir / STATE, json.dumps(asdict(state)).encode())
        self.state = state
        assert self.index is not None
        self.index.reload()

    def _open(self) -> None:
        """Open (creating) the on-disk index and register the pre-tokenized analyser."""
        if self.index is None:
            self.index = open_index(self.schema, self.dir)

    def _writer(self) -> tantivy.IndexWriter:
        """A single-threaded writer (the machine's cores serve queries)."""
        assert self.index is not None
        return self.index.writer(heap_size=WRITER_HEAP, num_threads=1)

    def _read_state(self) -> SyncState | None:
        """The state file, or None when there is none (or it is unreadable)."""
        try:
            return SyncState(**json.loads((self.dir / STATE).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def _lock_path(self) -> Path:
        """The lock serialising syncs across processes (kept outside the index folder, which a rebuild replaces)."""
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        return self.dir.parent / f"{FOLDER}.{LOCK}"

    # -- search ----------------------------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int,
        filters: Filters,
        title_weight: float = 1.0,
        drop: set[str] | frozenset[str] = frozenset(),
        stemmers: tuple[str, ...] = (),
        con: sqlite3.Connection | None = None,
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, BM25 score; higher is better) among chunks whose documents the filters admit."""
        con = con or self.store.conn()
        self.sync(con)
        matched = self._query(parse_query(query, drop, stemmers), title_weight)
        if matched is None:
            return []
        restricted = self._restrict(matched, filters, con)
        if restricted is None:
            return []
        assert self.index is not None
        searcher = self.index.searcher()
        hits = searcher.search(restricted, limit=k, count=False).hits
        if not hits:
            return []
        ids = searcher.fast_field_values("chunk", [addr for _, addr in hits])
        found = [(int(cast(int, cid)), float(score)) for (score, _), cid in zip(hits, ids, strict=True)]
        if self.state.seq > self.store.log_seq(con):  # the index is ahead of this snapshot: what it cannot see yet
            seen = self.store.hit_rows([cid for cid, _ in found], Filters(), con, text=False)
            found = [(cid, score) for cid, score in found if cid in seen]
        return found

    def term_counts(self, stems: list[str], filters: Filters, con: sqlite3.Connection | None = None) -> dict[str, int]:
        """Chunks containing each (Porter-stemmed) term among those the filters admit (capped at DF_CAP when
        filtered, as FTS5's)."""
        con = con or self.store.conn()
        self.sync(con)
        assert self.index is not None
        searcher = self.index.searcher()
        out: dict[str, int] = {}
        for stem in stems:
            term = tantivy.Query.term_query(self.schema, "text", stem)
            restricted = self._restrict(term, filters, con)
            counted = None if restricted is None else searcher.search(restricted, limit=1, count=True)
            count = int(getattr(counted, "count", 0) or 0)  # SearchResult.count: set when count=True
            if restricted is not term:
                count = min(count, DF_CAP)
            if count:
                out[stem] = count
        return out

    def _query(self, q: LexicalQuery, title_weight: float) -> tantivy.Query | None:
        """An OR of the query's phrases, prefixes, words and stems over the title+body tokens; a title weight above 1
        adds the title matches again, weighted by the excess (FTS5 weighs the title column as a whole)."""
        clauses = self._clauses("text", q)
        if not clauses:
            return None
        if title_weight > 1.0:
            clauses += [(o, tantivy.Query.boost_query(c, title_weight - 1.0)) for o, c in self._clauses("title", q)]
        return tantivy.Query.boolean_query(clauses)

    def _clauses(self, field: str, q: LexicalQuery) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """SHOULD clauses, one per phrase, prefix, word and stem of a query, over one field."""
        out: list[tantivy.Query] = []
        for part in (*q.phrases, *q.terms, *q.stems):
            toks = index_tokens(part)
            if len(toks) == 1:
                out.append(tantivy.Query.term_query(self.schema, field, toks[0]))
            elif toks:
                out.append(tantivy.Query.phrase_query(self.schema, field, list[str | tuple[int, str]](toks)))
        for prefix in q.prefixes:
            toks = index_tokens(prefix)
            if toks:
                out.append(tantivy.Query.regex_query(self.schema, field, _regex_literal(toks[-1]) + ".*"))
        return [(tantivy.Occur.Should, c) for c in out]

    def _restrict(self, query: tantivy.Query, filters: Filters, con: sqlite3.Connection) -> tantivy.Query | None:
        """The query limited to chunks of documents the filters admit (None when they admit none)."""
        if filters.is_empty():
            return query
        how, ids = self._admitted.get((filters, self.store.docs_version(con)), lambda: self._admit(filters, con))
        if how == "all":
            return query
        if how == "none":
            return None
        docs = tantivy.Query.const_score_query(tantivy.Query.term_set_query(self.schema, "doc", ids), 0.0)
        occur = tantivy.Occur.Must if how == "only" else tantivy.Occur.MustNot
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (occur, docs)])

    def _admit(self, filters: Filters, con: sqlite3.Connection) -> tuple[str, list[str]]:
        """('all' | 'none' | 'only' | 'except', document ids): the shorter way to say which documents are admitted."""
        admitted = self.store.document_ids(filters, con)
        if not admitted:
            return "none", []
        excluded = sorted(set(self.store.document_ids(Filters(), con)) - set(admitted))
        if not excluded:
            return "all", []
        return ("only", admitted) if len(admitted) <= len(excluded) else ("except", excluded)


def _regex_literal(text: str) -> str:
    """Text as a regular-expression literal (tokens are letters and digits, but be safe)."""
    return "".join(ch if ch.isalnum() else f"\\{ch}" for ch in text)
