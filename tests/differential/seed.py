"""One dataset that gives every type of the schema rows, for the generated differential
suite (tests/test_differential.py): what it seeds is returned as the global ids and
slugs the document generator picks its arguments from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts.models import User
from hom.audit.models import AuditEntry
from hom.bookings import service as bookings
from hom.bookings.models import Appointment, AppointmentStatus, Service, Weekday
from hom.catalog import collections, views
from hom.catalog.models import Collection, Product, Visibility
from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.core.viewer import Viewer
from hom.inventory.models import MovementKind, StockLevel, StockMovement
from hom.notifications import inbox
from hom.orders import service as orders
from hom.orders.models import Order, OrderLine
from tests.catalog.factories import (
    EPOCH,
    add_favorites,
    add_views,
    create_category,
    create_product,
    global_id,
)
from tests.factories import create_user, signed_in
from tests.inventory.factories import create_check, create_warehouse, move, stock
from tests.notifications.factories import create_notifications

SIGNED_IN = (Role.CUSTOMER, Role.STAFF, Role.OPERATOR, Role.ADMIN)


@dataclass
class Seeds:
    """What the dataset holds: global ids by GraphQL type, slugs by type, callers' tokens."""

    ids: dict[str, list[str]] = field(default_factory=dict)
    slugs: dict[str, list[str]] = field(default_factory=dict)
    tokens: dict[str, str | None] = field(default_factory=lambda: {"ANONYMOUS": None})

    def add(self, type_name: str, *rows: Any) -> None:
        """The rows' global ids as `type_name`'s (in order: `Product#0` is the first)."""
        self.ids.setdefault(type_name, []).extend(global_id(type_name, row.id) for row in rows)


async def seed(client: httpx.AsyncClient, session_maker: SessionMaker) -> Seeds:
    """Users of every role (signed in) and one more, and rows of every domain for them."""
    seeds = Seeds()
    users = []
    for role in SIGNED_IN:
        user, tokens = await signed_in(client, session_maker, role)
        seeds.tokens[role.value] = tokens.access_token
        users.append(user)
    users.append(await create_user(session_maker, full_name="Someone Else"))
    seeds.add("User", *users)
    seeds.add("Person", *users)
    products = await seed_catalog(session_maker, seeds)
    await seed_inventory(session_maker, seeds, products, operator=users[2])
    for user in users:
        await seed_engagement(session_maker, seeds, user, products)
    await seed_audit(session_maker, seeds, admin=users[3])
    await seed_orders(session_maker, seeds, users, products)
    await seed_bookings(session_maker, seeds, users)
    return seeds


async def seed_catalog(session_maker: SessionMaker, seeds: Seeds) -> list[Product]:
    """Three levels of categories and a root with no children; active products and
    an archived one (the last)."""
    home = await create_category(session_maker, "Home")
    kitchen = await create_category(session_maker, "Kitchen", parent=home)
    garden = await create_category(session_maker, "Garden")
    cups = await create_category(session_maker, "Cups", parent=kitchen)
    names = ("Kettle", "Teapot", "Cup", "Spoon")
    made = [
        await create_product(session_maker, (home, kitchen, cups, garden)[n], n, name=name)
        for n, name in enumerate(names)
    ]
    archived = await create_product(session_maker, kitchen, 9, name="Old kettle", is_active=False)
    products = [*made, archived]
    seeds.add("Category", home, kitchen, garden, cups)
    seeds.add("Product", *products)
    seeds.slugs["Category"] = [c.slug for c in (home, kitchen, cups)] + ["no-such-category"]
    seeds.slugs["Product"] = [made[0].slug, archived.slug, "no-such-product"]
    await add_views(session_maker, made[0], 3)
    return products


async def seed_inventory(
    session_maker: SessionMaker, seeds: Seeds, products: list[Product], operator: User
) -> None:
    """Active and inactive warehouses, levels with every kind of movement, an open and a
    closed inventory check with counts."""
    north = await create_warehouse(session_maker, "NORTH")
    south = await create_warehouse(session_maker, "SOUTH", low_stock_threshold=10)
    old = await create_warehouse(session_maker, "OLD", active=False)
    actor = operator.id
    levels = [
        await stock(session_maker, products[0], north, 5, reserved=2, actor_id=actor),
        await stock(session_maker, products[1], north, 4, reserved=4),
        await stock(session_maker, products[0], south, 20, actor_id=actor),
        await stock(session_maker, products[4], old, 50),
    ]
    seeds.add("StockMovement", *await seed_movements(session_maker, levels, actor))
    closed = await create_check(
        session_maker,
        north,
        counts=[(products[0], 4, 5), (products[1], 4, 4)],
        opened_by_id=actor,
        closed_at=EPOCH + timedelta(days=1),
    )
    opened = await create_check(session_maker, south, counts=[(products[0], 21, 20)])
    seeds.add("Warehouse", north, south, old)
    seeds.add("StockLevel", *levels)
    seeds.add("InventoryCheck", closed, opened)


