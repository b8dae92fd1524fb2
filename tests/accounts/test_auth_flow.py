"""REST /auth: login, refresh, logout, and what each token can do afterwards."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from hom.core.config import Settings
from hom.core.db import SessionMaker
from hom.core.tokens import TokenType, issue
from tests.factories import PASSWORD, Tokens, create_user, login, login_tokens
from tests.support import GraphQLClient, error_codes

ME = "{ me { email role } }"


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/auth/refresh", headers={"x-refresh-token": refresh_token})


async def logout(client: httpx.AsyncClient, tokens: Tokens) -> httpx.Response:
    return await client.post(
        "/auth/logout",
        headers={
            "authorization": f"Bearer {tokens.access_token}",
            "x-refresh-token": tokens.refresh_token,
        },
    )


async def test_login_refresh_logout(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker)
    response = await login(client, user.email.upper())
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 60
    first = Tokens.of(body)
    assert (await gql(ME, token=first.access_token))["data"]["me"]["email"] == user.email

    refreshed = await refresh(client, first.refresh_token)
    assert refreshed.status_code == 200
    second = Tokens.of(refreshed.json())
    assert second.refresh_token != first.refresh_token
    assert (await gql(ME, token=second.access_token))["data"]["me"]["role"] == "CUSTOMER"

    assert (await logout(client, second)).status_code == 204
    assert error_codes(await gql(ME, token=second.access_token)) == ["UNAUTHENTICATED"]
    assert error_codes(await gql(ME, token=first.access_token)) == ["UNAUTHENTICATED"]
    assert (await refresh(client, second.refresh_token)).status_code == 401
    assert (await logout(client, second)).status_code == 401


async def test_wrong_password_and_unknown_email_are_identical(
    client: httpx.AsyncClient, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker)
    same_id = {"x-request-id": "fixed-id"}
    wrong = await login(client, user.email, "not the password", **same_id)
    unknown = await login(client, "nobody-here@example.com", "not the password", **same_id)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.content == unknown.content
    drop = {"date"}
    assert {k: v for k, v in wrong.headers.items() if k not in drop} == {
        k: v for k, v in unknown.headers.items() if k not in drop
    }


async def test_deactivated_account_is_403_only_with_the_right_password(
    client: httpx.AsyncClient, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker, active=False)
    assert (await login(client, user.email, "wrong password")).status_code == 401
    response = await login(client, user.email, PASSWORD)
    assert response.status_code == 403


async def test_login_needs_both_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/login", data={"username": "a@example.com"})
    assert response.status_code == 422
    response = await client.post("/auth/login", content=b"garbage", headers={"content-type": "x/y"})
    assert response.status_code == 422


async def test_access_token_is_not_a_refresh_token_and_back(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker)
    tokens = await login_tokens(client, user.email)
    assert (await refresh(client, tokens.access_token)).status_code == 401
    assert error_codes(await gql(ME, token=tokens.refresh_token)) == ["UNAUTHENTICATED"]


async def test_a_token_we_no_longer_accept_says_what_to_do(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, settings: Settings
) -> None:
    user = await create_user(session_maker)
    other_secret = settings.model_copy(update={"jwt_secret": SecretStr("another-" * 8)})
    foreign = issue(other_secret, TokenType.ACCESS, user.id or 0, "sid").token
    answer = await gql(ME, token=foreign)
    assert error_codes(answer) == ["UNAUTHENTICATED"]
    assert answer["errors"][0]["message"] == (
        "This access token is expired or no longer valid: sign in again (POST /auth/login; "
        "or POST /auth/refresh with your refresh token), or remove the Authorization header "
        "to continue signed out"
    )
    tokens = await login_tokens(client, user.email)
    assert (await logout(client, tokens)).status_code == 204
    ended = (await gql(ME, token=tokens.access_token))["errors"][0]["message"]
    assert ended.startswith("This session has ended: sign in again (POST /auth/login;")
