"""Sessions in Redis: a session (`sid`) is a refresh-token family (SPEC §4).

Keys: `session:<sid>` (hash: uid, role, rjti, created_at, last_used_at, ua, ip),
`user_sessions:<uid>` (set of sids), `revoked:<jti>` (revoked access tokens,
kept until they expire). An access token is valid only while its session
exists and its jti is not revoked, so one DELETE ends a session everywhere.
Ending sessions is announced on the user's `sessions:revoked:<uid>` channel, so
live subscriptions on any instance end at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis
from redis.typing import EncodableT

from hom.core import tokens
from hom.core.config import Settings
from hom.core.pubsub import Channel, Publisher
from hom.core.redis import RedisKeys, run_script
from hom.core.roles import Role
from hom.core.tokens import Claims, TokenType
from hom.core.viewer import Viewer

# Atomic rotation: only the current refresh jti may rotate; any other one
# (already rotated) is reuse and kills the whole session.
_ROTATE = """
local current = redis.call('HGET', KEYS[1], 'rjti')
if not current then return 'missing' end
if current ~= ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[5])
  return 'reuse'
end
redis.call('HSET', KEYS[1], 'rjti', ARGV[2], 'last_used_at', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return redis.call('HGET', KEYS[1], 'role')
"""


# The viewer check, one command: the access token's role while its session lives and its
# jti is not revoked, else nil.
_VIEWER = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
return redis.call('HGET', KEYS[2], 'role')
"""

# Never recreate a session that ended between listing and updating it.
_SET_ROLE = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'role', ARGV[1]) end
return 1
"""

# Only the owner's session ends: a sid of someone else's session is "not found".
_END = """
if redis.call('HGET', KEYS[1], 'uid') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1
"""


def revoked_channel(user_id: int) -> Channel:
    """Where the end of a user's sessions is announced: `{"sids": [...]}`."""
    return ("sessions", "revoked", str(user_id))


class RotationRefused(StrEnum):
    MISSING = "missing"
    REUSE = "reuse"


class SessionError(Exception):
    def __init__(self, reason: RotationRefused) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    sid: str
    refresh_jti: str

    def as_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
        }


@dataclass(frozen=True)
class SessionInfo:
    sid: str
    user_id: int
    user_agent: str
    ip: str
    created_at: int
    last_used_at: int
    current: bool = False  # the session the request was made with


