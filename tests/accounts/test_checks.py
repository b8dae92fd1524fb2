"""The accounts input rules (hom/accounts/checks.py): pure functions."""

from __future__ import annotations

import pytest

from hom.accounts import checks
from hom.core.errors import DomainError, ErrorCode
from hom.core.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("someone@example.com", "someone@example.com"),
        ("  Someone@EXAMPLE.com \n", "Someone@example.com"),
        ("first.last+tag@Sub.Example.ORG", "first.last+tag@sub.example.org"),
    ],
)
def test_normalize_email(raw: str, normalized: str) -> None:
    assert checks.normalize_email(raw) == normalized


@pytest.mark.parametrize(
    "raw", ["", "   ", "plain", "no-domain@", "@example.com", "a b@example.com", "a@@example.com"]
)
def test_normalize_email_refuses_invalid_addresses(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        checks.normalize_email(raw)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID, "email")
    with pytest.raises(DomainError) as named:
        checks.normalize_email(raw, field="input.email")
    assert named.value.field == "input.email"


@pytest.mark.parametrize(
    ("length", "acceptable"),
    [
        (0, False),
        (MIN_PASSWORD_LENGTH - 1, False),
        (MIN_PASSWORD_LENGTH, True),
        (MAX_PASSWORD_LENGTH, True),
        (MAX_PASSWORD_LENGTH + 1, False),
    ],
)
def test_password_bounds(length: int, acceptable: bool) -> None:
    assert (MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH) == (8, 128)
    password = "p" * length
    assert (password_problem(password) is None) is acceptable
    if acceptable:
        checks.check_password(password)
        return
    with pytest.raises(DomainError) as refused:
        checks.check_password(password, field="new_password")
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID, "new_password")


def test_password_length_counts_characters_not_bytes() -> None:
    assert password_problem("ü" * MAX_PASSWORD_LENGTH) is None
    assert password_problem("ü" * MIN_PASSWORD_LENGTH) is None


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_check_timezone_accepts_iana_names(timezone: str) -> None:
    assert checks.check_timezone(timezone) == timezone


@pytest.mark.parametrize(
    "timezone", ["", "Mars/Olympus_Mons", "europe/berlin", "Europe/Berlin ", "+02:00", "../etc"]
)
def test_check_timezone_refuses_unknown_names(timezone: str) -> None:
    with pytest.raises(DomainError) as refused:
        checks.check_timezone(timezone)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID, "timezone")


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [("Ada", "Ada"), ("  Ada \t Lovelace\n", "Ada Lovelace"), ("n" * 200, "n" * 200)],
)
def test_check_full_name(raw: str, cleaned: str) -> None:
    assert checks.check_full_name(raw) == cleaned


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "n" * 201])
def test_check_full_name_refuses(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        checks.check_full_name(raw)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID, "full_name")
