"""The durable store: one SQLite database (WAL) holding documents, pages, chunks, vectors and the FTS index.

SQLite is the source of truth. Every change to chunks is appended to `index_log`, which lets each
process bring its in-memory FAISS index up to date, and lets a published FAISS file be replayed
forward after a crash.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from pactkb.db import connect
from pactkb.index.cache import Memo
from pactkb.index.embed import vector_precision
from pactkb.index.families import edition_rank, family_key
from pactkb.index.filters import Filters
from pactkb.index.fold import fold, fold_tokens, protect, stemmed_text
from pactkb.settings import visible_levels

# 2: chunks of non-English documents are indexed by their language's stemmer; 3: chunk regions; 4: the words Porter
# conflates wrongly are indexed as their own tokens (fold.PORTER_EXCEPTIONS); 5: a section heading that repeats the
# document title is not indexed again in the title column (fts_title)
SCHEMA_VERSION = 5
REINDEX_BATCH = 5000  # chunks per transaction of a migration that re-indexes the keyword text
REINDEXED_THROUGH = "reindexed_through"  # meta: the last chunk id an unfinished re-index committed
DB_NAME = "pactkb.sqlite3"
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    title TEXT NOT NULL,
    publisher TEXT,
    year INTEGER,
    language TEXT,
    doc_type TEXT NOT NULL DEFAULT 'other',
    areas TEXT NOT NULL DEFAULT '[]',
    sensitivity TEXT NOT NULL DEFAULT 'public'
        CHECK (sensitivity IN ('public', 'restricted', 'confidential')),
    inferred TEXT NOT NULL DEFAULT '[]',
    edited TEXT NOT NULL DEFAULT '{{}}',
    kind TEXT NOT NULL,
    source_name TEXT NOT NULL,
    stored_path TEXT,
    size INTEGER NOT NULL,
    pages INTEGER NOT NULL,
    pages_ocr INTEGER NOT NULL DEFAULT 0,
    pages_scanned INTEGER NOT NULL DEFAULT 0,
    origin TEXT NOT NULL DEFAULT 'path',
    owner TEXT,
    toc TEXT NOT NULL DEFAULT '[]',
    warnings TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    series TEXT,
    edition TEXT,
    family TEXT,
    edition_rank REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS documents_sha ON documents(sha256);
CREATE INDEX IF NOT EXISTS documents_type ON documents(doc_type);
CREATE INDEX IF NOT EXISTS documents_sens ON documents(sensitivity);
CREATE INDEX IF NOT EXISTS documents_family ON documents(family, edition_rank);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    mtime REAL,
    size INTEGER
);
CREATE INDEX IF NOT EXISTS files_doc ON files(doc_id);
CREATE TABLE IF NOT EXISTS pages (
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    label TEXT,
    ocr INTEGER NOT NULL DEFAULT 0,
    scanned INTEGER NOT NULL DEFAULT 0,
    text TEXT NOT NULL,
    PRIMARY KEY (doc_id, number)
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    text TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    page_start INTEGER NOT NULL,
    page_end INTEGER NOT NULL,
    label_start TEXT,
    label_end TEXT,
    section TEXT NOT NULL DEFAULT '',
    n_tokens INTEGER NOT NULL,
    vector BLOB NOT NULL,
    region TEXT NOT NULL DEFAULT 'body',
    CHECK (page_start >= 1 AND page_end >= page_start)
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, ord);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(text_hash);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(title, body, tokenize = '{FTS_TOKENIZER}');
CREATE TABLE IF NOT EXISTS index_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id INTEGER NOT NULL,
    op INTEGER NOT NULL CHECK (op IN (1, -1))
);
"""

DOC_COLUMNS = (
    "id, sha256, title, publisher, year, language, doc_type, areas, sensitivity, inferred, edited, kind, "
    "source_name, stored_path, size, pages, pages_ocr, pages_scanned, origin, owner, toc, warnings, "
    "created_at, updated_at, series, edition, family, edition_rank"
)
FAMILY_FIELDS = ("title", "publisher", "year", "series", "edition")  # what a document's family and edition derive from
# what a search hit needs of its chunk and of its document (a hit row: the chunk's columns, then the document's)
HIT_CHUNK_COLUMNS = (
    "id",
    "doc_id",
    "text",
    "page_start",
    "page_end",
    "label_start",
    "label_end",
    "section",
    "region",
    "n_tokens",
    "vector",
)
HIT_DOCUMENT_COLUMNS = (
    "pages",
    "family",
    "edition_rank",
    "title",
    "source_name",
    "publisher",
    "year",
    "doc_type",
    "language",
    "areas",
    "sensitivity",
)
HIT_CACHE = 256  # filter combinations whose admitted documents a store keeps (per documents version)
# chunks whose hit rows (without text) a store keeps per state (documents version, change-log head): 2.4 kB each with
# a 384-dimension vector (measured), so at most ~47 MB per state and two states; a search reads a few hundred
HIT_ROW_CACHE = 20000
DOCUMENT_ORDER = {
    "title": "d.title COLLATE NOCASE",
    "year": "d.year DESC",
    "created": "d.created_at DESC",
    "updated": "d.updated_at DESC",
}  # document list sort keys
BATCH = 500  # ids per IN (...) list
REEMBED_ASIDE = "reembed_vectors"  # new vectors of a re-embedding in progress (index/reembed.py)
REEMBED_TARGET = "reembed_target"  # meta key: the encoder a re-embedding in progress writes
PDF_TEXT_KEY = "pdf_text"  # meta key: the PDF text extractor the store's PDFs were read by (ingest/pdf_text.py)
LEGACY_PDF_TEXT = "pypdf"  # the extractor of a store that holds PDFs but recorded none (every release before it did)


class StoreError(RuntimeError):
    """The store cannot be used as asked (schema too new, model mismatch...)."""


class MatchSyntaxError(StoreError):
    """A full-text MATCH expression SQLite's FTS5 cannot parse."""


class ModelMismatchError(StoreError):
    """The configured embedding model differs from the one the index was built with."""


class PdfTextMismatchError(StoreError):
    """The configured PDF text extractor differs from the one the store's PDFs were read by."""


@dataclass
class DocumentRecord:
    """A stored document's metadata."""

    id: str
    sha256: str
    title: str
    publisher: str | None
    year: int | None
    language: str | None
    doc_type: str
    areas: list[str]
    sensitivity: str
    inferred: list[str]
    edited: dict[str, Any]
    kind: str
    source_name: str
    stored_path: str | None
    size: int
    pages: int
    pages_ocr: int
    pages_scanned: int
    origin: str
    owner: str | None
    toc: list[dict[str, Any]]
    warnings: list[str]
    created_at: float
    updated_at: float
    series: str | None = None
    edition: str | None = None
    family: str | None = None
    edition_rank: float = 0.0
    files: list[str] = field(default_factory=list)
    chunk_count: int = 0

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> DocumentRecord:
        """Build from a `documents` row, decoding JSON columns."""
        d = dict(row)
        for key in ("areas", "inferred", "toc", "warnings"):
            d[key] = json.loads(d[key] or "[]")
        d["edited"] = json.loads(d["edited"] or "{}")
        return cls(**{k: d[k] for k in d if k in cls.__dataclass_fields__})


