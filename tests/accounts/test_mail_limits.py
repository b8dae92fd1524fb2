"""Mail that anyone can trigger is rate limited, so nobody can flood an inbox."""

from __future__ import annotations

import httpx
from sqlmodel import func, select

from hom.core.db import SessionMaker
from hom.notifications.models import OutboxMessage
from tests.factories import create_user, login_tokens
from tests.support import GraphQLClient

RESET = "mutation ($email: String!) { requestPasswordReset(email: $email) { ok errors { code } } }"
RESEND = "mutation { requestEmailVerification { user { emailVerified } errors { code } } }"


async def mails(session_maker: SessionMaker, email: str, kind: str) -> int:
    async with session_maker() as session:
        statement = select(func.count()).where(
            OutboxMessage.recipient == email, OutboxMessage.template == kind
        )
        return int((await session.exec(statement)).one())


async def test_reset_mails_stop_after_three_an_hour_with_the_same_answer(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker)
    answers = [await gql(RESET, {"email": user.email.upper()}) for _ in range(5)]
    assert all(a == {"data": {"requestPasswordReset": {"ok": True, "errors": []}}} for a in answers)
    assert await mails(session_maker, user.email, "password_reset") == 3


async def test_verification_mail_can_be_asked_for_again_a_few_times(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker, verified=False)
    token = (await login_tokens(client, user.email)).access_token
    before = await mails(session_maker, user.email, "verify_email")
    codes = []
    for _ in range(4):
        body = await gql(RESEND, token=token)
        payload = body["data"]["requestEmailVerification"]
        codes.append(payload["errors"][0]["code"] if payload["errors"] else "OK")
    assert codes == ["OK", "OK", "OK", "RATE_LIMITED"]
    assert await mails(session_maker, user.email, "verify_email") == before + 3


async def test_verified_users_get_no_new_verification_mail(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker, verified=True)
    token = (await login_tokens(client, user.email)).access_token
    payload = (await gql(RESEND, token=token))["data"]["requestEmailVerification"]
    assert payload == {"user": None, "errors": [{"code": "INVALID"}]}
