"""Forged, altered and misused tokens are refused, for GraphQL and for /auth/refresh."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from hom.core.db import SessionMaker
from hom.core.tokens import REQUIRED_CLAIMS
from tests.conftest import TEST_SECRET
from tests.factories import create_user, login_tokens
from tests.support import GraphQLClient, error_codes

Forge = Callable[[dict[str, Any]], str]


def sign(payload: dict[str, Any], secret: str = TEST_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, secret, algorithm=algorithm)


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def without(claim: str) -> Forge:
    return lambda p: sign({k: v for k, v in p.items() if k != claim})


def changed(**values: Any) -> Forge:
    return lambda p: sign({**p, **values})


def tampered(p: dict[str, Any]) -> str:
    header, body, signature = sign(p).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{header}.{body}.{flipped}"


def forged_payload(p: dict[str, Any]) -> str:
    """A valid signature over one payload, presented with another (someone else's) payload."""
    header, _, signature = sign(p).split(".")
    _, body, _ = sign({**p, "sub": str(int(p["sub"]) + 1)}).split(".")
    return f"{header}.{body}.{signature}"


FORGERIES: dict[str, Forge] = {
    "alg-none": lambda p: jwt.encode(p, key=None, algorithm="none"),
    "tampered-signature": tampered,
    "swapped-payload": forged_payload,
    "other-secret": lambda p: sign(p, secret="another-secret-" + "y" * 40),
    "other-algorithm": lambda p: sign(p, algorithm="HS512"),
    "expired": lambda p: sign({**p, "exp": int(time.time()) - 5, "iat": int(time.time()) - 100}),
    "wrong-audience": changed(aud="someone-else"),
    "wrong-issuer": changed(iss="evil"),
    "wrong-type": changed(typ="admin"),
    "not-a-jwt": lambda p: "definitely.not.a-jwt",
    **{f"missing-{claim}": without(claim) for claim in REQUIRED_CLAIMS},
}


@pytest.fixture
async def tokens(client: httpx.AsyncClient, session_maker: SessionMaker) -> tuple[str, str]:
    user = await create_user(session_maker)
    pair = await login_tokens(client, user.email)
    return pair.access_token, pair.refresh_token


async def test_the_untouched_tokens_work(gql: GraphQLClient, tokens: tuple[str, str]) -> None:
    access, _ = tokens
    assert (await gql("{ me { id } }", token=access))["data"]["me"]["id"]
    assert sign(claims_of(access)) == access  # the forgeries start from the real thing


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
async def test_forged_access_tokens_are_unauthenticated(
    gql: GraphQLClient, tokens: tuple[str, str], forge: Forge
) -> None:
    access, _ = tokens
    body = await gql("{ me { id } }", token=forge(claims_of(access)))
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] == {"me": None}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
async def test_forged_refresh_tokens_are_401(
    client: httpx.AsyncClient, tokens: tuple[str, str], forge: Forge
) -> None:
    _, refresh = tokens
    response = await client.post(
        "/auth/refresh", headers={"x-refresh-token": forge(claims_of(refresh))}
    )
    assert response.status_code == 401
    # …and the real refresh token still works: a forgery is not reuse of it.
    ok = await client.post("/auth/refresh", headers={"x-refresh-token": refresh})
    assert ok.status_code == 200


async def test_public_fields_ignore_a_bad_token(gql: GraphQLClient) -> None:
    body = await gql("{ serverInfo { version } }", token="garbage")
    assert body["data"]["serverInfo"]["version"]
