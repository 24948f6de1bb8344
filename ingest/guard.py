"""Parse files in worker processes with a per-file time and memory limit, so one bad file cannot stop a batch."""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from pebble import ProcessExpired, ProcessPool

from pactkb.ingest.ocr import ocr_available
from pactkb.ingest.parse import ParseOptions, extract, finish, run_ocr
from pactkb.ingest.types import Chunk, IngestError, ParsedDocument

DocChunker = Callable[[ParsedDocument], list[Chunk]]
_chunker: DocChunker | None = None  # a worker's chunk stage, installed by its initializer


def _init_worker(megabytes: int, niceness: int = 0, chunker: DocChunker | None = None) -> None:
    """Worker initializer: cap the address space so a pathological file fails instead of swapping, lower the worker's
    CPU priority by `niceness` (the encoder in the main process goes first), and install the chunk stage, if given."""
    global _chunker
    _chunker = chunker
    limit = megabytes * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # pragma: no cover - not permitted on this platform
        pass
    if niceness > 0:
        os.nice(niceness)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (Tesseract, pdftoppm)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(step: Callable[[], ParsedDocument | str], stage: str) -> ParsedDocument | str:
    """Run a parsing step, adding its wall and CPU seconds to the document's timings (`stage`, `stage`_cpu)."""
    t0, c0 = time.perf_counter(), _cpu()
    doc = step()
    if isinstance(doc, ParsedDocument):
        for key, spent in ((stage, time.perf_counter() - t0), (f"{stage}_cpu", _cpu() - c0)):
            doc.timings[key] = doc.timings.get(key, 0.0) + spent
    return doc


def _guarded(fn: Callable[[], ParsedDocument]) -> ParsedDocument | str:
    """Run a parsing step, returning the error message instead of raising (exceptions may not pickle)."""
    try:
        return fn()
    except IngestError as exc:
        return str(exc)
    except MemoryError:
        return "parsing ran out of memory (per-file memory limit reached)"
    except RecursionError:
        return "pathological PDF structure (recursion limit reached)"
    except Exception as exc:  # noqa: BLE001 - any parser failure is one file's failure
        return f"cannot parse: {type(exc).__name__}: {exc}"


def _chunked(doc: ParsedDocument | str) -> ParsedDocument | str:
    """A finished document with its chunks, when this worker has a chunk stage."""
    if isinstance(doc, ParsedDocument) and _chunker is not None:
        chunker = _chunker

        def step() -> ParsedDocument:
            doc.chunks = chunker(doc)
            return doc

        return _timed(lambda: _guarded(step), "chunk")
    return doc


def _safe_parse(path: Path, opts: ParseOptions) -> ParsedDocument | str:
    """Phase 1 in a worker: extract pages; finish (and chunk) unless scanned pages wait for OCR."""

    def step() -> ParsedDocument:
        doc = extract(path, opts)
        return doc if wants_ocr(doc, opts) else finish(doc)

    result = _timed(lambda: _guarded(step), "parse")
    return result if isinstance(result, str) or wants_ocr(result, opts) else _chunked(result)


def _safe_ocr(doc: ParsedDocument, opts: ParseOptions) -> ParsedDocument | str:
    """Phase 2 in a worker: OCR the scanned pages and finish the document."""
    return _chunked(_timed(lambda: _guarded(lambda: run_ocr(doc, opts)), "ocr"))


def wants_ocr(doc: ParsedDocument, opts: ParseOptions) -> bool:
    """Whether a document has scanned pages that OCR can read."""
    return doc.needs_ocr and opts.ocr != "off" and ocr_available()


def _outcome(fut: Any, timeout: float, memory_mb: int) -> ParsedDocument | str:
    """A future's result, or a one-line reason why the worker failed."""
    try:
        return fut.result()
    except FutureTimeout:
        return f"parsing took longer than the {timeout:g} s limit for this file"
    except ProcessExpired as exc:
        reason = "memory limit" if exc.exitcode in (-9, 137) else f"exit code {exc.exitcode}"
        return f"parser process died ({reason}); the file is pathological or too large"
    except MemoryError:
        return f"parsing exceeded the {memory_mb} MB per-file memory limit"
    except Exception as exc:  # noqa: BLE001
        return f"cannot parse: {type(exc).__name__}: {exc}"


def guarded_pool(workers: int, memory_mb: int) -> ProcessPool:
    """A pool of parse workers, each with its address space capped at `memory_mb`."""
    ctx = multiprocessing.get_context("forkserver")
    return ProcessPool(max_workers=workers, initializer=_init_worker, initargs=(memory_mb,), context=ctx)


def ocr_budget(doc: ParsedDocument, timeout: float, ocr_page_timeout: float) -> float:
    """Seconds allowed to OCR a document: the file's limit plus `ocr_page_timeout` per scanned page."""
    return timeout + ocr_page_timeout * sum(1 for p in doc.pages if p.scanned)


