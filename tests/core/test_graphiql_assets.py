"""The GraphiQL page uses assets served from our own origin when installed (SPEC §5)."""

from __future__ import annotations

import base64
import hashlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import Message

from hom.core import graphiql
from hom.core.graphiql import (
    GRAPHIQL_ASSETS_PATH,
    INSTALL_COMMAND,
    NODE_MODULES,
    graphiql_assets_app,
    graphiql_page,
    load_playground,
    pinned_assets,
    strawberry_page,
)

# ref under GRAPHIQL_ASSETS_PATH -> (path under node_modules, content)
FAKE_ASSETS = {
    "react@18.2.0/umd/react.production.min.js": (
        "react/umd/react.production.min.js",
        b"window.React = {};\n",
    ),
    "@graphiql/plugin-explorer@1.0.2/dist/style.css": (
        "@graphiql/plugin-explorer/dist/style.css",
        b".graphiql-explorer { color: red }\n",
    ),
}
FAKE_FILES = {ref: content for ref, (_, content) in FAKE_ASSETS.items()}


def sri(content: bytes) -> str:
    """Return the sha384 SRI string of some bytes."""
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def fake_page() -> str:
    """A page shaped like Strawberry's, pinning FAKE_FILES."""
    (js_ref, js), (css_ref, css) = FAKE_FILES.items()
    return f"""<!doctype html><html><head>
    <script
      crossorigin
      src="https://unpkg.com/{js_ref}"
      integrity="{sri(js)}"
    ></script>
    <link crossorigin rel="stylesheet"
      href="https://unpkg.com/{css_ref}" integrity="{sri(css)}" />
    </head><body><div id="graphiql">Loading...</div></body></html>"""


def install(node_modules: Path) -> None:
    """Lay FAKE_ASSETS out the way npm does (no version in the path), plus files not to serve."""
    for relative, content in FAKE_ASSETS.values():
        path = node_modules / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (node_modules / "react" / "package.json").write_text('{"name": "react"}')
    (node_modules / "secret.txt").write_text("not for the web")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    load_playground.cache_clear()
    yield
    load_playground.cache_clear()


@pytest.fixture
def fake_strawberry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graphiql, "strawberry_page", fake_page)


@pytest.fixture
def fake_modules(tmp_path: Path, fake_strawberry: None) -> Path:
    node_modules = tmp_path / "node_modules"
    install(node_modules)
    return node_modules


async def get(node_modules: Path, path: str) -> httpx.Response:
    """GET a path from an app that mounts the assets app the way hom.app does."""
    app = Starlette(routes=[Mount(GRAPHIQL_ASSETS_PATH, app=graphiql_assets_app(node_modules))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path)


# -- the page ---------------------------------------------------------------------------------


def test_strawberry_pins_are_parsed() -> None:
    assets = pinned_assets(strawberry_page())
    assert assets is not None
    refs = {asset.ref for asset in assets}
    assert "graphiql@3.8.3/graphiql.min.js" in refs
    assert "@graphiql/plugin-explorer@1.0.2/dist/index.umd.js" in refs
    assert all(asset.integrity.startswith("sha384-") for asset in assets)
    explorer = next(a for a in assets if a.ref.endswith("index.umd.js"))
    assert explorer.relative_path == "@graphiql/plugin-explorer/dist/index.umd.js"


def test_installed_assets_make_the_page_local(fake_modules: Path) -> None:
    page = graphiql_page(fake_modules)
    assert "unpkg.com" not in page
    for ref, content in FAKE_FILES.items():
        assert f'"{GRAPHIQL_ASSETS_PATH}/{ref}"' in page
        assert f'integrity="{sri(content)}"' in page  # the browser checks them too


def test_missing_directory_falls_back_to_cdn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="hom.core.graphiql"):
        page = graphiql_page(tmp_path / "absent")
        assert graphiql_page(tmp_path / "absent") == page
        graphiql_assets_app(tmp_path / "absent")
    assert page == strawberry_page()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert INSTALL_COMMAND in warnings[0].getMessage()


