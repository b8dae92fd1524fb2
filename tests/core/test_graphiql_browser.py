"""GraphiQL at GET /graphql, in a real Chromium with the network closed (SPEC §5): it opens
on H.O.M's welcome, runs its query, and runs one as a signed-in user (Headers tab)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from hom.core.graphiql import (
    GRAPHIQL_ASSETS_PATH,
    pinned_assets,
    strawberry_page,
    welcome_document,
)
from tests.conftest import make_settings
from tests.factories import PASSWORD
from tests.support import live_server

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, Request, Route

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
EDITOR = ".graphiql-query-editor .CodeMirror"
RESULT = ".graphiql-response .CodeMirror"
RUN_BUTTON = ".graphiql-execute-button"
HEADERS_TAB = '.graphiql-editor-tools button[data-name="headers"]'
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
REGISTER = "mutation($input: RegisterInput!) { register(input: $input) { errors { message } } }"
ME_QUERY = "{ me { email } }"
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


@pytest.fixture
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


def register_and_sign_in(server_url: str) -> tuple[str, str]:
    """(email, access token) of a new account, made the way the welcome document says."""
    email = f"playground-{uuid.uuid4().hex[:10]}@example.com"
    variables = {"input": {"email": email, "password": PASSWORD, "fullName": "Play Ground"}}
    registered = httpx.post(
        f"{server_url}/graphql", json={"query": REGISTER, "variables": variables}
    )
    assert registered.json()["data"]["register"]["errors"] == []
    login = httpx.post(f"{server_url}/auth/login", data={"username": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return email, login.json()["access_token"]


def editor_text(page: Page, selector: str) -> str:
    text: str = page.evaluate("s => document.querySelector(s).CodeMirror.getValue()", selector)
    return text


def set_editor_text(page: Page, selector: str, text: str) -> None:
    page.evaluate(
        "([s, text]) => document.querySelector(s).CodeMirror.setValue(text)", [selector, text]
    )


def run_and_read(page: Page, expected: str) -> dict[str, Any]:
    """Press the run button; wait until the response pane shows `expected`; return the JSON."""
    page.click(RUN_BUTTON)
    page.wait_for_function(
        "([s, expected]) => (document.querySelector(s)?.CodeMirror.getValue() || '')"
        ".includes(expected)",
        arg=[RESULT, expected],
        timeout=30_000,
    )
    result: dict[str, Any] = json.loads(editor_text(page, RESULT))
    return result


def watch(page: Page, traffic: Traffic) -> None:
    """Close the network to everything but loopback and record what the page tries."""

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

    page.context.route("**/*", guard)
    page.context.on("request", lambda request: traffic.note(request.url))
    page.on("websocket", lambda ws: traffic.note(ws.url))
    page.on("console", console)
    page.on("pageerror", lambda error: traffic.errors.append(str(error)))
    page.on("requestfailed", failed)


def test_graphiql_welcomes_and_runs_queries_offline(
    chromium: Path, server_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    query = welcome_document(server_url)
    expected = httpx.post(f"{server_url}/graphql", json={"query": query}).json()
    email, token = register_and_sign_in(server_url)
    traffic = Traffic()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            watch(page, traffic)
            response = page.goto(f"{server_url}/graphql")
            assert response is not None
            assert response.ok
            assert "text/html" in response.request.headers["accept"]
            assert response.headers["content-type"].startswith("text/html")

            page.wait_for_function(
                "s => document.querySelector(s)?.CodeMirror.getValue()", arg=EDITOR, timeout=30_000
            )
            welcome = editor_text(page, EDITOR)
            first = run_and_read(page, "environment")

            page.click(HEADERS_TAB)
            set_editor_text(page, HEADERS_EDITOR, json.dumps({"Authorization": f"Bearer {token}"}))
            set_editor_text(page, EDITOR, ME_QUERY)
            me = run_and_read(page, email)
            page.screenshot(path=tmp_path / "graphiql.png")
        finally:
            browser.close()

    assert welcome == welcome_document(server_url)
    assert f"        {server_url}/auth/login\n" in welcome, "the address the browser used"
    assert first == expected
    assert me["data"] == {"me": {"email": email}}
    assert traffic.foreign == [], "the playground tried to reach another host"
    assert traffic.failed == []
    assert traffic.errors == []
    paths = [urlsplit(url).path for url in traffic.local]
    assets = [path for path in paths if path.startswith(GRAPHIQL_ASSETS_PATH)]
    assert sorted(assets) == sorted(asset.local_url for asset in pinned_assets(strawberry_page()))


SUBSCRIBE = "subscription { notifications { title body } }"


async def notify_by_email(settings: Any, email: str, title: str) -> None:
    """Create an in-app notification the way a domain does (published once committed)."""
    from hom.accounts import service as accounts
    from hom.core.services import Services
    from hom.core.unit_of_work import unit_of_work
    from hom.notifications import inbox

    services = Services.create(settings)
    try:
        async with unit_of_work(services.session_maker) as session:
            user = await accounts.find_by_email(session, email=email)
            assert user is not None
            assert user.id is not None
            await inbox.notify(
                session, user_id=user.id, kind="test", title=title, body="from the test"
            )
    finally:
        await services.close()


def listening(redis_url: str, channel: str, polls: int) -> bool:
    """Whether the server subscribes to `channel` (the page's subscription is live) soon."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for _ in range(polls):
            if dict(client.pubsub_numsub(channel)).get(channel.encode(), 0) > 0:
                return True
            time.sleep(0.05)
        return False
    finally:
        client.close()


def subscribe(page: Page, redis_url: str, channel: str) -> int:
    """Run the editor's subscription; how many clicks it took. GraphiQL reparses the editor
    a moment after it changes, and a click before that sends the old document (over HTTP,
    refused with a 400): then run it again."""
    page.wait_for_timeout(500)  # past GraphiQL's reparse of the edited document
    for clicks in range(1, 6):
        page.click(RUN_BUTTON)
        if listening(redis_url, channel, polls=40):
            return clicks
    raise AssertionError(f"the page never subscribed to {channel}")


def test_graphiql_runs_the_notifications_subscription(
    chromium: Path, db_url: str, redis_url: str, run_prefix: str
) -> None:
    """The playground's Headers tab signs the websocket in too: a live notification shows."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from playwright.sync_api import sync_playwright

    from hom.app import create_app

    settings = make_settings(db_url, redis_url, run_prefix, graphiql=True)
    traffic = Traffic()
    with live_server(create_app(settings)) as url, sync_playwright() as playwright:
        email, token = register_and_sign_in(url)
        user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            watch(page, traffic)
            page.goto(f"{url}/graphql")
            page.wait_for_function(
                "s => document.querySelector(s)?.CodeMirror.getValue()", arg=EDITOR, timeout=30_000
            )
            page.click(HEADERS_TAB)
            set_editor_text(page, HEADERS_EDITOR, json.dumps({"Authorization": f"Bearer {token}"}))
            set_editor_text(page, EDITOR, SUBSCRIBE)
            channel = f"{settings.redis_prefix}notifications:user:{user_id}"
            clicks = subscribe(page, redis_url, channel)
            # Playwright's own loop runs in this thread: the notification comes from another.
            with ThreadPoolExecutor(1) as thread:
                notified = notify_by_email(settings, email, "Hello from the server")
                thread.submit(asyncio.run, notified).result()
            page.wait_for_function(
                "([s, expected]) => (document.querySelector(s)?.CodeMirror.getValue() || '')"
                ".includes(expected)",
                arg=[RESULT, "Hello from the server"],
                timeout=15_000,
            )
            shown = json.loads(editor_text(page, RESULT))
        finally:
            browser.close()

    assert shown["data"] == {
        "notifications": {"title": "Hello from the server", "body": "from the test"}
    }
    assert traffic.foreign == []
    early = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    assert traffic.errors == [early] * (clicks - 1)
