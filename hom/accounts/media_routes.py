"""GET /media/avatars/{name}: stored avatars, served only by their generated names."""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from hom.accounts.avatars import AVATAR_MEDIA_TYPE, AVATAR_NAME, avatar_dir
from hom.core.config import Settings

AVATAR_HEADERS = {
    # A name is never reused for other content, so clients may keep it for good.
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def existing_avatar(folder: Path, name: str) -> Path | None:
    """The file of a well-formed avatar name inside `folder`, if it exists."""
    if not AVATAR_NAME.fullmatch(name):
        return None
    root = folder.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def media_routes(settings: Settings) -> list[Route]:
    """The media routes for `settings.media_dir`."""
    folder = avatar_dir(settings.media_dir)

    async def avatar(request: Request) -> Response:
        path = await asyncio.to_thread(existing_avatar, folder, request.path_params["name"])
        if path is None:
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(path, media_type=AVATAR_MEDIA_TYPE, headers=AVATAR_HEADERS)

    return [Route("/media/avatars/{name}", avatar, methods=["GET"])]
