"""The category tree as SQL: a category's subtree (itself and every category below it, at
any depth) in one recursive CTE over `category.parent_id`, never one query per level.

The CTE is nested where it is used (`nesting=True`), so it may read the row of the
statement around it: `product_count(row.c.id)` walks each category's own subtree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import CTE, Select, any_, func, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from hom.catalog.models import Category, Product
from hom.core.pagination import PageRequest, SortKey, keyset_select

# Which categories a walk starts from, as a condition on a category id column.
Roots = Callable[[ColumnElement[int]], ColumnElement[bool]]


def subtrees(roots: Roots) -> CTE:
    """(root_id, category_id): every category in the subtree of each root that `roots`
    picks, the root itself included. UNION, not UNION ALL: a cycle (which moves refuse,
    service._check_move) would end the walk instead of looping."""
    root = Category.__table__.alias()  # type: ignore[attr-defined]
    start = (
        select(root.c.id.label("root_id"), root.c.id.label("category_id"))
        .where(roots(root.c.id))
        .correlate_except(root)  # the statement around it may read the category table too
    )
    tree = start.cte(recursive=True, nesting=True)
    child = Category.__table__.alias()  # type: ignore[attr-defined]
    below = select(tree.c.root_id, child.c.id).join(tree, child.c.parent_id == tree.c.category_id)
    return tree.union(below)


def subtree_ids(category_id: ColumnElement[int] | int) -> Select[Any]:
    """The ids of the category and of every category below it (one statement)."""
    tree = subtrees(lambda id: id == category_id)
    return select(tree.c.category_id)


def subtree_pages(
    roots: Roots,
    conditions: Sequence[ColumnElement[bool]],
    keys: Sequence[SortKey],
    request: PageRequest,
) -> Select[Any]:
    """(root_id, the product's columns): the page (`conditions`, `keys`, `request`) of each
    category in each root's subtree, so each root's page is among its rows.

    Each category's page is read in its own index's order
    (`ix_product_category_id_<sort>_id`): a page costs a few rows per category, however
    many products the subtree holds. (`category_id IN (subtree)` walks the whole sort
    index when the subtree's products are few, or sorts every one when they are many.)
    """
    subtree = subtrees(roots)
    in_category = col(Product.category_id) == subtree.c.category_id
    page = select(Product).where(in_category, *conditions)
    # Its own FROM product: the statement around it reads the product table too.
    each = keyset_select(page, keys, request).correlate_except(Product).lateral()
    return select(subtree.c.root_id, each).select_from(subtree).join(each, true())


def in_subtree(
    category_id: int,
    conditions: Sequence[ColumnElement[bool]],
    keys: Sequence[SortKey],
    request: PageRequest,
) -> ColumnElement[bool]:
    """A product in the category or below it, among the pages of its subtree's categories
    (`subtree_pages`). An array (`= ANY`), not `IN (…)`: estimated small, so PostgreSQL
    reads those pages first rather than walking the sort's whole index in search of them."""
    pages = subtree_pages(lambda id: id == category_id, conditions, keys, request).subquery()
    return col(Product.id) == any_(func.array(select(pages.c.id).scalar_subquery()))
