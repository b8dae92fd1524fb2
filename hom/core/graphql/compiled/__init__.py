"""The compiled read path (issue #11): a query whose whole selection maps onto declared
tables is planned once per document, role and variables, and answered by SQL that
builds its JSON; everything else goes through Strawberry's executor.

Types declare their table and rule with `rows_of(...)` (hom.core.graphql.visibility),
fields through the relation helpers (mapping.py); root fields with `metadata=source(...)`.
"""

from hom.core.graphql.compiled.mapping import (
    ComputedSource,
    ConnectionSource,
    Embedded,
    Expression,
    ListSource,
    Ordered,
    RowSource,
    StaticSource,
    ToMany,
    ToOne,
    compiled_as,
    executor_only,
    source,
    viewer_id,
)

__all__ = [
    "ComputedSource",
    "ConnectionSource",
    "Embedded",
    "Expression",
    "ListSource",
    "Ordered",
    "RowSource",
    "StaticSource",
    "ToMany",
    "ToOne",
    "compiled_as",
    "executor_only",
    "source",
    "viewer_id",
]
