"""The playground's files ship with hom, pinned twice, and come from our own origin (SPEC §5).

The shipped files (hom/core/vendor/graphiql) must be exactly the ones Strawberry's page
pins, byte for byte (its SRI hashes), taken from the npm tarballs that
tools/graphiql/package-lock.json pins (its integrity hashes, as recorded by the refresh
script in provenance.json). No network and no npm here: the refresh script needs them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message

from hom.core.graphiql import (
    ASSETS_DIR,
    GRAPHIQL_ASSETS_PATH,
    Asset,
    graphiql_assets_app,
    pinned_assets,
    strawberry_page,
    welcome_document,
)
from tests.support import GraphQLClient

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "tools" / "graphiql" / "package-lock.json"
PROVENANCE = ASSETS_DIR / "provenance.json"
REFRESH = "run `uv run python tools/graphiql/refresh.py` and commit hom/core/vendor/graphiql"
MAX_BYTES = 4 * 1024 * 1024
HTML = {"accept": "text/html"}
ASSETS = pinned_assets(strawberry_page())
# What the page loads: the src/href of each <script>/<link> tag.
_LOADED_URL = re.compile(r'<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*"([^"]+)"', re.IGNORECASE)


def sri(content: bytes, algorithm: str = "sha384") -> str:
    """The SRI / npm integrity string of some bytes."""
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, content).digest()).decode()}"


def provenance() -> dict[str, Any]:
    """{"<package>@<version>": {"integrity": tarball hash, "files": {file: sha384}}}."""
    packages: dict[str, Any] = json.loads(PROVENANCE.read_text())["packages"]
    return packages


def shipped() -> dict[str, bytes]:
    """Every shipped file but the provenance record, by its path under ASSETS_DIR."""
    paths = [path for path in ASSETS_DIR.rglob("*") if path.is_file() and path != PROVENANCE]
    return {path.relative_to(ASSETS_DIR).as_posix(): path.read_bytes() for path in paths}


def recorded() -> dict[str, str]:
    """{path under ASSETS_DIR: sha384} as provenance.json records them."""
    return {
        f"{name}/{file}": digest
        for name, package in provenance().items()
        for file, digest in package["files"].items()
    }


def pin_problems(html: str) -> list[str]:
    """How the shipped files differ from what a GraphiQL page pins."""
    files, record = shipped(), recorded()
    problems = []
    for asset in pinned_assets(html):
        content = files.get(asset.ref)
        if content is None:
            problems.append(f"{asset.ref} is not shipped")
        elif sri(content) != asset.integrity or record.get(asset.ref) != asset.integrity:
            problems.append(f"{asset.ref} is not the file Strawberry pins ({asset.integrity})")
    return problems


def lock_problems() -> list[str]:
    """How the shipped packages differ from the ones the npm lock pins."""
    lock = json.loads(LOCK.read_text())["packages"]
    problems = []
    for name, package in provenance().items():
        package_name, _, version = name.rpartition("@")
        entry = lock.get(f"node_modules/{package_name}", {})
        if entry.get("version") != version:
            problems.append(f"{name}: {LOCK.name} pins version {entry.get('version')}")
        elif entry.get("integrity") != package["integrity"]:
            problems.append(f"{name} does not come from the tarball {LOCK.name} pins")
    dependencies = [f"{name}@{version}" for name, version in lock[""]["dependencies"].items()]
    if sorted(dependencies) != sorted(provenance()):
        problems.append(f"{LOCK.name} depends on {dependencies}, not on what is shipped")
    return problems


# -- what is shipped -------------------------------------------------------------------------


def test_shipped_files_are_the_ones_strawberrys_page_pins() -> None:
    assert ASSETS, "Strawberry's page loads nothing from unpkg any more"
    problems = pin_problems(strawberry_page())
    assert not problems, f"{problems}: {REFRESH}"


def test_shipped_files_come_from_the_tarballs_the_npm_lock_pins() -> None:
    problems = lock_problems()
    assert not problems, f"{problems}: {REFRESH}"
    files = shipped()
    assert {path: sri(content) for path, content in files.items()} == recorded(), REFRESH
    assert {asset.ref for asset in ASSETS} <= set(files)


def test_nothing_else_is_shipped_and_no_file_is_too_large() -> None:
    licenses = {f"{name}/LICENSE" for name in provenance()}
    assert set(shipped()) <= {asset.ref for asset in ASSETS} | licenses
    sizes = {path: len(content) for path, content in shipped().items()}
    assert max(sizes.values()) < MAX_BYTES, sizes


@pytest.mark.parametrize("change", ["version", "hash"])
def test_a_strawberry_upgrade_that_pins_other_files_fails(change: str) -> None:
    asset = ASSETS[0]
    if change == "version":
        old, new = f"{asset.package}@{asset.version}/", f"{asset.package}@0.0.0-next/"
    else:
        old, new = asset.integrity, sri(b"another build")
    upgraded = strawberry_page().replace(old, new)
    assert upgraded != strawberry_page()
    assert len(pin_problems(upgraded)) == 1


# -- the page --------------------------------------------------------------------------------


async def test_page_loads_everything_from_our_own_origin(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert "unpkg" not in page.text
    loaded = [url for url in _LOADED_URL.findall(page.text) if not url.startswith("data:")]
    assert sorted(loaded) == sorted(asset.local_url for asset in ASSETS)
    for asset in ASSETS:
        assert f'"{asset.local_url}"\n      integrity="{asset.integrity}"' in page.text


async def test_page_opens_on_the_hom_welcome(client: httpx.AsyncClient) -> None:
    page = (await client.get("/graphql", headers=HTML)).text
    assert "Welcome to GraphiQL" not in page
    assert "Welcome to H.O.M" in page  # the browser test reads the whole of it in the editor
    assert ":8000" not in page, "the page fills in the address it was loaded from"


async def test_welcome_explains_signing_in_and_its_query_runs(gql: GraphQLClient) -> None:
    welcome = welcome_document("https://api.example.com")
    assert "https://api.example.com/auth/login" in welcome
    for needle in ("H.O.M", "POST /auth/login", "username", "password", "access_token"):
        assert needle in welcome
    assert '{"Authorization": "Bearer <access_token>"}' in welcome
    assert "Headers tab" in welcome
    body = await gql(welcome)
    assert "errors" not in body
    assert set(body["data"]["serverInfo"]) == {"version", "environment"}


# -- the files, over HTTP --------------------------------------------------------------------


@pytest.mark.parametrize("asset", ASSETS, ids=lambda asset: asset.ref)
async def test_serves_each_pinned_file_with_type_and_cache_headers(
    client: httpx.AsyncClient, asset: Asset
) -> None:
    response = await client.get(asset.local_url)
    assert response.status_code == 200
    assert sri(response.content) == asset.integrity
    kind = "javascript" if asset.file.endswith(".js") else "css"
    assert response.headers["content-type"] == f"text/{kind}; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"


JS = next(asset for asset in ASSETS if asset.file.endswith(".js"))
JS_DIR = JS.ref.rpartition("/")[0]


@pytest.mark.parametrize(
    "path",
    [
        f"{JS.package}@{JS.version}/LICENSE",  # shipped, but not a file of the page
        "provenance.json",
        f"{JS.package}@{JS.version}/package.json",
        f"{JS_DIR}/../LICENSE",
        f"{JS_DIR}/%2e%2e/%2e%2e/provenance.json",
        f"{JS_DIR}/..%2f..%2fprovenance.json",
        "..%2fgraphiql.py",
        "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"{JS.package}/{JS.file}",  # no version: not a pinned ref
        f"{JS_DIR}/",
        "",
    ],
)
async def test_404_for_anything_else(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"{GRAPHIQL_ASSETS_PATH}/{path}")
    assert response.status_code == 404


async def test_raw_traversal_path_is_404() -> None:
    """A '../' that reaches the app unnormalised (httpx would collapse it) is still a 404."""
    path = f"/{JS_DIR}/../../provenance.json"
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

    await graphiql_assets_app()(scope, receive, send)
    assert sent[0]["status"] == 404
