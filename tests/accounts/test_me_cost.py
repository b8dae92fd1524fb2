"""`{ me { id } }` costs one SQL statement and one Redis round trip (issue #11)."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from hom.core.db import SessionMaker
from tests.factories import signed_in
from tests.support import GraphQLClient, count_statements, count_transaction_control

ME = "{ me { id } }"


async def test_me_is_one_select_without_begin_or_rollback(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, tokens = await signed_in(client, session_maker)
    engine = app.state.services.engine
    with count_transaction_control(engine) as control:
        await gql(ME, token=tokens.access_token)  # the pooled connection is watched from here
        control.statements.clear()
        with count_statements(engine) as sql:
            body = await gql(ME, token=tokens.access_token)
    assert body["data"]["me"]["id"], body
    assert len(sql.statements) == 1, sql.statements
    assert sql.statements[0].lstrip().upper().startswith("SELECT")
    assert control.statements == []
