"""Parse files in worker processes with a per-file time and memory limit, so one bad file cannot stop a batch."""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from pathlib import Path
from typing import Any

from pebble import ProcessExpired, ProcessPool

from pactkb.ingest.ocr import ocr_available
from pactkb.ingest.parse import ParseOptions, extract, finish, parse_file, run_ocr
from pactkb.ingest.types import IngestError, ParsedDocument


def _limit_memory(megabytes: int) -> None:
    """Worker initializer: cap the address space so a pathological file fails instead of swapping."""
    limit = megabytes * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # pragma: no cover - not permitted on this platform
        pass


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


def _safe_parse(path: Path, opts: ParseOptions) -> ParsedDocument | str:
    """Phase 1 in a worker: extract pages; finish unless scanned pages wait for OCR."""

    def step() -> ParsedDocument:
        doc = extract(path, opts)
        return doc if wants_ocr(doc, opts) else finish(doc)

    return _guarded(step)


def _safe_ocr(doc: ParsedDocument, opts: ParseOptions) -> ParsedDocument | str:
    """Phase 2 in a worker: OCR the scanned pages and finish the document."""
    return _guarded(lambda: run_ocr(doc, opts))


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
    return ProcessPool(max_workers=workers, initializer=_limit_memory, initargs=(memory_mb,), context=ctx)


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


def parse_all(
    jobs: Iterable[tuple[Path, ParseOptions]],
    workers: int,
    timeout: float,
    memory_mb: int,
    ocr_page_timeout: float = 120.0,
) -> Iterator[tuple[Path, ParsedDocument | str]]:
    """Yield (path, parsed document or one-line error); parsing runs ahead in workers, OCR'd files come last.

    Each file gets `timeout` seconds to parse; OCR gets `ocr_page_timeout` per scanned page on top.
    """
    jobs = list(jobs)
    if workers <= 0:
        for path, opts in jobs:
            yield path, _guarded(partial(parse_file, path, opts))
        return
    with guarded_pool(workers, memory_mb) as pool:
        futures = [(path, opts, pool.schedule(_safe_parse, args=(path, opts), timeout=timeout)) for path, opts in jobs]
        later: list[tuple[Path, Any, float]] = []
        try:
            for path, opts, fut in futures:
                result = _outcome(fut, timeout, memory_mb)
                if isinstance(result, ParsedDocument) and wants_ocr(result, opts):
                    budget = ocr_budget(result, timeout, ocr_page_timeout)
                    later.append((path, pool.schedule(_safe_ocr, args=(result, opts), timeout=budget), budget))
                    continue
                yield path, result
            for path, fut, budget in later:
                yield path, _outcome(fut, budget, memory_mb)
        finally:
            for _, _, fut in futures:
                fut.cancel()
            for _, fut, _ in later:
                fut.cancel()
