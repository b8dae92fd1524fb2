"""Error vocabulary: business errors for payloads, top-level errors for the rest (SPEC §5)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError


@strawberry.enum(description="Why a mutation did not do what was asked.")
class ErrorCode(Enum):
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


@strawberry.type(description="A business rule refused the mutation; nothing was changed.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault, if any.")
    message: str
    code: ErrorCode


class DomainError(Exception):
    """Raised by services when a business rule refuses an operation."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def to_user_error(self) -> UserError:
        return UserError(field=self.field, message=self.message, code=self.code)


class TopLevelCode:
    """`extensions.code` values of top-level GraphQL errors."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class CodedError(GraphQLError):
    """A GraphQL error that is meant for the client, with its `extensions.code`."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})


def bad_user_input(message: str, argument: str | None = None) -> CodedError:
    extra = {"argument": argument} if argument else {}
    return CodedError(message, TopLevelCode.BAD_USER_INPUT, **extra)


def unauthenticated(message: str = "Authentication required") -> CodedError:
    return CodedError(message, TopLevelCode.UNAUTHENTICATED)


def forbidden(message: str = "You are not allowed to do this") -> CodedError:
    return CodedError(message, TopLevelCode.FORBIDDEN)
