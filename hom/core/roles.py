"""Roles (SPEC §6): shared by the permission classes and every domain."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "CUSTOMER"
    STAFF = "STAFF"
    OPERATOR = "OPERATOR"
    ADMIN = "ADMIN"
