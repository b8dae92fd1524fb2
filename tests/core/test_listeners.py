"""The listening sockets of `hom serve --workers N`: one address, reserved once, a socket per
worker (SO_REUSEPORT)."""

from __future__ import annotations

import pickle
import socket
from collections.abc import Iterator

import pytest

from hom.core.listeners import _ListenerPerWorker, reserve, reuse_port_socket

LOCAL = "127.0.0.1"


@pytest.fixture
def reserved() -> Iterator[socket.socket]:
    sock = reserve(LOCAL, 0)
    yield sock
    sock.close()


def in_a_worker(listener: _ListenerPerWorker) -> socket.socket:
    """What the spawned worker gets: the stand-in pickled, and unpickled there."""
    sock: socket.socket = pickle.loads(pickle.dumps(listener))  # noqa: S301 (our own bytes)
    return sock


def test_port_0_is_picked_once_and_each_worker_listens_there(reserved: socket.socket) -> None:
    address = reserved.getsockname()
    assert address[1] != 0
    workers = [in_a_worker(_ListenerPerWorker(reserved.family, address)) for _ in range(2)]
    try:
        for worker in workers:
            assert isinstance(worker, socket.socket)
            assert worker.getsockname() == address
            worker.listen()
        with socket.create_connection(address, timeout=5):
            pass  # accepted by one of them
    finally:
        for worker in workers:
            worker.close()


def test_an_address_a_plain_socket_holds_is_refused() -> None:
    with socket.socket() as taken:
        taken.bind((LOCAL, 0))
        taken.listen()
        with pytest.raises(OSError, match="in use"):
            reserve(LOCAL, taken.getsockname()[1])


def test_an_address_another_group_of_workers_holds_is_refused() -> None:
    """Another `hom serve` of the same user: SO_REUSEPORT alone would let ours join it."""
    with reuse_port_socket(socket.AF_INET, (LOCAL, 0)) as theirs:
        theirs.listen()
        with pytest.raises(OSError, match="in use"):
            reserve(LOCAL, theirs.getsockname()[1])
