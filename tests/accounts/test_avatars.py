"""uploadAvatar over GraphQL multipart, and GET /media/avatars/{name}."""

from __future__ import annotations

import asyncio
import io
import json
import os
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageCms, PngImagePlugin
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts.avatars import AVATAR_NAME
from hom.accounts.models import User
from hom.app import create_app
from hom.core.config import Settings
from hom.core.db import SessionMaker
from hom.core.errors import DomainError, ErrorCode
from tests.conftest import open_client
from tests.factories import signed_in
from tests.support import bearer, error_codes

UPLOAD = (
    "mutation($file: Upload!) { uploadAvatar(file: $file) "
    "{ user { avatarUrl } errors { field message code } } }"
)
PREFLIGHT = {"apollo-require-preflight": "true"}
ORIENTATION = 0x0112
ROTATE_90_CW = 6


@dataclass
class Media:
    """A client of an app whose MEDIA_DIR is a fresh temporary directory."""

    http: httpx.AsyncClient
    session_maker: SessionMaker
    media_dir: Path

    @property
    def avatars(self) -> Path:
        return self.media_dir / "avatars"

    def stored(self) -> set[str]:
        """Every file under MEDIA_DIR, relative to it (temp files included)."""
        return {str(p.relative_to(self.media_dir)) for p in self.media_dir.rglob("*")} - {"avatars"}

    async def avatar_of(self, user_id: int | None) -> str | None:
        async with self.session_maker() as session:
            user = await session.get(User, user_id)
        assert user is not None
        return user.avatar


@pytest.fixture
async def media(settings_factory: Callable[..., Settings], tmp_path: Path) -> AsyncIterator[Media]:
    media_dir = tmp_path / "media"
    app = create_app(settings_factory(media_dir=media_dir))
    async with await open_client(app) as http:
        yield Media(http, app.state.services.session_maker, media_dir)
    await app.state.services.close()


async def upload(
    http: httpx.AsyncClient,
    data: bytes,
    token: str | None,
    filename: str = "a.png",
    content_type: str = "image/png",
    headers: dict[str, str] = PREFLIGHT,
) -> httpx.Response:
    operations = {"query": UPLOAD, "variables": {"file": None}}
    return await http.post(
        "/graphql",
        files={"0": (filename, data, content_type)},
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        headers={**bearer(token), **headers},
    )


