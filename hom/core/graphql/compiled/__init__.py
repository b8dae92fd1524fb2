"""The compiled read path (issue #11): a query whose whole selection maps onto declared
tables is planned once per document, role and variables, and answered by SQL that
builds its JSON; everything else goes through Strawberry's executor.

Types opt in with `table(...)` (mapping.py); root fields with `metadata=source(...)`.
"""

from hom.core.graphql.compiled.mapping import (
    ConnectionSource,
    Embedded,
    Expression,
    ListSource,
    Ordered,
    RowSource,
    StaticSource,
    ToMany,
    ToOne,
    add_fields,
    source,
    table,
    viewer_id,
)

__all__ = [
    "ConnectionSource",
    "Embedded",
    "Expression",
    "ListSource",
    "Ordered",
    "RowSource",
    "StaticSource",
    "ToMany",
    "ToOne",
    "add_fields",
    "source",
    "table",
    "viewer_id",
]