@dataclass
class NewChunk:
    """A chunk ready to be written: text, page span, section, tokens and its vector."""

    ord: int
    text: str
    text_hash: str
    page_start: int
    page_end: int
    label_start: str | None
    label_end: str | None
    section: str
    n_tokens: int
    vector: np.ndarray
    region: str = "body"


def document_family(row: dict[str, Any]) -> tuple[str | None, float]:
    """(family key, edition rank) of a documents row (index/families.py)."""
    family = family_key(str(row.get("title") or ""), row.get("publisher"), row.get("series"))
    return family, edition_rank(str(row.get("title") or ""), row.get("year"), row.get("edition"))


def vector_blob(vec: np.ndarray) -> bytes:
    """float32 bytes of a vector."""
    return np.ascontiguousarray(vec, dtype=np.float32).tobytes()


def blob_vector(blob: bytes) -> np.ndarray:
    """A float32 vector from bytes."""
    return np.frombuffer(blob, dtype=np.float32)


def describe_encoder(rec: dict[str, Any]) -> str:
    """An encoder for messages: 'name' (dimension d, precision p, weights w), the known parts only."""
    parts = [
        f"{label} {rec[key]}"
        for key, label in (("dim", "dimension"), ("precision", "precision"), ("weights", "weights"))
        if rec.get(key)
    ]
    return repr(rec["name"]) + (f" ({', '.join(parts)})" if parts else "")


def filter_clause(filters: Filters, alias: str = "d") -> tuple[str, list[Any]]:
    """A WHERE fragment over the documents table (as `alias`) admitting what the filters admit, and its parameters
    ('1=1' when nothing is restricted; the same SQL serves SQLite and, through pactkb.pg, PostgreSQL)."""
    parts: list[str] = []
    params: list[Any] = []

    def within(column: str, values: tuple[str, ...], nocase: bool = False) -> None:
        marks = ", ".join("?" * len(values))
        if nocase:
            parts.append(f"lower({alias}.{column}) IN ({marks})")
            params.extend(v.lower() for v in values)
        else:
            parts.append(f"{alias}.{column} IN ({marks})")
            params.extend(values)

    if filters.doc_types:
        within("doc_type", filters.doc_types)
    if filters.languages:
        within("language", filters.languages, nocase=True)
    if filters.publishers:
        within("publisher", filters.publishers, nocase=True)
    if filters.document_ids:
        within("id", filters.document_ids)
    if filters.sensitivities:
        within("sensitivity", filters.sensitivities)
    if filters.areas:
        marks = ", ".join("?" * len(filters.areas))
        parts.append(f"EXISTS (SELECT 1 FROM json_each({alias}.areas) WHERE value IN ({marks}))")
        params.extend(filters.areas)
    if filters.year_min is not None:
        parts.append(f"{alias}.year >= ?")
        params.append(filters.year_min)
    if filters.year_max is not None:
        parts.append(f"{alias}.year <= ?")
        params.append(filters.year_max)
    if filters.clearance is not None:
        visible = visible_levels(filters.clearance)
        within("sensitivity", visible)
    if filters.current_only:  # no newer edition of the same family that this caller may see
        newer = f"n.family = {alias}.family AND n.edition_rank > {alias}.edition_rank"
        if filters.clearance is not None:
            visible = visible_levels(filters.clearance)
            newer += f" AND n.sensitivity IN ({', '.join('?' * len(visible))})"
            params.extend(visible)
        parts.append(f"({alias}.family IS NULL OR NOT EXISTS (SELECT 1 FROM documents n WHERE {newer}))")
    return (" AND ".join(parts) or "1=1"), params


def marks(values: Iterable[Any]) -> str:
    """'?, ?, ?': one placeholder per value."""
    return ",".join("?" for _ in values)


def fts_title(title: str, section: str) -> str:
    """The folded text indexed in the FTS title column: the document title plus the headings of the section path
    that do not repeat it (a cover's title heading every page would count the title's words twice)."""
    words = f" {' '.join(fold_tokens(title))} "
    own = [h for h in section.split(" > ") if h.strip() and f" {' '.join(fold_tokens(h))} " not in words]
    return protect(fold(" ".join([title, *own])))


class WriterLock(Protocol):
    """A writer lock shared by every machine writing into one store (acquire raises filelock.Timeout)."""

    name: str

    def acquire(self, timeout: float = -1) -> None:
        """Take the lock, waiting up to `timeout` seconds (-1: as long as it takes)."""

    def release(self) -> None:
        """Give the lock back."""


