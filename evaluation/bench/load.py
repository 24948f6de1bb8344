"""HTTP load test on loopback: throughput and p50/p95/p99 latency of /search for 1, 8 and 32 concurrent clients.

    python -m pactkb.evaluation.bench.load --data /path/to/data            # starts `pactkb serve` itself
    python -m pactkb.evaluation.bench.load --url http://127.0.0.1:8000     # against a running server

Queries come from evaluation/domain/queries.jsonl (practitioner queries in six languages), cycled: after the first
pass the server's caches answer repeats (query vectors, translations, detected languages). With --cold the server
keeps one entry in each of those caches, so every request encodes, detects and translates its query anew.
Exits non-zero if any request failed. When it starts the server, each row also gives every worker process's memory
after the runs (`server_memory`: RSS and PSS in MB from /proc; PSS splits pages shared between processes, such as
the memory-mapped vector index and the read-only model weights, among the processes sharing them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from pactkb.settings import SEARCH_MODES

QUERIES = Path(__file__).resolve().parents[1] / "domain" / "queries.jsonl"
# --cold: the per-query caches of each worker hold one entry (their smallest size), so cycled queries never repeat one
COLD_CACHES = {"PACTKB_QUERY_CACHE": "1", "PACTKB_TRANSLATION_CACHE": "1", "PACTKB_LANGUAGE_CACHE": "1"}


def load_queries() -> list[str]:
    """Query texts to cycle through."""
    with open(QUERIES, encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh if line.strip()]


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (Linux /proc)."""
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out.extend(process_tree(int(child)))
    return out


def memory_mb(pid: int) -> dict[str, float] | None:
    """RSS and PSS of one process in MB (None when it is gone)."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    except OSError:
        return None
    return {k.lower() + "_mb": round(int(fields[k].split()[0]) / 1024, 1) for k in ("Rss", "Pss")}


def server_memory(proc: subprocess.Popen) -> list[dict[str, float]]:
    """Memory of the server's worker processes (the server itself when it has one worker): the processes of its tree
    that hold more than 100 MB (the supervisor and uvicorn's helper processes are small)."""
    rows = [(pid, memory_mb(pid)) for pid in process_tree(proc.pid)]
    return [{"pid": pid, **m} for pid, m in rows if m is not None and m["rss_mb"] > 100]


def start_server(data: Path, workers: int, mode_env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """Run `pactkb serve` on a free port and wait until it is ready."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pactkb.cli",
            "serve",
            "--data",
            str(data),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={**os.environ, **mode_env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("server did not become ready in 180 s")


async def run_level(
    url: str, queries: list[str], clients: int, duration: float, mode: str, headers: dict[str, str]
) -> dict:
    """Closed-loop clients hammering /search for `duration` seconds."""
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = time.perf_counter() + duration
    counter = iter(range(10**9))

    async def client(http: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop_at:
            q = queries[next(counter) % len(queries)]
            t0 = time.perf_counter()
            try:
                r = await http.get("/search", params={"q": q, "k": 10, "mode": mode}, headers=headers)
                ok = r.status_code == 200
                if not ok:
                    errors.append(f"{r.status_code}: {r.text[:120]}")
            except httpx.HTTPError as exc:
                errors.append(repr(exc))
                ok = False
            if ok:
                latencies.append((time.perf_counter() - t0) * 1000)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    lat = np.array(latencies) if latencies else np.zeros(1)
    return {
        "clients": clients,
        "mode": mode,
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 1),
        "p95_ms": round(float(np.percentile(lat, 95)), 1),
        "p99_ms": round(float(np.percentile(lat, 99)), 1),
        "first_error": errors[0] if errors else None,
    }


def median_run(runs: list[dict]) -> dict:
    """The median run by throughput, with the range over all runs and every run's errors counted."""
    ordered = sorted(runs, key=lambda r: r["throughput_rps"])
    best = dict(ordered[len(ordered) // 2])
    best.update(
        runs=len(runs),
        throughput_min=ordered[0]["throughput_rps"],
        throughput_max=ordered[-1]["throughput_rps"],
        errors=sum(r["errors"] for r in runs),
        first_error=next((r["first_error"] for r in runs if r.get("first_error")), best.get("first_error")),
    )
    return best


def main() -> None:
    """Parse arguments, run each concurrency level, print a table (and JSON with --json)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="Data directory to serve (starts a server).")
    ap.add_argument("--url", help="A running server instead.")
    ap.add_argument("--workers", type=int, default=2, help="Server worker processes when starting one.")
    ap.add_argument("--clients", default="1,8,32", help="Concurrency levels.")
    ap.add_argument("--duration", type=float, default=20.0, help="Seconds per level.")
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="Runs per level; the median run (by req/s) is reported "
        "with the range, since client and server share the machine.",
    )
    ap.add_argument("--mode", default="hybrid", choices=SEARCH_MODES)
    ap.add_argument("--encoder", default=None, help="openvino, torch or onnx (when starting a server).")
    ap.add_argument("--key", default=None, help="API key to send (default anonymous).")
    ap.add_argument(
        "--cold",
        action="store_true",
        help="Start the server with query caches of one entry: no request is answered from a cached encoding.",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.url and not args.data:
        ap.error("give --data DIR or --url URL")
    proc = None
    url = args.url
    if url is None:
        env = {"PACTKB_ENCODER": args.encoder} if args.encoder else {}
        if args.cold:
            env |= COLD_CACHES
        proc, url = start_server(args.data, args.workers, env)
    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    queries = load_queries()
    memory: list[dict[str, float]] = []
    try:
        asyncio.run(run_level(url, queries, 2, 3.0, args.mode, headers))  # warm-up
        rows = [
            median_run(
                [
                    asyncio.run(run_level(url, queries, int(c), args.duration, args.mode, headers))
                    for _ in range(max(1, args.repeat))
                ]
            )
            for c in args.clients.split(",")
        ]
        if proc is not None:
            memory = server_memory(proc)
            for r in rows:
                r["server_memory"] = memory
        for r in rows:
            r["query_caches"] = "one entry" if args.cold else "on"
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    if args.json:
        print(json.dumps(rows))
    else:
        print(
            f"/search load test on {url} ({args.mode}, {args.duration:g} s per level and run, median of {args.repeat} "
            f"run(s), {len(queries)} distinct queries)"
        )
        print("| clients | requests | errors | req/s | req/s range | p50 ms | p95 ms | p99 ms |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(
                f"| {r['clients']} | {r['requests']} | {r['errors']} | {r['throughput_rps']} | {r['throughput_min']}–"
                f"{r['throughput_max']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} |"
            )
        for m in memory:
            print(f"worker {m['pid']}: RSS {m['rss_mb']} MB, PSS {m['pss_mb']} MB")
    if any(r["errors"] for r in rows):
        print(f"errors: {[r['first_error'] for r in rows if r['errors']]}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
