"""SPEC §6 for every catalog root field: who gets UNAUTHENTICATED, FORBIDDEN, or an answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from hom.accounts.models import User
from hom.audit.models import AuditEntry
from hom.catalog import collections
from hom.catalog.models import Category, Collection, Product, Visibility
from hom.catalog.schema import (
    CatalogEngagementMutation,
    CatalogEngagementQuery,
    CatalogMutation,
    CatalogQuery,
)
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from tests.accounts.test_role_matrix import CALLERS, DENY, OK, UNAUTH, Expect
from tests.catalog.factories import create_category, create_product, global_id
from tests.factories import create_user, login_tokens
from tests.support import GraphQLClient, error_codes

# SPEC §6: everyone browses the catalog; operators and admins edit it.
# field              anonymous  CUSTOMER  STAFF  OPERATOR  ADMIN
MATRIX: dict[str, tuple[Expect, Expect, Expect, Expect, Expect]] = {
    "categories":       (OK,     OK,       OK,    OK,       OK),
    "category":         (OK,     OK,       OK,    OK,       OK),
    "products":         (OK,     OK,       OK,    OK,       OK),
    "product":          (OK,     OK,       OK,    OK,       OK),
    "createCategory":   (UNAUTH, DENY,     DENY,  OK,       OK),
    "updateCategory":   (UNAUTH, DENY,     DENY,  OK,       OK),
    "deleteCategory":   (UNAUTH, DENY,     DENY,  OK,       OK),
    "createProduct":    (UNAUTH, DENY,     DENY,  OK,       OK),
    "updateProduct":    (UNAUTH, DENY,     DENY,  OK,       OK),
    "archiveProduct":   (UNAUTH, DENY,     DENY,  OK,       OK),
}  # fmt: skip
# SPEC §6: favorites, collections and recently viewed are the signed-in user's own;
# a public collection is readable and a view is recorded for everyone.
MATRIX.update({
    "myFavorites":          (UNAUTH, OK,   OK,    OK,       OK),
    "myCollections":        (UNAUTH, OK,   OK,    OK,       OK),
    "collection":           (OK,     OK,   OK,    OK,       OK),
    "myRecentlyViewed":     (UNAUTH, OK,   OK,    OK,       OK),
    "addFavorite":          (UNAUTH, OK,   OK,    OK,       OK),
    "removeFavorite":       (UNAUTH, OK,   OK,    OK,       OK),
    "createCollection":     (UNAUTH, OK,   OK,    OK,       OK),
    "addToCollection":      (UNAUTH, OK,   OK,    OK,       OK),
    "removeFromCollection": (UNAUTH, OK,   OK,    OK,       OK),
    "deleteCollection":     (UNAUTH, OK,   OK,    OK,       OK),
    "recordProductView":    (OK,     OK,   OK,    OK,       OK),
})  # fmt: skip


@dataclass(frozen=True)
class Rows:
    """What an operation may refer to: a category with a product, an empty category, and a
    public collection holding the product (the caller's own when signed in)."""

    category: Category
    product: Product
    empty: Category
    collection: Collection | None = None


@dataclass(frozen=True)
class Operation:
    document: str
    variables: Callable[[Rows], dict[str, Any]]


def no_variables(_: Rows) -> dict[str, Any]:
    return {}


CATEGORY_PAYLOAD = "{ category { id } errors { field code } }"
PRODUCT_PAYLOAD = "{ product { id } errors { field code } }"

OPERATIONS: dict[str, Operation] = {
    "categories": Operation("{ categories { slug } }", no_variables),
    "category": Operation('{ category(slug: "kitchen") { slug } }', no_variables),
    "products": Operation("{ products(first: 5) { edges { node { name } } } }", no_variables),
    "product": Operation(
        "query ($id: ID!) { product(id: $id) { name } }",
        lambda rows: {"id": global_id("Product", rows.product.id)},
    ),
    "createCategory": Operation(
        "mutation ($input: CreateCategoryInput!) "
        f"{{ createCategory(input: $input) {CATEGORY_PAYLOAD} }}",
        lambda _: {"input": {"name": "New", "slug": "new"}},
    ),
    "updateCategory": Operation(
        "mutation ($input: UpdateCategoryInput!) "
        f"{{ updateCategory(input: $input) {CATEGORY_PAYLOAD} }}",
        lambda rows: {"input": {"id": global_id("Category", rows.category.id), "name": "R"}},
    ),
    "deleteCategory": Operation(
        "mutation ($id: ID!) { deleteCategory(id: $id) { deletedCategoryId errors { code } } }",
        lambda rows: {"id": global_id("Category", rows.empty.id)},
    ),
    "createProduct": Operation(
        f"mutation ($input: CreateProductInput!) "
        f"{{ createProduct(input: $input) {PRODUCT_PAYLOAD} }}",
        lambda rows: {
            "input": {
                "sku": "NEW-1",
                "slug": "new-product",
                "name": "New product",
                "price": "1.00",
                "categoryId": global_id("Category", rows.category.id),
            }
        },
    ),
    "updateProduct": Operation(
        f"mutation ($input: UpdateProductInput!) "
        f"{{ updateProduct(input: $input) {PRODUCT_PAYLOAD} }}",
        lambda rows: {"input": {"id": global_id("Product", rows.product.id), "price": "2"}},
    ),
    "archiveProduct": Operation(
        f"mutation ($id: ID!) {{ archiveProduct(id: $id) {PRODUCT_PAYLOAD} }}",
        lambda rows: {"id": global_id("Product", rows.product.id)},
    ),
}


def collection_item(rows: Rows) -> dict[str, Any]:
    assert rows.collection is not None
    return {
        "input": {
            "collectionId": global_id("Collection", rows.collection.id),
            "productId": global_id("Product", rows.product.id),
        }
    }


def collection_gid(rows: Rows) -> dict[str, Any]:
    assert rows.collection is not None
    return {"id": global_id("Collection", rows.collection.id)}


def product_gid(rows: Rows) -> dict[str, Any]:
    return {"id": global_id("Product", rows.product.id)}


COLLECTION_PAYLOAD = "{ collection { id } errors { field code } }"
OPERATIONS.update(
    {
        "myFavorites": Operation("{ myFavorites { edges { cursor } } }", no_variables),
        "myCollections": Operation("{ myCollections { edges { cursor } } }", no_variables),
        "collection": Operation(
            "query ($id: ID!) { collection(id: $id) { name } }", collection_gid
        ),
        "myRecentlyViewed": Operation("{ myRecentlyViewed { edges { cursor } } }", no_variables),
        "addFavorite": Operation(
            f"mutation ($id: ID!) {{ addFavorite(productId: $id) {PRODUCT_PAYLOAD} }}",
            product_gid,
        ),
        "removeFavorite": Operation(
            f"mutation ($id: ID!) {{ removeFavorite(productId: $id) {PRODUCT_PAYLOAD} }}",
            product_gid,
        ),
        "createCollection": Operation(
            "mutation ($input: CreateCollectionInput!) "
            f"{{ createCollection(input: $input) {COLLECTION_PAYLOAD} }}",
            lambda _: {"input": {"name": "New"}},
        ),
        "addToCollection": Operation(
            "mutation ($input: AddToCollectionInput!) "
            f"{{ addToCollection(input: $input) {COLLECTION_PAYLOAD} }}",
            collection_item,
        ),
        "removeFromCollection": Operation(
            "mutation ($input: RemoveFromCollectionInput!) "
            f"{{ removeFromCollection(input: $input) {COLLECTION_PAYLOAD} }}",
            collection_item,
        ),
        "deleteCollection": Operation(
            "mutation ($id: ID!) "
            "{ deleteCollection(id: $id) { deletedCollectionId errors { field code } } }",
            collection_gid,
        ),
        "recordProductView": Operation(
            "mutation ($id: ID!) "
            "{ recordProductView(productId: $id) { counted product { id } errors { code } } }",
            product_gid,
        ),
    }
)


def matrix_cases() -> list[Any]:
    return [
        pytest.param(name, caller, expected, id=f"{name}-{caller or 'anonymous'}")
        for name, row in MATRIX.items()
        for caller, expected in zip(CALLERS, row, strict=True)
    ]


def test_matrix_covers_every_catalog_root_field() -> None:
    fields = {
        to_camel_case(f.python_name)
        for root in (
            CatalogQuery,
            CatalogMutation,
            CatalogEngagementQuery,
            CatalogEngagementMutation,
        )
        for f in get_object_definition(root, strict=True).fields
    }
    assert fields == set(MATRIX) == set(OPERATIONS)


@pytest.mark.parametrize(("name", "caller", "expected"), matrix_cases())
async def test_role_matrix(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    name: str,
    caller: Role | None,
    expected: Expect,
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    product = await create_product(session_maker, kitchen)
    token: str | None = None
    # Signed in, the caller owns the collection; anonymous, someone else does.
    owner = await create_user(session_maker, role=caller or Role.CUSTOMER)
    if caller is not None:
        token = (await login_tokens(client, owner.email)).access_token
    rows = Rows(
        category=kitchen,
        product=product,
        empty=await create_category(session_maker, "Empty"),
        collection=await public_collection(session_maker, owner, product),
    )
    operation = OPERATIONS[name]

    body = await gql(operation.document, operation.variables(rows), token=token)

    codes = error_codes(body)
    if expected is Expect.OK:
        assert codes == [], body
        answer = body["data"][name]
        assert answer, body
        if isinstance(answer, dict) and "errors" in answer:
            assert answer["errors"] == [], body
    else:
        assert codes == [expected.value], body
        assert body["errors"][0]["path"] == [name]
        assert body["data"] is None, body
        assert await audit_count(session_maker) == 0, "a refused caller changed nothing"


async def public_collection(
    session_maker: SessionMaker, owner: User, product: Product
) -> Collection:
    assert owner.id is not None
    assert product.id is not None
    async with unit_of_work(session_maker) as session:
        collection = await collections.create_collection(
            session, owner_id=owner.id, name="Shared", visibility=Visibility.PUBLIC
        )
        assert collection.id is not None
        await collections.add_to_collection(
            session, owner_id=owner.id, collection_id=collection.id, product_id=product.id
        )
    return collection


async def audit_count(session_maker: SessionMaker) -> int:
    async with unit_of_work(session_maker) as session:
        return int((await session.exec(select(func.count()).select_from(AuditEntry))).one())
