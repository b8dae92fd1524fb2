"""AccountsQuery / AccountsMutation: thin resolvers over the accounts service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.file_uploads import Upload

from hom.accounts import admin, avatars, passwords, registration, service
from hom.accounts.models import User
from hom.accounts.sessions import SessionStore
from hom.accounts.types import (
    ChangePasswordInput,
    ChangePasswordPayload,
    CreateUserInput,
    CreateUserPayload,
    RegisterInput,
    RegisterPayload,
    RequestEmailVerificationPayload,
    RequestPasswordResetPayload,
    ResetPasswordInput,
    ResetPasswordPayload,
    RevokeSessionPayload,
    SessionType,
    UpdateProfileInput,
    UpdateProfilePayload,
    UpdateUserInput,
    UpdateUserPayload,
    UploadAvatarPayload,
    UserFilter,
    UserType,
    VerifyEmailPayload,
    user_id_of,
)
from hom.core.errors import DomainError, ErrorCode
from hom.core.graphql import compiled
from hom.core.graphql.cost import estimate
from hom.core.graphql.payloads import UserError, mutate
from hom.core.graphql.permissions import IsAdmin, IsAuthenticated, Public, require_viewer
from hom.core.graphql.reading import read_page
from hom.core.graphql.relations import present_one
from hom.core.graphql.relay import Connection
from hom.core.graphql.visibility import present, present_all
from hom.core.rate_limit import RateLimiter
from hom.core.viewer import Reader


def session_store(info: strawberry.Info) -> SessionStore:
    context = info.context
    return SessionStore(context.redis, context.keys, context.settings)


def rate_limiter(info: strawberry.Info) -> RateLimiter:
    return RateLimiter(info.context.redis, info.context.keys)


def shown_to(reader: Reader) -> Callable[[User], UserType | None]:
    return lambda user: present(reader, UserType, user)


def shown_to_owner(user: User) -> UserType | None:
    """For mutations that prove ownership without a session (registering, a mailed token)."""
    return present(Reader(user_id=user.id), UserType, user)


def own_row() -> Any:
    """The signed-in reader's own account (the compiled path's `me`)."""
    return select(User).where(col(User.id) == compiled.viewer_id())


@strawberry.type
class AccountsQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The signed-in user; null (with an UNAUTHENTICATED error at `me`) when "
        "signed out, so the rest of a document still answers.",
        metadata=compiled.source(compiled.RowSource(lambda reader, features: own_row())),
    )
    async def me(self, info: strawberry.Info) -> UserType | None:
        viewer = await require_viewer(info)
        user = await service.require_user(info.context.db, user_id=viewer.user_id)
        shown = await present_one(info, UserType, user)
        assert shown is not None, "your own account is always visible to you"
        return shown

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your signed-in devices.",
        metadata=estimate(10),
    )
    async def my_sessions(self, info: strawberry.Info) -> list[SessionType]:
        viewer = await require_viewer(info)
        found = await session_store(info).list(viewer.user_id, current_sid=viewer.sid)
        return present_all(viewer.reader, SessionType, found)

    @strawberry.field(permission_classes=[IsAdmin], description="All users (admins).")
    async def users(
        self,
        info: strawberry.Info,
        filter: UserFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[UserType]:
        criteria = filter or UserFilter()
        filters = admin.UserFilter(
            role=criteria.role, is_active=criteria.is_active, search=criteria.search
        )
        connection: Connection[UserType] = await read_page(
            info,
            UserType,
            admin.USER_KEYS,
            (first, after, last, before),
            lambda s, request: admin.list_users(s, filters=filters, request=request),
        )
        return connection

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="An account by its User (or Person) id: yours, or anyone's for admins.",
    )
    async def user(self, info: strawberry.Info, id: strawberry.ID) -> UserType | None:
        user_id = user_id_of(id)
        async with info.context.db.session() as session:
            user = await service.get_user(session, user_id=user_id)
        return await present_one(info, UserType, user)


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(permission_classes=[Public], description="Create a customer account.")
    async def register(self, info: strawberry.Info, input: RegisterInput) -> RegisterPayload:
        return await mutate(
            info,
            RegisterPayload,
            lambda s: registration.register(
                s, email=input.email, password=input.password, full_name=input.full_name
            ),
            shown_to_owner,
        )

    @strawberry.mutation(permission_classes=[Public], description="Confirm an email address.")
    async def verify_email(self, info: strawberry.Info, token: str) -> VerifyEmailPayload:
        return await mutate(
            info,
            VerifyEmailPayload,
            lambda s: registration.verify_email(s, token=token),
            shown_to_owner,
        )

    @strawberry.mutation(
        permission_classes=[Public],
        description="Mail a reset link; the answer is the same whether the account exists or not.",
    )
    async def request_password_reset(
        self, info: strawberry.Info, email: str
    ) -> RequestPasswordResetPayload:
        limiter = rate_limiter(info)

        async def work(session: AsyncSession) -> bool:
            await passwords.request_password_reset(session, limiter=limiter, email=email)
            return True

        return await mutate(info, RequestPasswordResetPayload, work, bool)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Mail yourself a new verification link (a few per hour).",
    )
    async def request_email_verification(
        self, info: strawberry.Info
    ) -> RequestEmailVerificationPayload:
        viewer, limiter = await require_viewer(info), rate_limiter(info)
        return await mutate(
            info,
            RequestEmailVerificationPayload,
            lambda s: registration.resend_verification(s, limiter=limiter, viewer=viewer),
            shown_to(viewer.reader),
        )

    @strawberry.mutation(permission_classes=[Public], description="Set a new password by token.")
    async def reset_password(
        self, info: strawberry.Info, input: ResetPasswordInput
    ) -> ResetPasswordPayload:
        sessions = session_store(info)
        return await mutate(
            info,
            ResetPasswordPayload,
            lambda s: passwords.reset_password(
                s, sessions=sessions, token=input.token, new_password=input.new_password
            ),
            shown_to_owner,
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Change your password; ends other sessions.",
    )
    async def change_password(
        self, info: strawberry.Info, input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        viewer, sessions = await require_viewer(info), session_store(info)
        return await mutate(
            info,
            ChangePasswordPayload,
            lambda s: passwords.change_password(
                s,
                sessions=sessions,
                viewer=viewer,
                current_password=input.current_password,
                new_password=input.new_password,
            ),
            shown_to(viewer.reader),
        )

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Edit your profile.")
    async def update_profile(
        self, info: strawberry.Info, input: UpdateProfileInput
    ) -> UpdateProfilePayload:
        viewer = await require_viewer(info)
        return await mutate(
            info,
            UpdateProfilePayload,
            lambda s: service.update_profile(
                s, viewer=viewer, full_name=input.full_name, timezone=input.timezone
            ),
            shown_to(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Upload a PNG, JPEG or WebP (at most 2 MB) as your avatar.",
    )
    async def upload_avatar(self, info: strawberry.Info, file: Upload) -> UploadAvatarPayload:
        viewer = await require_viewer(info)
        media_dir = info.context.settings.media_dir
        return await mutate(
            info,
            UploadAvatarPayload,
            lambda s: avatars.change_avatar(s, media_dir=media_dir, viewer=viewer, upload=file),
            shown_to(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="Sign one of your devices out."
    )
    async def revoke_session(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> RevokeSessionPayload:
        viewer = await require_viewer(info)
        if not await session_store(info).end(viewer.user_id, str(id)):
            error = DomainError(ErrorCode.NOT_FOUND, "No such session", "id")
            return RevokeSessionPayload(errors=[UserError.of(error)])
        return RevokeSessionPayload(revoked_session_id=id)

    @strawberry.mutation(permission_classes=[IsAdmin], description="Create a user (admins).")
    async def create_user(self, info: strawberry.Info, input: CreateUserInput) -> CreateUserPayload:
        new = admin.NewUser(
            email=input.email,
            password=input.password,
            full_name=input.full_name,
            role=input.role,
            email_verified=input.email_verified,
        )
        viewer = await require_viewer(info)
        return await mutate(
            info,
            CreateUserPayload,
            lambda s: admin.create_user(s, new=new, actor=viewer),
            shown_to(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin], description="Change a user's role, name or active flag."
    )
    async def update_user(self, info: strawberry.Info, input: UpdateUserInput) -> UpdateUserPayload:
        viewer, sessions = await require_viewer(info), session_store(info)
        changes = admin.UserChanges(
            user_id=user_id_of(input.id),
            role=input.role,
            is_active=input.is_active,
            full_name=input.full_name,
        )
        return await mutate(
            info,
            UpdateUserPayload,
            lambda s: admin.update_user(s, sessions=sessions, actor=viewer, changes=changes),
            shown_to(viewer.reader),
        )
