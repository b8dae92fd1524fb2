"""Password hashing (hom/core/passwords.py) with the server's own parameters (the rest of
the suite hashes with argon2's cheapest: tests/conftest.py), and a login rehashing a hash
made with older ones."""

from __future__ import annotations

import argon2
import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from hom.accounts.models import User
from hom.core.db import SessionMaker
from hom.core.passwords import HASHER, hash_password, verify_password
from hom.core.unit_of_work import unit_of_work
from tests.factories import PASSWORD, create_user, login, login_tokens, stored_user

WEAK_HASHER = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
CURRENT_PARAMETERS = f"m={HASHER.memory_cost},t={HASHER.time_cost},p={HASHER.parallelism}"


@pytest.mark.usefixtures("production_hashing")
async def test_hash_and_verify_password() -> None:
    hashed = await hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert CURRENT_PARAMETERS in hashed
    good = await verify_password(hashed, PASSWORD)
    assert (good.ok, good.new_hash) == (True, None)
    assert not (await verify_password(hashed, PASSWORD + "x")).ok


@pytest.mark.usefixtures("production_hashing")
@pytest.mark.parametrize("stored", [None, "", "not an argon2 hash", "$argon2id$v=19$broken"])
async def test_verify_password_without_a_usable_hash_fails(stored: str | None) -> None:
    result = await verify_password(stored, PASSWORD)
    assert (result.ok, result.new_hash) == (False, None)


@pytest.mark.usefixtures("production_hashing")
async def test_verify_password_offers_a_rehash_for_weaker_parameters() -> None:
    weak = WEAK_HASHER.hash(PASSWORD)
    assert HASHER.check_needs_rehash(weak)

    result = await verify_password(weak, PASSWORD)

    assert result.ok
    assert result.new_hash is not None
    assert CURRENT_PARAMETERS in result.new_hash
    assert not HASHER.check_needs_rehash(result.new_hash)
    assert (await verify_password(result.new_hash, PASSWORD)).ok
    # A wrong password never yields a new hash.
    assert await verify_password(weak, "wrong password") == type(result)(ok=False)


@pytest.mark.usefixtures("production_hashing")
async def test_login_rehashes_a_hash_with_old_parameters(
    client: httpx.AsyncClient, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker)
    weak = WEAK_HASHER.hash(PASSWORD)
    async with unit_of_work(session_maker) as session:
        await session.exec(update(User).where(col(User.id) == user.id).values(password_hash=weak))

    # A wrong password leaves the old hash alone.
    assert (await login(client, user.email, "wrong password")).status_code == 401
    assert (await stored_user(session_maker, user.id)).password_hash == weak

    await login_tokens(client, user.email)

    rehashed = (await stored_user(session_maker, user.id)).password_hash
    assert rehashed != weak
    assert rehashed.startswith("$argon2id$")
    assert CURRENT_PARAMETERS in rehashed
    assert not HASHER.check_needs_rehash(rehashed)
    await login_tokens(client, user.email)
    assert (await stored_user(session_maker, user.id)).password_hash == rehashed
