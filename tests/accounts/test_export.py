"""exportMyData: everything stored about the caller, and nothing secret."""

from __future__ import annotations

from typing import Any

import httpx
from sqlmodel import select
from strawberry.relay import to_base64

from hom.accounts.models import AccountToken, User
from hom.catalog.models import Product
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from hom.notifications import inbox
from hom.notifications import service as mail
from tests.catalog.engagement import create_product
from tests.factories import login_tokens, signed_in
from tests.support import GraphQLClient, error_codes

EXPORT = "{ exportMyData }"
UPDATE = "mutation ($input: UpdateUserInput!) { updateUser(input: $input) { user { role } } }"


async def test_export_has_profile_sessions_and_audit_but_no_secrets(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user, tokens = await signed_in(client, session_maker)
    await login_tokens(client, user.email)  # a second device
    _, admin = await signed_in(client, session_maker, Role.ADMIN)
    promote = {"input": {"id": to_base64("User", user.id), "role": "STAFF"}}
    assert (await gql(UPDATE, promote, token=admin.access_token))["data"]["updateUser"]["user"]

    data = (await gql(EXPORT, token=tokens.access_token))["data"]["exportMyData"]
    assert data["profile"]["email"] == user.email
    assert data["profile"]["role"] == "STAFF"
    assert len(data["sessions"]) == 2
    (change,) = [e for e in data["auditLog"] if e["action"] == "user.update"]
    assert change["changes"] == {"role": {"from": "CUSTOMER", "to": "STAFF"}}
    assert change["byYou"] is False

    text = str(data)
    async with session_maker() as session:
        stored = (await session.exec(select(User).where(User.id == user.id))).one()
        token_hashes = (await session.exec(select(AccountToken.token_hash))).all()
    assert stored.password_hash not in text
    assert "password" not in text.lower()
    assert not any(token_hash in text for token_hash in token_hashes)


async def test_export_has_the_notifications_and_the_mail_kept_for_the_caller(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user, tokens = await signed_in(client, session_maker)
    other, _ = await signed_in(client, session_maker)
    async with unit_of_work(session_maker) as session:
        for owner in (user, other):
            assert owner.id is not None
            await inbox.notify(session, user_id=owner.id, kind="test", title="Hi", body="There")
            await mail.enqueue_mail(session, to=owner.email, template="verify_email")

    data = (await gql(EXPORT, token=tokens.access_token))["data"]["exportMyData"]
    [notice] = data["notifications"]
    assert {key: notice[key] for key in ("kind", "title", "body", "readAt")} == {
        "kind": "test",
        "title": "Hi",
        "body": "There",
        "readAt": None,
    }
    [queued] = data["mail"]
    assert (queued["template"], queued["status"], queued["sentAt"]) == (
        "verify_email",
        "pending",
        None,
    )


async def test_export_needs_a_signed_in_user(gql: GraphQLClient) -> None:
    assert error_codes(await gql(EXPORT)) == ["UNAUTHENTICATED"]


CATALOG_ACTIONS = """mutation ($product: ID!, $other: ID!, $name: String!) {
  favorite: addFavorite(productId: $product) { errors { code } }
  view: recordProductView(productId: $other) { counted errors { code } }
  collection: createCollection(input: {name: $name, visibility: PUBLIC}) {
    collection { id } errors { code } }
}"""
ADD_TO_COLLECTION = """mutation ($collection: ID!, $product: ID!) {
  addToCollection(input: {collectionId: $collection, productId: $product}) { errors { code } }
}"""


async def shop(
    gql: GraphQLClient, token: str, favorite: Product, viewed: Product, name: str
) -> None:
    """Star one product, view another, and put both in a new public collection."""
    ids = {"product": to_base64("Product", favorite.id), "other": to_base64("Product", viewed.id)}
    done = (await gql(CATALOG_ACTIONS, {**ids, "name": name}, token=token))["data"]
    assert done["view"]["counted"] is True, done
    collection = done["collection"]["collection"]["id"]
    for product in ids.values():
        added = await gql(
            ADD_TO_COLLECTION, {"collection": collection, "product": product}, token=token
        )
        assert added["data"]["addToCollection"]["errors"] == [], added


def products(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["product"]["sku"] for entry in entries]


async def test_export_has_the_callers_favorites_collections_and_views_only(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettle, mug, lamp = [await create_product(session_maker, name=name) for name in ("K", "M", "L")]
    _, mine = await signed_in(client, session_maker)
    _, theirs = await signed_in(client, session_maker)
    await shop(gql, mine.access_token, favorite=kettle, viewed=mug, name="Kitchen")
    await shop(gql, theirs.access_token, favorite=lamp, viewed=lamp, name="Lights")

    data = (await gql(EXPORT, token=mine.access_token))["data"]["exportMyData"]
    assert products(data["favorites"]) == [kettle.sku]
    assert products(data["productViews"]) == [mug.sku]
    [collection] = data["collections"]
    assert (collection["name"], collection["visibility"]) == ("Kitchen", "PUBLIC")
    assert products(collection["products"]) == [kettle.sku, mug.sku]
    assert all(entry["addedAt"] for entry in collection["products"])
    assert data["favorites"][0]["product"] == {"sku": kettle.sku, "slug": kettle.slug, "name": "K"}
    assert lamp.sku not in str(data)
    assert "Lights" not in str(data)
