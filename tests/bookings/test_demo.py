"""The demo's bookings: services, staff members in two time zones with their weeks, made
through the real rules (audited), idempotent, and what a visitor then reads."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from hom.bookings import demo
from hom.core.demo import SeedReport
from hom.core.unit_of_work import SessionMaker, unit_of_work
from tests.support import GraphQLClient

STAFF = """
SELECT u.full_name, u.timezone, u.role, count(h.id)
FROM user_account u LEFT JOIN working_hours h ON h.staff_id = u.id
WHERE u.email LIKE 'staff%@demo.example.com' GROUP BY u.id ORDER BY u.email
"""
# Everything the bookings' demo leaves behind, to compare two runs by.
TRACES = """
SELECT (SELECT count(*) FROM service), (SELECT count(*) FROM staff_service),
       (SELECT count(*) FROM working_hours), (SELECT count(*) FROM user_account),
       (SELECT count(*) FROM audit_entry)
"""
pytestmark = pytest.mark.usefixtures("features_learnt")


async def seed(maker: SessionMaker) -> SeedReport:
    report = SeedReport()
    async with unit_of_work(maker) as session:
        await demo.seed_bookings(session, report=report)
    return report


async def rows_of(maker: SessionMaker, sql: str) -> list[tuple[object, ...]]:
    async with maker() as session:
        return [tuple(row) for row in await session.exec(text(sql))]  # type: ignore[call-overload]


async def test_the_demo_has_services_and_staff_in_two_time_zones(
    session_maker: SessionMaker,
) -> None:
    report = await seed(session_maker)
    assert {kind: count.created for kind, count in report.counts.items()} == {
        "admins": 1,
        "staff": 3,
        "working hours": 10 + 5 + 3,
        "services": 5,
    }
    assert await rows_of(session_maker, STAFF) == [
        ("Anna Berger", "Europe/Berlin", "STAFF", 10),
        ("Mia Johnson", "America/New_York", "STAFF", 5),
        ("Lena Fischer", "Europe/Berlin", "STAFF", 3),
    ]
    ((_, links, _, _, audits),) = await rows_of(session_maker, TRACES)
    assert links == sum(len(service.staff) for service in demo.SERVICES)
    assert audits == 5 + links + 3  # services made, staff assigned, weeks set


async def test_seeding_again_creates_nothing(session_maker: SessionMaker) -> None:
    await seed(session_maker)
    traces = await rows_of(session_maker, TRACES)
    second = await seed(session_maker)
    assert {kind: count.created for kind, count in second.counts.items()} == {
        "admins": 0,
        "staff": 0,
        "working hours": 0,
        "services": 0,
    }
    assert second.counts["services"].existing == len(demo.SERVICES)
    assert await rows_of(session_maker, TRACES) == traces


async def test_a_visitor_sees_what_can_be_booked_and_with_whom(
    session_maker: SessionMaker, gql: GraphQLClient
) -> None:
    await seed(session_maker)
    body = await gql("{ services { name durationMinutes staff { fullName } } }")
    assert body["data"]["services"] == [
        {"name": "Beard trim", "durationMinutes": 15, "staff": [
            {"fullName": "Lena Fischer"}, {"fullName": "Mia Johnson"}]},
        {"name": "Colour and cut", "durationMinutes": 90, "staff": [{"fullName": "Anna Berger"}]},
        {"name": "Haircut", "durationMinutes": 30, "staff": [
            {"fullName": "Anna Berger"}, {"fullName": "Mia Johnson"}]},
        {"name": "Style consultation", "durationMinutes": 45, "staff": [
            {"fullName": "Lena Fischer"}]},
    ]  # fmt: skip
