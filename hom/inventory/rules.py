"""Who may read what of the inventory, as SQL over its rows (hom.core.rules)."""

from __future__ import annotations

from hom.core.roles import Role
from hom.core.rules import Rule, roles
from hom.core.viewer import Reader

STOCK_READERS = (Role.OPERATOR, Role.ADMIN)
# Warehouses, stock, the ledger and stock-takes are for operators and admins (SPEC §6).
STOCK: Rule = roles(*STOCK_READERS)


def reads_stock(reader: Reader) -> bool:
    return reader.has_role(*STOCK_READERS)
