"""`requestPasswordReset` does the same work for a known and an unknown address."""

from __future__ import annotations

from sqlmodel import select
from starlette.applications import Starlette

from hom.core.db import SessionMaker
from hom.notifications.delivery import MailDelivery
from hom.notifications.models import OutboxMessage
from tests.factories import create_user, unique_email
from tests.mail_fixtures import SmtpServer
from tests.support import GraphQLClient, count_statements

RESET = "mutation ($email: String!) { requestPasswordReset(email: $email) { ok errors { code } } }"


async def outbox(session_maker: SessionMaker) -> list[tuple[str, str, dict[str, object]]]:
    async with session_maker() as session:
        found = await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(row.recipient, row.template, row.context) for row in found.all()]


async def test_known_and_unknown_addresses_run_the_same_sql_and_write_the_same_rows(
    app: Starlette,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    outbox_worker: MailDelivery,
    smtp: SmtpServer,
) -> None:
    user = await create_user(session_maker)
    stranger = unique_email("stranger")
    engine = app.state.services.engine

    with count_statements(engine) as known:
        known_answer = await gql(RESET, {"email": user.email})
    with count_statements(engine) as unknown:
        unknown_answer = await gql(RESET, {"email": stranger})

    assert known_answer == unknown_answer
    assert known.statements == unknown.statements
    assert [statement.split()[:3] for statement in known.statements] == [
        ["INSERT", "INTO", "outbox_message"]
    ]
    assert await outbox(session_maker) == [
        (user.email, "password_reset", {}),
        (stranger, "password_reset", {}),
    ]

    await outbox_worker.drain()
    assert [mail.recipients for mail in smtp.mailbox.received] == [[user.email]]


async def test_a_malformed_address_is_invalid_and_queues_nothing(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    for bad in ("not an email", "a@b@c", "x" * 300 + "@example.com", "ada@example.com\r\nBcc: x"):
        body = await gql(RESET, {"email": bad})
        assert body["data"]["requestPasswordReset"]["errors"] == [{"code": "INVALID"}], bad
    assert await outbox(session_maker) == []
