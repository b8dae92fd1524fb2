"""Mail through the outbox to a real SMTP server: links, rollbacks, retries, failures, headers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlmodel import select
from structlog.testing import capture_logs

from hom.core.clock import utcnow
from hom.core.errors import InvalidInput
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.notifications import service
from hom.notifications.delivery import MailDelivery, RetryPolicy
from hom.notifications.jobs import jobs
from hom.notifications.models import MailStatus, OutboxMessage
from tests.factories import PASSWORD, unique_email
from tests.mail_fixtures import SmtpServer
from tests.support import GraphQLClient

REGISTER = """
mutation ($input: RegisterInput!) { register(input: $input) { user { id } errors { code } } }
"""
VERIFY = """
mutation ($token: String!) {
  verifyEmail(token: $token) { user { emailVerified } errors { code field } }
}
"""
REMINDER = {"name": "Ada", "service": "Haircut", "staff": "Bea", "when": "Mon 1 Dec, 10:00"}


async def rows(session_maker: SessionMaker) -> list[OutboxMessage]:
    async with session_maker() as session:
        return list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def enqueue(session_maker: SessionMaker, **mail: object) -> None:
    values = {"to": "ada@example.com", "template": "appointment_reminder", "context": REMINDER}
    async with unit_of_work(session_maker) as session:
        await service.enqueue_mail(session, **(values | mail))  # type: ignore[arg-type]


async def test_register_mails_a_link_that_verifies_the_address_once(
    gql: GraphQLClient, smtp: SmtpServer, outbox_worker: MailDelivery
) -> None:
    email = unique_email()
    variables = {"input": {"email": email, "password": PASSWORD, "fullName": "Ada <b>L</b>"}}
    assert (await gql(REGISTER, variables))["data"]["register"]["errors"] == []
    assert smtp.mailbox.to(email) == []  # nothing leaves before the worker sends it

    with capture_logs() as logs:
        assert await outbox_worker.drain() == 1
    [mail] = smtp.mailbox.to(email)
    assert mail.message["Subject"] == "Confirm your email address"
    assert logs  # the worker says what it did, without the token or the address
    assert not [entry for entry in logs if mail.token in str(entry) or email in str(entry)]
    [to] = mail.message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Ada <b>L</b>", email)
    assert f"https://shop.example/verify-email?token={mail.token}" in mail.text
    html = mail.message.get_body(("html",))
    assert html is not None
    assert "Ada &lt;b&gt;L&lt;/b&gt;" in html.get_content()

    first = await gql(VERIFY, {"token": mail.token})
    assert first["data"]["verifyEmail"] == {"user": {"emailVerified": True}, "errors": []}
    again = await gql(VERIFY, {"token": mail.token})
    assert again["data"]["verifyEmail"]["errors"] == [{"code": "INVALID", "field": "token"}]


async def test_a_rolled_back_transaction_sends_nothing(
    session_maker: SessionMaker, smtp: SmtpServer, outbox_worker: MailDelivery
) -> None:
    async def event_that_fails() -> None:
        async with unit_of_work(session_maker) as session:
            await service.enqueue_mail(session, to="ada@example.com", template="verify_email")
            raise RuntimeError("the event failed")

    with pytest.raises(RuntimeError):
        await event_that_fails()
    assert await outbox_worker.drain() == 0
    assert await rows(session_maker) == []
    assert smtp.mailbox.received == []


async def test_smtp_down_is_retried_with_backoff_and_delivered_once_back(
    session_maker: SessionMaker, smtp: SmtpServer, outbox_worker: MailDelivery
) -> None:
    outbox_worker.retry = RetryPolicy(max_attempts=3, base=timedelta(seconds=0.4))
    await enqueue(session_maker)
    smtp.stop()
    assert await outbox_worker.deliver_due() == 1
    [waiting] = await rows(session_maker)
    assert (waiting.status, waiting.attempts) == (MailStatus.PENDING, 1)
    assert "Connect" in (waiting.last_error or "")
    assert waiting.send_after is not None
    assert waiting.send_after > utcnow()  # backed off

    smtp.start()
    assert await outbox_worker.drain() == 0  # not due again yet
    await asyncio.sleep(0.45)  # past the (test-sized) backoff
    assert await outbox_worker.drain() == 1
    [sent] = await rows(session_maker)
    assert (sent.status, sent.attempts, sent.last_error) == (MailStatus.SENT, 2, None)
    assert len(smtp.mailbox.to("ada@example.com")) == 1


def failed_count(template: str) -> float:
    return REGISTRY.get_sample_value("hom_mail_failed_total", {"template": template}) or 0.0


async def test_a_mail_refused_every_time_fails_after_the_limit_and_shows_in_metrics(
    session_maker: SessionMaker,
    smtp: SmtpServer,
    outbox_worker: MailDelivery,
    client: httpx.AsyncClient,
) -> None:
    before = failed_count("appointment_reminder")
    smtp.mailbox.refuse = "451 4.3.0 Try again later"
    await enqueue(session_maker)
    for _ in range(outbox_worker.retry.max_attempts):
        await asyncio.sleep(0.06)
        assert await outbox_worker.deliver_due() == 1
    [failed] = await rows(session_maker)
    assert (failed.status, failed.attempts) == (MailStatus.FAILED, 3)
    assert "451" in (failed.last_error or "")
    assert await outbox_worker.drain() == 0  # given up: never claimed again
    assert failed_count("appointment_reminder") == before + 1

    metrics = (await client.get("/metrics")).text
    assert 'hom_outbox_messages{status="failed"} 1.0' in metrics
    assert 'hom_outbox_messages{status="pending"} 0.0' in metrics


async def test_a_permanent_refusal_fails_at_once(
    session_maker: SessionMaker, smtp: SmtpServer, outbox_worker: MailDelivery
) -> None:
    smtp.mailbox.refuse = "550 5.1.1 No such mailbox"
    await enqueue(session_maker)
    assert await outbox_worker.drain() == 1
    [failed] = await rows(session_maker)
    assert (failed.status, failed.attempts) == (MailStatus.FAILED, 1)


async def test_cr_lf_in_a_display_name_or_subject_cannot_add_a_header(
    session_maker: SessionMaker, smtp: SmtpServer, outbox_worker: MailDelivery
) -> None:
    evil = "Haircut\r\nBcc: victim@example.com\r\n\r\nbody"
    await enqueue(
        session_maker,
        to_name="Eve\r\nBcc: victim@example.com",
        context=REMINDER | {"service": evil},
    )
    assert await outbox_worker.drain() == 1
    [mail] = smtp.mailbox.received
    assert mail.recipients == ["ada@example.com"]
    headers = mail.message
    assert headers["Bcc"] is None
    [to_header] = headers.get_all("To")
    [to] = to_header.addresses
    assert (to.display_name, to.addr_spec) == ("Eve Bcc: victim@example.com", "ada@example.com")
    expected = "Reminder: Haircut Bcc: victim@example.com body, Mon 1 Dec, 10:00"
    assert headers.get_all("Subject") == [expected]


async def test_a_key_makes_enqueueing_idempotent_and_lets_a_later_event_move_or_cancel(
    session_maker: SessionMaker, smtp: SmtpServer, outbox_worker: MailDelivery
) -> None:
    later = utcnow() + timedelta(hours=1)
    await enqueue(session_maker, key="appointment:1:reminder", send_after=later)
    await enqueue(session_maker, key="appointment:1:reminder", context=REMINDER | {"name": "B"})
    [queued] = await rows(session_maker)
    assert queued.context["name"] == "Ada"  # the second call changed nothing
    assert await outbox_worker.drain() == 0  # not due yet

    async with unit_of_work(session_maker) as session:
        assert await service.move_mail(session, key="appointment:1:reminder", send_after=utcnow())
    assert await outbox_worker.drain() == 1
    async with unit_of_work(session_maker) as session:  # sent: too late to cancel
        assert not await service.cancel_mail(session, key="appointment:1:reminder")

    await enqueue(session_maker, key="appointment:2:reminder", send_after=later)
    async with unit_of_work(session_maker) as session:
        assert await service.cancel_mail(session, key="appointment:2:reminder")
        assert not await service.cancel_mail(session, key="appointment:3:reminder")
    statuses = [(row.key, row.status) for row in await rows(session_maker)]
    assert statuses == [
        ("appointment:1:reminder", MailStatus.SENT),
        ("appointment:2:reminder", MailStatus.CANCELLED),
    ]


async def test_scheduling_keyed_mail_writes_moves_or_queues_again_but_never_steals(
    session_maker: SessionMaker,
) -> None:
    later = utcnow() + timedelta(hours=2)
    for key in ("pending", "cancelled", "sent", "sending"):
        await enqueue(session_maker, key=key, send_after=utcnow() + timedelta(hours=1))
    async with unit_of_work(session_maker) as session:
        for row in await session.exec(select(OutboxMessage)):
            row.status = str(row.key)

    def scheduled(key: str) -> service.ScheduledMail:
        context = REMINDER | {"when": "later"}
        return service.ScheduledMail(
            key=key, to="ada@example.com", template="appointment_reminder",
            send_after=later, context=context,
        )  # fmt: skip

    keys = ("new", "pending", "cancelled", "sent", "sending")
    async with unit_of_work(session_maker) as session:
        await service.schedule_mails(session, mails=[scheduled(key) for key in keys])
    found = {str(row.key): row for row in await rows(session_maker)}
    for key in ("new", "pending", "cancelled", "sent"):
        assert (found[key].status, found[key].send_after) == (MailStatus.PENDING, later), key
        assert (found[key].context["when"], found[key].sent_at) == ("later", None)
    held = found["sending"]  # a worker holds it: left as it was
    assert (held.status, held.context["when"]) == (MailStatus.SENDING, REMINDER["when"])


async def test_bad_enqueue_arguments_are_refused(session_maker: SessionMaker) -> None:
    async with unit_of_work(session_maker) as session:
        with pytest.raises(InvalidInput, match="No mail template"):
            await service.enqueue_mail(session, to="a@example.com", template="nope")
        naive = utcnow().replace(tzinfo=None)
        with pytest.raises(InvalidInput, match="time zone"):
            await service.enqueue_mail(
                session, to="a@example.com", template="verify_email", send_after=naive
            )


async def test_the_hourly_cleanup_forgets_old_sent_and_cancelled_mail_only(
    session_maker: SessionMaker,
) -> None:
    for status in MailStatus:
        await enqueue(session_maker, key=f"old-{status.value}")
    await enqueue(session_maker, key="recent-sent")
    async with unit_of_work(session_maker) as session:
        for row in await session.exec(select(OutboxMessage)):
            row.status = row.key.split("-")[1]  # type: ignore[union-attr]
            if row.key and row.key.startswith("old"):
                row.created_at = utcnow() - timedelta(days=31)
    [clean_outbox] = jobs(session_maker)
    await clean_outbox.run()
    kept = sorted(str(row.key) for row in await rows(session_maker))
    assert kept == ["old-failed", "old-pending", "old-sending", "recent-sent"]