class Store:
    """Access to the SQLite store; one connection per thread, WAL so readers never block the writer."""

    def __init__(self, data_dir: Path | str, reindex_batch: int = REINDEX_BATCH) -> None:
        """Open (and create if needed) the store in a data directory, migrating an older one (a re-index of its
        keyword text in transactions of `reindex_batch` chunks)."""
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "files").mkdir(exist_ok=True)
        self.path = self.data_dir / DB_NAME
        self._local = threading.local()
        # per documents version (docs_version): each document's hit columns, and the documents each filter admits
        self._hit_documents: Memo[int, dict[str, dict[str, Any]]] = Memo(2)
        self._admitted_documents: Memo[tuple[str, int], frozenset[str]] = Memo(HIT_CACHE)
        # per store state (documents version, change-log head): hit rows without text by chunk id (see hit_rows)
        self._hit_row_cache: Memo[tuple[int, int], dict[int, dict[str, Any]]] = Memo(2)
        self.migrate(reindex_batch)

    # -- schema migrations -----------------------------------------------------------------------
    def migrate(self, batch: int = REINDEX_BATCH) -> None:
        """Bring an older store to SCHEMA_VERSION: the schema changes in one transaction, then the re-index of every
        chunk's keyword text (versions 4 and 5) in transactions of `batch` chunks (see reindex_all_text)."""
        version = self.conn().execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: store schema {version} is newer than this pactkb ({SCHEMA_VERSION})")
        if version < SCHEMA_VERSION and self._migrate_schema():
            self.reindex_all_text(batch)

    def _migrate_schema(self) -> bool:
        """Create the tables of a new store (at SCHEMA_VERSION), or bring an older one's to version 3; True when its
        keyword text is still to be re-indexed (version 3)."""
        with self.local_transaction() as tx:
            # read again under the write lock: another process opening the store may have migrated it meanwhile
            version = tx.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:
                return False
            if 0 < version < 3:  # chunks made before regions were recognised are body text until re-ingested
                tx.add_missing_columns("chunks", {"region": "TEXT NOT NULL DEFAULT 'body'"})
                tx.add_missing_columns(
                    "documents",
                    {
                        "series": "TEXT",
                        "edition": "TEXT",
                        "family": "TEXT",
                        "edition_rank": "REAL NOT NULL DEFAULT 0",
                    },
                )
            tx.executescript_safe(SCHEMA)
            if 0 < version < 3:
                tx.refresh_families()
            tx.execute(f"PRAGMA user_version = {3 if version else SCHEMA_VERSION}")  # 3: its text is re-indexed next
            return version > 0

    def reindex_all_text(self, batch: int = REINDEX_BATCH) -> int:
        """Version 4's and 5's migration: every chunk's keyword text and title indexed again (the tokens changed), in
        transactions of `batch` chunks by id, so a million passages never make one huge transaction and WAL. Each
        batch records the last chunk it did (meta `reindexed_through`); a crash leaves version 3 and the next open goes
        on from there (doing a chunk twice is harmless); the version becomes SCHEMA_VERSION with the last batch.
        Several processes opening the store at once share the batches. A progress line on stderr for stores above
        one batch. Returns the chunks re-indexed."""
        if batch < 1:
            raise ValueError(f"reindex batch must be at least 1 chunk, not {batch}")
        total, done = self.count_chunks(Filters()), 0
        resumed = self.count_chunks_through(int(Store.get_meta(self, REINDEXED_THROUGH) or 0))  # the local copy's mark
        desc = f"migrating {self.data_dir} to schema {SCHEMA_VERSION} (keyword text)"
        bar = tqdm(total=total, initial=resumed, unit="chunk", desc=desc, disable=total <= batch, file=sys.stderr)
        finished = False
        while not finished:
            with self.local_transaction() as tx:
                if tx.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
                    break  # another process finished it
                last, n = tx.reindex_chunks(int(tx.meta(REINDEXED_THROUGH) or 0), batch)
                finished = n < batch
                if finished:
                    tx.execute("DELETE FROM meta WHERE key = ?", (REINDEXED_THROUGH,))
                    tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                else:
                    tx.set_meta({REINDEXED_THROUGH: str(last)})
            done += n
            bar.update(n)
        bar.close()
        return done

    def count_chunks_through(self, chunk_id: int) -> int:
        """Chunks whose id is at most this one (a batched pass's position)."""
        return int(self.conn().execute("SELECT count(*) FROM chunks WHERE id <= ?", (chunk_id,)).fetchone()[0])

    # -- connections ---------------------------------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = connect(self.path, foreign_keys=True)
            self._local.con = con
        return con

    def close(self) -> None:
        """Close this thread's connection."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction: all or nothing."""
        return self.local_transaction()

    def cluster_writer_lock(self) -> WriterLock | None:
        """The writer lock other machines share (None: one machine, whose data directory's file lock suffices)."""
        return None

    @contextmanager
    def local_transaction(self) -> Iterator[Tx]:
        """A write transaction on this SQLite file (BEGIN IMMEDIATE): all or nothing."""
        con = self.conn()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield self.writer(con)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        else:
            con.execute("COMMIT")

    def writer(self, con: sqlite3.Connection) -> Tx:
        """The write operations over a connection in a transaction."""
        return Tx(con)

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees one consistent state."""
        con = self.conn()
        if con.in_transaction:
            yield con
            return
        con.execute("BEGIN")
        try:
            yield con
        finally:
            con.execute("COMMIT")

    # -- meta / model --------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """A value from the meta table."""
        row = self.conn().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def check_model_name(self, name: str, precision: str = "", weights: str | Callable[[], str] = "") -> None:
        """Refuse an encoder other than the one recorded (without needing its dimension)."""
        stored = self.get_meta("model")
        if stored is not None:
            self._refuse_other(name, None, precision, weights)

    def bind_model(
        self,
        name: str,
        dim: int,
        precision: str = "",
        weights: str | Callable[[], str] = "",
        setting: dict[str, str] | None = None,
    ) -> None:
        """Record the encoder on first use (name, dimension, precision, weights hash and the settings that select it);
        refuse a different encoder afterwards."""
        if self.get_meta("model") is None:
            rows = {
                "model": name,
                "dim": str(dim),
                "precision": precision,
                "weights": weights() if callable(weights) else weights,
                "encoder_setting": json.dumps(setting or {}),
            }
            with self.transaction() as tx:
                tx.set_meta(rows)
            return
        self._refuse_other(name, dim, precision, weights)

    def _refuse_other(self, name: str, dim: int | None, precision: str, weights: str | Callable[[], str]) -> None:
        """Raise ModelMismatchError when an encoder differs from the recorded one by name, dimension, precision or
        weights (a field an older store did not record, or the caller does not know, is not compared; weights may be
        given as a function, called only when the store recorded a hash)."""
        rec = self.encoder_record()
        if callable(weights):
            weights = weights() if rec["weights"] and rec["name"] == name else ""
        differs = [
            rec["name"] != name,
            dim is not None and rec["dim"] not in (None, dim),
            bool(precision and rec["precision"]) and vector_precision(rec["precision"]) != vector_precision(precision),
            bool(weights and rec["weights"]) and rec["weights"] != weights,
        ]
        if any(differs):
            raise ModelMismatchError(
                f"the index in {self.data_dir} was built with encoder {describe_encoder(rec)}; the configured "
                f"encoder is {describe_encoder({'name': name, 'dim': dim, 'precision': precision, 'weights': weights})}"
                ". Vectors of two encoders cannot be mixed: configure the stored one (PACTKB_MODEL / --model), use a "
                f"new --data directory, or run 'pactkb reembed --data {self.data_dir}' to re-embed this store with "
                "the configured one."
            )

    def encoder_record(self) -> dict[str, Any]:
        """What the store recorded about its encoder: name, dim, precision, weights, setting (None/"" when unknown)."""
        meta = dict(
            self.conn().execute(
                "SELECT key, value FROM meta WHERE key IN ('model', 'dim', 'precision', 'weights', 'encoder_setting')"
            )
        )
        dim = meta.get("dim")
        return {
            "name": meta.get("model"),
            "dim": int(dim) if dim and int(dim) > 0 else None,
            "precision": meta.get("precision") or "",
            "weights": meta.get("weights") or "",
            "setting": json.loads(meta.get("encoder_setting") or "{}"),
        }

    def docs_version(self, con: sqlite3.Connection | None = None) -> int:
        """A counter bumped by every document insert, update or delete (for cache keys)."""
        con = con or self.conn()
        row = con.execute("SELECT value FROM meta WHERE key='docs_version'").fetchone()
        return int(row[0]) if row else 0

    def pdf_text_record(self) -> str | None:
        """The PDF text extractor the store's PDFs were read by: the recorded one, else pypdf when it holds PDFs
        (LEGACY_PDF_TEXT: stores from before the record), else None (nothing read yet)."""
        recorded = self.get_meta(PDF_TEXT_KEY)
        if recorded is not None:
            return recorded
        return LEGACY_PDF_TEXT if self.pdf_documents() else None

    def record_pdf_text(self, name: str) -> None:
        """Record the PDF text extractor the store's PDFs are read by."""
        with self.transaction() as tx:
            tx.set_meta({PDF_TEXT_KEY: name})

    def pdf_documents(self) -> dict[str, str]:
        """Stored PDF documents: id → shown name."""
        return dict(self.conn().execute("SELECT id, source_name FROM documents WHERE kind='pdf' ORDER BY source_name"))

    def model_info(self) -> tuple[str | None, int | None]:
        """(model name, dimension) recorded with the index."""
        dim = self.get_meta("dim")
        return self.get_meta("model"), int(dim) if dim else None

    # -- documents -----------------------------------------------------------------------------
    def document(self, doc_id: str, con: sqlite3.Connection | None = None) -> DocumentRecord | None:
        """One document with its file paths and chunk count."""
        con = con or self.conn()
        row = con.execute(f"SELECT {DOC_COLUMNS} FROM documents WHERE id=?", (doc_id,)).fetchone()
        if row is None:
            return None
        rec = DocumentRecord.from_row(row)
        rec.files = [r[0] for r in con.execute("SELECT path FROM files WHERE doc_id=? ORDER BY path", (doc_id,))]
        rec.chunk_count = con.execute("SELECT count(*) FROM chunks WHERE doc_id=?", (doc_id,)).fetchone()[0]
        return rec

    def document_by_sha(
        self, sha256: str, visible: tuple[str, ...] | None = None, origin: str | None = None
    ) -> DocumentRecord | None:
        """A document with this content hash (among those with a visible sensitivity / an origin, if given)."""
        sql, params = "SELECT id FROM documents WHERE sha256=?", [sha256]
        if origin is not None:
            sql += " AND origin=?"
            params.append(origin)
        if visible is not None:
            sql += f" AND sensitivity IN ({','.join('?' * len(visible))})"
            params += list(visible)
        row = self.conn().execute(sql + " ORDER BY created_at LIMIT 1", params).fetchone()
        return self.document(row[0]) if row else None

    def file_entry(self, path: str) -> sqlite3.Row | None:
        """The files row for a path."""
        return self.conn().execute("SELECT * FROM files WHERE path=?", (path,)).fetchone()

    def paths_of(self, doc_id: str) -> list[str]:
        """File paths that map to a document."""
        return [r[0] for r in self.conn().execute("SELECT path FROM files WHERE doc_id=?", (doc_id,))]

    def all_files(self) -> list[sqlite3.Row]:
        """Every path → document mapping."""
        return self.conn().execute("SELECT * FROM files ORDER BY path").fetchall()

    def pages(self, doc_id: str) -> list[sqlite3.Row]:
        """A document's pages (number, label, ocr, scanned, text)."""
        return (
            self.conn()
            .execute("SELECT number, label, ocr, scanned, text FROM pages WHERE doc_id=? ORDER BY number", (doc_id,))
            .fetchall()
        )

    def doc_chunks(self, doc_id: str) -> list[sqlite3.Row]:
        """A document's chunks in order (without vectors)."""
        return (
            self.conn()
            .execute(
                "SELECT id, ord, text, page_start, page_end, label_start, label_end, section, n_tokens "
                "FROM chunks WHERE doc_id=? ORDER BY ord",
                (doc_id,),
            )
            .fetchall()
        )

    def vectors_for_hashes(self, hashes: Iterable[str]) -> dict[str, bytes]:
        """Stored vectors of chunks whose text hash is known (to reuse instead of re-encoding)."""
        out: dict[str, bytes] = {}
        hs = list(set(hashes))
        con = self.conn()
        for i in range(0, len(hs), 500):
            part = hs[i : i + 500]
            q = f"SELECT text_hash, vector FROM chunks WHERE text_hash IN ({','.join('?' * len(part))})"
            for h, blob in con.execute(q, part):
                out.setdefault(h, blob)
        return out

    def vectors(self, ids: list[int], con: sqlite3.Connection | None = None) -> dict[int, np.ndarray]:
        """Vectors of chunks by id."""
        con = con or self.conn()
        out: dict[int, np.ndarray] = {}
        for i in range(0, len(ids), 900):
            part = ids[i : i + 900]
            q = f"SELECT id, vector FROM chunks WHERE id IN ({','.join('?' * len(part))})"
            out.update({cid: blob_vector(blob) for cid, blob in con.execute(q, part)})
        return out

    def iter_vectors(
        self, batch: int = 20000, con: sqlite3.Connection | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All (ids, vectors) in batches, in id order."""
        con = con or self.conn()
        last = -1
        while True:
            rows = con.execute(
                "SELECT id, vector FROM chunks WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
            ).fetchall()
            if not rows:
                return
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            vecs = np.stack([blob_vector(r[1]) for r in rows]).astype(np.float32)
            last = int(ids[-1])
            yield ids, vecs

    def log_seq(self, con: sqlite3.Connection | None = None) -> int:
        """The latest change-log sequence number (0 for an empty log)."""
        con = con or self.conn()
        row = con.execute("SELECT max(seq) FROM index_log").fetchone()
        return int(row[0] or 0)

    def log_since(self, seq: int, con: sqlite3.Connection | None = None) -> list[tuple[int, int, int]]:
        """(seq, chunk_id, op) entries after seq, in order."""
        con = con or self.conn()
        return [
            tuple(r) for r in con.execute("SELECT seq, chunk_id, op FROM index_log WHERE seq > ? ORDER BY seq", (seq,))
        ]

    def chunk_ids(self, con: sqlite3.Connection | None = None) -> np.ndarray:
        """All chunk ids."""
        con = con or self.conn()
        return np.array([r[0] for r in con.execute("SELECT id FROM chunks ORDER BY id")], dtype=np.int64)

    def family_editions(
        self, families: Iterable[str] | None, filters: Filters, con: sqlite3.Connection | None = None
    ) -> dict[str, list[sqlite3.Row]]:
        """Editions (id, title, year, family, edition_rank) of the given families (every family: None) among the
        documents the filters admit, newest first."""
        con = con or self.conn()
        where, params = filter_clause(filters)
        out: dict[str, list[sqlite3.Row]] = {}
        if families is None:
            q = (
                "SELECT d.id, d.title, d.year, d.family, d.edition_rank FROM documents d WHERE d.family IS NOT NULL "
                f"AND {where} ORDER BY d.edition_rank DESC, d.id"
            )
            for r in con.execute(q, params):
                out.setdefault(r["family"], []).append(r)
            return out
        wanted = sorted(set(families))
        for i in range(0, len(wanted), BATCH):
            part = wanted[i : i + BATCH]
            q = (
                f"SELECT d.id, d.title, d.year, d.family, d.edition_rank FROM documents d WHERE d.family IN "
                f"({marks(part)}) AND {where} ORDER BY d.edition_rank DESC, d.id"
            )
            for r in con.execute(q, [*part, *params]):
                out.setdefault(r["family"], []).append(r)
        return out

    def newest_edition(self, rec: DocumentRecord, filters: Filters) -> sqlite3.Row | None:
        """The newest edition (id, title, year) of a document's family among the documents the filters admit, when it
        is newer than the document; else None."""
        if not rec.family:
            return None
        where, params = filter_clause(filters)
        return (
            self.conn()
            .execute(
                f"SELECT d.id, d.title, d.year FROM documents d WHERE d.family = ? AND d.edition_rank > ? AND {where} "
                "ORDER BY d.edition_rank DESC, d.id LIMIT 1",
                [rec.family, rec.edition_rank, *params],
            )
            .fetchone()
        )

    def section_spans(self, sections: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
        """First and last page of each (document, section path); one query per document, whatever its sections."""
        con = self.conn()
        wanted: dict[str, list[str]] = {}
        for doc_id, section in sections:
            wanted.setdefault(doc_id, []).append(section)
        out: dict[tuple[str, str], tuple[int, int]] = {}
        for doc_id, names in wanted.items():
            rows = con.execute(
                "SELECT section, min(page_start), max(page_end) FROM chunks "
                f"WHERE doc_id=? AND section IN ({marks(names)}) AND region='body' GROUP BY section",
                (doc_id, *names),
            ).fetchall()
            for section, first, last in rows:
                if first is not None:
                    out[(doc_id, section)] = (int(first), int(last))
        return out

    def counts(self) -> dict[str, int]:
        """Documents, pages, chunks and pages read by OCR stored."""
        con = self.conn()
        return {
            "documents": con.execute("SELECT count(*) FROM documents").fetchone()[0],
            "pages": con.execute("SELECT coalesce(sum(pages), 0) FROM documents").fetchone()[0],
            "chunks": con.execute("SELECT count(*) FROM chunks").fetchone()[0],
            "pages_ocr": con.execute("SELECT coalesce(sum(pages_ocr), 0) FROM documents").fetchone()[0],
        }

    # -- queries under filters (the layers above never see SQL) ----------------------------------
    def filtered_chunk_ids(self, filters: Filters, con: sqlite3.Connection | None = None) -> np.ndarray:
        """Ids of the chunks whose documents the filters admit, ascending."""
        con = con or self.conn()
        where, params = filter_clause(filters)
        ids = np.fromiter(
            (
                r[0]
                for r in con.execute(
                    f"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {where}", params
                )
            ),
            dtype=np.int64,
        )
        return np.sort(ids)

    def count_chunks(self, filters: Filters, con: sqlite3.Connection | None = None) -> int:
        """Chunks whose documents the filters admit."""
        con = con or self.conn()
        where, params = filter_clause(filters)
        return int(
            con.execute(
                f"SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {where}", params
            ).fetchone()[0]
        )

    def count_documents(self, filters: Filters, con: sqlite3.Connection | None = None) -> int:
        """Documents the filters admit."""
        con = con or self.conn()
        where, params = filter_clause(filters)
        return int(con.execute(f"SELECT count(*) FROM documents d WHERE {where}", params).fetchone()[0])

    def document_languages(self, filters: Filters, con: sqlite3.Connection | None = None) -> list[str | None]:
        """The distinct languages of the documents the filters admit."""
        con = con or self.conn()
        where, params = filter_clause(filters)
        return [r[0] for r in con.execute(f"SELECT DISTINCT d.language FROM documents d WHERE {where}", params)]

    def list_documents(
        self, filters: Filters, title: str | None = None, sort: str = "title", limit: int = 20, offset: int = 0
    ) -> tuple[int, list[DocumentRecord]]:
        """(total, one page of documents) the filters admit, optionally whose title contains `title`, sorted by one of
        DOCUMENT_ORDER's keys (then by id)."""
        where, params = filter_clause(filters)
        if title:
            where += " AND d.title LIKE ? ESCAPE '\\'"
            params.append("%" + title.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        con = self.conn()
        total = con.execute(f"SELECT count(*) FROM documents d WHERE {where}", params).fetchone()[0]
        rows = con.execute(
            f"SELECT {DOC_COLUMNS} FROM documents d WHERE {where} ORDER BY {DOCUMENT_ORDER[sort]}, d.id "
            "LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return int(total), [DocumentRecord.from_row(r) for r in rows]

    def hit_rows(
        self, ids: list[int], filters: Filters, con: sqlite3.Connection | None = None, text: bool = True
    ) -> dict[int, dict[str, Any]]:
        """Chunk + document rows (HIT_CHUNK_COLUMNS then HIT_DOCUMENT_COLUMNS, as dicts: a search reads each field of
        a few hundred rows several times) of the given chunks whose documents the filters admit, by ascending id; the
        text is None when `text` is off. The chunks are read by id; their documents' columns, and which documents the
        filters admit, come from memos kept per documents version (every document change bumps it, so they are never
        stale; the admitted set is kept per filters, clearance included). Rows without text are also kept per store
        state (documents version and change-log head: every chunk added, removed or re-embedded is logged), so a
        search reads from SQLite only the candidates no search of this state read before; admission is re-checked
        on every call, and each call gets its own dicts."""
        con = con or self.conn()
        version = self.docs_version(con)
        documents = self._hit_documents.get(version, lambda: self._hit_document_columns(con))
        admitted = self._admitted_documents.get(
            (filters.key(), version), lambda: frozenset(self.document_ids(filters, con))
        )
        if text:
            return self._read_hit_rows(ids, documents, admitted, con, text)
        cache = self._hit_row_cache.get((version, self.log_seq(con)), dict)
        missing = [cid for cid in ids if cid not in cache]
        if missing:  # every row read, admitted or not: admission is decided below, per call
            read = self._read_hit_rows(missing, documents, None, con, text)
            if len(cache) + len(read) <= HIT_ROW_CACHE:
                cache.update(read)
        else:
            read = {}
        out: dict[int, dict[str, Any]] = {}
        for cid in sorted(set(ids)):
            row = cache.get(cid) or read.get(cid)
            if row is not None and row["doc_id"] in admitted:
                out[cid] = dict(row)
        return out

    def _read_hit_rows(
        self,
        ids: list[int],
        documents: dict[str, dict[str, Any]],
        admitted: frozenset[str] | None,
        con: sqlite3.Connection,
        text: bool,
    ) -> dict[int, dict[str, Any]]:
        """Hit rows of the given chunks read from SQLite, of the documents `admitted` holds (all when None)."""
        columns = ", ".join(c if text or c != "text" else "NULL AS text" for c in HIT_CHUNK_COLUMNS)
        out: dict[int, dict[str, Any]] = {}
        for i in range(0, len(ids), BATCH):
            part = ids[i : i + BATCH]
            cur = con.execute(f"SELECT {columns} FROM chunks WHERE id IN ({marks(part)})", part)
            if isinstance(cur, sqlite3.Cursor):
                cur.row_factory = None  # plain tuples: zipping a sqlite3.Row costs twice the time of the dict built
            for row in cur:
                document = documents.get(row[1]) if admitted is None or row[1] in admitted else None
                if document is not None:
                    fields = dict(zip(HIT_CHUNK_COLUMNS, row, strict=True))
                    fields.update(document)
                    out[row[0]] = fields
        return out

    def _hit_document_columns(self, con: sqlite3.Connection) -> dict[str, dict[str, Any]]:
        """Every document's HIT_DOCUMENT_COLUMNS, by document id."""
        q = f"SELECT id, {', '.join(HIT_DOCUMENT_COLUMNS)} FROM documents"
        return {r[0]: dict(zip(HIT_DOCUMENT_COLUMNS, r[1:], strict=True)) for r in con.execute(q)}

    def chunk_texts(self, ids: list[int], con: sqlite3.Connection | None = None) -> dict[int, str]:
        """Texts of chunks by id (absent ids left out)."""
        con = con or self.conn()
        out: dict[int, str] = {}
        for i in range(0, len(ids), BATCH):
            part = ids[i : i + BATCH]
            out.update(con.execute(f"SELECT id, text FROM chunks WHERE id IN ({marks(part)})", part))
        return out

    def visible_chunk(
        self, chunk_id: int, filters: Filters, con: sqlite3.Connection | None = None
    ) -> sqlite3.Row | None:
        """One chunk (id, doc_id, ord, text, page span and labels, section, n_tokens, vector) with its document's
        title, if the filters admit its document; else None."""
        con = con or self.conn()
        where, params = filter_clause(filters)
        return con.execute(
            "SELECT c.id, c.doc_id, c.ord, c.text, c.page_start, c.page_end, c.label_start, c.label_end, c.section, "
            "c.n_tokens, c.vector, d.title FROM chunks c CROSS JOIN documents d "  # the chunk by id first
            f"WHERE c.id = ? AND d.id = c.doc_id AND {where}",
            [chunk_id, *params],
        ).fetchone()

    def chunk_of_document(self, chunk_id: int, doc_id: str) -> sqlite3.Row | None:
        """A chunk's text and page span (text, page_start, page_end) when it belongs to the document; else None."""
        return (
            self.conn()
            .execute("SELECT text, page_start, page_end FROM chunks WHERE id=? AND doc_id=?", (chunk_id, doc_id))
            .fetchone()
        )

    def stored_chunks(self, doc_id: str) -> list[tuple[int, NewChunk]]:
        """A document's chunks with their ids and vectors, in id order (what a replica copies)."""
        return [
            (int(r[0]), NewChunk(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], blob_vector(r[10]), r[11]))
            for r in self.conn().execute(
                "SELECT id, ord, text, text_hash, page_start, page_end, label_start, label_end, section, n_tokens, "
                "vector, region FROM chunks WHERE doc_id=? ORDER BY id",
                (doc_id,),
            )
        ]

    def admitted(self, doc_ids: Iterable[str], filters: Filters) -> set[str]:
        """Which of these documents exist and the filters admit (the access re-check of a replica's hits)."""
        wanted = sorted(set(doc_ids))
        where, params = filter_clause(filters)
        out: set[str] = set()
        for i in range(0, len(wanted), BATCH):
            part = wanted[i : i + BATCH]
            q = f"SELECT d.id FROM documents d WHERE d.id IN ({marks(part)}) AND {where}"
            out.update(r[0] for r in self.conn().execute(q, [*part, *params]))
        return out

    def original(self, stored_path: str) -> Path | None:
        """The local file of a stored original (None when it is missing)."""
        path = self.data_dir / stored_path
        return path if path.is_file() else None

    def uses_original(self, stored_path: str) -> bool:
        """Whether any document keeps its original at this stored path."""
        return self.conn().execute("SELECT 1 FROM documents WHERE stored_path=?", (stored_path,)).fetchone() is not None

    def texts_by_sensitivity(self, language: str) -> Iterator[tuple[str, str]]:
        """(chunk text, document sensitivity) of every chunk of the documents in a language."""
        yield from self.conn().execute(
            "SELECT c.text, d.sensitivity FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE d.language = ?",
            (language,),
        )

    # -- full-text (FTS5) -------------------------------------------------------------------------
    def fts_search(
        self, expr: str, k: int, filters: Filters, title_weight: float = 1.0, con: sqlite3.Connection | None = None
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, BM25 score; higher is better) for an FTS5 MATCH expression among the chunks whose
        documents the filters admit; MatchSyntaxError when FTS5 cannot parse the expression."""
        con = con or self.conn()
        if filters.is_empty():
            sql = (
                "SELECT rowid, -bm25(chunks_fts, ?, 1.0) AS s FROM chunks_fts WHERE chunks_fts MATCH ? "
                "ORDER BY s DESC LIMIT ?"
            )
            params: list[object] = [title_weight, expr, k]
        else:
            where, wparams = filter_clause(filters)
            sql = (
                "SELECT f.rowid, -bm25(chunks_fts, ?, 1.0) AS s FROM chunks_fts f "
                "JOIN chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.doc_id "
                f"WHERE chunks_fts MATCH ? AND {where} ORDER BY s DESC LIMIT ?"
            )
            params = [title_weight, expr, *wparams, k]
        try:
            return [(int(r[0]), float(r[1])) for r in con.execute(sql, params)]
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc).lower() or "syntax" in str(exc).lower():
                raise MatchSyntaxError(str(exc)) from exc
            raise

    def fts_term_counts(
        self, stems: list[str], filters: Filters, cap: int, con: sqlite3.Connection | None = None
    ) -> dict[str, int]:
        """Chunks containing each indexed term, counting only chunks the filters admit (up to `cap` per term when
        filtered; the index's own counts otherwise)."""
        con = con or self.conn()
        if filters.is_empty():
            con.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab USING fts5vocab(main, 'chunks_fts', 'row')")
            return dict(con.execute(f"SELECT term, doc FROM temp.fts_vocab WHERE term IN ({marks(stems)})", stems))
        where, params = filter_clause(filters)
        return {
            stem: con.execute(
                "SELECT count(*) FROM (SELECT 1 FROM chunks_fts f JOIN chunks c ON c.id = f.rowid JOIN documents d "
                f"ON d.id = c.doc_id WHERE chunks_fts MATCH ? AND {where} LIMIT {int(cap)})",
                [f'"{stem}"', *params],
            ).fetchone()[0]
            for stem in stems
        }

    def fts_ids(self) -> np.ndarray:
        """Row ids of the full-text index, ascending (they are chunk ids)."""
        return np.array(
            [r[0] for r in self.conn().execute("SELECT rowid FROM chunks_fts ORDER BY rowid")], dtype=np.int64
        )

    # -- what an index outside SQLite needs to follow the store (index/tantivy_index.py) ---------------------
    def lexical_rows(
        self, con: sqlite3.Connection, chunk_ids: Iterable[int] | None = None, doc_ids: Iterable[str] | None = None
    ) -> Iterator[tuple[int, str, str, str, str, str | None]]:
        """(chunk id, document id, document title, section, text, document language) of the given chunks and of the
        given documents' chunks, or of every chunk when neither is given (in id order)."""
        sql = (
            "SELECT c.id, c.doc_id, d.title, c.section, c.text, d.language FROM chunks c JOIN documents d "
            "ON d.id = c.doc_id"
        )
        if chunk_ids is None and doc_ids is None:
            yield from map(tuple, con.execute(sql + " ORDER BY c.id"))
            return
        for column, values in (("c.id", list(chunk_ids or ())), ("c.doc_id", list(doc_ids or ()))):
            for i in range(0, len(values), BATCH):
                part = values[i : i + BATCH]
                yield from map(tuple, con.execute(f"{sql} WHERE {column} IN ({marks(part)})", part))

    def documents_updated_since(self, when: float, con: sqlite3.Connection) -> list[tuple[str, float]]:
        """(document id, updated_at) of the documents inserted or changed at or after a time."""
        return [tuple(r) for r in con.execute("SELECT id, updated_at FROM documents WHERE updated_at >= ?", (when,))]

    def document_ids(self, filters: Filters | None = None, con: sqlite3.Connection | None = None) -> list[str]:
        """Ids of the documents the filters admit (every document without filters), in id order."""
        con = con or self.conn()
        where, params = filter_clause(filters or Filters())
        return [r[0] for r in con.execute(f"SELECT d.id FROM documents d WHERE {where} ORDER BY d.id", params)]

    # -- statistics and consistency ----------------------------------------------------------------
    def document_facets(self) -> list[tuple[str | None, str, list[str], str]]:
        """(language, doc_type, areas, sensitivity) of every document."""
        return [
            (lang, dtype, json.loads(areas or "[]"), sens)
            for lang, dtype, areas, sens in self.conn().execute(
                "SELECT language, doc_type, areas, sensitivity FROM documents"
            )
        ]

    def stored_languages(self) -> list[tuple[str, str]]:
        """(language, source file name) of every document with a language, as stored."""
        rows = self.conn().execute("SELECT language, source_name FROM documents WHERE language IS NOT NULL")
        return [(r[0], r[1]) for r in rows]

    def consistency_problems(self, dim: int | None) -> list[str]:
        """What the database itself says is wrong: page spans outside documents, vectors of another dimension,
        chunks without a document, originals missing on disk, SQLite's quick_check."""
        con = self.conn()
        problems: list[str] = []
        bad_pages = con.execute(
            "SELECT count(*) FROM chunks c JOIN documents d ON d.id=c.doc_id "
            "WHERE c.page_end > d.pages OR c.page_start < 1"
        ).fetchone()[0]
        if bad_pages:
            problems.append(f"{bad_pages} chunk(s) with a page span outside their document")
        if dim:
            bad_vec = con.execute("SELECT count(*) FROM chunks WHERE length(vector) != ?", (4 * dim,)).fetchone()[0]
            if bad_vec:
                problems.append(f"{bad_vec} chunk vector(s) with the wrong dimension")
        orphans = con.execute("SELECT count(*) FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)").fetchone()[
            0
        ]
        if orphans:
            problems.append(f"{orphans} chunk(s) without a document")
        for (rel,) in con.execute("SELECT stored_path FROM documents WHERE stored_path IS NOT NULL"):
            if not (self.data_dir / rel).exists():
                problems.append(f"original file missing: {Path(rel).name}")
        integrity = con.execute("PRAGMA quick_check").fetchone()[0]
        if integrity != "ok":
            problems.append(f"SQLite quick_check: {integrity}")
        return problems

    # -- whole-corpus listings (evaluation, benchmarks) --------------------------------------------
    def source_names(self) -> dict[str, str]:
        """Each document's source file name, by document id."""
        return dict(self.conn().execute("SELECT id, source_name FROM documents"))

    def chunk_documents(self) -> dict[int, str]:
        """Each chunk's document id, by chunk id."""
        return dict(self.conn().execute("SELECT id, doc_id FROM chunks"))

    def all_chunks(self) -> list[sqlite3.Row]:
        """Every chunk (id, doc_id, text, page_start, page_end, vector, source_name), in id order."""
        return (
            self.conn()
            .execute(
                "SELECT c.id, c.doc_id, c.text, c.page_start, c.page_end, c.vector, d.source_name FROM chunks c "
                "JOIN documents d ON d.id = c.doc_id ORDER BY c.id"
            )
            .fetchall()
        )

    # -- re-embedding (index/reembed.py): new vectors built aside, swapped in at once ----------------
    def reembed_target(self) -> dict[str, Any] | None:
        """The encoder record an interrupted re-embedding was writing, if any."""
        value = self.get_meta(REEMBED_TARGET)
        return json.loads(value) if value is not None else None

    def reembedded_count(self) -> int:
        """Chunks that already have their new vector aside."""
        return int(self.conn().execute(f"SELECT count(*) FROM {REEMBED_ASIDE}").fetchone()[0])

    def chunks_to_reembed(self, after: int, limit: int) -> list[tuple[int, str, str]]:
        """(id, text, text hash) of chunks without a new vector, in id order after an id."""
        return (
            self.conn()
            .execute(
                f"SELECT c.id, c.text, c.text_hash FROM chunks c LEFT JOIN {REEMBED_ASIDE} a ON a.chunk_id = c.id "
                "WHERE a.chunk_id IS NULL AND c.id > ? ORDER BY c.id LIMIT ?",
                (after, limit),
            )
            .fetchall()
        )


class Tx:
    """Write operations, only available inside Store.transaction()."""

    def __init__(self, con: sqlite3.Connection) -> None:
        """Wrap the transaction's connection."""
        self.con = con

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        """Run one statement."""
        return self.con.execute(sql, tuple(params))

    def add_missing_columns(self, table: str, columns: dict[str, str]) -> None:
        """Add the columns a table of an older schema lacks (name -> SQL type and default)."""
        have = {r[1] for r in self.con.execute(f"PRAGMA table_info({table})")}
        for name, decl in columns.items():
            if name not in have:
                self.con.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")

    def executescript_safe(self, script: str) -> None:
        """Run several statements inside the current transaction (executescript would commit)."""
        for stmt in script.split(";\n"):
            if stmt.strip():
                self.con.execute(stmt)

    def bump_docs_version(self) -> None:
        """Invalidate caches that depend on document metadata (visibility, filters)."""
        self.con.execute(
            "INSERT INTO meta(key, value) VALUES ('docs_version', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def insert_document(self, rec: dict[str, Any]) -> None:
        """Insert a documents row (JSON columns given as Python values)."""
        row = {
            "sensitivity": "public",
            "doc_type": "other",
            "origin": "path",
            "pages_ocr": 0,
            "pages_scanned": 0,
            **rec,
        }
        for key in ("areas", "inferred", "toc", "warnings"):
            row[key] = json.dumps(row.get(key) or [], ensure_ascii=False)
        row["edited"] = json.dumps(row.get("edited") or {}, ensure_ascii=False)
        now = time.time()
        row.setdefault("created_at", now)
        row["updated_at"] = now
        row["family"], row["edition_rank"] = document_family(row)
        cols = [c.strip() for c in DOC_COLUMNS.split(",")]
        self.con.execute(
            f"INSERT INTO documents ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            tuple(row.get(c) for c in cols),
        )
        self.bump_docs_version()

    def refresh_families(self, doc_id: str | None = None) -> None:
        """Recompute the family and edition rank of one document (or all) from its metadata."""
        where, params = ("WHERE id=?", (doc_id,)) if doc_id else ("", ())
        rows = self.con.execute(
            f"SELECT id, title, publisher, year, series, edition FROM documents {where}", params
        ).fetchall()
        for r in rows:
            family, rank = document_family(dict(zip(("id", *FAMILY_FIELDS), r, strict=False)))
            self.con.execute("UPDATE documents SET family=?, edition_rank=? WHERE id=?", (family, rank, r[0]))

    def update_document(self, doc_id: str, fields: dict[str, Any]) -> None:
        """Update metadata columns and re-index the titles of its chunks if the title changed."""
        if not fields:
            return
        row = {}
        for key, value in fields.items():
            row[key] = (
                json.dumps(value, ensure_ascii=False)
                if key in ("areas", "inferred", "toc", "warnings", "edited")
                else value
            )
        row["updated_at"] = time.time()
        sets = ", ".join(f"{k}=?" for k in row)
        self.con.execute(f"UPDATE documents SET {sets} WHERE id=?", (*row.values(), doc_id))
        if set(fields) & set(FAMILY_FIELDS):
            self.refresh_families(doc_id)
        self.bump_docs_version()
        if "title" in fields:
            self.retitle_text(doc_id, fields["title"])
        if "language" in fields:
            self.reindex_text(doc_id)

    def retitle_text(self, doc_id: str, title: str) -> None:
        """Re-index the title column of one document's chunks."""
        for cid, section in self.con.execute("SELECT id, section FROM chunks WHERE doc_id=?", (doc_id,)).fetchall():
            self.con.execute("UPDATE chunks_fts SET title=? WHERE rowid=?", (fts_title(title, section), cid))

    def reindex_text(self, doc_id: str) -> None:
        """Re-index the body text of one document's chunks (its language changed)."""
        row = self.con.execute("SELECT language FROM documents WHERE id = ?", (doc_id,)).fetchone()
        lang = row[0] if row else None
        for cid, text in self.con.execute("SELECT id, text FROM chunks WHERE doc_id=?", (doc_id,)).fetchall():
            self.con.execute("UPDATE chunks_fts SET body=? WHERE rowid=?", (stemmed_text(text, lang), cid))

    def reindex_chunks(self, after: int, limit: int) -> tuple[int, int]:
        """Re-index the keyword text and title of the next `limit` chunks by id after `after` (a migration that
        changed the index's tokens); returns (the last chunk id done, or `after` when none was left; how many)."""
        rows = self.con.execute(
            "SELECT c.id, c.text, c.section, d.language, d.title FROM chunks c JOIN documents d ON d.id = c.doc_id "
            "WHERE c.id > ? ORDER BY c.id LIMIT ?",
            (after, limit),
        ).fetchall()
        self.con.executemany(
            "UPDATE chunks_fts SET title=?, body=? WHERE rowid=?",
            [(fts_title(title, section), stemmed_text(text, lang), cid) for cid, text, section, lang, title in rows],
        )
        return (rows[-1][0] if rows else after), len(rows)

    def meta(self, key: str) -> str | None:
        """A value from the meta table, read inside the transaction."""
        row = self.con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def insert_pages(self, doc_id: str, pages: Iterable[tuple[int, str | None, bool, bool, str]]) -> None:
        """Insert (number, label, ocr, scanned, text) page rows."""
        self.con.executemany(
            "INSERT INTO pages (doc_id, number, label, ocr, scanned, text) VALUES (?, ?, ?, ?, ?, ?)",
            [(doc_id, n, label, int(ocr), int(sc), text) for n, label, ocr, sc, text in pages],
        )

    def insert_chunks(
        self,
        doc_id: str,
        title: str,
        chunks: list[NewChunk],
        language: str | None = None,
        chunk_ids: list[int] | None = None,
    ) -> list[int]:
        """Insert chunks with their vectors, FTS rows (stemmed in the document's language) and 'add' log entries;
        returns the new ids (`chunk_ids`: the ids to give them, as a replica copying the shared store does)."""
        ids: list[int] = []
        given = "id, " if chunk_ids is not None else ""  # else the database numbers them
        for n, c in enumerate(chunks):
            row = self.con.execute(
                f"INSERT INTO chunks ({given}doc_id, ord, text, text_hash, page_start, page_end, label_start, "
                f"label_end, section, n_tokens, vector, region) VALUES ({'?, ' * bool(given)}?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, ?) RETURNING id",
                (
                    *([chunk_ids[n]] if chunk_ids is not None else []),
                    doc_id,
                    c.ord,
                    c.text,
                    c.text_hash,
                    c.page_start,
                    c.page_end,
                    c.label_start,
                    c.label_end,
                    c.section,
                    c.n_tokens,
                    vector_blob(c.vector),
                    c.region,
                ),
            ).fetchone()
            ids.append(int(row[0]))
        self.index_chunks(ids, title, chunks, language)
        return ids

    def index_chunks(self, ids: list[int], title: str, chunks: list[NewChunk], language: str | None) -> None:
        """The FTS rows of new chunks and their 'add' entries in the vector index's change log."""
        self.con.executemany(
            "INSERT INTO chunks_fts (rowid, title, body) VALUES (?, ?, ?)",
            [
                (cid, fts_title(title, c.section), stemmed_text(c.text, language))
                for cid, c in zip(ids, chunks, strict=True)
            ],
        )
        self.con.executemany("INSERT INTO index_log (chunk_id, op) VALUES (?, 1)", [(i,) for i in ids])

    def delete_chunks_of(self, doc_id: str) -> int:
        """Remove a document's chunks (and FTS rows), logging each removal."""
        ids = [r[0] for r in self.con.execute("SELECT id FROM chunks WHERE doc_id=?", (doc_id,))]
        if ids:
            self.con.executemany("DELETE FROM chunks_fts WHERE rowid=?", [(i,) for i in ids])
            self.con.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            self.con.executemany("INSERT INTO index_log (chunk_id, op) VALUES (?, -1)", [(i,) for i in ids])
        return len(ids)

    def delete_document(self, doc_id: str) -> int:
        """Remove a document with its pages, chunks and file mappings; returns chunks removed."""
        n = self.delete_chunks_of(doc_id)
        self.con.execute("DELETE FROM pages WHERE doc_id=?", (doc_id,))
        self.con.execute("DELETE FROM files WHERE doc_id=?", (doc_id,))
        self.con.execute("DELETE FROM documents WHERE id=?", (doc_id,))
        self.bump_docs_version()
        return n

    def map_file(self, path: str, doc_id: str, sha256: str, mtime: float | None, size: int | None) -> None:
        """Point a file path at a document."""
        self.con.execute(
            "INSERT INTO files (path, doc_id, sha256, mtime, size) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET doc_id=excluded.doc_id, sha256=excluded.sha256, "
            "mtime=excluded.mtime, size=excluded.size",
            (path, doc_id, sha256, mtime, size),
        )

    def unmap_file(self, path: str) -> None:
        """Forget a file path."""
        self.con.execute("DELETE FROM files WHERE path=?", (path,))

    def set_meta(self, values: dict[str, str]) -> None:
        """Write meta keys."""
        self.con.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(values.items()))

    def prepare_reembed(self, target: dict[str, Any]) -> dict[str, Any] | None:
        """Create the aside table of a re-embedding into `target` (emptied when an interrupted one wrote another
        target), record the target and forget vectors of chunks deleted meanwhile; returns the previous target."""
        self.con.execute(
            f"CREATE TABLE IF NOT EXISTS {REEMBED_ASIDE} (chunk_id INTEGER PRIMARY KEY, vector BLOB NOT NULL, "
            "n_tokens INTEGER NOT NULL)"
        )
        row = self.con.execute("SELECT value FROM meta WHERE key=?", (REEMBED_TARGET,)).fetchone()
        previous = json.loads(row[0]) if row else None
        if previous is not None and previous != target:
            self.con.execute(f"DELETE FROM {REEMBED_ASIDE}")
        self.set_meta({REEMBED_TARGET: json.dumps(target)})
        self.con.execute(f"DELETE FROM {REEMBED_ASIDE} WHERE chunk_id NOT IN (SELECT id FROM chunks)")
        return previous

    def save_reembedded(self, rows: Iterable[tuple[int, np.ndarray, int]]) -> None:
        """Keep (chunk id, new vector, tokens) aside."""
        self.con.executemany(
            f"INSERT OR REPLACE INTO {REEMBED_ASIDE} (chunk_id, vector, n_tokens) VALUES (?, ?, ?)",
            [(cid, vector_blob(vec), n) for cid, vec, n in rows],
        )

    def swap_reembedded(self, meta: dict[str, str]) -> int:
        """Swap every new vector in, record the new encoder's meta, log every chunk as changed (out, then in) and drop
        the aside table; returns how many chunks lack a new vector (then nothing is changed)."""
        missing = int(
            self.con.execute(
                f"SELECT count(*) FROM chunks WHERE id NOT IN (SELECT chunk_id FROM {REEMBED_ASIDE})"
            ).fetchone()[0]
        )
        if missing:
            return missing
        self.con.execute(
            f"UPDATE chunks SET vector = (SELECT vector FROM {REEMBED_ASIDE} WHERE chunk_id = chunks.id), "
            f"n_tokens = (SELECT n_tokens FROM {REEMBED_ASIDE} WHERE chunk_id = chunks.id)"
        )
        for op in (-1, 1):  # each process's FAISS index replays: out with the old vector, in with the new
            self.con.execute("INSERT INTO index_log (chunk_id, op) SELECT id, ? FROM chunks ORDER BY id", (op,))
        self.set_meta(meta)
        self.con.execute("DELETE FROM meta WHERE key = ?", (REEMBED_TARGET,))
        self.con.execute(f"DROP TABLE {REEMBED_ASIDE}")
        return 0
