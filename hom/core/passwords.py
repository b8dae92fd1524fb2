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
_HASHING = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="hom-argon2", initializer=lower_thread_priority
)


@dataclass(frozen=True)
class _Hasher:
    hasher: PasswordHasher
    # Verified when the email is unknown, so that both answers cost the same time.
    dummy_hash: str

    @classmethod
    def of(cls, hasher: PasswordHasher) -> _Hasher:
        return cls(hasher, hasher.hash("dummy password for unknown accounts"))


_active = _Hasher.of(HASHER)


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Hash and verify with `hasher` in this process from now on; the one used until now.

    For the test suite only, which creates and signs in thousands of users: at HASHER's
    ~25 ms each (on a thread of low priority, starved while the other test process runs)
    that was minutes. Tests switch to argon2's cheapest parameters, and back to HASHER
    where the parameters are what they test. The server never calls it.
    """
    global _active
    previous, _active = _active.hasher, _Hasher.of(hasher)
    return previous


@dataclass(frozen=True)
class Verification:
    ok: bool
    new_hash: str | None = None  # set when the stored hash used older parameters


async def _hashing(work: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, work, *args)


async def hash_password(password: str) -> str:
    return await _hashing(_active.hasher.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> Verification:
    """Check a password against its hash (or a dummy one), rehashing if parameters changed."""
    return await _hashing(_verify, stored_hash, password)


def _verify(stored_hash: str | None, password: str) -> Verification:
    active = _active
    try:
        active.hasher.verify(stored_hash or active.dummy_hash, password)
    except (VerificationError, InvalidHashError):
        return Verification(ok=False)
    if stored_hash is None:
        return Verification(ok=False)
    if active.hasher.check_needs_rehash(stored_hash):
        return Verification(ok=True, new_hash=active.hasher.hash(password))
    return Verification(ok=True)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters"
    return None
