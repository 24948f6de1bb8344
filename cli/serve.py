"""`pactkb serve`: the HTTP service and the search page (uvicorn, one or more worker processes)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from pactkb.cli.common import DataOpt, EncoderOpt, ModelOpt, fail, make_settings, setting

if TYPE_CHECKING:
    from pactkb.settings import Settings

# seconds uvicorn's supervisor waits for a worker's health-check answer before killing and restarting it: its default
# (5 s) is shorter than a worker's start on a busy 2-core machine (imports, then the model loading in a thread that
# holds the GIL), which then restarted workers forever and never served
WORKER_HEALTHCHECK = 120
APP = "pactkb.api.app:app_from_env"  # the app factory every worker imports


def serve(
    data: DataOpt = None,
    model: ModelOpt = None,
    encoder: EncoderOpt = None,
    host: Annotated[str | None, setting("host", help="Interface to bind.")] = None,
    port: Annotated[int | None, setting("port", help="Port.")] = None,
    workers: Annotated[int | None, setting("workers", help="Worker processes sharing the data directory.")] = None,
    no_anonymous: Annotated[
        bool,
        typer.Option(
            "--no-anonymous",
            help=escape(
                "Require an API key for every request (the same as PACTKB_ANONYMOUS_READ=false) [default: off]."
            ),
        ),
    ] = False,
) -> None:
    """Run the HTTP service and the search page (http://HOST:PORT/, API docs at /docs)."""
    import shutil
    import tempfile

    import uvicorn

    from pactkb.api.metrics import MULTIPROC_ENV
    from pactkb.api.reuseport import PortInUse, ReusePortMultiprocess, check_port_free, reuseport_supported

    overrides = {"data": data, "model": model, "encoder": encoder, "host": host, "port": port, "workers": workers}
    if no_anonymous:
        overrides["anonymous_read"] = False
    settings = make_settings(**overrides)
    settings.data.mkdir(parents=True, exist_ok=True)
    for key, value in overrides.items():  # worker processes read their settings from the environment
        if value is not None:
            os.environ[f"PACTKB_{key.upper()}"] = str(value.resolve() if isinstance(value, Path) else value)
    typer.echo(
        f"pactkb serving {settings.data.resolve()} on http://{settings.host}:{settings.port}/ "
        f"({settings.workers} worker(s)); API docs at /docs",
        err=True,
    )
    share_cores(settings.workers)
    shared = None
    if settings.workers > 1 and not os.environ.get(MULTIPROC_ENV):  # /metrics adds up every worker's requests
        shared = tempfile.mkdtemp(prefix="pactkb-metrics-")
        os.environ[MULTIPROC_ENV] = shared
    options = uvicorn_options(settings)
    try:
        if settings.workers > 1 and reuseport_supported():
            try:
                check_port_free(settings.host, settings.port)
            except PortInUse as exc:
                fail(f"cannot serve: {exc.strerror}", code=1)
            ReusePortMultiprocess(uvicorn.Config(APP, **options)).run()
        else:
            uvicorn.run(APP, **options)
    finally:
        if shared:
            shutil.rmtree(shared, ignore_errors=True)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn configuration `pactkb serve` runs with."""
    return {
        "factory": True,
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        "log_level": "warning",
        "access_log": False,
        "timeout_worker_healthcheck": WORKER_HEALTHCHECK,
        "timeout_keep_alive": settings.keep_alive,
    }


def share_cores(workers: int) -> None:
    """Give each worker process its share of the cores for the query encoder and FAISS (unless set explicitly):
    every worker taking every core would oversubscribe the CPU under concurrent requests."""
    if workers <= 1:
        return
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    os.environ.setdefault("PACTKB_ENCODER_THREADS", threads)
    os.environ.setdefault("OMP_NUM_THREADS", threads)
