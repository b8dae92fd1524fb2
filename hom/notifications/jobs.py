"""The notifications' periodic work for `hom worker`."""

from __future__ import annotations

from datetime import timedelta

import structlog

from hom.core.periodic import PeriodicJob
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.notifications import outbox

log = structlog.get_logger("hom.mail")
KEEP_FINISHED = timedelta(days=30)


def jobs(session_maker: SessionMaker) -> list[PeriodicJob]:
    async def clean_outbox() -> None:
        """Sent and cancelled mail is forgotten after a month; failed mail stays for a look."""
        async with unit_of_work(session_maker) as session:
            removed = await outbox.delete_finished(session, older_than=KEEP_FINISHED)
        log.info("outbox cleaned", removed=removed)

    return [PeriodicJob("notifications.clean_outbox", timedelta(hours=1), clean_outbox)]