async def seed_movements(
    session_maker: SessionMaker, levels: list[StockLevel], actor: int | None
) -> list[StockMovement]:
    """The kinds `stock` does not write (it writes RECEIPT and RESERVATION)."""
    level, second = levels[0], levels[2]
    return [
        await move(session_maker, level, MovementKind.SHIPMENT, -1, actor_id=actor, reason="x"),
        await move(session_maker, level, MovementKind.RELEASE, -1),
        await move(session_maker, level, MovementKind.ADJUSTMENT, 2, actor_id=actor, reason="y"),
        await move(session_maker, second, MovementKind.TRANSFER_OUT, -3, actor_id=actor),
        await move(session_maker, level, MovementKind.TRANSFER_IN, 3, actor_id=actor),
    ]


async def seed_engagement(
    session_maker: SessionMaker, seeds: Seeds, user: User, products: list[Product]
) -> None:
    """The user's favorites (an archived product among them), a public and a private
    collection, viewed products, notifications (one read)."""
    assert user.id is not None
    await add_favorites(session_maker, user.id, [products[0], products[2], products[4]])
    async with unit_of_work(session_maker) as session:
        made = [
            await collections.create_collection(
                session, owner_id=user.id, name=visibility.value.title(), visibility=visibility
            )
            for visibility in (Visibility.PUBLIC, Visibility.PRIVATE)
        ]
        for collection in made:
            await fill(session, user.id, collection, products[:3])
        for n, product in enumerate(products[1:4]):
            viewer = views.viewer_key(user.id, "", "")
            at = EPOCH + timedelta(hours=n)
            await views.record_view(
                session, product_id=product.id or 0, viewer=viewer, user_id=user.id, at=at
            )
    seeds.add("Collection", *made)
    notes = await create_notifications(session_maker, user.id, 2, data={"n": 1})
    async with unit_of_work(session_maker) as session:
        await inbox.mark_read(session, user_id=user.id, notification_id=notes[0].id or 0)
    seeds.add("Notification", *notes)


async def fill(
    session: AsyncSession, owner: int, collection: Collection, products: list[Product]
) -> None:
    for product in products:
        await collections.add_to_collection(
            session,
            owner_id=owner,
            collection_id=collection.id or 0,
            product_id=product.id or 0,
        )


async def seed_audit(session_maker: SessionMaker, seeds: Seeds, admin: User) -> None:
    """Entries with an actor and without one (a deleted account)."""
    entries = [
        AuditEntry(
            actor_id=admin.id,
            action="product.update",
            entity="Product",
            entity_id="1",
            changes={"price": {"from": "9.90", "to": "10.90"}},
        ),
        AuditEntry(actor_id=None, action="user.create", entity="User", entity_id="2", changes={}),
    ]
    async with unit_of_work(session_maker) as session:
        session.add_all(entries)
    seeds.add("AuditEntry", *entries)


async def seed_orders(
    session_maker: SessionMaker, seeds: Seeds, users: list[User], products: list[Product]
) -> None:
    """Orders of the customer (a paid one, with a line of the archived product too, and an
    unpaid one), of the operator, and of someone else (cancelled)."""
    customer, operator, someone = users[0], users[2], users[4]
    kettle, archived = products[0], products[4]
    made = [
        await _order(session_maker, customer, kettle, 2, "paid"),
        await _order(session_maker, customer, kettle, 1, "pending"),
        await _order(session_maker, operator, kettle, 1, "own"),
        await _order(session_maker, someone, kettle, 1, "cancelled"),
    ]
    shop = _viewer(operator, Role.OPERATOR)
    async with unit_of_work(session_maker) as session:
        session.add(
            OrderLine(
                order_id=made[0].id,
                product_id=archived.id,
                sku=archived.sku,
                name=archived.name,
                quantity=1,
                currency=made[0].currency,
                unit_price=archived.price,
                line_total=archived.price,
            )
        )
        await orders.mark_order_paid(session, order_id=made[0].id or 0, actor=shop)
        await orders.cancel_order(session, order_id=made[3].id or 0, actor=shop, reason="x")
    seeds.add("Order", *made)


async def _order(
    session_maker: SessionMaker, user: User, product: Product, quantity: int, key: str
) -> Order:
    assert user.id is not None
    wanted = {product.id or 0: quantity}
    async with unit_of_work(session_maker) as session:
        return await orders.place_order(session, user_id=user.id, lines=wanted, idempotency_key=key)


def _viewer(user: User, role: Role) -> Viewer:
    assert user.id is not None
    return Viewer(user_id=user.id, role=role, sid="s", jti="j", expires_at=0)


