"""Waiting in a task that may have been asked to stop.

Python 3.11's `asyncio.wait_for` (which redis-py awaits every command with) returns what
it waited for when that arrives together with the cancellation of its task: the
cancellation is lost, and the task goes on. A subscription cancelled as its connection
closed then waited for events forever, and the server's shutdown waited for it. The
task still counts the request (`Task.cancelling`), so a wait that may last is preceded
by `stop_if_cancelled`; our own waits use `asyncio.timeout`, which loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib


def stop_if_cancelled() -> None:
    """Raise CancelledError if the running task has been asked to stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def sleep_unless_set(event: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds` (none if negative), or until `event` is set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(seconds, 0)):
            await event.wait()