def payload(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["uploadAvatar"]
    return result


def png_with_metadata(size: tuple[int, int] = (1200, 800)) -> bytes:
    """A PNG carrying EXIF (rotate 90° clockwise, camera, GPS), an ICC profile and text."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    exif = Image.Exif()
    exif[ORIENTATION] = ROTATE_90_CW
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.0)}  # GPS
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "secret comment")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif, icc_profile=icc, pnginfo=text)
    return out.getvalue()


def encoded(mode: str, size: tuple[int, int], fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, fmt)
    return out.getvalue()


def noise_png(raw_bytes: int) -> bytes:
    """A PNG of random pixels: it does not compress, so the file is about `raw_bytes`."""
    width = 1000
    height = raw_bytes // (3 * width)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(3 * width * height)).save(out, "PNG")
    return out.getvalue()


def declared_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares `width` x `height` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 4096)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


async def test_png_round_trips_oriented_shrunk_and_without_metadata(media: Media) -> None:
    user, tokens = await signed_in(media.http, media.session_maker)
    result = payload(await upload(media.http, png_with_metadata(), tokens.access_token))
    assert result["errors"] == []
    url = result["user"]["avatarUrl"]
    name = url.removeprefix("/media/avatars/")
    assert AVATAR_NAME.fullmatch(name)
    assert media.stored() == {f"avatars/{name}"}
    assert await media.avatar_of(user.id) == name

    response = await media.http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "max-age" in response.headers["cache-control"]
    image = Image.open(io.BytesIO(response.content))
    image.load()
    assert image.format == "WEBP"
    assert image.size == (341, 512)  # 1200x800 turned upright by EXIF, then shrunk
    gray = image.convert("L")  # the gradient's dark top edge ends up on the right
    assert gray.getpixel((10, 256)) > 200 > 50 > gray.getpixel((330, 256))
    assert not image.getexif()
    assert not {"exif", "icc_profile", "xmp", "Comment"} & set(image.info)
    for marker in (b"EXIF", b"ICCP", b"XMP ", b"SecretCam", b"secret comment"):
        assert marker not in response.content


async def test_small_jpeg_and_webp_are_accepted_as_is(media: Media) -> None:
    _, tokens = await signed_in(media.http, media.session_maker)
    for fmt in ("JPEG", "WEBP"):
        data = encoded("RGB", (64, 48), fmt)
        result = payload(await upload(media.http, data, tokens.access_token, "x.bin", "a/b"))
        response = await media.http.get(result["user"]["avatarUrl"])
        assert Image.open(io.BytesIO(response.content)).size == (64, 48)


REFUSED = {
    "html named .png": b"<!doctype html><script>alert(document.cookie)</script>",
    "gif": encoded("RGB", (8, 8), "GIF"),
    "truncated png": encoded("RGB", (300, 300))[:300],
    "bomb 20000x20000": declared_png(20_000, 20_000),
    "bomb 10000x10000": declared_png(10_000, 10_000),
    "5000x5000 pixels": encoded("1", (5000, 5000)),
    "empty": b"",
}


@pytest.mark.parametrize("label", list(REFUSED))
async def test_refused_content_changes_nothing(media: Media, label: str) -> None:
    user, tokens = await signed_in(media.http, media.session_maker)
    first = payload(await upload(media.http, encoded("RGB", (32, 32)), tokens.access_token))
    name = first["user"]["avatarUrl"].removeprefix("/media/avatars/")

    result = payload(await upload(media.http, REFUSED[label], tokens.access_token))
    assert result["user"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("file", "INVALID")]
    assert media.stored() == {f"avatars/{name}"}
    assert await media.avatar_of(user.id) == name


async def test_html_named_png_on_a_fresh_account_stores_nothing(media: Media) -> None:
    user, tokens = await signed_in(media.http, media.session_maker)
    result = payload(await upload(media.http, REFUSED["html named .png"], tokens.access_token))
    assert result["errors"][0]["code"] == "INVALID"
    assert media.stored() == set()
    assert await media.avatar_of(user.id) is None


async def test_over_2_mb_is_invalid_and_over_the_body_limit_is_413(media: Media) -> None:
    user, tokens = await signed_in(media.http, media.session_maker)
    big = noise_png(2_500_000)
    assert 2 * 1024 * 1024 < len(big) < 2_900_000
    result = payload(await upload(media.http, big, tokens.access_token))
    assert result["errors"][0]["code"] == "INVALID"
    assert "2 MB" in result["errors"][0]["message"]

    response = await upload(media.http, noise_png(3_300_000), tokens.access_token)
    assert response.status_code == 413
    assert media.stored() == set()
    assert await media.avatar_of(user.id) is None


@pytest.mark.parametrize(
    "filename", ["../../etc/passwd.png", "..%2f..%2fx.png", "/var/abs.png", "..\\..\\w.png"]
)
async def test_client_file_name_never_decides_where_the_file_goes(
    media: Media, filename: str
) -> None:
    _, tokens = await signed_in(media.http, media.session_maker)
    data = encoded("RGB", (16, 16))
    result = payload(await upload(media.http, data, tokens.access_token, filename))
    name = result["user"]["avatarUrl"].removeprefix("/media/avatars/")
    assert AVATAR_NAME.fullmatch(name)
    assert media.stored() == {f"avatars/{name}"}
    assert not (media.media_dir.parent / "x.png").exists()


@pytest.mark.parametrize(
    "path",
    [
        "/media/avatars/..%2f..%2fetc%2fpasswd",
        "/media/avatars/..%2F..%2Fetc%2Fpasswd.webp",
        "/media/avatars/%2e%2e",
        "/media/avatars/evil.html",
        "/media/avatars/" + "a" * 24 + ".png",
        "/media/avatars/" + "a" * 24 + ".WEBP",
        "/media/avatars/" + "a" * 25 + ".webp",
        "/media/avatars/" + "a" * 24 + ".webp",
        "/media/avatars/" + "a" * 24 + ".webp%00.html",
        "/media/avatars/",
    ],
)
async def test_malformed_or_unknown_media_names_are_404(media: Media, path: str) -> None:
    media.avatars.mkdir(parents=True)
    (media.avatars / "evil.html").write_text("<script>alert(1)</script>")
    response = await media.http.get(path)
    assert response.status_code == 404


async def test_a_link_out_of_the_avatar_directory_is_not_followed(media: Media) -> None:
    media.avatars.mkdir(parents=True)
    secret = media.media_dir / "secret.webp"
    secret.write_bytes(b"secret")
    name = "b" * 24 + ".webp"
    (media.avatars / name).symlink_to(secret)
    assert (await media.http.get(f"/media/avatars/{name}")).status_code == 404


@pytest.mark.parametrize("headers", [{}, {"apollo-require-preflight": ""}, {"x-other": "1"}])
async def test_multipart_without_a_preflight_header_is_400_and_runs_nothing(
    media: Media, headers: dict[str, str]
) -> None:
    user, tokens = await signed_in(media.http, media.session_maker)
    data = encoded("RGB", (16, 16))
    response = await upload(media.http, data, tokens.access_token, headers=headers)
    assert response.status_code == 400
    assert "preflight" in response.text.lower()
    assert media.stored() == set()
    assert await media.avatar_of(user.id) is None


@pytest.mark.parametrize(
    "header", ["apollo-require-preflight", "x-apollo-operation-name", "graphql-preflight"]
)
async def test_each_preflight_header_is_enough(media: Media, header: str) -> None:
    _, tokens = await signed_in(media.http, media.session_maker)
    data = encoded("RGB", (16, 16))
    response = await upload(media.http, data, tokens.access_token, headers={header: "1"})
    assert payload(response)["errors"] == []


async def test_preflight_headers_are_allowed_by_cors(
    settings_factory: Callable[..., Settings],
) -> None:
    app = create_app(settings_factory(cors_origins="https://shop.example"))
    async with await open_client(app) as http:
        response = await http.options(
            "/graphql",
            headers={
                "origin": "https://shop.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, apollo-require-preflight",
            },
        )
    await app.state.services.close()
    assert response.status_code == 200
    assert "apollo-require-preflight" in response.headers["access-control-allow-headers"].lower()


async def test_anonymous_upload_is_unauthenticated(media: Media) -> None:
    response = await upload(media.http, encoded("RGB", (16, 16)), None)
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]
    assert media.stored() == set()


async def test_a_string_instead_of_a_file_is_invalid(media: Media) -> None:
    _, tokens = await signed_in(media.http, media.session_maker)
    response = await media.http.post(
        "/graphql",
        json={"query": UPLOAD, "variables": {"file": "/etc/passwd"}},
        headers=bearer(tokens.access_token),
    )
    assert payload(response)["errors"][0]["code"] == "INVALID"


async def test_replacing_an_avatar_removes_the_old_file(media: Media) -> None:
    user, tokens = await signed_in(media.http, media.session_maker)
    first = payload(await upload(media.http, encoded("RGB", (16, 16)), tokens.access_token))
    second = payload(await upload(media.http, encoded("RGBA", (20, 20)), tokens.access_token))
    old = first["user"]["avatarUrl"]
    new = second["user"]["avatarUrl"]
    assert old != new
    assert media.stored() == {new.removeprefix("/media/")}
    assert await media.avatar_of(user.id) == new.removeprefix("/media/avatars/")
    assert (await media.http.get(old)).status_code == 404
    assert (await media.http.get(new)).status_code == 200


async def test_a_failure_after_the_file_is_written_leaves_no_file_behind(
    media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, tokens = await signed_in(media.http, media.session_maker)
    first = payload(await upload(media.http, encoded("RGB", (16, 16)), tokens.access_token))
    kept = first["user"]["avatarUrl"].removeprefix("/media/")

    async def failing_flush(*args: Any, **kwargs: Any) -> None:
        raise DomainError(ErrorCode.INVALID, "simulated failure")

    monkeypatch.setattr(AsyncSession, "flush", failing_flush)
    result = payload(await upload(media.http, encoded("RGB", (16, 16)), tokens.access_token))
    monkeypatch.undo()
    assert result["errors"][0]["message"] == "simulated failure"
    assert media.stored() == {kept}
    assert await media.avatar_of(user.id) == kept.removeprefix("avatars/")


@pytest.mark.parametrize(
    ("operations", "files_map"),
    [
        ({"query": UPLOAD, "variables": {"file": None}}, [1]),
        ({"query": UPLOAD, "variables": {"file": None}}, {"0": ["variables.file.3"]}),
        ({"query": UPLOAD, "variables": {"file": None}}, {"0": ["variables.nope.x"]}),
        ({"query": UPLOAD, "variables": {"file": None}}, {"1": ["variables.file"]}),
        ([{"query": UPLOAD, "variables": {"file": None}}], {"0": ["x.variables.file"]}),
    ],
)
async def test_a_map_that_does_not_fit_the_operations_is_400(
    media: Media, operations: Any, files_map: Any
) -> None:
    _, tokens = await signed_in(media.http, media.session_maker)
    response = await media.http.post(
        "/graphql",
        files={"0": ("a.png", encoded("RGB", (8, 8)), "image/png")},
        data={"operations": json.dumps(operations), "map": json.dumps(files_map)},
        headers={**bearer(tokens.access_token), **PREFLIGHT},
    )
    assert response.status_code == 400
    assert media.stored() == set()


async def test_concurrent_uploads_leave_exactly_the_winning_file(media: Media) -> None:
    user, tokens = await signed_in(media.http, media.session_maker)
    images = [encoded("RGB", (40 + n, 40)) for n in range(4)]
    results = await asyncio.gather(
        *(upload(media.http, image, tokens.access_token) for image in images)
    )
    assert all(payload(result)["errors"] == [] for result in results)
    winner = await media.avatar_of(user.id)
    assert media.stored() == {f"avatars/{winner}"}
