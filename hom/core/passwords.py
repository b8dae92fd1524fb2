"""Password hashing: argon2id with OWASP's parameters, off the event loop.

Hashes run one at a time per process, on their own low-priority thread: each costs ~25 ms
of CPU, and a login storm spread over the default executor's threads would take every
core from the event loops. Queued this way, a storm makes logins wait (~40 a second per
worker), not everything else (`tests/perf/auth_bench.py` measures it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from hom.core.executor import lower_thread_priority

T = TypeVar("T")

# OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
# Verified when the email is unknown, so that both answers cost the same time.
_DUMMY_HASH = HASHER.hash("dummy password for unknown accounts")
_HASHING = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="hom-argon2", initializer=lower_thread_priority
)


@dataclass(frozen=True)
class Verification:
    ok: bool
    new_hash: str | None = None  # set when the stored hash used older parameters


async def _hashing(work: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, work, *args)


async def hash_password(password: str) -> str:
    return await _hashing(HASHER.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> Verification:
    """Check a password against its hash (or a dummy one), rehashing if parameters changed."""
    return await _hashing(_verify, stored_hash, password)


def _verify(stored_hash: str | None, password: str) -> Verification:
    try:
        HASHER.verify(stored_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return Verification(ok=False)
    if stored_hash is None:
        return Verification(ok=False)
    if HASHER.check_needs_rehash(stored_hash):
        return Verification(ok=True, new_hash=HASHER.hash(password))
    return Verification(ok=True)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters"
    return None
