"""`{ me { id } }` costs one SQL statement (no BEGIN/ROLLBACK, no pre-ping) and one Redis
command (issue #11)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from redis.asyncio import Redis
from starlette.applications import Starlette

from hom.core.db import SessionMaker
from tests.factories import signed_in
from tests.support import GraphQLClient, count_driver_statements, count_statements

ME = "{ me { id } }"


async def test_me_is_one_select_without_begin_or_rollback(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, tokens = await signed_in(client, session_maker)
    engine = app.state.services.engine
    with count_driver_statements(engine) as driver:
        await gql(ME, token=tokens.access_token)  # the pooled connection is watched from here
        driver.statements.clear()
        with count_statements(engine) as counted:
            body = await gql(ME, token=tokens.access_token)
    assert body["data"]["me"]["id"], body
    [statement] = [" ".join(s.split()) for s in counted.statements]
    assert driver.statements == counted.statements  # asyncpg ran nothing else
    assert statement.startswith("SELECT")
    assert statement.endswith("FROM user_account WHERE user_account.id = $1::BIGINT")


async def test_me_answers_what_the_orm_loads(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    """`me` reads its row without the ORM; `user(id:)` reads the same row through it."""
    _, tokens = await signed_in(client, session_maker)
    fields = "id email fullName role isActive emailVerified timezone avatarUrl createdAt"
    me = (await gql(f"{{ me {{ {fields} }} }}", token=tokens.access_token))["data"]["me"]
    query = f"query ($id: ID!) {{ user(id: $id) {{ {fields} }} }}"
    body = await gql(query, {"id": me["id"]}, token=tokens.access_token)
    assert body["data"]["user"] == me


@asynccontextmanager
async def redis_commands(redis_url: str, prefix: str) -> AsyncIterator[list[str]]:
    """The commands clients send naming a key under `prefix` meanwhile (Redis MONITOR; a
    script's own commands do not count)."""
    seen: list[str] = []
    client = Redis.from_url(redis_url)
    async with client.monitor() as monitor:

        async def collect() -> None:
            while True:
                info = await monitor.next_command()
                command = info["command"]
                if info["client_type"] != "lua" and prefix in command:
                    seen.append(command.split(" ", 1)[0].upper())

        task = asyncio.create_task(collect())
        yield seen
        await asyncio.sleep(0.3)  # the last lines of MONITOR
        task.cancel()
    await client.aclose()


async def test_the_viewer_check_is_one_redis_command(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    redis_url: str,
    redis_prefix: str,
) -> None:
    _, tokens = await signed_in(client, session_maker)
    await gql(ME, token=tokens.access_token)  # the viewer script is loaded
    async with redis_commands(redis_url, redis_prefix) as commands:
        body = await gql(ME, token=tokens.access_token)
    assert body["data"]["me"]["id"], body
    assert commands == ["EVALSHA"]