def run_phase(
    ocr: bool,
    doc_or_path: ParsedDocument | Path,
    opts: ParseOptions,
    pool: ProcessPool | None,
    timeout: float,
    memory_mb: int,
) -> ParsedDocument | str:
    """One phase of one file (extract, or OCR a parsed document) in a guarded worker of `pool`, else in-process;
    the document or a one-line error. Distributed ingestion runs each phase as a task of its own."""
    fn: Callable[..., ParsedDocument | str] = _safe_ocr if ocr else _safe_parse
    if pool is None:
        return fn(doc_or_path, opts)
    return _outcome(pool.schedule(fn, args=(doc_or_path, opts), timeout=timeout), timeout, memory_mb)


class ParseStream:
    """Parsed files in order, parsed ahead in guarded worker processes; OCR'd files come last. `ready()` says whether
    the next result is already there, so a consumer can do other work (encode) instead of waiting for it.

    Each file gets `timeout` seconds to parse; OCR gets `ocr_page_timeout` per scanned page on top. Use as a context
    manager (the pool stops, and unfinished work is cancelled, on leaving it).
    """

    def __init__(
        self,
        jobs: Iterable[tuple[Path, ParseOptions]],
        workers: int,
        timeout: float,
        memory_mb: int,
        ocr_page_timeout: float = 120.0,
        niceness: int = 0,
        chunker: DocChunker | None = None,
    ) -> None:
        """Remember the jobs; the pool starts on entering. With a (picklable) `chunker`, the workers chunk what they
        parse too (`ParsedDocument.chunks`)."""
        self.jobs = list(jobs)
        self.workers, self.timeout, self.memory_mb = workers, timeout, memory_mb
        self.ocr_page_timeout, self.niceness, self.chunker = ocr_page_timeout, niceness, chunker
        self.pool: ProcessPool | None = None
        self.futures: list[tuple[Path, ParseOptions, Any]] = []
        self.later: list[tuple[Path, Any, float]] = []
        self._next = 0  # index of the next first-phase future; then of the next OCR future

    def __enter__(self) -> ParseStream:
        """Start the workers and schedule every file."""
        if self.workers > 0:
            ctx = multiprocessing.get_context("forkserver")
            init = (self.memory_mb, self.niceness, self.chunker)
            self.pool = ProcessPool(max_workers=self.workers, initializer=_init_worker, initargs=init, context=ctx)
            self.futures = [
                (path, opts, self.pool.schedule(_safe_parse, args=(path, opts), timeout=self.timeout))
                for path, opts in self.jobs
            ]
        return self

    def __exit__(self, *exc: object) -> None:
        """Cancel what is left and stop the workers."""
        for _, _, fut in self.futures:
            fut.cancel()
        for _, fut, _ in self.later:
            fut.cancel()
        if self.pool is not None:
            self.pool.stop()
            self.pool.join()

    def ready(self) -> bool:
        """Whether the next result can be taken without waiting (always, when parsing in-process)."""
        if self.pool is None:
            return True
        if self._next < len(self.futures):
            return bool(self.futures[self._next][2].done())
        done = self._next - len(self.futures)
        return done >= len(self.later) or bool(self.later[done][1].done())

    def __iter__(self) -> Iterator[tuple[Path, ParsedDocument | str]]:
        """(path, parsed document or a one-line error), in job order, OCR'd files after the others."""
        if self.pool is None:
            for path, opts in self.jobs:
                result = _safe_parse(path, opts)
                if isinstance(result, ParsedDocument) and wants_ocr(result, opts):
                    result = _safe_ocr(result, opts)
                yield path, result
            return
        while self._next < len(self.futures):
            path, opts, fut = self.futures[self._next]
            self._next += 1
            result = _outcome(fut, self.timeout, self.memory_mb)
            if isinstance(result, ParsedDocument) and wants_ocr(result, opts):
                budget = ocr_budget(result, self.timeout, self.ocr_page_timeout)
                self.later.append((path, self.pool.schedule(_safe_ocr, args=(result, opts), timeout=budget), budget))
                continue
            yield path, result
        for path, fut, budget in self.later:
            self._next += 1
            yield path, _outcome(fut, budget, self.memory_mb)


def parse_all(
    jobs: Iterable[tuple[Path, ParseOptions]],
    workers: int,
    timeout: float,
    memory_mb: int,
    ocr_page_timeout: float = 120.0,
) -> Iterator[tuple[Path, ParsedDocument | str]]:
    """Yield (path, parsed document or one-line error); parsing runs ahead in workers, OCR'd files come last."""
    with ParseStream(jobs, workers, timeout, memory_mb, ocr_page_timeout) as stream:
        yield from stream
