"""asyncio's default executor at a lower CPU priority.

`asyncio.to_thread` runs image re-encoding and DNS lookups there; argon2 has its own
thread at the same priority (`hom.core.passwords`). Off the event loop is not enough on
a machine with few cores: busy threads share the cores with the event loop, and every
request waits its turn behind them. At nice 10 they get the CPU the event loop leaves
over: a burst of background work makes itself slower, not everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

# 10 more: a weight of 110 against the event loop's 1024 (Linux CFS).
BACKGROUND_NICENESS = 10
MAX_NICENESS = 19


def lower_thread_priority() -> None:
    """Lower the calling thread's priority (Linux keeps a nice value per thread)."""
    with contextlib.suppress(AttributeError, OSError):  # elsewhere: run as before
        thread = threading.get_native_id()
        nice = os.getpriority(os.PRIO_PROCESS, thread) + BACKGROUND_NICENESS
        os.setpriority(os.PRIO_PROCESS, thread, min(nice, MAX_NICENESS))


_INSTALLED: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def install_background_executor(loop: asyncio.AbstractEventLoop) -> None:
    """Make `loop`'s default executor one whose threads run at BACKGROUND_NICENESS, once
    per loop (apps sharing a loop, as in tests, share it; asyncio shuts it down with the
    loop)."""
    if loop in _INSTALLED:
        return
    executor = ThreadPoolExecutor(
        thread_name_prefix="hom-background", initializer=lower_thread_priority
    )
    loop.set_default_executor(executor)
    _INSTALLED.add(loop)
