"""The worker's side of the outbox: claim due mail under a lease, record what happened.

Every change is one conditional statement. A claim stamps each row with a
fresh `claim` value; only the holder of that claim can record the outcome, so
a worker whose lease ran out (killed, or stuck) cannot overwrite the work of
the worker that took the message over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, DateTime, and_, bindparam, delete, func, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.notifications.models import MailStatus, OutboxMessage

COLUMNS = OutboxMessage.__table__.columns  # type: ignore[attr-defined]
CLAIM_DUE = """
    WITH due AS (
        SELECT id FROM outbox_message
        WHERE (status = 'pending' AND send_after <= COALESCE(:now, now()))
           OR (status = 'sending' AND locked_until < now())
        ORDER BY send_after, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox_message AS message
    SET status = 'sending', attempts = message.attempts + 1, claim = gen_random_uuid(),
        locked_until = now() + make_interval(secs => :lease)
    FROM due WHERE message.id = due.id
    RETURNING
"""
RETURNED = ", ".join(f"message.{column.name}" for column in COLUMNS)
CLAIM = (
    text(CLAIM_DUE + RETURNED)
    .bindparams(bindparam("now", type_=DateTime(timezone=True)))
    .columns(*COLUMNS)
)


async def claim_due(
    session: AsyncSession, *, limit: int, lease: timedelta, now: datetime | None = None
) -> list[OutboxMessage]:
    """Up to `limit` due messages (or ones whose holder's lease ran out), now ours. Due is
    by the database's clock, or by `now` where given (a test's fixed clock)."""
    statement = select(OutboxMessage).from_statement(
        CLAIM.bindparams(limit=limit, lease=lease.total_seconds(), now=now)
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    return list(result.scalars().all())


def _held(message: OutboxMessage) -> ColumnElement[bool]:
    return and_(
        col(OutboxMessage.id) == message.id,
        col(OutboxMessage.claim) == message.claim,
        col(OutboxMessage.status) == MailStatus.SENDING,
    )


async def _finish(session: AsyncSession, message: OutboxMessage, **values: object) -> bool:
    statement = (
        update(OutboxMessage)
        .where(_held(message))
        .values(locked_until=None, claim=None, **values)
        .returning(col(OutboxMessage.id))
    )
    return (await session.exec(statement)).first() is not None


async def record_sent(session: AsyncSession, *, message: OutboxMessage) -> bool:
    return await _finish(
        session, message, status=MailStatus.SENT, sent_at=func.now(), last_error=None
    )


async def record_retry(
    session: AsyncSession, *, message: OutboxMessage, error: str, delay: timedelta
) -> bool:
    send_after = func.now() + func.make_interval(0, 0, 0, 0, 0, 0, delay.total_seconds())
    return await _finish(
        session, message, status=MailStatus.PENDING, send_after=send_after, last_error=error
    )


async def record_failed(session: AsyncSession, *, message: OutboxMessage, error: str) -> bool:
    return await _finish(session, message, status=MailStatus.FAILED, last_error=error)


async def record_cancelled(session: AsyncSession, *, message: OutboxMessage, reason: str) -> bool:
    return await _finish(session, message, status=MailStatus.CANCELLED, last_error=reason)


@dataclass(frozen=True)
class QueueDepth:
    by_status: dict[str, int]
    oldest_due_seconds: float


async def queue_depth(session: AsyncSession) -> QueueDepth:
    """Messages per status, and how long the oldest due message has waited."""
    counts = await session.exec(
        select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
    )
    by_status = {status.value: 0 for status in MailStatus} | dict(counts.all())
    waited = await session.exec(
        select(func.extract("epoch", func.now() - func.min(OutboxMessage.send_after))).where(
            col(OutboxMessage.status) == MailStatus.PENDING,
            col(OutboxMessage.send_after) <= func.now(),
        )
    )
    return QueueDepth(by_status=by_status, oldest_due_seconds=float(waited.one() or 0))


async def delete_finished(session: AsyncSession, *, older_than: timedelta) -> int:
    """Forget sent and cancelled mail after a while (failed mail stays for a look)."""
    statement = delete(OutboxMessage).where(
        col(OutboxMessage.status).in_([MailStatus.SENT, MailStatus.CANCELLED]),
        col(OutboxMessage.created_at) < func.now() - older_than,
    )
    result = await session.exec(statement)
    return int(result.rowcount)
