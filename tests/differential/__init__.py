"""Documents derived from the schema for the differential suite (tests/test_differential.py).

Every root Query field, with each of its arguments at its edge values (ids and slugs of
seeded rows, `first` and `last` 0/1/100/101, a real cursor (as `after` and `before`) and
garbage, every enum value, both booleans), and with its type's selection (connections'
`edges`, `nodes` and `totalCount` alike) two relations deep in four spellings: plain,
every field aliased (object fields twice, under two aliases with different halves of
their selection, at every level), under `@skip`/`@include` with literal and variable
conditions, and through named and inline fragments. Nothing here names a root field or a
type: adding one to the schema adds its documents.
"""

from tests.differential.arguments import Rows
from tests.differential.documents import (
    Case,
    cases,
    connection_roots,
    cursor_probe,
    everything,
)

__all__ = ["Case", "Rows", "cases", "connection_roots", "cursor_probe", "everything"]
