"""Several uvicorn workers, each with its own listening socket on the same port (SO_REUSEPORT), so that the kernel
spreads new connections evenly over them.

uvicorn's own supervisor gives every worker the one listening socket. Whichever worker wakes first then accepts every
connection waiting on it (asyncio accepts up to the backlog per wake-up), so a few keep-alive clients, such as a
reverse proxy's connection pool, often all land on one worker while the others idle: measured here, 8 concurrent
clients on 2 workers were split 8/0 or 7/1 in four runs of five. With one socket per worker, Linux hashes each new
connection to one of the sockets of the port's group.
"""

from __future__ import annotations

import errno
import socket

from uvicorn import Config
from uvicorn.supervisors import Multiprocess


class PortInUse(OSError):
    """The port is taken by another program: pactkb does not silently share it."""


def reuseport_supported() -> bool:
    """True where SO_REUSEPORT exists (Linux balances connections over the sockets that share a port)."""
    return hasattr(socket, "SO_REUSEPORT")


def check_port_free(host: str, port: int) -> None:
    """Bind the port without SO_REUSEPORT once, so a port already served by another program (or another pactkb) is
    an error rather than a port whose connections are silently split with it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(exc.errno, f"{host}:{port} is already in use by another program") from exc
            raise


def bind_reuseport(host: str, port: int) -> socket.socket:
    """A socket bound to host:port with SO_REUSEPORT, inheritable by a worker process (it listens when it starts)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class ReusePortMultiprocess(Multiprocess):
    """uvicorn's supervisor (health checks, restarts, signals) with a new SO_REUSEPORT socket for every worker it
    starts, including replacements: `self.sockets` is read once per worker started."""

    def __init__(self, config: Config) -> None:
        """Supervise config.workers workers serving config.host:config.port."""
        super().__init__(config, sockets=[])

    @property
    def sockets(self) -> list[socket.socket]:
        """A fresh listening socket for the worker about to start (the worker process keeps it; the parent's copy
        closes when the supervisor drops that worker)."""
        return [bind_reuseport(self.config.host, self.config.port)]

    @sockets.setter
    def sockets(self, value: list[socket.socket]) -> None:
        """Ignored: the supervisor binds a socket per worker instead of sharing one."""
