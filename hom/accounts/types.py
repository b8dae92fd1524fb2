"""Strawberry types of the accounts domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import strawberry
from strawberry import relay

from hom.accounts import loaders
from hom.accounts.models import User
from hom.accounts.sessions import SessionInfo
from hom.core.mutations import Payload
from hom.core.roles import Role

strawberry.enum(Role, name="Role", description="What a user may do.")
AVATAR_URL_PREFIX = "/media/avatars/"


@strawberry.type(name="User", description="An account.")
class UserType(relay.Node):
    user_id: relay.NodeID[int]
    email: str
    full_name: str
    role: Role
    is_active: bool
    email_verified: bool
    email_verified_at: datetime | None
    timezone: str
    avatar_url: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, user: User) -> UserType:
        assert user.id is not None
        assert user.created_at is not None
        return cls(
            user_id=user.id,
            email=user.email,
            full_name=user.full_name,
            role=Role(user.role),
            is_active=user.is_active,
            email_verified=user.email_verified_at is not None,
            email_verified_at=user.email_verified_at,
            timezone=user.timezone,
            avatar_url=AVATAR_URL_PREFIX + user.avatar if user.avatar else None,
            created_at=user.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[UserType | None]:
        """Users are visible to themselves and to admins only."""
        viewer = await info.context.viewer()
        ids = [int(node_id) for node_id in node_ids]
        if viewer is None:
            return [None for _ in ids]
        visible = [i if viewer.is_admin or i == viewer.user_id else None for i in ids]
        found = await info.context.loaders.get(loaders.user_by_id).load_many(
            [i for i in visible if i is not None]
        )
        by_id = {user.id: user for user in found if user is not None}
        return [cls.from_model(by_id[i]) if i in by_id else None for i in ids]


@strawberry.type(name="Session", description="A signed-in device: one refresh-token family.")
class SessionType:
    id: strawberry.ID
    user_agent: str
    ip: str
    created_at: datetime
    last_used_at: datetime
    current: bool

    @classmethod
    def from_info(cls, session: SessionInfo, current_sid: str) -> SessionType:
        return cls(
            id=strawberry.ID(session.sid),
            user_agent=session.user_agent,
            ip=session.ip,
            created_at=datetime.fromtimestamp(session.created_at, UTC),
            last_used_at=datetime.fromtimestamp(session.last_used_at, UTC),
            current=session.sid == current_sid,
        )


@strawberry.input
class RegisterInput:
    email: str
    password: str
    full_name: str


@strawberry.input
class ResetPasswordInput:
    token: str
    new_password: str


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class UpdateProfileInput:
    full_name: str | None = None
    timezone: str | None = None


@strawberry.input
class CreateUserInput:
    email: str
    password: str
    full_name: str
    role: Role = Role.CUSTOMER
    email_verified: bool = False


@strawberry.input
class UpdateUserInput:
    id: strawberry.ID
    role: Role | None = None
    is_active: bool | None = None
    full_name: str | None = None


@strawberry.input
class UserFilter:
    role: Role | None = None
    is_active: bool | None = None
    search: str | None = None


@strawberry.type
class UserPayload(Payload):
    user: UserType | None = None


@strawberry.type
class RegisterPayload(UserPayload):
    pass


@strawberry.type
class VerifyEmailPayload(UserPayload):
    pass


@strawberry.type
class RequestEmailVerificationPayload(UserPayload):
    pass


@strawberry.type
class ResetPasswordPayload(UserPayload):
    pass


@strawberry.type
class ChangePasswordPayload(UserPayload):
    pass


@strawberry.type
class UpdateProfilePayload(UserPayload):
    pass


@strawberry.type
class UploadAvatarPayload(UserPayload):
    pass


@strawberry.type
class CreateUserPayload(UserPayload):
    pass


@strawberry.type
class UpdateUserPayload(UserPayload):
    pass


@strawberry.type
class RequestPasswordResetPayload(Payload):
    ok: bool = False


@strawberry.type
class RevokeSessionPayload(Payload):
    revoked_session_id: strawberry.ID | None = None
