"""DataLoaders of the catalog: one per relation and per count, named for what they load.

Loaders whose answer depends on the reader (archived products, the viewer's
favorites) ask the context for the reader once per batch, never per object.
"""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from hom.catalog import collections, reads
from hom.catalog.models import Category, Collection, Product
from hom.catalog.rules import sees_archived
from hom.context import Context, session_loader
from hom.core.batch_reads import values_by_key
from hom.core.graphql.relations import by_id_loader
from hom.core.pagination import Page, PageRequest

category_by_id = by_id_loader(Category)
product_by_id = by_id_loader(Product)


def category_by_slug(context: Context) -> DataLoader[str, Category | None]:
    """A category by its slug; the by-id loader learns it too, so that its products, which
    point back at it, find it without another query."""

    async def load(slugs: Sequence[str]) -> list[Category | None]:
        async with context.db.session() as session:
            found = await reads.categories_by_slugs(session, slugs=slugs)
        by_id = context.loaders.get(category_by_id)
        for category in found:
            if category is not None and category.id is not None:
                by_id.prime(category.id, category)
        return found

    return DataLoader(load_fn=load)


def products_by_category(
    context: Context, request: PageRequest
) -> DataLoader[int, Page[Product] | None]:
    async def load(ids: Sequence[int]) -> list[Page[Product] | None]:
        archived = sees_archived(await context.reader())
        async with context.db.session() as session:
            return await reads.product_pages_by_category_ids(
                session, category_ids=ids, request=request, include_archived=archived
            )

    return DataLoader(load_fn=load)


def product_count_by_category(context: Context) -> DataLoader[int, int]:
    """What `Category.productCount` counts (the reader's rule on archived products), for
    the `totalCount` of its `products`."""

    async def load(ids: Sequence[int]) -> list[int]:
        archived = sees_archived(await context.reader())
        category = Category.__table__  # type: ignore[attr-defined]
        count = reads.product_count(category.c.id, include_archived=archived)
        async with context.db.session() as session:
            return await values_by_key(session, category, count, parameters={}, ids=ids, default=0)

    return DataLoader(load_fn=load)


def collection_by_id(context: Context) -> DataLoader[int, Collection | None]:
    async def load(ids: Sequence[int]) -> list[Collection | None]:
        reader_user_id = (await context.reader()).user_id
        async with context.db.session() as session:
            return await collections.collections_by_ids(
                session, reader_user_id=reader_user_id, ids=ids
            )

    return DataLoader(load_fn=load)


def products_by_collection(
    context: Context, request: PageRequest
) -> DataLoader[int, Page[Product] | None]:
    """A page of each collection's active products (the caller showed the collection)."""

    async def load(ids: Sequence[int]) -> list[Page[Product] | None]:
        async with context.db.session() as session:
            pages = await collections.collection_product_pages(
                session, collection_ids=ids, request=request
            )
        return [pages.get(collection_id) for collection_id in ids]

    return DataLoader(load_fn=load)


def product_count_by_collection(context: Context) -> DataLoader[int, int]:
    return session_loader(
        context,
        lambda session, ids: collections.collection_product_counts(session, collection_ids=ids),
    )
