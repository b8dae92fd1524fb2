"""A database per test: clones of one migrated template, made ahead and dropped behind."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

import asyncpg

from hom.core import migrations
from tests.support import (
    admin_execute,
    asyncpg_dsn,
    create_database,
    create_database_sql,
    drop_database,
    drop_database_sql,
    new_database_name,
    with_database,
)

T = TypeVar("T")
CLONERS = 2  # clones made at once (from one template, concurrent CREATE DATABASEs are fine)


def create_template(admin_url: str) -> str:
    """A new database migrated to head and closed to connections (a clone's source must be idle)."""
    name = create_database(admin_url)
    try:
        migrations.upgrade(with_database(admin_url, name))
        asyncio.run(admin_execute(admin_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
    except BaseException:
        drop_database(admin_url, name)
        raise
    return name


async def open_pool(admin_url: str, size: int) -> asyncpg.Pool:
    """A pool of admin connections (made inside the loop that will use it)."""
    return await asyncpg.create_pool(asyncpg_dsn(admin_url), min_size=1, max_size=size)


class BackgroundLoop:
    """An event loop running in a thread of its own: `submit(coroutine)` returns a Future."""

    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


class TemplateClones:
    """Databases cloned from `template` (`CREATE DATABASE … TEMPLATE`), each used by one test.

    A clone takes ~30 ms on a quiet server, ~0.4 s on a busy one. A drop waits for a
    checkpoint: ~20 ms on a quiet server, 1-3 s on a busy one, and concurrent drops share
    one. So, on long-lived connections in the background, clones are made two at a time
    and `ahead` of demand while up to `droppers` drops run side by side: a test waits for
    its database only when tests finish faster than clones are made, and the run's end
    waits for few drops. (With 4 droppers, drops fell behind on a busy server: 106 short
    tests ended waiting 36 s for theirs; with 12, under 2 s.)
    """

    def __init__(self, admin_url: str, template: str, ahead: int = 3, droppers: int = 12) -> None:
        self.admin_url = admin_url
        self.template = template
        self._background = BackgroundLoop("db-clones")
        self._cloner = self._pool(size=CLONERS)
        self._dropper = self._pool(size=droppers)
        self._ready = deque(self._clone_soon() for _ in range(ahead))
        self._drops: list[Future[None]] = []

    def __enter__(self) -> TemplateClones:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def database(self) -> Iterator[str]:
        """The URL of a database of the caller's own, dropped (in the background) afterwards."""
        self._ready.append(self._clone_soon())
        name = self._ready.popleft().result()
        try:
            yield with_database(self.admin_url, name)
        finally:
            self.drop_soon(name)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the clones' background loop and wait for its result."""
        return self._background.submit(coroutine).result()

    def close(self) -> None:
        """Drop the clones made ahead, wait for every drop (raising a failed one's error)."""
        try:
            for ready in self._ready:
                self.drop_soon(ready.result())
            for drop in self._drops:
                drop.result()
        finally:
            for pool in (self._cloner, self._dropper):
                self._background.submit(pool.close()).result()
            self._background.close()

    def _pool(self, size: int) -> asyncpg.Pool:
        return self._background.submit(open_pool(self.admin_url, size)).result()

    def _clone_soon(self) -> Future[str]:
        return self._background.submit(self._clone())

    def drop_soon(self, name: str) -> None:
        """Drop the database `name` in the background (`close` waits for it)."""
        self._drops.append(self._background.submit(self._drop(name)))

    async def _clone(self) -> str:
        name = new_database_name()
        await self._cloner.execute(create_database_sql(name, self.template))
        return name

    async def _drop(self, name: str) -> None:
        await self._dropper.execute(drop_database_sql(name))