async def seed_bookings(session_maker: SessionMaker, seeds: Seeds, users: list[User]) -> None:
    """Services (one given by the STAFF caller and another staff member, one by nobody, an
    inactive one), both staff members' weeks (two ranges on a day: the slots of
    `availableSlots`) and time off (one with a reason)."""
    staff, admin = users[1], _viewer(users[3], Role.ADMIN)
    other = await create_user(session_maker, role=Role.STAFF, full_name="Other Staff")
    seeds.add("User", other)
    seeds.add("Person", other)
    # What `staffId` arguments name (as people): both staff members, then a customer.
    seeds.ids["Staff"] = [global_id("Person", person.id) for person in (staff, other, users[0])]
    offered = (("Haircut", True, (staff, other)), ("Massage", True, ()), ("Perm", False, (staff,)))
    made = []
    async with unit_of_work(session_maker) as session:
        for n, (name, active, givers) in enumerate(offered):
            new = bookings.NewService(
                name=name, duration_minutes=30 * (n + 1), price=Decimal("35.00"), is_active=active
            )
            service = await bookings.create_service(session, new=new, actor=admin)
            for person in givers:
                await bookings.assign_staff(
                    session, service_id=service.id or 0, staff_id=person.id or 0, actor=admin
                )
            made.append(service)
    seeds.add("Service", *made)
    for person, day in ((staff, Weekday.MONDAY), (other, Weekday.TUESDAY)):
        await _schedule(session_maker, seeds, person, day, admin)
    await seed_appointments(session_maker, seeds, users, other, made)


async def _schedule(
    session_maker: SessionMaker, seeds: Seeds, person: User, day: Weekday, admin: Viewer
) -> None:
    hours = [
        bookings.HoursRange(day, time(9), time(12, 30)),
        bookings.HoursRange(day, time(13, 30), time(17)),
        bookings.HoursRange(Weekday.SATURDAY, time(10), time(14)),
    ]
    async with unit_of_work(session_maker) as session:
        week = await bookings.set_working_hours(
            session, staff_id=person.id or 0, hours=hours, actor=admin
        )
        away = [
            await bookings.add_time_off(
                session,
                new=bookings.NewTimeOff(
                    staff_id=person.id or 0,
                    starts_at=EPOCH + timedelta(days=n * 10),
                    ends_at=EPOCH + timedelta(days=n * 10 + 2),
                    reason=reason,
                ),
                actor=admin,
            )
            for n, reason in enumerate(("Holiday", None))
        ]
    seeds.add("WorkingHours", *week)
    seeds.add("TimeOff", *away)


async def seed_appointments(
    session_maker: SessionMaker,
    seeds: Seeds,
    users: list[User],
    other: User,
    services: list[Service],
) -> None:
    """Appointments in every status: the customer's with the STAFF caller (one of them for
    the inactive service), a recurring pair of theirs with the other staff member,
    someone else's with the other staff member, and the STAFF caller's own booking with
    the other staff member (a staff member as a customer)."""
    customer, staff, someone = users[0], users[1], users[4]
    haircut, massage, perm = services
    S = AppointmentStatus
    series = uuid.UUID("00000000-0000-4000-8000-000000000001")
    made = [
        _appointment(customer, staff, haircut, 0, S.PENDING, notes="Short, please"),
        _appointment(customer, staff, haircut, 1, S.CONFIRMED),
        _appointment(customer, staff, perm, 2, S.COMPLETED),
        _appointment(customer, staff, haircut, 3, S.CANCELLED, reason="Ill"),
        _appointment(customer, other, haircut, 4, S.PENDING, series=series),
        _appointment(customer, other, haircut, 11, S.PENDING, series=series),
        _appointment(someone, other, massage, 5, S.NO_SHOW),
        _appointment(staff, other, haircut, 6, S.CONFIRMED, notes="Staff's own"),
        # The same start as the first one: the id breaks the tie.
        _appointment(someone, other, haircut, 0, S.CANCELLED),
    ]
    async with unit_of_work(session_maker) as session:
        session.add_all(made)
    seeds.add("Appointment", *made)


def _appointment(
    customer: User,
    staff: User,
    service: Service,
    day: int,
    status: AppointmentStatus,
    *,
    notes: str | None = None,
    reason: str | None = None,
    series: uuid.UUID | None = None,
) -> Appointment:
    """An appointment `day` days after EPOCH, with the stamps its status needs."""
    S = AppointmentStatus
    starts_at = EPOCH + timedelta(days=day)
    at: datetime = starts_at - timedelta(days=1)
    return Appointment(
        customer_id=customer.id or 0,
        staff_id=staff.id or 0,
        service_id=service.id or 0,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=service.duration_minutes),
        status=status.value,
        notes=notes,
        cancel_reason=reason,
        series_id=series,
        confirmed_at=at if status in (S.CONFIRMED, S.COMPLETED, S.NO_SHOW) else None,
        completed_at=starts_at if status is S.COMPLETED else None,
        no_show_at=starts_at if status is S.NO_SHOW else None,
        cancelled_at=at if status is S.CANCELLED else None,
    )
