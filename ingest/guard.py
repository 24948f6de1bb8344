"""Parse files in worker processes with a per-file time and memory limit, so one bad file cannot stop a batch."""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Iterable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from pebble import ProcessExpired, ProcessPool

from pactkb.ingest.parse import ParseOptions, parse_file
from pactkb.ingest.types import IngestError, ParsedDocument


def _limit_memory(megabytes: int) -> None:
    """Worker initializer: cap the address space so a pathological file fails instead of swapping."""
    limit = megabytes * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # pragma: no cover - not permitted on this platform
        pass


def _safe_parse(path: Path, opts: ParseOptions) -> ParsedDocument | str:
    """Parse in a worker, returning the error message instead of raising (exceptions may not pickle)."""
    try:
        return parse_file(path, opts)
    except IngestError as exc:
        return str(exc)
    except MemoryError:
        return "parsing ran out of memory (per-file memory limit reached)"
    except RecursionError:
        return "pathological PDF structure (recursion limit reached)"
    except Exception as exc:  # noqa: BLE001 - any parser failure is one file's failure
        return f"cannot parse: {type(exc).__name__}: {exc}"


def parse_all(
    jobs: Iterable[tuple[Path, ParseOptions]], workers: int, timeout: float, memory_mb: int
) -> Iterator[tuple[Path, ParsedDocument | str]]:
    """Yield (path, parsed document or one-line error) in input order; parsing runs ahead in workers."""
    jobs = list(jobs)
    if workers <= 0:
        for path, opts in jobs:
            yield path, _safe_parse(path, opts)
        return
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPool(max_workers=workers, initializer=_limit_memory, initargs=(memory_mb,), context=ctx) as pool:
        futures = [(path, pool.schedule(_safe_parse, args=(path, opts), timeout=timeout)) for path, opts in jobs]
        try:
            for path, fut in futures:
                try:
                    yield path, fut.result()
                except FutureTimeout:
                    yield path, f"parsing took longer than the {timeout:g} s per-file limit"
                except ProcessExpired as exc:
                    reason = "memory limit" if exc.exitcode in (-9, 137) else f"exit code {exc.exitcode}"
                    yield path, f"parser process died ({reason}); the file is pathological or too large"
                except MemoryError:
                    yield path, f"parsing exceeded the {memory_mb} MB per-file memory limit"
                except Exception as exc:  # noqa: BLE001
                    yield path, f"cannot parse: {type(exc).__name__}: {exc}"
        finally:
            for _, fut in futures:
                fut.cancel()
