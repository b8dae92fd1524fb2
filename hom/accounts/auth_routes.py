"""REST: POST /auth/login, /auth/refresh, /auth/logout (SPEC §4)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hom.accounts import auth
from hom.accounts.auth import Client, InvalidToken, LoginFailed, LoginRefused, SessionError
from hom.accounts.sessions import SessionStore
from hom.accounts.throttle import LoginThrottle
from hom.core.client_ip import client_ip, parse_networks
from hom.core.services import Services
from hom.core.tokens import bearer_token
from hom.core.unavailable import needs_redis
from hom.core.unit_of_work import unit_of_work

REFRESH_HEADER = "x-refresh-token"
WRONG_CREDENTIALS = "Incorrect email or password"
MAX_FIELD_LENGTH = 1024


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _sessions(services: Services) -> SessionStore:
    return SessionStore(services.redis, services.keys, services.settings)


def unauthorized(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


def client_of(request: Request, services: Services) -> Client:
    proxies = parse_networks(tuple(services.settings.trusted_proxies))
    return Client(client_ip(request, proxies), request.headers.get("user-agent", ""))


def _credentials(form: FormData) -> tuple[str, str] | None:
    username, password = form.get("username"), form.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    if not username or not password or max(len(username), len(password)) > MAX_FIELD_LENGTH:
        return None
    return username, password


async def login(request: Request) -> Response:
    services = _services(request)
    async with request.form(max_files=0, max_fields=10) as form:
        credentials = _credentials(form)
    if credentials is None:
        return JSONResponse({"detail": "Form fields `username` and `password` are required"}, 422)
    if any("\x00" in value for value in credentials):  # PostgreSQL refuses NUL in text
        return JSONResponse({"detail": "Form fields must not contain NUL characters"}, 422)
    try:
        async with unit_of_work(services.session_maker) as session:
            pair = await auth.login(
                session,
                sessions=_sessions(services),
                throttle=LoginThrottle(services.redis, services.keys),
                email=credentials[0],
                password=credentials[1],
                client=client_of(request, services),
            )
    except LoginFailed as failure:
        return _refusal(failure)
    return JSONResponse(pair.as_json())


def _refusal(failure: LoginFailed) -> JSONResponse:
    if failure.reason is LoginRefused.THROTTLED:
        return JSONResponse(
            {"detail": "Too many failed attempts; try again later"},
            status_code=429,
            headers={"Retry-After": str(failure.retry_after)},
        )
    if failure.reason is LoginRefused.INACTIVE:
        return JSONResponse({"detail": "This account is deactivated"}, status_code=403)
    return unauthorized(WRONG_CREDENTIALS)


async def refresh(request: Request) -> Response:
    services = _services(request)
    token = request.headers.get(REFRESH_HEADER, "")
    try:
        pair = await auth.refresh(
            settings=services.settings, sessions=_sessions(services), refresh_token=token
        )
    except (InvalidToken, SessionError):
        return unauthorized("Invalid or expired refresh token")
    return JSONResponse(pair.as_json())


async def logout(request: Request) -> Response:
    services = _services(request)
    access = bearer_token(request.headers.get("authorization"))
    try:
        await auth.logout(
            settings=services.settings,
            sessions=_sessions(services),
            access_token=access or "",
            refresh_token=request.headers.get(REFRESH_HEADER, ""),
        )
    except InvalidToken:
        return unauthorized("Invalid or expired tokens")
    return Response(status_code=204)


def auth_routes() -> list[Route]:
    return [
        Route("/auth/login", needs_redis(login), methods=["POST"]),
        Route("/auth/refresh", needs_redis(refresh), methods=["POST"]),
        Route("/auth/logout", needs_redis(logout), methods=["POST"]),
    ]
