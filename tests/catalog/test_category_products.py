"""`category.products`: keyset pages newest first, ties broken by id, limits checked."""

from __future__ import annotations

from hom.core.db import SessionMaker
from tests.catalog.factories import EPOCH, create_category, create_products
from tests.support import GraphQLClient, error_codes

PAGE = """query ($first: Int, $after: String) {
  category(slug: "kettles") {
    products(first: $first, after: $after) {
      edges { cursor node { slug } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}"""


async def test_paging_3_at_a_time_sees_every_product_once_even_with_equal_times(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettles = await create_category(session_maker, "Kettles")
    same_time = await create_products(session_maker, kettles, 5, created_at=EPOCH, updated_at=EPOCH)
    newer = await create_products(session_maker, kettles, 3, start=100)
    await create_products(session_maker, kettles, 2, start=200, is_active=False)
    seen: list[str] = []
    after = None
    while True:
        body = await gql(PAGE, {"first": 3, "after": after})
        connection = body["data"]["category"]["products"]
        seen += [edge["node"]["slug"] for edge in connection["edges"]]
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    newest_first = [p.slug for p in reversed(newer)] + [p.slug for p in reversed(same_time)]
    assert seen == newest_first


async def test_page_size_limits_are_bad_user_input(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    await create_category(session_maker, "Kettles")
    for variables in ({"first": 101}, {"first": -1}, {"after": "not-a-cursor"}):
        body = await gql(PAGE, variables)
        assert error_codes(body) == ["BAD_USER_INPUT"], variables
    assert (await gql(PAGE, {"first": 0}))["data"]["category"]["products"]["edges"] == []
