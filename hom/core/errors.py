"""The error vocabulary of the rules (SPEC §5), free of any API framework.

Services raise these; the GraphQL edge turns a `DomainError` into a payload's
`UserError` (mutations) or a coded top-level error (queries), and an
`InvalidInput` into `BAD_USER_INPUT`. Field names here are snake_case; the
edge spells them the way its clients do.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Why a rule refused an operation."""

    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    PRODUCT_UNAVAILABLE = "PRODUCT_UNAVAILABLE"
    CART_EMPTY = "CART_EMPTY"
    SLOT_UNAVAILABLE = "SLOT_UNAVAILABLE"
    OUTSIDE_WORKING_HOURS = "OUTSIDE_WORKING_HOURS"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    CANCELLATION_WINDOW_CLOSED = "CANCELLATION_WINDOW_CLOSED"
    INVENTORY_CHECK_OPEN = "INVENTORY_CHECK_OPEN"
    RATE_LIMITED = "RATE_LIMITED"


class DomainError(Exception):
    """A business rule refused an operation; `field` (snake_case) names the input at fault."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class InvalidInput(Exception):
    """An argument is malformed (a bad cursor, an id of the wrong type): BAD_USER_INPUT."""

    def __init__(self, message: str, argument: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.argument = argument
