"""Registration, account tokens and email verification (hom/accounts/registration.py,
account_tokens.py) and the user lookups (service.py), on the real database."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from hom.accounts import registration, service
from hom.accounts.account_tokens import consume_token, issue_token
from hom.accounts.models import AccountToken, TokenPurpose
from hom.core.db import SessionMaker
from hom.core.errors import DomainError, ErrorCode
from hom.core.unit_of_work import unit_of_work
from hom.notifications.models import OutboxMessage
from tests.factories import PASSWORD, create_user, unique_email


async def test_register_writes_user_and_mail_in_one_transaction(
    session_maker: SessionMaker,
) -> None:
    email = unique_email("svc")
    async with session_maker() as session:  # never committed: closing rolls back
        user = await registration.register(
            session, email=email.upper(), password=PASSWORD, full_name=" New  Customer "
        )
        assert user.id is not None
        assert (user.role, user.full_name, user.is_active) == ("CUSTOMER", "New Customer", True)
        assert user.email_verified_at is None
        mail = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.recipient == user.email))
        ).one()
        assert (mail.template, mail.context) == ("verify_email", {"user_id": user.id})

    # Rolled back: neither the user nor the mail exist.
    async with session_maker() as session:
        assert await service.find_by_email(session, email=email) is None
        assert (await session.exec(select(OutboxMessage))).all() == []


async def test_duplicate_email_is_already_exists_and_the_transaction_goes_on(
    session_maker: SessionMaker,
) -> None:
    existing = await create_user(session_maker)
    async with unit_of_work(session_maker) as session:
        with pytest.raises(DomainError) as refused:
            await registration.register(
                session, email=existing.email.upper(), password=PASSWORD, full_name="Twin"
            )
        assert (refused.value.code, refused.value.field) == (ErrorCode.ALREADY_EXISTS, "email")
        # The failed INSERT was a savepoint: the surrounding transaction still works.
        found = await service.find_by_email(session, email=f"  {existing.email.upper()} ")
        assert found is not None
        assert found.id == existing.id


async def test_find_by_email_is_case_insensitive(session_maker: SessionMaker) -> None:
    user = await create_user(session_maker, email=f"MiXeD-{uuid.uuid4().hex[:8]}@Example.com")
    assert user.email.startswith("MiXeD-")
    assert user.email.endswith("@example.com")
    async with session_maker() as session:
        for variant in (user.email, user.email.lower(), user.email.upper()):
            found = await service.find_by_email(session, email=variant)
            assert found is not None
            assert found.id == user.id


async def test_account_tokens_are_single_use_purpose_bound_and_expire(
    session_maker: SessionMaker,
) -> None:
    user = await create_user(session_maker)
    assert user.id is not None
    async with unit_of_work(session_maker) as session:
        verify = await issue_token(session, user_id=user.id, purpose=TokenPurpose.VERIFY_EMAIL)
        reset = await issue_token(session, user_id=user.id, purpose=TokenPurpose.RESET_PASSWORD)
        expired = await issue_token(session, user_id=user.id, purpose=TokenPurpose.RESET_PASSWORD)
    async with unit_of_work(session_maker) as session:
        stored = (
            await session.exec(select(AccountToken).where(AccountToken.user_id == user.id))
        ).all()
        assert len(stored) == 3
        # Only digests are stored, never the mailed values.
        assert {verify, reset, expired}.isdisjoint({t.token_hash for t in stored})
        await session.exec(
            update(AccountToken)
            .where(col(AccountToken.token_hash) == hashlib.sha256(expired.encode()).hexdigest())
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    async with unit_of_work(session_maker) as session:
        assert await consume_token(session, raw=verify, purpose=TokenPurpose.RESET_PASSWORD) is None
        assert (
            await consume_token(session, raw=verify, purpose=TokenPurpose.VERIFY_EMAIL) == user.id
        )
        assert await consume_token(session, raw=verify, purpose=TokenPurpose.VERIFY_EMAIL) is None
        assert (
            await consume_token(session, raw=expired, purpose=TokenPurpose.RESET_PASSWORD) is None
        )
        assert (
            await consume_token(session, raw=reset, purpose=TokenPurpose.RESET_PASSWORD) == user.id
        )
        assert (
            await consume_token(session, raw="unknown", purpose=TokenPurpose.RESET_PASSWORD) is None
        )


async def test_verify_email_keeps_the_first_verification_time(
    session_maker: SessionMaker,
) -> None:
    user = await create_user(session_maker, verified=False)
    assert user.id is not None
    async with unit_of_work(session_maker) as session:
        first = await issue_token(session, user_id=user.id, purpose=TokenPurpose.VERIFY_EMAIL)
        second = await issue_token(session, user_id=user.id, purpose=TokenPurpose.VERIFY_EMAIL)
    async with unit_of_work(session_maker) as session:
        verified_at = (await registration.verify_email(session, token=first)).email_verified_at
    assert verified_at is not None
    async with unit_of_work(session_maker) as session:
        assert (
            await registration.verify_email(session, token=second)
        ).email_verified_at == verified_at
