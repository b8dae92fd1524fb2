"""GraphiQL at GET /graphql runs a query in a real Chromium with the network closed (SPEC §5)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from hom.core.graphiql import GRAPHIQL_ASSETS_PATH, INSTALL_COMMAND, graphiql_page
from tests.conftest import make_settings
from tests.support import live_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Belt and braces: even traffic Playwright can't see resolves nowhere but loopback.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
LOCAL_HOST = "127.0.0.1"
QUERY = "{ serverInfo { version } }"
EDITOR = ".graphiql-query-editor .CodeMirror"
RESULT = ".graphiql-response .CodeMirror"
RUN_BUTTON = ".graphiql-execute-button"
APT_TIMEOUT_S = 900


# -- Chromium ---------------------------------------------------------------------------------


def _apt_get(*args: str) -> int:
    """Run apt-get non-interactively, waiting for another install to release the dpkg lock."""
    command = ["apt-get", "-o", f"DPkg::Lock::Timeout={APT_TIMEOUT_S}", *args]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(command, env=env, capture_output=True, timeout=2 * APT_TIMEOUT_S)
    return done.returncode


def _apt_install_chromium() -> None:
    """Install Debian's chromium (refreshing the package lists if the first try fails)."""
    if _apt_get("install", "-y", "chromium") != 0:
        _apt_get("update")
        _apt_get("install", "-y", "chromium")


@pytest.fixture(scope="module")
def chromium() -> Path:
    """/usr/bin/chromium, installed from Debian if absent; skip only if that is impossible."""
    if not CHROMIUM.exists() and shutil.which("apt-get") and os.geteuid() == 0:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            _apt_install_chromium()
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed and `apt-get install chromium` failed")
    return CHROMIUM


# -- the server -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server_url(db_url: str, redis_url: str, run_prefix: str) -> Iterator[str]:
    """Run the real app (hom.app.create_app) with uvicorn on a free loopback port."""
    from hom.app import create_app

    settings = make_settings(db_url, redis_url, run_prefix, graphiql=True)
    with live_server(create_app(settings)) as url:
        yield url


# -- the browser session ----------------------------------------------------------------------


@dataclass
class Traffic:
    """What the page asked the network for."""

    foreign: list[str] = field(default_factory=list)
    local: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def note(self, url: str) -> None:
        """Record a request, as foreign unless it goes to 127.0.0.1."""
        parts = urlsplit(url)
        if parts.scheme in {"data", "blob", "about"}:
            return
        (self.local if parts.hostname == LOCAL_HOST else self.foreign).append(url)


def test_graphiql_runs_a_query_offline(chromium: Path, server_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import ConsoleMessage, Request, Route, sync_playwright

    assert GRAPHIQL_ASSETS_PATH in graphiql_page(), f"assets not installed; run {INSTALL_COMMAND}"
    expected = httpx.post(f"{server_url}/graphql", json={"query": QUERY}).json()
    version = expected["data"]["serverInfo"]["version"]
    traffic = Traffic()

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).hostname == LOCAL_HOST:
            route.continue_()
        else:
            route.abort("internetdisconnected")

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            traffic.errors.append(message.text)

    def failed(request: Request) -> None:
        traffic.failed.append(f"{request.url} {request.failure}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.route("**/*", guard)
            context.on("request", lambda request: traffic.note(request.url))
            page = context.new_page()
            page.on("websocket", lambda ws: traffic.note(ws.url))
            page.on("console", console)
            page.on("pageerror", lambda error: traffic.errors.append(str(error)))
            page.on("requestfailed", failed)

            response = page.goto(f"{server_url}/graphql")
            assert response is not None
            assert response.ok
            assert "text/html" in response.request.headers["accept"]
            assert response.headers["content-type"].startswith("text/html")
            assert traffic.foreign == [], "the page tried to load assets from another host"

            page.wait_for_selector(EDITOR, timeout=30_000)
            page.evaluate(
                "([s, query]) => document.querySelector(s).CodeMirror.setValue(query)",
                [EDITOR, QUERY],
            )
            page.click(RUN_BUTTON)
            page.wait_for_function(
                "s => (document.querySelector(s)?.CodeMirror.getValue() || '').includes('version')",
                arg=RESULT,
                timeout=30_000,
            )
            result = page.evaluate("s => document.querySelector(s).CodeMirror.getValue()", RESULT)
            page.screenshot(path=tmp_path / "graphiql.png")
        finally:
            browser.close()

    assert traffic.foreign == [], "the playground tried to reach another host"
    assert traffic.failed == []
    assert traffic.errors == []
    assets = [url for url in traffic.local if urlsplit(url).path.startswith(GRAPHIQL_ASSETS_PATH)]
    assert len(assets) == 7, traffic.local
    assert '"version"' in result
    assert json.loads(result)["data"]["serverInfo"]["version"] == version