class SessionStore:
    def __init__(self, redis: Redis, keys: RedisKeys, settings: Settings) -> None:
        self.redis = redis
        self.keys = keys
        self.settings = settings
        self._rotate = redis.register_script(_ROTATE)
        self._set_role = redis.register_script(_SET_ROLE)
        self._end = redis.register_script(_END)
        self._viewer = redis.register_script(_VIEWER)
        self._publisher = Publisher(redis, keys)

    def _session(self, sid: str) -> str:
        return self.keys("session", sid)

    def _user(self, user_id: int) -> str:
        return self.keys("user_sessions", str(user_id))

    def _revoked(self, jti: str) -> str:
        return self.keys("revoked", jti)

    @property
    def _ttl(self) -> int:
        return tokens.lifetime(self.settings, TokenType.REFRESH)

    async def _sids(self, user_id: int) -> set[str]:
        members = await self.redis.smembers(self._user(user_id))
        return {m.decode() if isinstance(m, bytes) else m for m in members}

    async def start(self, user_id: int, role: Role, user_agent: str, ip: str) -> TokenPair:
        """A new session (device) with its first token pair."""
        sid = tokens.new_id()
        pair = self._pair(user_id, sid)
        now = str(int(time.time()))
        fields: dict[EncodableT, EncodableT] = {
            "uid": str(user_id),
            "role": role.value,
            "rjti": pair.refresh_jti,
            "created_at": now,
            "last_used_at": now,
            "ua": user_agent[:200],
            "ip": ip,
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._session(sid), mapping=fields)
            pipe.expire(self._session(sid), self._ttl)
            pipe.sadd(self._user(user_id), sid)
            pipe.expire(self._user(user_id), self._ttl)
            await pipe.execute()
        return pair

    def _pair(self, user_id: int, sid: str) -> TokenPair:
        access = tokens.issue(self.settings, TokenType.ACCESS, user_id, sid)
        refresh = tokens.issue(self.settings, TokenType.REFRESH, user_id, sid)
        expires_in = access.claims.expires_at - access.claims.issued_at
        return TokenPair(access.token, refresh.token, expires_in, sid, refresh.claims.jti)

    async def rotate(self, refresh: Claims) -> TokenPair:
        """Exchange a refresh token for a new pair; reuse of an old one ends the session."""
        pair = self._pair(refresh.user_id, refresh.sid)
        keys = [self._session(refresh.sid), self._user(refresh.user_id)]
        args: list[EncodableT] = [
            refresh.jti,
            pair.refresh_jti,
            int(time.time()),
            self._ttl,
            refresh.sid,
        ]
        outcome = await self._rotate(keys=keys, args=args)
        if outcome == RotationRefused.REUSE.value:
            await self._announce(refresh.user_id, [refresh.sid])
        if outcome in (RotationRefused.MISSING.value, RotationRefused.REUSE.value):
            raise SessionError(RotationRefused(outcome))
        return pair

    async def _announce(self, user_id: int, sids: list[str]) -> None:
        await self._publisher.publish(revoked_channel(user_id), {"sids": sids})

    async def viewer(self, access: Claims) -> Viewer | None:
        """The viewer an access token stands for, if its session lives and it is not revoked."""
        keys = [self._revoked(access.jti), self._session(access.sid)]
        role = await run_script(self._viewer, keys)
        if role is None:
            return None
        return Viewer(access.user_id, Role(role), access.sid, access.jti, access.expires_at)

    async def end(self, user_id: int, sid: str, access: Claims | None = None) -> bool:
        """End one of the user's sessions (and revoke the access token presented with it).

        False when the user has no session `sid` (another user's sid included).
        """
        if access is not None:
            ttl = max(access.expires_at - int(time.time()), 1)
            await self.redis.set(self._revoked(access.jti), "1", ex=ttl)
        keys = [self._session(sid), self._user(user_id)]
        ended = await self._end(keys=keys, args=[str(user_id), sid])
        if ended:
            await self._announce(user_id, [sid])
        return bool(ended)

    async def end_all(self, user_id: int, keep_sid: str | None = None) -> int:
        """End every session of a user (but `keep_sid`); returns how many ended."""
        sids = [sid for sid in await self._sids(user_id) if sid != keep_sid]
        if not sids:
            return 0
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(*(self._session(sid) for sid in sids))
            pipe.srem(self._user(user_id), *sids)
            ended, _ = await pipe.execute()
        if ended:
            await self._announce(user_id, sids)
        return int(ended)

    async def list(self, user_id: int, current_sid: str | None = None) -> list[SessionInfo]:
        """The user's live sessions, newest first (forgetting ones that expired)."""
        sids = sorted(await self._sids(user_id))
        async with self.redis.pipeline(transaction=False) as pipe:
            for sid in sids:
                pipe.hgetall(self._session(sid))
            found = await pipe.execute()
        live = [
            _info(sid, data, current_sid) for sid, data in zip(sids, found, strict=True) if data
        ]
        dead = [sid for sid, data in zip(sids, found, strict=True) if not data]
        if dead:
            await self.redis.srem(self._user(user_id), *dead)
        return sorted(live, key=lambda s: s.created_at, reverse=True)

    async def set_role(self, user_id: int, role: Role) -> None:
        """A role change reaches every live session at once."""
        for sid in await self._sids(user_id):
            await self._set_role(keys=[self._session(sid)], args=[role.value])


def _info(sid: str, data: dict[str, str], current_sid: str | None) -> SessionInfo:
    return SessionInfo(
        sid=sid,
        user_id=int(data.get("uid", 0)),
        current=sid == current_sid,
        user_agent=data.get("ua", ""),
        ip=data.get("ip", ""),
        created_at=int(data.get("created_at", 0)),
        last_used_at=int(data.get("last_used_at", 0)),
    )
