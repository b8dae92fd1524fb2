"""Verified tokens are remembered, never beyond their expiry, their secret or their type."""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
import pytest

from hom.core import tokens
from hom.core.config import Settings
from hom.core.tokens import InvalidToken, TokenType


def test_a_token_is_verified_once(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    issued = tokens.issue(settings, TokenType.ACCESS, user_id=7, sid="s1")
    calls: list[str] = []
    real = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: calls.append("decode") or real(*a, **k))
    first = tokens.decode(settings, issued.token, TokenType.ACCESS)
    second = tokens.decode(settings, issued.token, TokenType.ACCESS)
    assert first == second == issued.claims
    assert calls == ["decode"]


def test_a_remembered_token_still_expires(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = tokens.issue(settings, TokenType.ACCESS, user_id=7, sid="s1")
    tokens.decode(settings, issued.token, TokenType.ACCESS)
    later = issued.claims.expires_at
    monkeypatch.setattr(time, "time", lambda: float(later))
    with pytest.raises(InvalidToken, match="expired"):
        tokens.decode(settings, issued.token, TokenType.ACCESS)


def test_a_remembered_token_is_checked_against_the_secret_and_type(
    settings: Settings, settings_factory: Callable[..., Settings]
) -> None:
    issued = tokens.issue(settings, TokenType.ACCESS, user_id=7, sid="s1")
    tokens.decode(settings, issued.token, TokenType.ACCESS)
    rotated = settings_factory(jwt_secret="rotated-secret-" + "z" * 40)
    with pytest.raises(InvalidToken):
        tokens.decode(rotated, issued.token, TokenType.ACCESS)
    with pytest.raises(InvalidToken, match="wrong token type"):
        tokens.decode(settings, issued.token, TokenType.REFRESH)
