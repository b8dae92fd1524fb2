"""Fixtures of the differential tests (the same request to an app with the compiled read
path and one without), for any test module: `pytestmark =
pytest.mark.usefixtures("features_learnt")` lets the compiled path answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hom.app import create_app, learn_database_features
from hom.core.db import SessionMaker
from hom.core.roles import Role
from tests.catalog.factories import EPOCH, create_category, create_product
from tests.conftest import open_client
from tests.factories import signed_in
from tests.inventory.factories import create_warehouse, stock

ROLES = ("ANONYMOUS", Role.CUSTOMER, Role.STAFF, Role.OPERATOR, Role.ADMIN)


@pytest.fixture
async def executor_app(settings_factory: Any) -> AsyncIterator[Starlette]:
    application = create_app(settings_factory(compiled_reads=False))
    yield application
    await application.state.services.close()


@pytest.fixture
async def executor(executor_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with await open_client(executor_app) as http:
        yield http


@pytest.fixture
async def features_learnt(app: Starlette) -> None:
    """As at start-up (the test client runs no lifespan): until then the executor answers."""
    await learn_database_features(app.state.services)


@pytest.fixture
async def catalog(session_maker: SessionMaker) -> None:
    """A two-level tree, an archived product, stock in an active and an inactive warehouse."""
    home = await create_category(session_maker, "Home")
    kitchen = await create_category(session_maker, "Kitchen", parent=home)
    names = ("Kettle", "Teapot", "Cup", "Spoon", "Kettle lid")
    made = [
        await create_product(session_maker, kitchen if n % 2 else home, n, name=name)
        for n, name in enumerate(names)
    ]
    await create_product(
        session_maker,
        kitchen,
        9,
        name="Old kettle",
        is_active=False,
        created_at=EPOCH + timedelta(seconds=1, microseconds=250),
    )
    north = await create_warehouse(session_maker, "NORTH")
    old = await create_warehouse(session_maker, "OLD", active=False)
    await stock(session_maker, made[0], north, 5, reserved=2)
    await stock(session_maker, made[0], old, 50)
    await stock(session_maker, made[1], north, 4, reserved=4)


@pytest.fixture
async def tokens(client: httpx.AsyncClient, session_maker: SessionMaker) -> dict[Any, str | None]:
    found: dict[Any, str | None] = {"ANONYMOUS": None}
    for role in ROLES[1:]:
        _, signed = await signed_in(client, session_maker, role)  # type: ignore[arg-type]
        found[role] = signed.access_token
    return found


async def both(
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    token: str | None,
) -> tuple[Any, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = {"query": query, "variables": variables}
    compiled = await client.post("/graphql", json=body, headers=headers)
    executed = await executor.post("/graphql", json=body, headers=headers)
    assert compiled.status_code == executed.status_code
    return compiled.json(), executed.json()
