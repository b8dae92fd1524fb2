"""How `hom serve` listens: the address bound before anything runs (a port in use fails
at once, whatever the number of workers), uvicorn run on it, and the ready line said once
connections are accepted.

`--workers N`: uvicorn's supervisor, each worker listening on a socket of its own.

uvicorn hands every worker the one socket it bound, and whichever worker's event loop
wakes first accepts every connection waiting on it: a client that opens its
connections at once and keeps them (a proxy, a load generator) can land every one on
one worker while the others idle, for as long as the connections live. With
SO_REUSEPORT each worker listens on a socket of its own at the same address, and the
kernel spreads new connections over them by a hash of their addresses.

The supervisor binds the address once (so a port in use fails at start, even one a
group of SO_REUSEPORT sockets holds, and port 0 is picked once) but never listens on
it; each worker binds its own socket when it starts, which is how the address travels
to it (`_ListenerPerWorker`, pickled for the spawned process). Where SO_REUSEPORT is
missing, uvicorn's shared socket is used.
"""

from __future__ import annotations

import errno
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, cast

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import ChangeReload, Multiprocess

PROBE_INTERVAL_SECONDS = 0.05
# Where a wildcard address is reached from this machine.
_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


def listen(config: uvicorn.Config) -> socket.socket:
    """The address `config` names, bound for what `run` starts (OSError where it is taken)."""
    if config.workers > 1 and not config.should_reload and balancing_available():
        return reserve(config.host, config.port)
    sock = _bound(_family(config.host), (config.host, config.port))
    sock.set_inheritable(True)  # uvicorn's own socket is, for its supervisors' children
    return sock


def cannot_listen(host: str, port: int, error: OSError) -> str:
    """One line: the address, the system's reason, and what to do about it."""
    advice = {
        errno.EADDRINUSE: "stop what listens there or choose another port with --port",
        errno.EACCES: "ports below 1024 need privileges: choose another with --port",
    }.get(error.errno or 0, "check --host and --port")
    return f"cannot listen on {host}:{port}: {error.strerror or error}; {advice}"


def run(config: uvicorn.Config, sock: socket.socket) -> None:
    """uvicorn on `sock`, as `uvicorn.run` would: the reloader, the workers, or one process."""
    server = uvicorn.Server(config)
    try:
        if config.should_reload:
            ChangeReload(config, target=server.run, sockets=[sock]).run()
        elif config.workers > 1 and balancing_available():
            run_workers(config, sock)
        elif config.workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    if config.workers == 1 and not config.should_reload and not server.started:
        sys.exit(STARTUP_FAILURE)


def when_accepting(sock: socket.socket, announce: Callable[[], None]) -> None:
    """Call `announce` (on a thread of its own) once the address of `sock` accepts a
    connection: whichever process listens there, a worker's or this one."""
    host, port = sock.getsockname()[:2]
    address = (_LOOPBACK.get(host, host), port)

    def wait() -> None:
        while not _accepts(address):
            time.sleep(PROBE_INTERVAL_SECONDS)
        announce()

    threading.Thread(target=wait, name="hom-ready", daemon=True).start()


def _accepts(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=1).close()
    except OSError:
        return False
    return True


def balancing_available() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def run_workers(config: uvicorn.Config, reserved: socket.socket) -> None:
    """Run `config.workers` worker processes under uvicorn's supervisor until it stops,
    each listening at the `reserved` address."""
    try:
        listener = _ListenerPerWorker(reserved.family, reserved.getsockname())
        Multiprocess(config, sockets=[cast(socket.socket, listener)]).run()
    finally:
        reserved.close()


def reuse_port_socket(family: socket.AddressFamily, address: Any) -> socket.socket:
    """A TCP socket bound to `address`, in the group of sockets sharing it."""
    return _bound(family, address, reuse_port=True)


def _bound(family: socket.AddressFamily, address: Any, reuse_port: bool = False) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def reserve(host: str, port: int) -> socket.socket:
    """The address bound for the workers to share (OSError where it is taken). A plain
    bind first: it fails where any socket holds the address (another `hom serve` of this
    user's included, whose workers this one's would otherwise silently join)."""
    family = _family(host)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        address = probe.getsockname()
    return reuse_port_socket(family, address)


class _ListenerPerWorker:
    """Stands in for the socket uvicorn passes to each worker: unpickled in the worker,
    it is a new socket bound to the same address (which uvicorn then listens on)."""

    def __init__(self, family: socket.AddressFamily, address: Any) -> None:
        self.family = family
        self.address = address

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return reuse_port_socket, (self.family, self.address)
