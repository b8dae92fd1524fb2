"""Several workers on one outbox, and workers that die: every mail goes out, none twice."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import func, select

from hom.core.config import Settings
from hom.core.services import Services
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.notifications import service
from hom.notifications.models import MailStatus, OutboxMessage
from hom.worker import mail_delivery
from tests.conftest import TEST_SECRET
from tests.mail_fixtures import SmtpServer, free_port
from tests.serving import HOM, hom_env, stop_group, total, until

REMINDER = {"name": "Ada", "service": "Haircut", "staff": "Bea", "when": "Mon 1 Dec, 10:00"}


async def fill_outbox(session_maker: SessionMaker, count: int) -> None:
    async with unit_of_work(session_maker) as session:
        for number in range(count):
            await service.enqueue_mail(
                session,
                to=f"customer{number}@example.com",
                template="appointment_reminder",
                context=REMINDER,
            )


async def statuses(session_maker: SessionMaker) -> dict[int, str]:
    async with session_maker() as session:
        found = await session.exec(select(OutboxMessage.id, OutboxMessage.status))
        return {int(id_): status for id_, status in found.all()}


def deliveries(smtp: SmtpServer) -> Counter[str]:
    """How many times each outbox message reached the server (by its Message-ID)."""
    with smtp.mailbox.lock:
        return Counter(str(mail.message["Message-ID"]) for mail in smtp.mailbox.received)


def message_id(outbox_id: int) -> str:
    return f"<outbox.{outbox_id}@localhost>"


async def test_two_workers_deliver_each_of_500_messages_exactly_once(
    mail_settings: Settings, session_maker: SessionMaker, smtp: SmtpServer
) -> None:
    await fill_outbox(session_maker, 500)
    first, second = Services.create(mail_settings), Services.create(mail_settings)
    try:
        workers = [
            mail_delivery(mail_settings, services.session_maker, concurrency=8)
            for services in (first, second)
        ]
        done = await asyncio.gather(*(worker.drain() for worker in workers))
    finally:
        await first.close()
        await second.close()

    assert sum(done) == 500
    assert all(count > 0 for count in done)  # both took part
    sent = deliveries(smtp)
    assert set(sent) == {message_id(number) for number in range(1, 501)}
    assert set(sent.values()) == {1}
    assert set((await statuses(session_maker)).values()) == {MailStatus.SENT}


@contextmanager
def worker_process(
    directory: Path, settings: Settings, smtp: SmtpServer, lease: str, *options: str
) -> Iterator[subprocess.Popen[bytes]]:
    directory.mkdir(parents=True, exist_ok=True)
    env = hom_env(
        APP_ENV="dev",
        DB_URL=str(settings.db_url),
        REDIS_URL=str(settings.redis_url),
        REDIS_PREFIX=settings.redis_prefix,
        JWT_SECRET=TEST_SECRET,
        SMTP_URL=smtp.url,
        MAIL_LEASE_SECONDS=lease,
        WORKER_POLL_SECONDS="0.05",
        LOG_LEVEL="WARNING",
    )
    with (directory / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            [str(HOM), "worker", "--concurrency", "4", *options],
            env=env,
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            stop_group(process)


async def test_a_worker_killed_mid_batch_loses_nothing_and_resends_nothing_it_recorded(
    tmp_path: Path, mail_settings: Settings, session_maker: SessionMaker, smtp: SmtpServer
) -> None:
    await fill_outbox(session_maker, 60)
    smtp.mailbox.delay = 0.05  # a slow server: the kill lands mid-batch
    with worker_process(tmp_path, mail_settings, smtp, "1") as process:

        async def some_sent() -> bool:
            return sum(deliveries(smtp).values()) >= 12

        await until(some_sent, "sending")
        process.send_signal(signal.SIGKILL)
        process.wait()
    recorded = {id_ for id_, status in (await statuses(session_maker)).items() if status == "sent"}
    assert 0 < len(recorded) < 60

    # Another worker takes over once the dead one's lease has run out.
    smtp.mailbox.delay = 0.0
    survivor = mail_delivery(mail_settings, session_maker, concurrency=4)

    async def all_sent() -> bool:
        await survivor.drain()
        return set((await statuses(session_maker)).values()) == {MailStatus.SENT}

    await until(all_sent, "all sent")
    sent = deliveries(smtp)
    assert set(sent) == {message_id(number) for number in range(1, 61)}
    assert all(sent[message_id(number)] == 1 for number in recorded)
    resent = [mail for mail, count in sent.items() if count > 1]
    assert len(resent) <= 4  # at most the batch in flight: accepted but not yet recorded


async def test_sigterm_finishes_the_mail_in_hand_and_holds_nothing(
    tmp_path: Path, mail_settings: Settings, session_maker: SessionMaker, smtp: SmtpServer
) -> None:
    await fill_outbox(session_maker, 40)
    smtp.mailbox.delay = 0.05
    port = free_port()
    with worker_process(
        tmp_path, mail_settings, smtp, "300", "--metrics-port", str(port)
    ) as process:

        async def some_sent() -> bool:
            return sum(deliveries(smtp).values()) >= 8

        await until(some_sent, "sending")
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        families = text_string_to_metric_families(metrics)
        counted = total(families, "hom_mail_sent_total", template="appointment_reminder")
        assert counted >= 4  # the worker's own counters, on its own port
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    async with session_maker() as session:
        held = await session.exec(
            select(func.count()).where(OutboxMessage.status == MailStatus.SENDING)
        )
        assert held.one() == 0  # nothing is left claimed until a lease runs out
    sent = deliveries(smtp)
    assert set(sent.values()) == {1}
    state = await statuses(session_maker)
    assert {message_id(id_) for id_, status in state.items() if status == "sent"} == set(sent)


def test_outside_dev_the_worker_refuses_to_start_without_smtp(
    tmp_path: Path, settings: Settings
) -> None:
    env = hom_env(
        APP_ENV="staging",
        DB_URL=str(settings.db_url),
        REDIS_URL=str(settings.redis_url),
        JWT_SECRET=TEST_SECRET,
    )
    finished = subprocess.run(
        [str(HOM), "worker"], env=env, cwd=tmp_path, capture_output=True, timeout=60, check=False
    )
    assert finished.returncode == 2
    assert b"SMTP_URL is required for the worker when APP_ENV=staging" in finished.stderr
