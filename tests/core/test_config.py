"""Settings (SPEC §3): every start-up refusal is one line naming the variable; aliases, defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import AliasChoices

from hom.core.config import MIN_SECRET_LENGTH, ConfigError, Settings, load_settings

HOM = Path(sys.executable).with_name("hom")
GOOD_SECRET = "s" * MIN_SECRET_LENGTH
VALID_PROD: dict[str, Any] = {
    "APP_ENV": "prod",
    "DB_URL": "postgresql+asyncpg://hom:dbpass@db.internal/hom",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "JWT_SECRET": GOOD_SECRET,
    "CORS_ORIGINS": "https://shop.example",
}


def setting_names() -> set[str]:
    """Every environment variable Settings reads, aliases included."""
    names: set[str] = set()
    for field, info in Settings.model_fields.items():
        names.add(field.upper())
        if info.alias:
            names.add(info.alias)
        if isinstance(info.validation_alias, AliasChoices):
            names.update(str(choice) for choice in info.validation_alias.choices)
    return names


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the machine's environment or a `.env` file leaks into a test."""
    for name in setting_names():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def config(**changes: Any) -> dict[str, Any]:
    """A valid production configuration with `changes` applied; None removes a variable."""
    values = {**VALID_PROD, **changes}
    return {name: value for name, value in values.items() if value is not None}


def refusal(values: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(**values)
    message = str(caught.value)
    assert message, "empty ConfigError message"
    assert "\n" not in message, f"not one line: {message!r}"
    return message


def test_valid_production_configuration_loads() -> None:
    settings = load_settings(**config())
    assert settings.is_prod
    assert settings.cors_origins == ["https://shop.example"]


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        pytest.param({"APP_ENV": "staging", "DB_URL": None}, "DB_URL", id="staging-no-db"),
        pytest.param({"DB_URL": None}, "DB_URL", id="prod-no-db"),
        pytest.param({"APP_ENV": "staging", "REDIS_URL": None}, "REDIS_URL", id="staging-no-redis"),
        pytest.param({"REDIS_URL": None}, "REDIS_URL", id="prod-no-redis"),
        pytest.param({"APP_ENV": "staging", "JWT_SECRET": None}, "JWT_SECRET", id="staging-no-jwt"),
        pytest.param({"JWT_SECRET": None}, "JWT_SECRET", id="prod-no-jwt"),
        pytest.param({"JWT_SECRET": "x" * (MIN_SECRET_LENGTH - 1)}, "JWT_SECRET", id="short-jwt"),
        pytest.param({"JWT_SECRET": ""}, "JWT_SECRET", id="empty-jwt"),
        pytest.param({"CORS_ORIGINS": "*"}, "CORS_ORIGINS", id="cors-star"),
        pytest.param({"CORS_ORIGINS": "https://a.example, *"}, "CORS_ORIGINS", id="cors-has-star"),
        pytest.param({"APP_ENV": "dev", "CORS_ORIGINS": "*"}, "CORS_ORIGINS", id="dev-cors-star"),
        pytest.param({"DEBUG": True}, "DEBUG", id="prod-debug"),
        pytest.param({"DEBUG": "true"}, "DEBUG", id="prod-debug-str"),
        pytest.param({"JWT_ALGORITHM": "none"}, "JWT_ALGORITHM", id="alg-none"),
        pytest.param({"JWT_ALGORITHM": "RS256"}, "JWT_ALGORITHM", id="alg-rs256"),
        pytest.param({"APP_ENV": "dev", "JWT_ALGORITHM": "none"}, "JWT_ALGORITHM", id="dev-alg"),
        pytest.param({"DB_POOL_SIZE": "five"}, "DB_POOL_SIZE", id="pool-not-int"),
        pytest.param({"APP_ENV": "dev", "DB_POOL_SIZE": "1.5"}, "DB_POOL_SIZE", id="dev-pool"),
        pytest.param({"APP_ENV": "bogus"}, "APP_ENV", id="bogus-env"),
    ],
)
def test_bad_configuration_is_refused_naming_the_variable(
    changes: dict[str, Any], variable: str
) -> None:
    assert variable in refusal(config(**changes))


@pytest.mark.parametrize(
    "url",
    [
        "postgres://hom:pw@db.internal:5432/hom",
        "postgresql://hom:pw@db.internal:5432/hom",
        "postgresql+asyncpg://hom:pw@db.internal:5432/hom",
    ],
)
def test_postgres_urls_are_read_as_asyncpg(url: str) -> None:
    settings = load_settings(**config(DB_URL=url))
    assert settings.db_url == "postgresql+asyncpg://hom:pw@db.internal:5432/hom"


