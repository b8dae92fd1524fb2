"""A free-text reason given with a change (a cancellation, a stock adjustment, time off)."""

from __future__ import annotations

from hom.core.errors import DomainError, ErrorCode

MAX_REASON = 500


def check_reason(
    reason: str | None, *, required: bool = False, field: str = "reason"
) -> str | None:
    """The reason trimmed, None when blank; INVALID when required and blank, or too long."""
    trimmed = (reason or "").strip()
    if required and not trimmed:
        raise DomainError(ErrorCode.INVALID, "Give a reason", field)
    if len(trimmed) > MAX_REASON:
        raise DomainError(ErrorCode.INVALID, f"A reason is at most {MAX_REASON} characters", field)
    return trimmed or None
