"""Strawberry types of the accounts domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import strawberry
from sqlalchemy import FromClause, String, case, literal
from sqlalchemy.sql.elements import ColumnElement
from strawberry import relay

from hom.accounts.loaders import user_by_id
from hom.accounts.models import User
from hom.accounts.rules import OWN_ACCOUNT, OWN_SESSION, PEOPLE
from hom.accounts.sessions import SessionInfo
from hom.core.graphql.payloads import Payload
from hom.core.graphql.relations import derived, nodes_by_id, to_one
from hom.core.graphql.relay import decode_id
from hom.core.graphql.visibility import personal, rows_of, visible_to
from hom.core.roles import Role

strawberry.enum(Role, name="Role", description="What a user may do.")
AVATAR_URL_PREFIX = "/media/avatars/"


def avatar_url(user: Any) -> str | None:
    """Where a user's avatar is served (`user`: a User row, or an object with its `avatar`)."""
    return AVATAR_URL_PREFIX + user.avatar if user.avatar else None


def avatar_url_sql(user: FromClause) -> ColumnElement[str | None]:
    """`avatar_url` in SQL, for the compiled read path."""
    has_avatar = user.c.avatar != ""  # null too: NULL <> '' is not true
    return case((has_avatar, literal(AVATAR_URL_PREFIX, String) + user.c.avatar))


@rows_of(User, visible=PEOPLE)
@strawberry.type(
    name="Person",
    description=(
        "Someone's public face: what other objects show of the people they point at "
        "(an owner, a staff member), for everyone, also through `node(id:)`. Its id names "
        "the same account as a User id."
    ),
)
class PersonType(relay.Node):
    user_id: relay.NodeID[int]
    full_name: str
    avatar: strawberry.Private[str | None]
    avatar_url: str | None = derived(python=avatar_url, sql=lambda user, _: avatar_url_sql(user))
    account: UserType | None = to_one(
        key="user_id",
        column="id",
        target=lambda: UserType,
        description="Their account with its private fields: for themselves and admins, else null.",
    )

    @classmethod
    def from_model(cls, user: User) -> PersonType:
        assert user.id is not None
        return cls(full_name=user.full_name, avatar=user.avatar, user_id=user.id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PersonType | None]:
        return await nodes_by_id(info, cls, user_by_id, node_ids)


PERSON_ID_TYPES = ("User", "Person")


def user_id_of(global_id: str, argument: str = "id") -> int:
    """The account a User or Person id names (anything else is BAD_USER_INPUT)."""
    return decode_id(global_id, *PERSON_ID_TYPES, argument=argument)


@rows_of(User, visible=OWN_ACCOUNT)
@strawberry.type(
    name="User",
    description="An account, with its private fields: readable by its owner and by admins.",
)
class UserType(relay.Node):
    user_id: relay.NodeID[int]
    email: str = personal()
    full_name: str
    role: Role = personal()
    is_active: bool = personal()
    email_verified: bool = derived(
        python=lambda user: user.email_verified_at is not None,
        sql=lambda user, _: user.c.email_verified_at.is_not(None),
        personal=True,
    )
    email_verified_at: datetime | None = personal()
    timezone: str = personal()
    avatar: strawberry.Private[str | None]
    avatar_url: str | None = derived(python=avatar_url, sql=lambda user, _: avatar_url_sql(user))
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
            email_verified_at=user.email_verified_at,
            timezone=user.timezone,
            avatar=user.avatar,
            created_at=user.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[UserType | None]:
        return await nodes_by_id(info, cls, user_by_id, node_ids)


@visible_to(OWN_SESSION)
@strawberry.type(name="Session", description="A signed-in device: one refresh-token family.")
class SessionType:
    id: strawberry.ID
    user_agent: str = personal()
    ip: str = personal()
    created_at: datetime
    last_used_at: datetime
    current: bool

    @classmethod
    def from_model(cls, session: SessionInfo) -> SessionType:
        return cls(
            id=strawberry.ID(session.sid),
            user_agent=session.user_agent,
            ip=session.ip,
            created_at=datetime.fromtimestamp(session.created_at, UTC),
            last_used_at=datetime.fromtimestamp(session.last_used_at, UTC),
            current=session.current,
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