@pytest.mark.parametrize("url", ["mysql://hom:secret-pw@db/hom", "db.internal:5432/hom"])
def test_other_db_urls_are_refused_with_the_form_to_use(url: str) -> None:
    message = refusal(config(DB_URL=url))
    assert message.startswith("DB_URL: ")
    assert "postgresql+asyncpg://user:password@host:5432/database" in message
    assert "secret-pw" not in message


def test_refusal_does_not_echo_the_short_secret() -> None:
    message = refusal(config(JWT_SECRET="too-short-but-private"))
    assert "too-short-but-private" not in message


def test_limits_that_are_allowed() -> None:
    assert load_settings(**config(JWT_SECRET="x" * MIN_SECRET_LENGTH)).jwt_secret is not None
    assert load_settings(**config(APP_ENV="staging", DEBUG=True)).debug
    assert load_settings(**config(JWT_ALGORITHM="HS512")).jwt_algorithm == "HS512"


def test_refusal_from_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "lots")
    assert "DB_POOL_SIZE" in refusal({})
    monkeypatch.delenv("DB_POOL_SIZE")
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.example,*")
    assert "ORIGINS" in refusal({})


def test_aliases_work_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://hom@db/hom")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("ALLOWED_ORIGINS", " https://a.example , https://b.example,, ")

    settings = load_settings()

    assert settings.db_url == "postgresql+asyncpg://hom@db/hom"
    assert settings.jwt_secret is not None
    assert settings.jwt_secret.get_secret_value() == "k" * 40
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.effective_cors_origins == ["https://a.example", "https://b.example"]


def test_primary_name_wins_over_its_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_URL", "postgresql+asyncpg://primary/hom")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://alias/hom")
    assert load_settings().db_url == "postgresql+asyncpg://primary/hom"


def test_dev_defaults() -> None:
    settings = load_settings()

    assert settings.is_dev
    assert settings.db_url is None  # the embedded server is started by `hom serve`
    assert settings.redis_url is None
    assert settings.jwt_secret is not None
    assert len(settings.jwt_secret.get_secret_value()) >= MIN_SECRET_LENGTH
    assert settings.effective_cors_origins == ["http://localhost:5173"]
    assert settings.effective_log_format == "console"
    assert settings.graphiql_enabled
    assert settings.jwt_algorithm == "HS256"
    assert (settings.db_pool_size, settings.db_max_overflow) == (20, 10)
    assert (settings.db_pool_recycle, settings.db_pool_pre_ping) == (1800, False)
    assert (settings.jwt_expire_min, settings.refresh_expire_days) == (30, 14)


def test_dev_secret_is_random() -> None:
    first, second = load_settings().jwt_secret, load_settings().jwt_secret
    assert first is not None
    assert second is not None
    assert first.get_secret_value() != second.get_secret_value()


@pytest.mark.parametrize("app_env", ["staging", "prod"])
def test_non_dev_defaults(app_env: str) -> None:
    settings = load_settings(**config(APP_ENV=app_env, CORS_ORIGINS=None))
    assert settings.effective_log_format == "json"
    assert settings.effective_cors_origins == []  # no localhost default outside dev
    assert settings.graphiql_enabled is (app_env != "prod")


def test_graphiql_and_log_format_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHIQL", "true")
    monkeypatch.setenv("LOG_FORMAT", "console")
    settings = load_settings(**config())
    assert settings.graphiql_enabled
    assert settings.effective_log_format == "console"
    monkeypatch.setenv("GRAPHIQL", "false")
    monkeypatch.setenv("LOG_FORMAT", "json")
    settings = load_settings(APP_ENV="dev")
    assert not settings.graphiql_enabled
    assert settings.effective_log_format == "json"


def test_secrets_never_appear_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    private = ["jwt-secret-" + "q" * 32, "admin-pw-value", "smtp-pw", "db-pw", "redis-pw"]
    monkeypatch.setenv("JWT_SECRET", private[0])
    monkeypatch.setenv("ADMIN_PASSWORD", private[1])
    monkeypatch.setenv("SMTP_URL", f"smtp://mailer:{private[2]}@mail.example:587")
    monkeypatch.setenv("DB_URL", f"postgresql+asyncpg://hom:{private[3]}@db/hom")
    monkeypatch.setenv("REDIS_URL", f"redis://:{private[4]}@cache:6379/0")

    settings = load_settings(APP_ENV="prod")

    for rendered in (repr(settings), str(settings)):
        leaked = [value for value in private if value in rendered]
        assert not leaked, rendered


def test_serve_refuses_an_unconfigured_production_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in setting_names()}
    env["APP_ENV"] = "prod"
    result = subprocess.run(
        [str(HOM), "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    # Refused at configuration, before connecting to or starting anything.
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "JWT_SECRET" in lines[0] or "DB_URL" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