async def test_tampered_asset_falls_back_to_cdn(
    fake_modules: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (fake_modules / "react" / "umd" / "react.production.min.js").write_text("alert('pwned')")
    with caplog.at_level(logging.WARNING, logger="hom.core.graphiql"):
        page = graphiql_page(fake_modules)
    assert page == fake_page()
    assert GRAPHIQL_ASSETS_PATH not in page
    assert INSTALL_COMMAND in caplog.text
    response = await get(fake_modules, f"{GRAPHIQL_ASSETS_PATH}/{next(iter(FAKE_FILES))}")
    assert response.status_code == 404


def test_one_missing_asset_falls_back_to_cdn(fake_modules: Path) -> None:
    (fake_modules / "@graphiql" / "plugin-explorer" / "dist" / "style.css").unlink()
    assert graphiql_page(fake_modules) == fake_page()


def test_unpinned_cdn_url_falls_back_to_cdn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node_modules = tmp_path / "node_modules"
    install(node_modules)
    page = fake_page().replace(
        "</head>", '<script src="https://unpkg.com/x@1.0.0/x.js"></script></head>'
    )
    monkeypatch.setattr(graphiql, "strawberry_page", lambda: page)
    assert graphiql_page(node_modules) == page


# -- the assets app ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "content_type"),
    [
        ("react@18.2.0/umd/react.production.min.js", "text/javascript; charset=utf-8"),
        ("@graphiql/plugin-explorer@1.0.2/dist/style.css", "text/css; charset=utf-8"),
    ],
)
async def test_serves_asset_with_type_and_cache_headers(
    fake_modules: Path, ref: str, content_type: str
) -> None:
    response = await get(fake_modules, f"{GRAPHIQL_ASSETS_PATH}/{ref}")
    assert response.status_code == 200
    assert response.content == FAKE_FILES[ref]
    assert response.headers["content-type"] == content_type
    assert "immutable" in response.headers["cache-control"]
    assert "max-age=31536000" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "react@18.2.0/umd/../package.json",
        "react@18.2.0/%2e%2e/%2e%2e/secret.txt",
        "react@18.2.0/..%2f..%2fsecret.txt",
        "..%2fsecret.txt",
        "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "react/umd/react.production.min.js",  # the node_modules layout is not exposed
        "react@18.2.0/package.json",
        "react@18.2.0/umd/",
        "react@18.2.0/umd/react.development.js",
        "secret.txt",
        "",
    ],
)
async def test_404_for_anything_else(fake_modules: Path, path: str) -> None:
    response = await get(fake_modules, f"{GRAPHIQL_ASSETS_PATH}/{path}")
    assert response.status_code == 404
    assert b"not for the web" not in response.content


async def test_raw_traversal_path_is_404(fake_modules: Path) -> None:
    """A '../' that reaches the app unnormalised (httpx would collapse it) is still a 404."""
    app = graphiql_assets_app(fake_modules)
    path = "/react@18.2.0/umd/../../secret.txt"
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "scheme": "http",
        "server": ("testserver", 80),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 404
    assert b"not for the web" not in b"".join(m.get("body", b"") for m in sent)


# -- the real install (`npm ci --prefix graphiql`) --------------------------------------------


async def test_real_install_matches_strawberry_pins() -> None:
    page = graphiql_page()
    assert "unpkg.com" not in page, f"GraphiQL assets not installed; run: {INSTALL_COMMAND}"
    assets = pinned_assets(strawberry_page())
    assert assets is not None
    assert len(assets) == 7
    for asset in assets:
        assert asset.local_url in page
        response = await get(NODE_MODULES, asset.local_url)
        assert response.status_code == 200
        assert sri(response.content) == asset.integrity


@pytest.mark.parametrize(
    "path", ["graphiql@3.8.3/package.json", "graphql@16.9.0/index.js", "graphiql@3.8.3/"]
)
async def test_real_install_serves_only_the_pinned_files(path: str) -> None:
    if not NODE_MODULES.is_dir():
        pytest.fail(f"GraphiQL assets not installed; run: {INSTALL_COMMAND}")
    assert (await get(NODE_MODULES, f"{GRAPHIQL_ASSETS_PATH}/{path}")).status_code == 404


def test_copied_real_install_is_local(tmp_path: Path) -> None:
    """node_modules is found through the argument, not only the default location."""
    assets = pinned_assets(strawberry_page())
    assert assets is not None
    for asset in assets:
        source = NODE_MODULES / asset.relative_path
        if not source.is_file():
            pytest.fail(f"GraphiQL assets not installed; run: {INSTALL_COMMAND}")
        target = tmp_path / asset.relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    assert "unpkg.com" not in graphiql_page(tmp_path)
