"""The category tree over HTTP: reading it, and editing it with every rule checked."""

from __future__ import annotations

from typing import Any

import httpx
from sqlmodel import col, select

from hom.audit.models import AuditEntry
from hom.catalog.models import Category
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from tests.catalog.factories import create_category, create_product, global_id
from tests.factories import signed_in
from tests.support import GraphQLClient, error_codes

CATEGORY_FIELDS = "id name slug parent { slug } children { slug }"
CREATE = f"""mutation ($input: CreateCategoryInput!) {{
  createCategory(input: $input) {{
    category {{ {CATEGORY_FIELDS} }} errors {{ field code message }}
  }}
}}"""
UPDATE = f"""mutation ($input: UpdateCategoryInput!) {{
  updateCategory(input: $input) {{ category {{ {CATEGORY_FIELDS} }} errors {{ field code }} }}
}}"""
DELETE = """mutation ($id: ID!) {
  deleteCategory(id: $id) { deletedCategoryId errors { field code } }
}"""
TREE = """{ categories { slug productCount children { slug children { slug } } } }"""


async def operator_token(client: httpx.AsyncClient, session_maker: SessionMaker) -> str:
    _, tokens = await signed_in(client, session_maker, Role.OPERATOR)
    return tokens.access_token


async def all_categories(session_maker: SessionMaker) -> list[tuple[str, str, int | None]]:
    async with unit_of_work(session_maker) as session:
        rows = await session.exec(select(Category).order_by(col(Category.id)))
        return [(c.name, c.slug, c.parent_id) for c in rows]


async def audit_entries(session_maker: SessionMaker, entity: str) -> list[AuditEntry]:
    async with unit_of_work(session_maker) as session:
        statement = select(AuditEntry).where(col(AuditEntry.entity) == entity)
        return list((await session.exec(statement.order_by(col(AuditEntry.id)))).all())


