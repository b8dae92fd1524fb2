"""What tests/perf/compare.py sends, and the proof that both servers answer the same data.

The catalog query asks each server for the same 50 products in H.O.M's default order
(NEWEST: `created_at DESC, id DESC`, hom/catalog/listing.py) with their category and its
parent, and their stock in each warehouse (H.O.M: by warehouse code, hom/inventory/reads.py).
PostGraphile cannot order a product's stock levels by a column of another table, so its
levels come by warehouse id and are sorted by code here; H.O.M's must already be in that
order. Stock levels are for operators and admins in H.O.M (a customer gets []), so H.O.M
is asked as an operator; PostGraphile has no permissions here (the database superuser),
and an operator sees archived products too, as PostGraphile does.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, NamedTuple

import httpx
from strawberry.relay import GlobalID

FIRST = 50
TYPENAME = "{ __typename }"
ME = "{ me { id } }"
HOM_CATALOG = (
    f"query Catalog {{ products(first: {FIRST}) {{ edges {{ node {{ id name price {{ amount }} "
    "category { name parent { name } } stockLevels { warehouse { code } onHand } } } } }"
)
# H.O.M alone, as a signed-in customer: the same plus what depends on the viewer.
HOM_CATALOG_VIEWER = HOM_CATALOG.replace("onHand }", "onHand } favoriteCount viewerHasFavorited")
POSTGRAPHILE_CATALOG = (
    f"query Catalog {{ allProducts(first: {FIRST}, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) "
    "{ edges { node { id name price categoryByCategoryId { name categoryByParentId { name } } "
    "stockLevelsByProductIdList(orderBy: [WAREHOUSE_ID_ASC]) "
    "{ warehouseByWarehouseId { code } onHand } } } } }"
)


def body(query: str) -> str:
    """The JSON body POSTed to /graphql."""
    return json.dumps({"query": query})


class Row(NamedTuple):
    """One product of a catalog answer, the same shape from either server."""

    id: int
    name: str
    price: Decimal
    category: str
    parent: str | None
    stock: tuple[tuple[str, int], ...]  # (warehouse code, on hand), by code


def hom_rows(data: dict[str, Any]) -> list[Row]:
    rows = []
    for edge in data["products"]["edges"]:
        node, category = edge["node"], edge["node"]["category"]
        stock = tuple((s["warehouse"]["code"], s["onHand"]) for s in node["stockLevels"])
        row_id = int(GlobalID.from_id(node["id"]).node_id)
        parent = (category["parent"] or {}).get("name")
        rows.append(
            Row(
                row_id,
                node["name"],
                Decimal(node["price"]["amount"]),
                category["name"],
                parent,
                stock,
            )
        )
    return rows


def postgraphile_rows(data: dict[str, Any]) -> list[Row]:
    rows = []
    for edge in data["allProducts"]["edges"]:
        node, category = edge["node"], edge["node"]["categoryByCategoryId"]
        levels = node["stockLevelsByProductIdList"]
        stock = tuple(sorted((s["warehouseByWarehouseId"]["code"], s["onHand"]) for s in levels))
        _, row_id = json.loads(base64.b64decode(node["id"]))  # ["Product", "123"]
        parent = (category["categoryByParentId"] or {}).get("name")
        rows.append(
            Row(int(row_id), node["name"], Decimal(node["price"]), category["name"], parent, stock)
        )
    return rows


class BadAnswer(AssertionError):
    """An error, or not the data asked for."""


class DifferentData(AssertionError):
    """The two servers did not answer the same data: the comparison would be meaningless."""


def assert_same(hom: list[Row], postgraphile: list[Row]) -> None:
    problems = [
        f"H.O.M's stock levels of product {row.id} are not by warehouse code: {row.stock}"
        for row in hom
        if list(row.stock) != sorted(row.stock)
    ]
    if len(hom) != FIRST or len(postgraphile) != FIRST:
        problems.append(f"{len(hom)} products from H.O.M, {len(postgraphile)} from PostGraphile")
    for index, (ours, theirs) in enumerate(zip(hom, postgraphile, strict=False)):
        if ours != theirs:
            problems.append(
                f"product #{index + 1}:\n  H.O.M        {ours}\n  PostGraphile {theirs}"
            )
    if problems:
        raise DifferentData("the servers answer different data:\n" + "\n".join(problems[:5]))


async def ask(base_url: str, json_body: str, token: str = "") -> dict[str, Any]:
    """POST a GraphQL body; its `data`, or BadAnswer when it is not a clean answer (HTTP
    error, GraphQL errors, a null root field, a page shorter than FIRST)."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post("/graphql", content=json_body, headers=headers)
    payload = response.json()
    data = payload.get("data")
    if response.status_code != 200 or "errors" in payload or not data or None in data.values():
        raise BadAnswer(f"{base_url} answered {response.status_code}: {response.text[:2000]}")
    for value in data.values():
        edges = value.get("edges") if isinstance(value, dict) else None
        if edges is not None and len(edges) != FIRST:
            raise BadAnswer(f"{base_url} answered {len(edges)} edges, not {FIRST}")
    return dict(data)


Side = Literal["hom", "postgraphile"]
Viewer = Literal["", "customer", "operator"]


@dataclass(frozen=True)
class Case:
    """One load target: what is sent to which server, as whom, and compared with what."""

    name: str
    title: str
    side: Side
    query: str
    viewer: Viewer = ""  # "": anonymous
    baseline: str | None = None  # the PostGraphile case its req/s is divided by
    goal: float | None = None  # the ratio issue #11 asks for

    @property
    def body(self) -> str:
        return body(self.query)


CASES = (
    Case("hom-typename", "H.O.M `{ __typename }`", "hom", TYPENAME, baseline="pg-typename"),
    Case("pg-typename", "PostGraphile `{ __typename }`", "postgraphile", TYPENAME),
    Case(
        "hom-me",
        "H.O.M `{ me { id } }` (customer)",
        "hom",
        ME,
        "customer",
        baseline="pg-typename",
        goal=0.6,
    ),
    Case("hom-catalog", "H.O.M catalog (operator)", "hom", HOM_CATALOG, "operator", "pg-catalog"),
    Case("pg-catalog", "PostGraphile catalog", "postgraphile", POSTGRAPHILE_CATALOG),
    Case(
        "hom-catalog-viewer",
        "H.O.M catalog + favoriteCount viewerHasFavorited (customer)",
        "hom",
        HOM_CATALOG_VIEWER,
        "customer",
    ),
)
