"""`hom serve --workers N`: uvicorn's supervisor, each worker listening on a socket of its own.

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

import socket
from typing import Any, cast

import uvicorn
from uvicorn.supervisors import Multiprocess


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
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def reserve(host: str, port: int) -> socket.socket:
    """The address bound for the workers to share (OSError where it is taken). A plain
    bind first: it fails where any socket holds the address (another `hom serve` of this
    user's included, whose workers this one's would otherwise silently join)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
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
