"""JWTs: access and refresh tokens with every claim required and checked (SPEC §4)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import jwt

from hom.core.config import Settings

ISSUER = "hom"
AUDIENCE = "hom-api"
REQUIRED_CLAIMS = ["sub", "jti", "iat", "exp", "typ", "sid", "iss", "aud"]


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


class InvalidToken(Exception):
    """The token is not one we issued for this purpose, or it is expired."""


@dataclass(frozen=True)
class Claims:
    user_id: int
    jti: str
    sid: str
    typ: TokenType
    issued_at: int
    expires_at: int


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: Claims


def new_id() -> str:
    return secrets.token_urlsafe(18)


def lifetime(settings: Settings, typ: TokenType) -> int:
    if typ is TokenType.ACCESS:
        return settings.jwt_expire_min * 60
    return settings.refresh_expire_days * 86_400


def issue(settings: Settings, typ: TokenType, user_id: int, sid: str) -> IssuedToken:
    now = int(time.time())
    claims = Claims(user_id, new_id(), sid, typ, now, now + lifetime(settings, typ))
    payload = {
        "sub": str(user_id),
        "jti": claims.jti,
        "iat": now,
        "exp": claims.expires_at,
        "typ": typ.value,
        "sid": sid,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return IssuedToken(jwt.encode(payload, _secret(settings), settings.jwt_algorithm), claims)


def decode(settings: Settings, token: str, expected: TokenType) -> Claims:
    """Verify signature, algorithm, expiry, issuer, audience, type; every claim required.

    A token that passed once is remembered (a client sends the same access token with
    every request until it expires): later calls only check its expiry again.
    """
    claims = _verified(token, expected, _secret(settings), settings.jwt_algorithm)
    if claims.expires_at <= time.time():  # PyJWT's rule: expired from `exp` on
        raise InvalidToken("Signature has expired")
    return claims


# Bounded, and filled only by tokens whose signature was ours: forgeries cannot evict
# much, and each costs a full verification as before.
VERIFIED_TOKENS_CACHED = 4096


@lru_cache(maxsize=VERIFIED_TOKENS_CACHED)
def _verified(token: str, expected: TokenType, secret: str, algorithm: str) -> Claims:
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[algorithm],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
        if payload["typ"] != expected.value:
            raise InvalidToken("wrong token type")
        return Claims(
            user_id=int(payload["sub"]),
            jti=str(payload["jti"]),
            sid=str(payload["sid"]),
            typ=expected,
            issued_at=int(payload["iat"]),
            expires_at=int(payload["exp"]),
        )
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise InvalidToken(str(error)) from None


def _secret(settings: Settings) -> str:
    assert settings.jwt_secret is not None, "settings are checked at start-up"
    return settings.jwt_secret.get_secret_value()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
