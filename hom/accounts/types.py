"""Strawberry types of the accounts domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import strawberry
from sqlalchemy import FromClause, String, case, literal
from sqlalchemy.sql.elements import ColumnElement
from strawberry import relay
from strawberry.relay import to_base64

from hom.accounts.loaders import user_by_id
from hom.accounts.models import User
from hom.accounts.sessions import SessionInfo
from hom.core.graphql import compiled
from hom.core.graphql.payloads import Payload
from hom.core.graphql.relations import nodes_by_id, to_one
from hom.core.graphql.relay import decode_id
from hom.core.graphql.visibility import personal, visible_to
from hom.core.roles import Role
from hom.core.viewer import Reader

strawberry.enum(Role, name="Role", description="What a user may do.")
AVATAR_URL_PREFIX = "/media/avatars/"


def avatar_url(user: User) -> str | None:
    return AVATAR_URL_PREFIX + user.avatar if user.avatar else None


@strawberry.type(
    name="Person",
    description=(
        "Someone's public face: what other objects show of the people they point at "
        "(an owner, a staff member). Its id names the same account as a User id."
    ),
)
class PersonType:
    id: strawberry.ID
    full_name: str
    avatar_url: str | None
    user_id: strawberry.Private[int]
    account: UserType | None = to_one(
        key="user_id",
        loader=user_by_id,
        target=lambda: UserType,
        description="Their account with its private fields: for themselves and admins, else null.",
    )

    @classmethod
    def from_model(cls, user: User) -> PersonType:
        assert user.id is not None
        return cls(
            id=strawberry.ID(to_base64("Person", str(user.id))),
            full_name=user.full_name,
            avatar_url=avatar_url(user),
            user_id=user.id,
        )


PERSON_ID_TYPES = ("User", "Person")


def user_id_of(global_id: str, argument: str = "id") -> int:
    """The account a User or Person id names (anything else is BAD_USER_INPUT)."""
    return decode_id(global_id, *PERSON_ID_TYPES, argument=argument)


def own_account(reader: Reader, user: User) -> bool:
    """An account's private fields are for its owner and for admins."""
    return reader.is_user_or_admin(user.id)


@visible_to(own_account)
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
    email_verified: bool = personal()
    email_verified_at: datetime | None = personal()
    timezone: str = personal()
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
            avatar_url=avatar_url(user),
            created_at=user.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[UserType | None]:
        return await nodes_by_id(info, cls, user_by_id, node_ids)


def own_account_rows(reader: Reader, user: FromClause) -> ColumnElement[bool] | None:
    """`own_account` in SQL, for the compiled read path."""
    return None if reader.is_admin else user.c.id == compiled.viewer_id()


def _avatar_url(user: FromClause) -> ColumnElement[str | None]:
    has_avatar = user.c.avatar != ""  # null too: NULL <> '' is not true
    return case((has_avatar, literal(AVATAR_URL_PREFIX, String) + user.c.avatar))


compiled.table(
    UserType,
    User,
    visible=own_account_rows,
    fields={
        "emailVerified": compiled.Expression(lambda user, _: user.c.email_verified_at.is_not(None)),
        "avatarUrl": compiled.Expression(lambda user, _: _avatar_url(user)),
    },
)


def own_session(reader: Reader, session: SessionInfo) -> bool:
    return reader.is_user_or_admin(session.user_id)


@visible_to(own_session)
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
