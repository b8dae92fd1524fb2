"""myNotifications, unreadNotificationCount, markNotificationRead, markAllNotificationsRead
and node(id:) over HTTP, as a client sees them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from strawberry.relay import to_base64

from hom.core.unit_of_work import SessionMaker
from hom.notifications.models import Notification
from tests.factories import signed_in
from tests.notifications.factories import create_notifications
from tests.support import GraphQLClient, count_statements, error_codes

MINE = """
query ($first: Int, $after: String, $unreadOnly: Boolean! = false) {
  myNotifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
    edges { node { id kind title body link data isRead readAt createdAt } }
    pageInfo { hasNextPage endCursor }
  }
  unreadNotificationCount
}"""
MARK = """
mutation ($id: ID!) {
  markNotificationRead(id: $id) {
    notification { id title isRead readAt }
    errors { field code message }
  }
}"""
MARK_ALL = "mutation { markAllNotificationsRead { markedCount errors { code } } }"
NODE = "query ($id: ID!) { node(id: $id) { ... on Notification { title } } }"


def gid(notification: Notification) -> str:
    assert notification.id is not None
    return to_base64("Notification", notification.id)


def titles(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return [edge["node"]["title"] for edge in body["data"]["myNotifications"]["edges"]]


async def test_my_notifications_newest_first_with_every_field(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user, tokens = await signed_in(client, session_maker)
    await create_notifications(session_maker, user.id, title="old")
    (new,) = await create_notifications(
        session_maker,
        user.id,
        kind="order.cancelled",
        title="Order cancelled",
        body="Your order 7 was cancelled.",
        link="/orders/7",
        data={"orderId": 7},
    )
    body = await gql(MINE, token=tokens.access_token)
    assert new.created_at is not None
    assert body["data"]["myNotifications"]["edges"][0]["node"] == {
        "id": gid(new),
        "kind": "order.cancelled",
        "title": "Order cancelled",
        "body": "Your order 7 was cancelled.",
        "link": "/orders/7",
        "data": {"orderId": 7},
        "isRead": False,
        "readAt": None,
        "createdAt": new.created_at.isoformat(),
    }
    assert titles(body) == ["Order cancelled", "old"]
    assert body["data"]["unreadNotificationCount"] == 2


async def test_pages_and_unread_only(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user, tokens = await signed_in(client, session_maker)
    made = await create_notifications(session_maker, user.id, count=5)
    marked = await gql(MARK, {"id": gid(made[3])}, token=tokens.access_token)
    assert marked["data"]["markNotificationRead"]["errors"] == []

    first = await gql(MINE, {"first": 2}, token=tokens.access_token)
    assert titles(first) == ["Title 4", "Title 3"]
    page_info = first["data"]["myNotifications"]["pageInfo"]
    assert page_info["hasNextPage"] is True
    rest = await gql(MINE, {"first": 5, "after": page_info["endCursor"]}, token=tokens.access_token)
    assert titles(rest) == ["Title 2", "Title 1", "Title 0"]
    assert rest["data"]["myNotifications"]["pageInfo"]["hasNextPage"] is False

    unread = await gql(MINE, {"unreadOnly": True}, token=tokens.access_token)
    assert titles(unread) == ["Title 4", "Title 2", "Title 1", "Title 0"]
    assert unread["data"]["unreadNotificationCount"] == 4


async def test_only_my_own_notifications_are_listed(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user, tokens = await signed_in(client, session_maker)
    other, _ = await signed_in(client, session_maker)
    await create_notifications(session_maker, user.id, title="mine")
    await create_notifications(session_maker, other.id, title="theirs")
    assert titles(await gql(MINE, token=tokens.access_token)) == ["mine"]


async def test_mark_read_twice_keeps_the_first_read_time(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user, tokens = await signed_in(client, session_maker)
    (made,) = await create_notifications(session_maker, user.id, title="once")
    first = await gql(MARK, {"id": gid(made)}, token=tokens.access_token)
    again = await gql(MARK, {"id": gid(made)}, token=tokens.access_token)
    payload = first["data"]["markNotificationRead"]
    assert payload["notification"]["isRead"] is True
    assert payload["notification"]["readAt"] is not None
    assert again["data"]["markNotificationRead"] == payload
    assert (await gql(MINE, token=tokens.access_token))["data"]["unreadNotificationCount"] == 0


async def test_someone_elses_notification_is_not_found_and_unchanged(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    owner, owner_tokens = await signed_in(client, session_maker)
    _, intruder = await signed_in(client, session_maker)
    (made,) = await create_notifications(session_maker, owner.id, title="private")

    body = await gql(MARK, {"id": gid(made)}, token=intruder.access_token)
    assert body["data"]["markNotificationRead"] == {
        "notification": None,
        "errors": [{"field": "id", "code": "NOT_FOUND", "message": "No such notification"}],
    }
    assert await gql(NODE, {"id": gid(made)}, token=intruder.access_token) == {
        "data": {"node": None}
    }
    mine = await gql(MINE, token=owner_tokens.access_token)
    assert mine["data"]["unreadNotificationCount"] == 1
    assert await gql(NODE, {"id": gid(made)}, token=owner_tokens.access_token) == {
        "data": {"node": {"title": "private"}}
    }


async def test_a_malformed_id_is_bad_user_input(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, tokens = await signed_in(client, session_maker)
    user_id = to_base64("User", 1)
    body = await gql(MARK, {"id": user_id}, token=tokens.access_token)
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_mark_all_read_counts_mine_only(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user, tokens = await signed_in(client, session_maker)
    other, other_tokens = await signed_in(client, session_maker)
    await create_notifications(session_maker, user.id, count=3)
    await create_notifications(session_maker, other.id, count=2)
    body = await gql(MARK_ALL, token=tokens.access_token)
    assert body == {"data": {"markAllNotificationsRead": {"markedCount": 3, "errors": []}}}
    again = await gql(MARK_ALL, token=tokens.access_token)
    assert again["data"]["markAllNotificationsRead"]["markedCount"] == 0
    theirs = await gql(MINE, token=other_tokens.access_token)
    assert theirs["data"]["unreadNotificationCount"] == 2


@pytest.mark.parametrize(
    "operation",
    [MINE, "{ unreadNotificationCount }", MARK_ALL, MARK],
    ids=["myNotifications", "unreadNotificationCount", "markAll", "mark"],
)
async def test_anonymous_callers_are_unauthenticated(gql: GraphQLClient, operation: str) -> None:
    body = await gql(operation, {"id": to_base64("Notification", 1)})
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None


async def test_statement_count_does_not_grow_with_page_size(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user, tokens = await signed_in(client, session_maker)
    await create_notifications(session_maker, user.id, count=60)
    query = """query ($first: Int) {
      myNotifications(first: $first) { edges { node { id title isRead } } }
    }"""
    counts = {}
    for first in (5, 50):
        with count_statements(app.state.services.engine) as log:
            body = await gql(query, {"first": first}, token=tokens.access_token)
        assert len(body["data"]["myNotifications"]["edges"]) == first
        counts[first] = log.count
    assert counts == {5: 1, 50: 1}
