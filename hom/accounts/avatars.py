"""Avatars: sniffed, size-checked, re-encoded without metadata, stored under a random name."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import struct
import tempfile
import warnings
from io import BytesIO
from pathlib import Path
from typing import Any

import structlog
from PIL import Image
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import UploadFile

from hom.accounts import service
from hom.accounts.models import User
from hom.core.errors import DomainError, ErrorCode
from hom.core.unit_of_work import after_commit, after_rollback
from hom.core.viewer import Viewer

MAX_AVATAR_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
MAX_SIDE = 8192
AVATAR_SIZE = (512, 512)
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
AVATAR_EXTENSION = ".webp"
AVATAR_MEDIA_TYPE = "image/webp"
AVATAR_NAME = re.compile(r"[A-Za-z0-9_-]{24}\.webp")
AVATARS_SUBDIR = "avatars"
log = structlog.get_logger("hom.avatars")

# Our own pixel check is stricter than Pillow's, but never let a bomb through as a mere warning.
warnings.simplefilter("error", Image.DecompressionBombWarning)

_UNDECODABLE = (
    OSError,  # includes UnidentifiedImageError and truncated data
    ValueError,
    SyntaxError,  # Pillow's PNG reader reports broken chunks this way
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
)
_BOMBS = (Image.DecompressionBombError, Image.DecompressionBombWarning)
TOO_MANY_PIXELS = "The image has too many pixels (at most 4096x4096)"
EXIF_ORIENTATION = 0x0112
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class InvalidImage(Exception):
    """The bytes are not an acceptable PNG, JPEG or WebP image."""


def avatar_dir(media_dir: Path) -> Path:
    """Where avatar files live."""
    return media_dir / AVATARS_SUBDIR


async def change_avatar(
    session: AsyncSession, *, media_dir: Path, viewer: Viewer, upload: Any
) -> User:
    """Replace the viewer's avatar; the old file goes once the change is committed."""
    user = await service.require_user(session, user_id=viewer.user_id)
    data = await read_upload(upload=upload)
    try:
        encoded = await asyncio.to_thread(reencode, data)
    except InvalidImage as error:
        raise DomainError(ErrorCode.INVALID, str(error), "file") from error
    # Serialises concurrent changes, so each one knows the file it replaces.
    await session.refresh(user, ["avatar"], with_for_update=True)
    folder = avatar_dir(media_dir)
    name = await asyncio.to_thread(store, folder, encoded)
    previous, user.avatar = user.avatar, name
    after_commit(session, lambda: remove_avatar(folder, previous))
    after_rollback(session, lambda: remove_avatar(folder, name))
    await session.flush()
    return user


async def read_upload(*, upload: Any) -> bytes:
    """At most MAX_AVATAR_BYTES of the uploaded file; anything else is INVALID."""
    if not isinstance(upload, UploadFile):
        raise DomainError(ErrorCode.INVALID, "Send the avatar as a multipart file upload", "file")
    try:
        data = await upload.read(MAX_AVATAR_BYTES + 1)
    finally:
        await upload.close()
    if len(data) > MAX_AVATAR_BYTES:
        raise DomainError(ErrorCode.INVALID, "An avatar may be at most 2 MB", "file")
    if not data:
        raise DomainError(ErrorCode.INVALID, "The file is empty", "file")
    return data


def reencode(data: bytes) -> bytes:
    """Decode fully, apply EXIF orientation, shrink to 512 px, encode as WebP without metadata."""
    try:
        with open_checked(data) as probe:
            probe.verify()
        with open_checked(data) as image:
            image.load()
            return encode(upright(image))
    except _BOMBS as error:
        raise InvalidImage(TOO_MANY_PIXELS) from error
    except _UNDECODABLE as error:
        raise InvalidImage("The file is not a valid PNG, JPEG or WebP image") from error


def open_checked(data: bytes) -> Image.Image:
    """Open (headers only) one of the accepted formats, refusing absurd dimensions."""
    image = Image.open(BytesIO(data), formats=ACCEPTED_FORMATS)
    width, height = image.size
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        image.close()
        raise InvalidImage(TOO_MANY_PIXELS)
    return image


def upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says."""
    # Not ImageOps.exif_transpose: it rewrites the EXIF (dropped anyway), which corrupt tags break.
    orientation: Any = image.getexif().get(EXIF_ORIENTATION)
    method = UPRIGHT.get(orientation)
    return image.transpose(method) if method is not None else image


def encode(image: Image.Image) -> bytes:
    """WebP of at most AVATAR_SIZE, from a fresh image so no metadata can come along."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    converted = image.convert("RGBA" if has_alpha else "RGB")
    converted.thumbnail(AVATAR_SIZE, Image.Resampling.LANCZOS)
    clean = Image.frombytes(converted.mode, converted.size, converted.tobytes())
    out = BytesIO()
    clean.save(out, format="WEBP", quality=85)
    return out.getvalue()


def store(folder: Path, encoded: bytes) -> str:
    """Write `encoded` under a fresh random name, atomically; return the name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_urlsafe(18) + AVATAR_EXTENSION
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", delete=False) as temp:
        try:
            temp.write(encoded)
            temp.flush()
            os.fchmod(temp.fileno(), 0o644)
        except BaseException:
            os.unlink(temp.name)
            raise
    os.replace(temp.name, folder / name)
    return name


def remove_avatar(folder: Path, name: str | None) -> None:
    """Delete one stored avatar; only names we generate are ever touched."""
    if not name or not AVATAR_NAME.fullmatch(name):
        return
    try:
        (folder / name).unlink(missing_ok=True)
    except OSError as error:  # the change is settled either way; a stray file is harmless
        log.warning("avatar_remove_failed", avatar=name, error=str(error))
