"""asyncio's default executor runs its threads at a lower CPU priority (argon2 and co.)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from hom.core.executor import BACKGROUND_NICENESS, MAX_NICENESS, install_background_executor


def niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="a nice value per thread is Linux's")
def test_to_thread_work_runs_nicer_than_the_event_loop() -> None:
    async def compare() -> tuple[int, int]:
        install_background_executor(asyncio.get_running_loop())
        install_background_executor(asyncio.get_running_loop())  # once per loop
        return niceness(), await asyncio.to_thread(niceness)

    loop_nice, worker_nice = asyncio.run(compare())
    assert worker_nice == min(loop_nice + BACKGROUND_NICENESS, MAX_NICENESS)
