"""Top-level GraphQL errors and their `extensions.code` (SPEC §5)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.utils.str_converters import to_camel_case

from hom.core.errors import DomainError, ErrorCode, InvalidInput
from hom.core.unavailable import is_unavailable

TOKEN_LIMIT_MARK = "tokens. Parsing aborted"  # noqa: S105 - not a secret


# How graphql-core's ValuesOfCorrectTypeRule words an argument written in the document that its
# type refuses (`quantity: 2147483648`): bad input like a bad variable, not a malformed query.
BAD_LITERAL = re.compile(r"^(Expected value of type |\w+ cannot represent )")


def is_bad_literal(error: GraphQLError) -> bool:
    return bool(BAD_LITERAL.match(error.message))


# How graphql-core words an argument it cannot coerce while executing (`@include(if: $v)`
# with `{"v": null}`, a field's argument given a null variable): bad input, at a path.
BAD_ARGUMENT = re.compile(r"^Argument '\w+' (has invalid value|of non-null type|of required type)")


def is_token_limit(error: GraphQLError) -> bool:
    return TOKEN_LIMIT_MARK in error.message


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


@contextmanager
def arguments_checked(prefix: str) -> Iterator[None]:
    """In a query: the rules refusing an argument (INVALID on a field, e.g. a price range)
    is BAD_USER_INPUT on `prefix.field`, like any other bad argument (SPEC §5)."""
    try:
        yield
    except DomainError as error:
        if error.code is not ErrorCode.INVALID:
            raise
        argument = f"{prefix}.{error.field}" if error.field else prefix
        raise InvalidInput(error.message, argument) from None


def api_name(path: str | None) -> str | None:
    """A snake_case path as clients spell it: `filter.actor_id` → `filter.actorId`."""
    if path is None:
        return None
    return ".".join(to_camel_case(part) for part in path.split("."))


def rule_extensions(original: BaseException | None) -> dict[str, Any] | None:
    """The extensions a refusal by the rules carries when it surfaces as a top-level error."""
    if isinstance(original, DomainError):
        field = api_name(original.field)
        return {"code": original.code.value, **({"field": field} if field else {})}
    if isinstance(original, InvalidInput):
        argument = api_name(original.argument)
        return {"code": TopLevelCode.BAD_USER_INPUT, **({"argument": argument} if argument else {})}
    return None


def _from_graphql_core(error: GraphQLError) -> bool:
    """Raised by graphql-core itself (maybe located at a field), not by our code."""
    original = error.original_error
    return original is None or (
        isinstance(original, GraphQLError) and original.original_error is None
    )


def error_code(error: GraphQLError) -> str:
    """The `extensions.code` an error has or should have."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    coded = rule_extensions(error.original_error)
    if coded is not None:
        return str(coded["code"])
    if isinstance(error, GraphQLSyntaxError):
        if is_token_limit(error):
            return TopLevelCode.QUERY_TOO_COMPLEX
        return TopLevelCode.GRAPHQL_PARSE_FAILED
    if is_unavailable(error.original_error):
        return TopLevelCode.SERVICE_UNAVAILABLE
    if error.path is None and (error.message.startswith("Variable '$") or is_bad_literal(error)):
        return TopLevelCode.BAD_USER_INPUT
    if BAD_ARGUMENT.match(error.message) and _from_graphql_core(error):
        return TopLevelCode.BAD_USER_INPUT
    if error.original_error is None and error.path is None:
        return TopLevelCode.GRAPHQL_VALIDATION_FAILED
    return TopLevelCode.INTERNAL_SERVER_ERROR
