"""Products over HTTP: creating, updating, archiving (every rule checked), reading by id or slug."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from hom.audit.models import AuditEntry
from hom.catalog.models import Category, Product
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from tests.catalog.factories import (
    add_favorites,
    add_views,
    create_category,
    create_product,
    global_id,
)
from tests.factories import create_user, signed_in
from tests.support import GraphQLClient, error_codes

PRODUCT_FIELDS = """id sku slug name description price { amount currency } isActive
  category { slug } availableQuantity favoriteCount viewCount viewerHasFavorited"""
CREATE = f"""mutation ($input: CreateProductInput!) {{
  createProduct(input: $input) {{ product {{ {PRODUCT_FIELDS} }} errors {{ field code }} }}
}}"""
UPDATE = f"""mutation ($input: UpdateProductInput!) {{
  updateProduct(input: $input) {{ product {{ {PRODUCT_FIELDS} }} errors {{ field code }} }}
}}"""
ARCHIVE = """mutation ($id: ID!) {
  archiveProduct(id: $id) { product { id isActive } errors { field code } }
}"""
BY_ID = "query ($id: ID!) { product(id: $id) { id name isActive } }"
BY_SLUG = "query ($slug: String!) { product(slug: $slug) { id name isActive } }"
BY_NODE = "query ($id: ID!) { node(id: $id) { ... on Product { id name isActive } } }"
IN_CATEGORY = """query ($slug: String!) {
  category(slug: $slug) { productCount products { edges { node { slug } } } }
}"""


async def token_of(client: httpx.AsyncClient, session_maker: SessionMaker, role: Role) -> str:
    _, tokens = await signed_in(client, session_maker, role)
    return tokens.access_token


def new_product(category: Category, **fields: Any) -> dict[str, Any]:
    return {
        "sku": "KET-1",
        "slug": "steel-kettle",
        "name": "Steel kettle",
        "description": "Boils water.",
        "price": "24.5",
        "categoryId": global_id("Category", category.id),
        **fields,
    }


async def products_in_db(session_maker: SessionMaker) -> list[dict[str, Any]]:
    async with unit_of_work(session_maker) as session:
        rows = await session.exec(select(Product).order_by(col(Product.id)))
        return [p.model_dump(exclude={"search_document"}) for p in rows]


async def product_entries(session_maker: SessionMaker) -> list[AuditEntry]:
    async with unit_of_work(session_maker) as session:
        statement = select(AuditEntry).where(col(AuditEntry.entity) == "Product")
        return list((await session.exec(statement.order_by(col(AuditEntry.id)))).all())


async def test_operator_creates_a_product_with_defaults_and_an_audit_entry(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    token = await token_of(client, session_maker, Role.OPERATOR)

    body = await gql(CREATE, {"input": new_product(kitchen)}, token=token)

    payload = body["data"]["createProduct"]
    assert payload["errors"] == []
    product = payload["product"]
    assert product.pop("id").startswith("UHJvZHVjdDo")  # "Product:"
    assert product == {
        "sku": "KET-1",
        "slug": "steel-kettle",
        "name": "Steel kettle",
        "description": "Boils water.",
        "price": {"amount": "24.50", "currency": "EUR"},
        "isActive": True,
        "category": {"slug": "kitchen"},
        "availableQuantity": 0,
        "favoriteCount": 0,
        "viewCount": 0,
        "viewerHasFavorited": False,
    }
    (entry,) = await product_entries(session_maker)
    assert entry.action == "product.create"
    assert entry.changes == {
        "sku": "KET-1",
        "slug": "steel-kettle",
        "name": "Steel kettle",
        "description": "Boils water.",
        "price": "24.50",
        "currency": "EUR",
        "category_id": kitchen.id,
        "is_active": True,
    }


@pytest.mark.parametrize("price", [9.9, "9.90", 9, "0"])
async def test_a_price_is_read_as_written(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, price: Any
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    token = await token_of(client, session_maker, Role.ADMIN)
    body = await gql(CREATE, {"input": new_product(kitchen, price=price)}, token=token)
    amount = body["data"]["createProduct"]["product"]["price"]["amount"]
    assert Decimal(amount) == Decimal(str(price))
    assert amount == f"{Decimal(str(price)):.2f}"


INVALID_PRODUCTS: list[tuple[dict[str, Any], str, str]] = [
    ({"price": "-0.01"}, "price", "INVALID"),
    ({"price": "9.999"}, "price", "INVALID"),
    ({"price": "10000000000"}, "price", "INVALID"),
    ({"slug": "Steel_Kettle"}, "slug", "INVALID"),
    ({"slug": "s" * 161}, "slug", "INVALID"),
    ({"sku": " "}, "sku", "INVALID"),
    ({"sku": "k" * 65}, "sku", "INVALID"),
    ({"name": ""}, "name", "INVALID"),
    ({"name": "n" * 201}, "name", "INVALID"),
    ({"description": "d" * 10_001}, "description", "INVALID"),
    ({"currency": "eur"}, "currency", "INVALID"),
    ({"currency": "EURO"}, "currency", "INVALID"),
    ({"categoryId": global_id("Category", 999_999)}, "categoryId", "NOT_FOUND"),
    ({"sku": "existing-sku"}, "sku", "ALREADY_EXISTS"),  # another case of EXISTING-SKU
    ({"slug": "existing"}, "slug", "ALREADY_EXISTS"),
]


@pytest.mark.parametrize(
    ("given", "field", "code"), INVALID_PRODUCTS, ids=[f"{c[1]}-{c[2]}" for c in INVALID_PRODUCTS]
)
async def test_create_product_errors_change_nothing(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    given: dict[str, Any],
    field: str,
    code: str,
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    await create_product(session_maker, kitchen, sku="EXISTING-SKU", slug="existing")
    token = await token_of(client, session_maker, Role.OPERATOR)
    before = await products_in_db(session_maker)

    body = await gql(CREATE, {"input": new_product(kitchen, **given)}, token=token)

    assert body["data"]["createProduct"] == {
        "product": None,
        "errors": [{"field": field, "code": code}],
    }
    assert await products_in_db(session_maker) == before
    assert await product_entries(session_maker) == []


@pytest.mark.parametrize("price", ["NaN", "Infinity", "nine", True])
async def test_a_price_that_is_no_number_is_bad_user_input(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, price: Any
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    token = await token_of(client, session_maker, Role.OPERATOR)
    body = await gql(CREATE, {"input": new_product(kitchen, price=price)}, token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert await products_in_db(session_maker) == []


async def test_update_changes_only_the_given_fields(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    garden = await create_category(session_maker, "Garden")
    product = await create_product(session_maker, kitchen)
    token = await token_of(client, session_maker, Role.OPERATOR)
    product_id = global_id("Product", product.id)

    body = await gql(
        UPDATE,
        {
            "input": {
                "id": product_id,
                "price": "12",
                "name": "Renamed",
                "categoryId": global_id("Category", garden.id),
            }
        },
        token=token,
    )

    updated = body["data"]["updateProduct"]["product"]
    assert (updated["name"], updated["price"], updated["category"]) == (
        "Renamed",
        {"amount": "12.00", "currency": "EUR"},
        {"slug": "garden"},
    )
    assert (updated["sku"], updated["slug"]) == (product.sku, product.slug)
    (entry,) = await product_entries(session_maker)
    assert entry.action == "product.update"
    assert entry.changes == {
        "name": {"from": product.name, "to": "Renamed"},
        "price": {"from": "9.90", "to": "12.00"},
        "category_id": {"from": kitchen.id, "to": garden.id},
    }
    async with unit_of_work(session_maker) as session:
        stored = await session.get(Product, product.id)
        assert stored is not None
        assert stored.updated_at is not None
        assert product.updated_at is not None
        assert stored.updated_at > product.updated_at


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({"price": "-1"}, "price", "INVALID"),
        ({"price": "1.001"}, "price", "INVALID"),
        ({"slug": "not a slug"}, "slug", "INVALID"),
        ({"sku": "other-SKU"}, "sku", "ALREADY_EXISTS"),
        ({"slug": "other"}, "slug", "ALREADY_EXISTS"),
        ({"categoryId": global_id("Category", 999_999)}, "categoryId", "NOT_FOUND"),
        ({"id": global_id("Product", 999_999)}, "id", "NOT_FOUND"),
    ],
)
async def test_update_errors_change_nothing(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    given: dict[str, Any],
    field: str,
    code: str,
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    product = await create_product(session_maker, kitchen, index=1)
    await create_product(session_maker, kitchen, index=2, sku="OTHER-sku", slug="other")
    token = await token_of(client, session_maker, Role.OPERATOR)
    before = await products_in_db(session_maker)
    changes = {"id": global_id("Product", product.id), "name": "Would change", **given}

    body = await gql(UPDATE, {"input": changes}, token=token)

    assert body["data"]["updateProduct"] == {
        "product": None,
        "errors": [{"field": field, "code": code}],
    }
    assert await products_in_db(session_maker) == before
    assert await product_entries(session_maker) == []


async def test_archive_is_idempotent_and_audited(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    product = await create_product(session_maker, kitchen)
    token = await token_of(client, session_maker, Role.OPERATOR)
    product_id = global_id("Product", product.id)

    first = await gql(ARCHIVE, {"id": product_id}, token=token)
    second = await gql(ARCHIVE, {"id": product_id}, token=token)
    unknown = await gql(ARCHIVE, {"id": global_id("Product", 999_999)}, token=token)

    archived = {"product": {"id": product_id, "isActive": False}, "errors": []}
    assert first["data"]["archiveProduct"] == second["data"]["archiveProduct"] == archived
    assert unknown["data"]["archiveProduct"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    entries = await product_entries(session_maker)
    assert [(e.action, e.changes) for e in entries] == [
        ("product.archive", {"is_active": {"from": True, "to": False}}),
        ("product.archive", {}),
    ]


@pytest.mark.parametrize("role", [None, Role.CUSTOMER, Role.STAFF])
async def test_an_archived_product_does_not_exist_for_shoppers(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, role: Role | None
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    shown = await create_product(session_maker, kitchen, index=1)
    archived = await create_product(session_maker, kitchen, index=2, is_active=False)
    token = None if role is None else await token_of(client, session_maker, role)
    archived_id = global_id("Product", archived.id)

    assert (await gql(BY_ID, {"id": archived_id}, token=token))["data"] == {"product": None}
    assert (await gql(BY_SLUG, {"slug": archived.slug}, token=token))["data"] == {"product": None}
    assert (await gql(BY_NODE, {"id": archived_id}, token=token))["data"] == {"node": None}
    listed = await gql(IN_CATEGORY, {"slug": "kitchen"}, token=token)
    assert listed["data"]["category"] == {
        "productCount": 1,
        "products": {"edges": [{"node": {"slug": shown.slug}}]},
    }


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
async def test_operators_and_admins_see_archived_products(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, role: Role
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    shown = await create_product(session_maker, kitchen, index=1)
    archived = await create_product(session_maker, kitchen, index=2, is_active=False)
    token = await token_of(client, session_maker, role)
    archived_id = global_id("Product", archived.id)
    expected = {"id": archived_id, "name": archived.name, "isActive": False}

    assert (await gql(BY_ID, {"id": archived_id}, token=token))["data"] == {"product": expected}
    assert (await gql(BY_SLUG, {"slug": archived.slug}, token=token))["data"]["product"] == expected
    assert (await gql(BY_NODE, {"id": archived_id}, token=token))["data"] == {"node": expected}
    listed = await gql(IN_CATEGORY, {"slug": "kitchen"}, token=token)
    assert listed["data"]["category"] == {
        "productCount": 2,
        "products": {"edges": [{"node": {"slug": s}} for s in (archived.slug, shown.slug)]},
    }


@pytest.mark.parametrize(
    "arguments",
    ["", '(id: "UHJvZHVjdDox", slug: "x")', '(id: "not-an-id")', '(id: "Q2F0ZWdvcnk6MQ==")'],
)
async def test_product_needs_exactly_one_well_formed_key(
    gql: GraphQLClient, arguments: str
) -> None:
    body = await gql(f"{{ product{arguments} {{ id }} }}")
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_counts_and_the_viewers_favorite(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    liked = await create_product(session_maker, kitchen, index=1)
    other = await create_product(session_maker, kitchen, index=2)
    fan, tokens = await signed_in(client, session_maker)
    someone = await create_user(session_maker)
    await add_favorites(session_maker, fan.id, [liked])
    await add_favorites(session_maker, someone.id, [liked, other])
    await add_views(session_maker, liked, 3)
    query = """query ($slug: String!) { product(slug: $slug) {
      favoriteCount viewCount viewerHasFavorited availableQuantity } }"""

    as_fan = await gql(query, {"slug": liked.slug}, token=tokens.access_token)
    anonymous = await gql(query, {"slug": liked.slug})
    other_as_fan = await gql(query, {"slug": other.slug}, token=tokens.access_token)

    counts = {"favoriteCount": 2, "viewCount": 3, "availableQuantity": 0}
    assert as_fan["data"]["product"] == {**counts, "viewerHasFavorited": True}
    assert anonymous["data"]["product"] == {**counts, "viewerHasFavorited": False}
    assert other_as_fan["data"]["product"] == {
        "favoriteCount": 1,
        "viewCount": 0,
        "viewerHasFavorited": False,
        "availableQuantity": 0,
    }
