"""The GraphiQL playground, served entirely from our own origin so it works offline (SPEC §5).

The page is Strawberry's own, with two changes: the files it loads from unpkg come from
GRAPHIQL_ASSETS_PATH instead (the package ships them in vendor/graphiql/, refreshed by
tools/graphiql/refresh.py; the browser still checks Strawberry's integrity hashes), and
the editor opens on H.O.M's welcome document instead of GraphiQL's generic one.

The welcome names this server's address (for `curl …/auth/login`): the page fills in the
origin the browser loaded it from, so the page itself stays one static text whose inline
script the Caddyfile's CSP pins by hash, whatever the address.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp
from strawberry.http.ides import get_graphql_ide_html

GRAPHIQL_ASSETS_PATH = "/graphiql-assets"
ASSETS_DIR = Path(__file__).parent / "vendor" / "graphiql"
WELCOME_FILE = Path(__file__).with_name("graphiql_welcome.graphql")
ORIGIN_MARK = "{{origin}}"  # in WELCOME_FILE: the page puts `location.origin` there
CDN_PREFIX = "https://unpkg.com/"
CACHE_CONTROL = "public, max-age=31536000, immutable"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.IGNORECASE)
_CDN_URL = re.compile(r'(?:src|href)\s*=\s*"(https://unpkg\.com/[^"]+)"', re.IGNORECASE)
_INTEGRITY = re.compile(r'integrity\s*=\s*"([^"]+)"', re.IGNORECASE)
# "@scope/name@1.2.3/dist/file.js" or "name@1.2.3/file.js"
_PACKAGE_REF = re.compile(r"^(?P<pkg>(?:@[\w.-]+/)?[\w.-]+)@(?P<ver>[\w.+-]+)/(?P<file>[\w./-]+)$")
# Strawberry's page opens on this constant unless the URL carries a `?q=` document.
_EXAMPLE_QUERY = re.compile(r"(const EXAMPLE_QUERY = )`[^`]*`;")


class PlaygroundError(RuntimeError):
    """Strawberry's page is no longer shaped the way this module rewrites it."""


@dataclass(frozen=True)
class Asset:
    """One file that Strawberry's page loads from unpkg, pinned by an SRI hash."""

    cdn_url: str
    package: str
    version: str
    file: str  # the path inside the npm package
    integrity: str

    @property
    def ref(self) -> str:
        """Its path under ASSETS_DIR and GRAPHIQL_ASSETS_PATH: <package>@<version>/<file>."""
        return f"{self.package}@{self.version}/{self.file}"

    @property
    def local_url(self) -> str:
        """The URL on our own origin that replaces the CDN one."""
        return f"{GRAPHIQL_ASSETS_PATH}/{self.ref}"


@dataclass(frozen=True)
class Playground:
    """The final page and the files it loads from us, by ref."""

    html: str
    files: dict[str, Path]


def strawberry_page() -> str:
    """Return Strawberry's own GraphiQL page, exactly as its view would serve it."""
    return get_graphql_ide_html(graphql_ide="graphiql")


def _asset(tag: str) -> Asset | None:
    """The pinned CDN file a <script>/<link> tag loads, None for a tag that loads none."""
    url = _CDN_URL.search(tag)
    if url is None:
        return None
    integrity = _INTEGRITY.search(tag)
    match = _PACKAGE_REF.match(url[1].removeprefix(CDN_PREFIX))
    if integrity is None or match is None or ".." in match["file"].split("/"):
        raise PlaygroundError(f"GraphiQL page loads {url[1]} without a pin we understand")
    return Asset(url[1], match["pkg"], match["ver"], match["file"], integrity[1])


def pinned_assets(html: str) -> list[Asset]:
    """Every CDN file of the page with its integrity; PlaygroundError for any other CDN use."""
    assets = [asset for tag in _TAG.findall(html) if (asset := _asset(tag)) is not None]
    if html.count(CDN_PREFIX) != len(assets):
        raise PlaygroundError("GraphiQL page uses unpkg outside a <script src>/<link href>")
    return assets


def welcome_document(origin: str) -> str:
    """The GraphQL document the playground opens on when loaded from `origin`
    (`http://127.0.0.1:8000`): H.O.M's welcome and a first query."""
    return _welcome_template().replace(ORIGIN_MARK, origin)


def _welcome_template() -> str:
    return WELCOME_FILE.read_text(encoding="utf-8")


def _with_welcome(html: str) -> str:
    """Replace GraphiQL's generic example document with ours, completed in the browser."""
    # A JSON string is a JS string literal; "<" escaped so no "</script>" can end the tag.
    literal = json.dumps(_welcome_template()).replace("<", "\\u003c")
    filled = f"{literal}.replaceAll({json.dumps(ORIGIN_MARK)}, window.location.origin)"
    html, count = _EXAMPLE_QUERY.subn(lambda match: f"{match[1]}{filled};", html)
    if count != 1:
        raise PlaygroundError("GraphiQL page has no `const EXAMPLE_QUERY = `…`;` to replace")
    return html


@lru_cache(maxsize=1)
def load_playground() -> Playground:
    """Build the page once: every CDN URL pointed at our origin, our welcome document."""
    html = strawberry_page()
    assets = pinned_assets(html)
    for asset in assets:
        html = html.replace(f'"{asset.cdn_url}"', f'"{asset.local_url}"')
    files = {asset.ref: ASSETS_DIR / asset.ref for asset in assets}
    return Playground(_with_welcome(html), files)


def graphiql_page() -> str:
    """Return the final GraphiQL HTML."""
    return load_playground().html


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


def graphiql_assets_app() -> ASGIApp:
    """ASGI app to mount at GRAPHIQL_ASSETS_PATH: serves the page's files and nothing else."""
    return Router(routes=[_asset_endpoint(load_playground().files)])
