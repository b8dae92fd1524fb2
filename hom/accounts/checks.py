"""Checks on what people type into their account: email, password, name, time zone.

Each answers the cleaned value or raises INVALID on the field it checks.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email

from hom.core.errors import DomainError, ErrorCode
from hom.core.passwords import password_problem

MAX_NAME_LENGTH = 200


def normalize_email(email: str, *, field: str = "email") -> str:
    """A syntactically valid address (domain lower-cased), else INVALID."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise DomainError(ErrorCode.INVALID, "Enter a valid email address", field) from None


def check_password(password: str, *, field: str = "password") -> None:
    problem = password_problem(password)
    if problem:
        raise DomainError(ErrorCode.INVALID, problem, field)


def check_full_name(full_name: str) -> str:
    name = " ".join(full_name.split())
    if not name or len(name) > MAX_NAME_LENGTH:
        raise DomainError(
            ErrorCode.INVALID, f"Name must be 1-{MAX_NAME_LENGTH} characters", "full_name"
        )
    return name


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(timezone: str) -> str:
    if timezone not in _timezones():
        raise DomainError(ErrorCode.INVALID, "Unknown time zone", "timezone")
    return timezone