async def test_categories_are_the_roots_by_name_with_the_tree_below(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    garden = await create_category(session_maker, "Garden")
    kettles = await create_category(session_maker, "Kettles", parent=kitchen)
    await create_category(session_maker, "Cups", parent=kitchen)
    await create_category(session_maker, "Electric", slug="electric-kettles", parent=kettles)
    await create_product(session_maker, garden)

    body = await gql(TREE)

    assert body == {
        "data": {
            "categories": [
                {"slug": "garden", "productCount": 1, "children": []},
                {
                    "slug": "kitchen",
                    "productCount": 0,
                    "children": [
                        {"slug": "cups", "children": []},
                        {"slug": "kettles", "children": [{"slug": "electric-kettles"}]},
                    ],
                },
            ]
        }
    }


async def test_category_by_slug_and_by_node_id(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    kettles = await create_category(session_maker, "Kettles", parent=kitchen)
    expected = {"id": global_id("Category", kettles.id), "name": "Kettles", "slug": "kettles"}
    fields = "id name slug parent { name }"

    by_slug = await gql(f'{{ category(slug: "kettles") {{ {fields} }} }}')
    by_node = await gql(
        f"query ($id: ID!) {{ node(id: $id) {{ ... on Category {{ {fields} }} }} }}",
        {"id": global_id("Category", kettles.id)},
    )
    nothing = await gql('{ category(slug: "no-such-slug") { id } }')

    assert by_slug["data"]["category"] == {**expected, "parent": {"name": "Kitchen"}}
    assert by_node["data"]["node"] == by_slug["data"]["category"]
    assert nothing == {"data": {"category": None}}


async def test_operator_creates_a_tree_and_the_audit_log_says_so(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    token = await operator_token(client, session_maker)
    root = await gql(CREATE, {"input": {"name": "  Kitchen ", "slug": "kitchen"}}, token=token)
    created = root["data"]["createCategory"]
    assert created["errors"] == []
    assert created["category"]["name"] == "Kitchen"
    child = await gql(
        CREATE,
        {"input": {"name": "Kettles", "slug": "kettles", "parentId": created["category"]["id"]}},
        token=token,
    )

    assert child["data"]["createCategory"]["category"]["parent"] == {"slug": "kitchen"}
    kitchen, kettles = await audit_entries(session_maker, "Category")
    assert kitchen.action == kettles.action == "category.create"
    assert kettles.changes == {
        "name": "Kettles",
        "slug": "kettles",
        "parent_id": int(kitchen.entity_id),
    }


async def test_update_renames_and_moves_and_audits_a_diff(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    garden = await create_category(session_maker, "Garden")
    kettles = await create_category(session_maker, "Kettles", parent=kitchen)
    token = await operator_token(client, session_maker)
    kettles_id = global_id("Category", kettles.id)

    moved = await gql(
        UPDATE,
        {
            "input": {
                "id": kettles_id,
                "name": "Water kettles",
                "parentId": global_id("Category", garden.id),
            }
        },
        token=token,
    )
    to_top = await gql(UPDATE, {"input": {"id": kettles_id, "parentId": None}}, token=token)
    kept = await gql(UPDATE, {"input": {"id": kettles_id, "slug": "water-kettles"}}, token=token)

    assert moved["data"]["updateCategory"]["category"]["parent"] == {"slug": "garden"}
    assert to_top["data"]["updateCategory"]["category"]["parent"] is None
    assert kept["data"]["updateCategory"]["category"] == {
        "id": kettles_id,
        "name": "Water kettles",
        "slug": "water-kettles",
        "parent": None,
        "children": [],
    }
    entries = await audit_entries(session_maker, "Category")
    assert [entry.action for entry in entries] == ["category.update"] * 3
    assert entries[0].changes == {
        "name": {"from": "Kettles", "to": "Water kettles"},
        "parent_id": {"from": kitchen.id, "to": garden.id},
    }
    assert entries[1].changes == {"parent_id": {"from": garden.id, "to": None}}


async def test_a_category_cannot_move_under_itself_or_its_subtree(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    top = await create_category(session_maker, "Top")
    middle = await create_category(session_maker, "Middle", parent=top)
    bottom = await create_category(session_maker, "Bottom", parent=middle)
    token = await operator_token(client, session_maker)
    before = await all_categories(session_maker)

    for new_parent in (top, middle, bottom):
        body = await gql(
            UPDATE,
            {
                "input": {
                    "id": global_id("Category", top.id),
                    "parentId": global_id("Category", new_parent.id),
                }
            },
            token=token,
        )
        assert body["data"]["updateCategory"] == {
            "category": None,
            "errors": [{"field": "parentId", "code": "INVALID"}],
        }
    assert await all_categories(session_maker) == before
    assert await audit_entries(session_maker, "Category") == []


async def test_category_input_errors_change_nothing(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    await create_category(session_maker, "Kitchen")
    token = await operator_token(client, session_maker)
    before = await all_categories(session_maker)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"name": "X", "slug": "Bad Slug"}, "slug", "INVALID"),
        ({"name": "X", "slug": "trailing-"}, "slug", "INVALID"),
        ({"name": "X", "slug": "a" * 121}, "slug", "INVALID"),
        ({"name": "   ", "slug": "blank"}, "name", "INVALID"),
        ({"name": "n" * 121, "slug": "long"}, "name", "INVALID"),
        ({"name": "Other", "slug": "kitchen"}, "slug", "ALREADY_EXISTS"),
        (
            {"name": "X", "slug": "x", "parentId": global_id("Category", 999_999)},
            "parentId",
            "NOT_FOUND",
        ),
    ]
    for given, field, code in cases:
        body = await gql(CREATE, {"input": given}, token=token)
        payload = body["data"]["createCategory"]
        assert payload["category"] is None, given
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], given
    assert await all_categories(session_maker) == before
    assert await audit_entries(session_maker, "Category") == []


async def test_update_to_a_taken_slug_is_already_exists(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    await create_category(session_maker, "Kitchen")
    garden = await create_category(session_maker, "Garden")
    token = await operator_token(client, session_maker)
    body = await gql(
        UPDATE,
        {"input": {"id": global_id("Category", garden.id), "name": "Renamed", "slug": "kitchen"}},
        token=token,
    )
    assert body["data"]["updateCategory"]["errors"] == [{"field": "slug", "code": "ALREADY_EXISTS"}]
    assert ("Garden", "garden", None) in await all_categories(session_maker)


async def test_delete_refuses_a_category_with_products_or_children(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    await create_category(session_maker, "Kettles", parent=kitchen)
    garden = await create_category(session_maker, "Garden")
    await create_product(session_maker, garden, is_active=False)  # archived ones count too
    token = await operator_token(client, session_maker)
    before = await all_categories(session_maker)

    for category in (kitchen, garden):
        body = await gql(DELETE, {"id": global_id("Category", category.id)}, token=token)
        assert body["data"]["deleteCategory"] == {
            "deletedCategoryId": None,
            "errors": [{"field": "id", "code": "INVALID"}],
        }
    assert await all_categories(session_maker) == before


async def test_delete_an_empty_category(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    empty = await create_category(session_maker, "Empty")
    token = await operator_token(client, session_maker)
    empty_id = global_id("Category", empty.id)

    body = await gql(DELETE, {"id": empty_id}, token=token)
    again = await gql(DELETE, {"id": empty_id}, token=token)
    wrong_type = await gql(DELETE, {"id": global_id("Product", 1)}, token=token)

    assert body["data"]["deleteCategory"] == {"deletedCategoryId": empty_id, "errors": []}
    assert again["data"]["deleteCategory"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert error_codes(wrong_type) == ["BAD_USER_INPUT"]
    assert await all_categories(session_maker) == []
    (entry,) = await audit_entries(session_maker, "Category")
    assert (entry.action, entry.entity_id) == ("category.delete", str(empty.id))
    assert entry.changes == {"name": "Empty", "slug": "empty", "parent_id": None}
