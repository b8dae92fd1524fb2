"""Favorites, collections and views over HTTP: every operation, idempotency, a private
collection existing only for its owner, views counted once per viewer and hour."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, update
from starlette.applications import Starlette
from syrupy.assertion import SnapshotAssertion

from hom.catalog.models import Collection, CollectionItem, Favorite, Product, ProductView
from hom.catalog.schema import engagement as engagement_schema
from hom.core.clock import utcnow
from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, unit_of_work
from tests.catalog.engagement import count_rows, create_category, create_product, id_of
from tests.catalog.factories import add_favorites, global_id
from tests.factories import signed_in
from tests.support import GraphQLClient, count_statements, error_codes

PRODUCT_FIELDS = "name favoriteCount viewerHasFavorited"
ADD_FAVORITE = f"""mutation ($id: ID!) {{ addFavorite(productId: $id) {{
  product {{ {PRODUCT_FIELDS} }} errors {{ field code }} }} }}"""
REMOVE_FAVORITE = f"""mutation ($id: ID!) {{ removeFavorite(productId: $id) {{
  product {{ {PRODUCT_FIELDS} }} errors {{ field code }} }} }}"""
MY_FAVORITES = "{ myFavorites { edges { node { name } } } }"
COLLECTION_FIELDS = """id name visibility productCount owner { fullName }
  products { edges { node { name } } }"""
CREATE_COLLECTION = f"""mutation ($input: CreateCollectionInput!) {{
  createCollection(input: $input) {{
    collection {{ {COLLECTION_FIELDS} }} errors {{ field code }} }} }}"""
ADD_TO_COLLECTION = f"""mutation ($input: AddToCollectionInput!) {{
  addToCollection(input: $input) {{
    collection {{ {COLLECTION_FIELDS} }} errors {{ field code }} }} }}"""
REMOVE_FROM_COLLECTION = f"""mutation ($input: RemoveFromCollectionInput!) {{
  removeFromCollection(input: $input) {{
    collection {{ {COLLECTION_FIELDS} }} errors {{ field code }} }} }}"""
DELETE_COLLECTION = """mutation ($id: ID!) { deleteCollection(id: $id) {
  deletedCollectionId errors { field code } } }"""
COLLECTION = f"query ($id: ID!) {{ collection(id: $id) {{ {COLLECTION_FIELDS} }} }}"
NODE = "query ($id: ID!) { node(id: $id) { ... on Collection { name } } }"
MY_COLLECTIONS = "{ myCollections { edges { node { name productCount } } } }"
RECORD_VIEW = """mutation ($id: ID!) { recordProductView(productId: $id) {
  counted product { name viewCount } errors { field code } } }"""
MY_RECENTLY_VIEWED = "{ myRecentlyViewed { edges { node { name } } } }"


class Shopper:
    """A signed-in customer and the GraphQL client speaking for them."""

    def __init__(self, gql: GraphQLClient, user_id: int, token: str) -> None:
        self.gql, self.user_id, self.token = gql, user_id, token

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.gql(query, variables, token=self.token)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


async def shopper(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    role: Role = Role.CUSTOMER,
) -> Shopper:
    user, tokens = await signed_in(client, session_maker, role)
    return Shopper(gql, id_of(user), tokens.access_token)


def product_gid(product: Product) -> str:
    return global_id("Product", product.id)


def names(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["name"] for edge in connection["edges"]]


async def archive(session_maker: SessionMaker, product: Product) -> None:
    async with unit_of_work(session_maker) as session:
        await session.exec(
            update(Product).where(col(Product.id) == product.id).values(is_active=False)
        )


async def new_collection(me: Shopper, name: str = "Wishlist", **input: Any) -> dict[str, Any]:
    data = await me(CREATE_COLLECTION, input={"name": name, **input})
    payload: dict[str, Any] = data["createCollection"]
    assert payload["errors"] == [], payload
    collection: dict[str, Any] = payload["collection"]
    return collection


def item(collection: dict[str, Any], product: Product) -> dict[str, Any]:
    return {"input": {"collectionId": collection["id"], "productId": product_gid(product)}}


# Favorites


async def test_add_favorite_is_idempotent_and_lists_the_newest_first(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettle = await create_product(session_maker, name="Kettle")
    teapot = await create_product(session_maker, name="Teapot")
    me = await shopper(client, gql, session_maker)

    first = await me(ADD_FAVORITE, id=product_gid(kettle))
    again = await me(ADD_FAVORITE, id=product_gid(kettle))
    await me(ADD_FAVORITE, id=product_gid(teapot))

    expected = {"name": "Kettle", "favoriteCount": 1, "viewerHasFavorited": True}
    assert first["addFavorite"] == {"product": expected, "errors": []}
    assert again["addFavorite"] == {"product": expected, "errors": []}
    assert names((await me(MY_FAVORITES))["myFavorites"]) == ["Teapot", "Kettle"]
    assert await count_rows(session_maker, Favorite) == 2


async def test_remove_favorite_is_idempotent(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettle = await create_product(session_maker, name="Kettle")
    me = await shopper(client, gql, session_maker)
    await me(ADD_FAVORITE, id=product_gid(kettle))

    removed = await me(REMOVE_FAVORITE, id=product_gid(kettle))
    again = await me(REMOVE_FAVORITE, id=product_gid(kettle))

    expected = {"name": "Kettle", "favoriteCount": 0, "viewerHasFavorited": False}
    assert (
        removed["removeFavorite"]
        == again["removeFavorite"]
        == {
            "product": expected,
            "errors": [],
        }
    )
    assert (await me(MY_FAVORITES))["myFavorites"]["edges"] == []


@pytest.mark.parametrize("operation", ["addFavorite", "removeFavorite"])
async def test_favoriting_an_archived_product_is_not_found(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, operation: str
) -> None:
    archived = await create_product(session_maker, active=False)
    me = await shopper(client, gql, session_maker)
    document = ADD_FAVORITE if operation == "addFavorite" else REMOVE_FAVORITE

    data = await me(document, id=product_gid(archived))

    assert data[operation] == {
        "product": None,
        "errors": [{"field": "productId", "code": "NOT_FOUND"}],
    }
    assert await count_rows(session_maker, Favorite) == 0


async def test_an_id_of_another_type_is_bad_user_input(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    me = await shopper(client, gql, session_maker)
    body = await gql(ADD_FAVORITE, {"id": global_id("Collection", 1)}, token=me.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["argument"] == "productId"


# Collections


async def test_create_collection_is_private_by_default_and_names_are_unique_per_owner(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    me = await shopper(client, gql, session_maker)
    other = await shopper(client, gql, session_maker)

    created = await new_collection(me, "  Wishlist ")
    taken = await me(CREATE_COLLECTION, input={"name": "WISHLIST", "visibility": "PUBLIC"})
    blank = await me(CREATE_COLLECTION, input={"name": "   "})
    elsewhere = await new_collection(other, "Wishlist", visibility="PUBLIC")

    assert created["name"] == "Wishlist"
    assert created["visibility"] == "PRIVATE"
    assert created["productCount"] == 0
    assert created["owner"] == {"fullName": "Test User"}
    assert taken["createCollection"] == {
        "collection": None,
        "errors": [{"field": "name", "code": "ALREADY_EXISTS"}],
    }
    assert blank["createCollection"]["errors"] == [{"field": "name", "code": "INVALID"}]
    assert elsewhere["visibility"] == "PUBLIC"
    assert await count_rows(session_maker, Collection) == 2


async def test_add_and_remove_from_collection_are_idempotent(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettle = await create_product(session_maker, name="Kettle")
    teapot = await create_product(session_maker, name="Teapot")
    me = await shopper(client, gql, session_maker)
    wishlist = await new_collection(me)

    await me(ADD_TO_COLLECTION, **item(wishlist, kettle))
    await me(ADD_TO_COLLECTION, **item(wishlist, teapot))
    again = (await me(ADD_TO_COLLECTION, **item(wishlist, kettle)))["addToCollection"]
    assert again["errors"] == []
    assert again["collection"]["productCount"] == 2
    assert names(again["collection"]["products"]) == ["Teapot", "Kettle"]

    removed = (await me(REMOVE_FROM_COLLECTION, **item(wishlist, teapot)))["removeFromCollection"]
    twice = (await me(REMOVE_FROM_COLLECTION, **item(wishlist, teapot)))["removeFromCollection"]
    assert removed == twice
    assert removed["collection"]["productCount"] == 1
    assert names(removed["collection"]["products"]) == ["Kettle"]
    assert await count_rows(session_maker, CollectionItem) == 1


async def test_adding_an_archived_product_to_a_collection_is_not_found(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    archived = await create_product(session_maker, active=False)
    me = await shopper(client, gql, session_maker)
    wishlist = await new_collection(me)

    data = await me(ADD_TO_COLLECTION, **item(wishlist, archived))

    assert data["addToCollection"] == {
        "collection": None,
        "errors": [{"field": "productId", "code": "NOT_FOUND"}],
    }
    assert await count_rows(session_maker, CollectionItem) == 0


async def test_delete_collection_and_my_collections(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettle = await create_product(session_maker, name="Kettle")
    me = await shopper(client, gql, session_maker)
    wishlist = await new_collection(me, "Wishlist")
    await new_collection(me, "Gifts", visibility="PUBLIC")
    await me(ADD_TO_COLLECTION, **item(wishlist, kettle))
    listed = (await me(MY_COLLECTIONS))["myCollections"]
    assert [edge["node"] for edge in listed["edges"]] == [
        {"name": "Gifts", "productCount": 0},
        {"name": "Wishlist", "productCount": 1},
    ]

    deleted = await me(DELETE_COLLECTION, id=wishlist["id"])
    again = await me(DELETE_COLLECTION, id=wishlist["id"])

    assert deleted["deleteCollection"] == {"deletedCollectionId": wishlist["id"], "errors": []}
    assert again["deleteCollection"] == {
        "deletedCollectionId": None,
        "errors": [{"field": "collectionId", "code": "NOT_FOUND"}],
    }
    assert names((await me(MY_COLLECTIONS))["myCollections"]) == ["Gifts"]
    assert await count_rows(session_maker, CollectionItem) == 0


@pytest.mark.parametrize("reader", ["anonymous", "customer", "admin"])
async def test_someone_elses_private_collection_does_not_exist(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, reader: str
) -> None:
    kettle = await create_product(session_maker, name="Kettle")
    owner = await shopper(client, gql, session_maker)
    secret = await new_collection(owner, "Secret")
    await owner(ADD_TO_COLLECTION, **item(secret, kettle))
    token = None
    if reader != "anonymous":
        role = Role.ADMIN if reader == "admin" else Role.CUSTOMER
        token = (await shopper(client, gql, session_maker, role)).token

    read = await gql(COLLECTION, {"id": secret["id"]}, token=token)
    node = await gql(NODE, {"id": secret["id"]}, token=token)

    assert read == {"data": {"collection": None}}
    assert node == {"data": {"node": None}}
    assert (await owner(COLLECTION, id=secret["id"]))["collection"]["name"] == "Secret"
    assert (await owner(NODE, id=secret["id"]))["node"] == {"name": "Secret"}


async def test_changing_someone_elses_collection_is_not_found_and_changes_nothing(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettle = await create_product(session_maker, name="Kettle")
    teapot = await create_product(session_maker, name="Teapot")
    owner = await shopper(client, gql, session_maker)
    public = await new_collection(owner, "Shared", visibility="PUBLIC")
    await owner(ADD_TO_COLLECTION, **item(public, kettle))
    intruder = await shopper(client, gql, session_maker)
    not_found = [{"field": "collectionId", "code": "NOT_FOUND"}]

    added = await intruder(ADD_TO_COLLECTION, **item(public, teapot))
    removed = await intruder(REMOVE_FROM_COLLECTION, **item(public, kettle))
    deleted = await intruder(DELETE_COLLECTION, id=public["id"])

    assert added["addToCollection"] == {"collection": None, "errors": not_found}
    assert removed["removeFromCollection"] == {"collection": None, "errors": not_found}
    assert deleted["deleteCollection"] == {"deletedCollectionId": None, "errors": not_found}
    shown = (await gql(COLLECTION, {"id": public["id"]}))["data"]["collection"]
    assert names(shown["products"]) == ["Kettle"]
    assert await count_rows(session_maker, Collection) == 1
    assert await count_rows(session_maker, CollectionItem) == 1


async def test_a_public_collection_is_readable_by_anyone(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    snapshot: SnapshotAssertion,
) -> None:
    category = await create_category(session_maker, name="Kitchen")
    kettle = await create_product(session_maker, name="Kettle", category=category)
    teapot = await create_product(session_maker, name="Чайник", category=category)
    owner = await shopper(client, gql, session_maker)
    await owner(ADD_FAVORITE, id=product_gid(teapot))
    shared = await new_collection(owner, "Shared", visibility="PUBLIC")
    await owner(ADD_TO_COLLECTION, **item(shared, kettle))
    await owner(ADD_TO_COLLECTION, **item(shared, teapot))
    document = """query ($id: ID!) { collection(id: $id) {
      name visibility productCount owner { fullName avatarUrl account { email } }
      products(first: 1) {
        edges { node { name price { amount currency } category { name } favoriteCount } }
        pageInfo { hasNextPage }
      }
    } }"""

    body = await gql(document, {"id": shared["id"]})

    assert body == snapshot
    assert (await gql(NODE, {"id": shared["id"]}))["data"]["node"] == {"name": "Shared"}


async def test_archived_products_leave_favorites_and_collections(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettle = await create_product(session_maker, name="Kettle")
    teapot = await create_product(session_maker, name="Teapot")
    me = await shopper(client, gql, session_maker)
    wishlist = await new_collection(me)
    for product in (kettle, teapot):
        await me(ADD_FAVORITE, id=product_gid(product))
        await me(ADD_TO_COLLECTION, **item(wishlist, product))
        await me(RECORD_VIEW, id=product_gid(product))

    await archive(session_maker, teapot)

    assert names((await me(MY_FAVORITES))["myFavorites"]) == ["Kettle"]
    assert names((await me(MY_RECENTLY_VIEWED))["myRecentlyViewed"]) == ["Kettle"]
    shown = (await me(COLLECTION, id=wishlist["id"]))["collection"]
    assert names(shown["products"]) == ["Kettle"]
    assert shown["productCount"] == 1


SIGNED_IN_ONLY = {
    "myFavorites": (MY_FAVORITES, lambda ids: {}),
    "myCollections": (MY_COLLECTIONS, lambda ids: {}),
    "myRecentlyViewed": (MY_RECENTLY_VIEWED, lambda ids: {}),
    "addFavorite": (ADD_FAVORITE, lambda ids: {"id": ids["product"]}),
    "removeFavorite": (REMOVE_FAVORITE, lambda ids: {"id": ids["product"]}),
    "createCollection": (CREATE_COLLECTION, lambda ids: {"input": {"name": "Mine"}}),
    "addToCollection": (ADD_TO_COLLECTION, lambda ids: {"input": ids["item"]}),
    "removeFromCollection": (REMOVE_FROM_COLLECTION, lambda ids: {"input": ids["item"]}),
    "deleteCollection": (DELETE_COLLECTION, lambda ids: {"id": ids["collection"]}),
}


@pytest.mark.parametrize("operation", list(SIGNED_IN_ONLY))
async def test_anonymous_callers_are_unauthenticated(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, operation: str
) -> None:
    kettle = await create_product(session_maker, name="Kettle")
    owner = await shopper(client, gql, session_maker)
    shared = await new_collection(owner, "Shared", visibility="PUBLIC")
    ids = {
        "product": product_gid(kettle),
        "collection": shared["id"],
        "item": item(shared, kettle)["input"],
    }
    document, variables = SIGNED_IN_ONLY[operation]

    body = await gql(document, variables(ids))

    assert error_codes(body) == ["UNAUTHENTICATED"], body
    assert body["data"] is None
    assert await count_rows(session_maker, Collection) == 1
    assert await count_rows(session_maker, CollectionItem) == 0
    assert await count_rows(session_maker, Favorite) == 0


# Views


async def test_record_product_view_counts_once_per_viewer_and_hour(
    gql: GraphQLClient, session_maker: SessionMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    kettle = await create_product(session_maker, name="Kettle")
    variables = {"id": product_gid(kettle)}

    async def view(user_agent: str) -> dict[str, Any]:
        body = await gql(RECORD_VIEW, variables, headers={"user-agent": user_agent})
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["recordProductView"]
        return payload

    first = await view("Firefox")
    repeated = await view("Firefox")
    other_client = await view("Safari")
    assert first == {"counted": True, "product": {"name": "Kettle", "viewCount": 1}, "errors": []}
    assert repeated == {
        "counted": False,
        "product": {"name": "Kettle", "viewCount": 1},
        "errors": [],
    }
    assert other_client["counted"] is True
    assert other_client["product"]["viewCount"] == 2

    later = utcnow() + timedelta(hours=1)
    monkeypatch.setattr(engagement_schema, "utcnow", lambda: later)
    next_hour = await view("Firefox")
    assert next_hour["counted"] is True
    assert next_hour["product"]["viewCount"] == 3


async def test_an_untrusted_forwarded_for_header_does_not_make_a_new_viewer(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettle = await create_product(session_maker, name="Kettle")
    variables = {"id": product_gid(kettle)}
    counted = []
    for forwarded in ("203.0.113.1", "203.0.113.2"):
        headers = {"user-agent": "Firefox", "x-forwarded-for": forwarded}
        body = await gql(RECORD_VIEW, variables, headers=headers)
        counted.append(body["data"]["recordProductView"]["counted"])
    assert counted == [True, False]
    assert await count_rows(session_maker, ProductView) == 1


async def test_a_signed_in_viewer_counts_once_per_hour_whatever_the_client(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettle = await create_product(session_maker, name="Kettle")
    me = await shopper(client, gql, session_maker)
    variables = {"id": product_gid(kettle)}

    first = await gql(RECORD_VIEW, variables, token=me.token, headers={"user-agent": "A"})
    second = await gql(RECORD_VIEW, variables, token=me.token, headers={"user-agent": "B"})

    assert first["data"]["recordProductView"]["counted"] is True
    assert second["data"]["recordProductView"]["counted"] is False
    assert second["data"]["recordProductView"]["product"]["viewCount"] == 1
    assert await count_rows(session_maker, ProductView) == 1


async def test_viewing_an_archived_product_is_not_found(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    archived = await create_product(session_maker, active=False)

    body = await gql(RECORD_VIEW, {"id": product_gid(archived)})

    assert body["data"]["recordProductView"] == {
        "counted": False,
        "product": None,
        "errors": [{"field": "productId", "code": "NOT_FOUND"}],
    }
    assert await count_rows(session_maker, ProductView) == 0


async def test_my_recently_viewed_is_the_most_recent_first_each_product_once(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettle = await create_product(session_maker, name="Kettle")
    teapot = await create_product(session_maker, name="Teapot")
    cup = await create_product(session_maker, name="Cup")
    me = await shopper(client, gql, session_maker)
    anonymous_view = await gql(RECORD_VIEW, {"id": product_gid(cup)})
    assert anonymous_view["data"]["recordProductView"]["counted"] is True

    for product in (kettle, teapot, cup, kettle):
        await me(RECORD_VIEW, id=product_gid(product))

    assert names((await me(MY_RECENTLY_VIEWED))["myRecentlyViewed"]) == [
        "Kettle",
        "Cup",
        "Teapot",
    ]
    page = await me("{ myRecentlyViewed(first: 2) { pageInfo { endCursor hasNextPage } } }")
    info = page["myRecentlyViewed"]["pageInfo"]
    assert info["hasNextPage"] is True
    rest = await me(
        "query ($after: String!) { myRecentlyViewed(after: $after) { edges { node { name } } } }",
        after=info["endCursor"],
    )
    assert names(rest["myRecentlyViewed"]) == ["Teapot"]


# Statement counts

MY_COLLECTIONS_NESTED = """{ myCollections { edges { node {
  name products(first: 5) { edges { node { name favoriteCount } } }
} } } }"""
# The collections, one window over their products, one batch of favorite counts.
MY_COLLECTIONS_STATEMENTS = 3


async def test_my_collections_with_their_products_do_not_grow_with_the_collections(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    category = await create_category(session_maker)
    products = [
        await create_product(session_maker, name=f"Product {n}", category=category)
        for n in range(6)
    ]
    me = await shopper(client, gql, session_maker)
    counts = {}
    for total in (1, 3, 8):
        existing = len((await me(MY_COLLECTIONS))["myCollections"]["edges"])
        for n in range(existing, total):
            collection = await new_collection(me, f"Collection {n}")
            for product in products[: 1 + n % 6]:
                await me(ADD_TO_COLLECTION, **item(collection, product))
        with count_statements(app.state.services.engine) as log:
            data = await me(MY_COLLECTIONS_NESTED)
        shown = data["myCollections"]["edges"]
        assert len(shown) == total
        counts[total] = log.count
    assert set(counts.values()) == {MY_COLLECTIONS_STATEMENTS}, counts


MY_FAVORITES_PAGE = """query ($first: Int!) { myFavorites(first: $first) { edges { node {
  name price { amount } category { name } favoriteCount viewCount viewerHasFavorited
} } } }"""
# The page, its categories, favorite counts, view counts and the viewer's favorites.
MY_FAVORITES_STATEMENTS = 5


async def test_a_page_of_my_favorites_costs_the_same_for_1_20_and_100(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    category = await create_category(session_maker)
    products = [await create_product(session_maker, category=category) for _ in range(100)]
    me = await shopper(client, gql, session_maker)
    await add_favorites(session_maker, me.user_id, products)
    counts = {}
    for first in (1, 20, 100):
        with count_statements(app.state.services.engine) as log:
            data = await me(MY_FAVORITES_PAGE, first=first)
        assert len(data["myFavorites"]["edges"]) == first
        counts[first] = log.count
    assert set(counts.values()) == {MY_FAVORITES_STATEMENTS}, counts
