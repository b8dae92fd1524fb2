"""AccountsQuery / AccountsMutation: thin resolvers over the accounts service."""

from __future__ import annotations

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from hom.accounts import avatars, service
from hom.accounts.export import export_user_data
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
)
from hom.core.errors import DomainError, ErrorCode, bad_user_input, forbidden
from hom.core.mutations import mutate
from hom.core.pagination import page_request
from hom.core.permissions import IsAuthenticated, Public, has_role, require_viewer
from hom.core.relay import Connection, parse_global_id
from hom.core.roles import Role

ADMIN = has_role(Role.ADMIN)


def user_id_of(global_id: str, argument: str = "id") -> int:
    """The database id inside a User's global id (anything else is BAD_USER_INPUT)."""
    decoded = parse_global_id(global_id, argument)
    if decoded.type_name != "User" or not decoded.node_id.isdigit():
        raise bad_user_input(f"`{argument}` is not a User id", argument)
    return int(decoded.node_id)


@strawberry.type
class AccountsQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="The signed-in user.")
    async def me(self, info: strawberry.Info) -> UserType:
        viewer = await require_viewer(info)
        async with info.context.db.session() as session:
            user = await service.require_user(session, viewer.user_id)
        return UserType.from_model(user)

    @strawberry.field(permission_classes=[IsAuthenticated], description="Your signed-in devices.")
    async def my_sessions(self, info: strawberry.Info) -> list[SessionType]:
        viewer = await require_viewer(info)
        found = await info.context.sessions.list(viewer.user_id)
        return [SessionType.from_info(session, viewer.sid) for session in found]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Everything stored about you, as one JSON document (no secrets).",
    )
    async def export_my_data(self, info: strawberry.Info) -> JSON:
        viewer = await require_viewer(info)
        async with info.context.db.session() as session:
            data = await export_user_data(session, info.context.sessions, viewer)
        return JSON(data)

    @strawberry.field(permission_classes=[ADMIN], description="All users (admins).")
    async def users(
        self,
        info: strawberry.Info,
        filter: UserFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[UserType]:
        request = page_request(first, after, service.USER_KEYS)
        criteria = filter or UserFilter()
        filters = service.UserFilter(criteria.role, criteria.is_active, criteria.search)
        async with info.context.db.session() as session:
            page = await service.list_users(session, filters, request)
        return Connection.from_page(page, [UserType.from_model(user) for user in page.rows])

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="A user: yourself, or anyone for admins."
    )
    async def user(self, info: strawberry.Info, id: strawberry.ID) -> UserType | None:
        viewer = await require_viewer(info)
        user_id = user_id_of(id)
        if not viewer.is_admin and user_id != viewer.user_id:
            raise forbidden()
        async with info.context.db.session() as session:
            user = await service.get_user(session, user_id)
        return UserType.from_model(user) if user else None


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(permission_classes=[Public], description="Create a customer account.")
    async def register(self, info: strawberry.Info, input: RegisterInput) -> RegisterPayload:
        return await mutate(
            info,
            RegisterPayload,
            lambda s: service.register(s, input.email, input.password, input.full_name),
            UserType.from_model,
        )

    @strawberry.mutation(permission_classes=[Public], description="Confirm an email address.")
    async def verify_email(self, info: strawberry.Info, token: str) -> VerifyEmailPayload:
        return await mutate(
            info, VerifyEmailPayload, lambda s: service.verify_email(s, token), UserType.from_model
        )

    @strawberry.mutation(
        permission_classes=[Public],
        description="Mail a reset link; the answer is the same whether the account exists or not.",
    )
    async def request_password_reset(
        self, info: strawberry.Info, email: str
    ) -> RequestPasswordResetPayload:
        limiter = info.context.rate_limiter

        async def work(session: AsyncSession) -> bool:
            await service.request_password_reset(session, limiter, email)
            return True

        return await mutate(info, RequestPasswordResetPayload, work, bool)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Mail yourself a new verification link (a few per hour).",
    )
    async def request_email_verification(
        self, info: strawberry.Info
    ) -> RequestEmailVerificationPayload:
        viewer, limiter = await require_viewer(info), info.context.rate_limiter
        return await mutate(
            info,
            RequestEmailVerificationPayload,
            lambda s: service.resend_verification(s, limiter, viewer),
            UserType.from_model,
        )

    @strawberry.mutation(permission_classes=[Public], description="Set a new password by token.")
    async def reset_password(
        self, info: strawberry.Info, input: ResetPasswordInput
    ) -> ResetPasswordPayload:
        sessions = info.context.sessions
        return await mutate(
            info,
            ResetPasswordPayload,
            lambda s: service.reset_password(s, sessions, input.token, input.new_password),
            UserType.from_model,
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Change your password; ends other sessions.",
    )
    async def change_password(
        self, info: strawberry.Info, input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        viewer, sessions = await require_viewer(info), info.context.sessions
        return await mutate(
            info,
            ChangePasswordPayload,
            lambda s: service.change_password(
                s, sessions, viewer, input.current_password, input.new_password
            ),
            UserType.from_model,
        )

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Edit your profile.")
    async def update_profile(
        self, info: strawberry.Info, input: UpdateProfileInput
    ) -> UpdateProfilePayload:
        viewer = await require_viewer(info)
        return await mutate(
            info,
            UpdateProfilePayload,
            lambda s: service.update_profile(s, viewer, input.full_name, input.timezone),
            UserType.from_model,
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
            lambda s: avatars.change_avatar(s, media_dir, viewer, file),
            UserType.from_model,
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="Sign one of your devices out."
    )
    async def revoke_session(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> RevokeSessionPayload:
        viewer = await require_viewer(info)
        if not await info.context.sessions.end(viewer.user_id, str(id)):
            error = DomainError(ErrorCode.NOT_FOUND, "No such session", "id")
            return RevokeSessionPayload(errors=[error.to_user_error()])
        return RevokeSessionPayload(revoked_session_id=id)

    @strawberry.mutation(permission_classes=[ADMIN], description="Create a user (admins).")
    async def create_user(self, info: strawberry.Info, input: CreateUserInput) -> CreateUserPayload:
        new = service.NewUser(
            input.email, input.password, input.full_name, input.role, input.email_verified
        )
        viewer = await require_viewer(info)
        return await mutate(
            info,
            CreateUserPayload,
            lambda s: service.create_user(s, new, actor=viewer),
            UserType.from_model,
        )

    @strawberry.mutation(
        permission_classes=[ADMIN], description="Change a user's role, name or active flag."
    )
    async def update_user(self, info: strawberry.Info, input: UpdateUserInput) -> UpdateUserPayload:
        viewer, sessions = await require_viewer(info), info.context.sessions
        changes = service.UserChanges(
            user_id_of(input.id), input.role, input.is_active, input.full_name
        )
        return await mutate(
            info,
            UpdateUserPayload,
            lambda s: service.update_user(s, sessions, viewer, changes),
            UserType.from_model,
        )
