"""GraphiQL playground whose JS/CSS come from our own origin, so it works offline (SPEC §5)."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp
from strawberry.http.ides import get_graphql_ide_html

logger = logging.getLogger(__name__)

GRAPHIQL_ASSETS_PATH = "/graphiql-assets"
NODE_MODULES = Path(__file__).resolve().parents[2] / "graphiql" / "node_modules"
INSTALL_COMMAND = "npm ci --prefix graphiql"
CDN_PREFIX = "https://unpkg.com/"
CACHE_CONTROL = "public, max-age=31536000, immutable"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.IGNORECASE)
_CDN_URL = re.compile(r'(?:src|href)\s*=\s*"(https://unpkg\.com/[^"]+)"', re.IGNORECASE)
_INTEGRITY = re.compile(r'integrity\s*=\s*"([^"]+)"', re.IGNORECASE)
# "@scope/name@1.2.3/dist/file.js" or "name@1.2.3/file.js"
_PACKAGE_REF = re.compile(r"^(?P<pkg>(?:@[\w.-]+/)?[\w.-]+)@(?P<ver>[\w.+-]+)/(?P<file>[\w./-]+)$")


@dataclass(frozen=True)
class Asset:
    """One file that Strawberry's page loads from the CDN, pinned by an SRI hash."""

    cdn_url: str
    ref: str  # "<pkg>@<ver>/<file>", the path under GRAPHIQL_ASSETS_PATH
    relative_path: str  # "<pkg>/<file>", the path under node_modules
    integrity: str

    @property
    def local_url(self) -> str:
        """The URL on our own origin that replaces the CDN one."""
        return f"{GRAPHIQL_ASSETS_PATH}/{self.ref}"


@dataclass(frozen=True)
class Playground:
    """The final page and the files it needs from us (none when it uses the CDN)."""

    html: str
    files: dict[str, Path]


def strawberry_page() -> str:
    """Return Strawberry's own GraphiQL page, exactly as its view would serve it."""
    return get_graphql_ide_html(graphql_ide="graphiql")


def pinned_assets(html: str) -> list[Asset] | None:
    """Parse the CDN assets and their integrity out of the page; None if one is not pinned."""
    assets: list[Asset] = []
    for tag in _TAG.findall(html):
        url, integrity = _CDN_URL.search(tag), _INTEGRITY.search(tag)
        if url is None:
            continue
        ref = url.group(1).removeprefix(CDN_PREFIX)
        match = _PACKAGE_REF.match(ref)
        if integrity is None or match is None or ".." in ref.split("/"):
            return None
        relative = f"{match['pkg']}/{match['file']}"
        assets.append(Asset(url.group(1), ref, relative, integrity.group(1)))
    if html.count(CDN_PREFIX) != len(assets):
        return None  # some unpkg URL outside a <script src>/<link href> we understand
    return assets


def integrity_matches(path: Path, integrity: str) -> bool:
    """Tell whether the file matches one of the SRI hashes ("sha384-<base64>" tokens)."""
    if not path.is_file():
        return False
    content = path.read_bytes()
    for token in integrity.split():
        algorithm, _, expected = token.partition("-")
        if algorithm in {"sha256", "sha384", "sha512"}:
            digest = base64.b64encode(hashlib.new(algorithm, content).digest()).decode()
            if digest == expected:
                return True
    return False


def _localize(html: str, assets: list[Asset], node_modules: Path) -> Playground | None:
    """Rewrite the page to our URLs if every asset is installed and intact."""
    files: dict[str, Path] = {}
    for asset in assets:
        path = node_modules / asset.relative_path
        if not integrity_matches(path, asset.integrity):
            logger.debug("GraphiQL asset missing or altered: %s", path)
            return None
        files[asset.ref] = path
        html = html.replace(f'"{asset.cdn_url}"', f'"{asset.local_url}"')
    return Playground(html, files)


@lru_cache(maxsize=8)
def load_playground(node_modules: Path = NODE_MODULES) -> Playground:
    """Build the page once per node_modules directory; warn once when falling back to the CDN."""
    html = strawberry_page()
    assets = pinned_assets(html)
    local = None if assets is None else _localize(html, assets, node_modules)
    if local is not None:
        return local
    logger.warning(
        "GraphiQL assets are not installed in %s (or do not match the versions Strawberry pins);"
        " the playground will load them from %s and needs internet. Run: %s",
        node_modules,
        CDN_PREFIX,
        INSTALL_COMMAND,
    )
    return Playground(html, {})


def graphiql_page(node_modules: Path = NODE_MODULES) -> str:
    """Return the final GraphiQL HTML: local assets when installed, else the CDN page."""
    return load_playground(node_modules).html


def _asset_endpoint(files: dict[str, Path]) -> Route:
    """Make the single route that serves exactly the page's files, and 404s anything else."""

    async def serve(request: Request) -> Response:
        path = files.get(request.path_params["ref"])
        if path is None:
            return PlainTextResponse("Not Found", status_code=404)
        media_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        headers = {"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
        return FileResponse(path, media_type=media_type, headers=headers)

    return Route("/{ref:path}", serve, methods=["GET", "HEAD"])


def graphiql_assets_app(node_modules: Path = NODE_MODULES) -> ASGIApp:
    """ASGI app to mount at GRAPHIQL_ASSETS_PATH: serves the verified GraphiQL files only."""
    return Router(routes=[_asset_endpoint(load_playground(node_modules).files)])
