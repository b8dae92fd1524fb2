"""Settings: the only place that reads the environment (SPEC §3)."""

from __future__ import annotations

import ipaddress
import secrets
from email.utils import parseaddr
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hom.core.data_dir import env_file, find_data_dir

MIN_SECRET_LENGTH = 32
JWT_ALGORITHMS = ("HS256", "HS384", "HS512")
SMTP_SCHEMES = ("smtp://", "smtp+starttls://", "smtps://")


class AppEnv(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line naming the variable."""


POSTGRES_SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres")
DB_URL_FORM = "postgresql+asyncpg://user:password@host:5432/database"


class Settings(BaseSettings):
    """Every setting of SPEC §3, plus the server's own limits."""

    model_config = SettingsConfigDict(
        env_file=env_file(), extra="ignore", populate_by_name=True, frozen=True
    )

    app_env: AppEnv = Field(AppEnv.DEV, alias="APP_ENV")
    # URLs may carry a password: kept out of repr() (SPEC §3: secrets never in logs).
    db_url: str | None = Field(
        None, validation_alias=AliasChoices("DB_URL", "DATABASE_URL"), repr=False
    )
    # Connections a worker keeps. More than this at once are opened for the moment and
    # closed again (up to DB_MAX_OVERFLOW more): at 5, a loaded worker opened and closed
    # ~30 connections a second (a PostgreSQL backend each) and served a third fewer requests.
    db_pool_size: int = Field(20, alias="DB_POOL_SIZE", ge=1)
    db_max_overflow: int = Field(10, alias="DB_MAX_OVERFLOW", ge=0)
    db_pool_recycle: int = Field(1800, alias="DB_POOL_RECYCLE", ge=-1)
    # Off: a ping is three round trips (BEGIN, ping, ROLLBACK) on every checkout. A dead
    # connection fails its first statement instead and is replaced; DB_POOL_RECYCLE keeps
    # connections younger than idle timeouts between here and the database.
    db_pool_pre_ping: bool = Field(False, alias="DB_POOL_PRE_PING")
    # Plannable queries answered by SQL that builds their JSON (hom.core.graphql.compiled);
    # off: every request goes through the executor (the differential tests compare both).
    compiled_reads: bool = Field(True, alias="COMPILED_READS")
    redis_url: str | None = Field(None, alias="REDIS_URL", repr=False)
    redis_prefix: str = Field("hom:", alias="REDIS_PREFIX")
    jwt_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("JWT_SECRET", "SECRET_KEY")
    )
    jwt_algorithm: str = Field("HS256", alias="JWT_ALGORITHM")
    jwt_expire_min: int = Field(30, alias="JWT_EXPIRE_MIN", ge=1)
    refresh_expire_days: int = Field(14, alias="REFRESH_EXPIRE_DAYS", ge=1)
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("CORS_ORIGINS", "ALLOWED_ORIGINS")
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="TRUSTED_PROXIES"
    )
    admin_email: str | None = Field(None, alias="ADMIN_EMAIL")
    admin_password: SecretStr | None = Field(None, alias="ADMIN_PASSWORD")
    media_dir: Path = Field(Path("./media"), alias="MEDIA_DIR")
    smtp_url: SecretStr | None = Field(None, alias="SMTP_URL")
    mail_from: str = Field("H.O.M <no-reply@localhost>", alias="MAIL_FROM")
    # Where links in mail point (the web app); defaults to the first CORS origin in dev.
    public_url: str | None = Field(None, alias="PUBLIC_URL", pattern=r"^https?://[^\s/]+(/\S*)?$")
    mail_max_attempts: int = Field(8, alias="MAIL_MAX_ATTEMPTS", ge=1, le=50)
    mail_retry_seconds: float = Field(30.0, alias="MAIL_RETRY_SECONDS", gt=0)
    mail_retry_max_seconds: float = Field(3600.0, alias="MAIL_RETRY_MAX_SECONDS", gt=0)
    mail_lease_seconds: float = Field(300.0, alias="MAIL_LEASE_SECONDS", ge=0.5)
    worker_poll_seconds: float = Field(1.0, alias="WORKER_POLL_SECONDS", gt=0, le=60)
    log_format: str | None = Field(None, alias="LOG_FORMAT", pattern="^(console|json)$")
    log_level: str = Field("INFO", alias="LOG_LEVEL", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    debug: bool = Field(False, alias="DEBUG")
    # Relative paths are read from the working directory; unset, the checkout's .hom/.
    data_dir: Path = Field(default_factory=find_data_dir, alias="HOM_DATA_DIR")
    graphiql: bool | None = Field(None, alias="GRAPHIQL")
    max_body_bytes: int = Field(1_000_000, alias="MAX_BODY_BYTES", ge=1024)
    max_upload_bytes: int = Field(3_000_000, alias="MAX_UPLOAD_BYTES", ge=1024)
    max_query_depth: int = Field(10, alias="MAX_QUERY_DEPTH", ge=2)
    max_aliases: int = Field(30, alias="MAX_ALIASES", ge=1)
    max_tokens: int = Field(2000, alias="MAX_TOKENS", ge=100)
    # The most an operation may cost, priced before it runs (hom.core.graphql.cost: about
    # one per object it can return). The catalog page, products(first: 50) with price,
    # category and parent and stock levels, costs 800; a page of 100, 1 600; the category
    # tree three levels deep, 2 220. 50 000 (Saleor's default) leaves such requests a
    # margin of 20-60x and refuses what multiplies lists by lists: the issue-17 document
    # of 30 aliases of `categories` nesting `children` five levels costs over 10^8.
    query_cost_limit: int = Field(50_000, alias="QUERY_COST_LIMIT", ge=1)
    # The largest answer a request may get. 50 000 objects of ~200 bytes each is 10 MB, so
    # 10 MiB leaves every answer within QUERY_COST_LIMIT room and bounds a worker's memory
    # per request to a small multiple of it (the text, the rows, the Python objects).
    max_response_bytes: int = Field(10 * 1024 * 1024, alias="MAX_RESPONSE_BYTES", ge=1024)
    # graphql-transport-ws: operations at once on one connection (subscriptions, mostly).
    max_subscriptions_per_connection: int = Field(5, alias="MAX_SUBSCRIPTIONS_PER_CONNECTION", ge=1)
    # A live subscription checks its session at least this often (revocations are also
    # announced at once through pub/sub; this catches any announcement that was lost).
    subscription_session_check_seconds: float = Field(
        60.0, alias="SUBSCRIPTION_SESSION_CHECK_SECONDS", gt=0
    )
    otel_traces_exporter: str | None = Field(
        None, alias="OTEL_TRACES_EXPORTER", pattern="^(otlp|console|none)$"
    )
    otel_otlp_endpoint: str | None = Field(None, alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_service_name: str = Field("hom", alias="OTEL_SERVICE_NAME")
    # prometheus-client's own variable: set by `hom serve --workers N` for its workers.
    prometheus_multiproc_dir: Path | None = Field(None, alias="PROMETHEUS_MULTIPROC_DIR")
    order_payment_timeout_min: int = Field(60, alias="ORDER_PAYMENT_TIMEOUT_MIN", ge=1)
    cancellation_window_hours: int = Field(24, alias="CANCELLATION_WINDOW_HOURS", ge=0)
    # Bookable starts step this far apart from the start of each stretch of working hours.
    slot_grid_minutes: int = Field(15, alias="SLOT_GRID_MINUTES", ge=1, le=240)
    # Nobody books an appointment that starts sooner than this from now.
    booking_min_notice_min: int = Field(60, alias="BOOKING_MIN_NOTICE_MIN", ge=0)
    # A cart nobody changed for this long is gone (its TTL is set again on every change).
    cart_ttl_days: int = Field(30, alias="CART_TTL_DAYS", ge=1, le=3650)

    @field_validator("data_dir", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: Any) -> Any:
        return find_data_dir() if value == "" else value

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, origins: list[str]) -> list[str]:
        if "*" in origins:
            raise ValueError("'*' is refused because credentials are allowed; list the origins")
        return origins

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            ipaddress.ip_network(proxy, strict=False)
        return proxies

    @field_validator("db_url")
    @classmethod
    def _asyncpg_url(cls, url: str | None) -> str | None:
        """postgres:// and postgresql:// (as hosting providers write them) mean asyncpg;
        other schemes are refused with the form to use (never the URL: it has a password)."""
        if not url:
            return url
        scheme, separator, rest = url.partition("://")
        if separator and scheme in POSTGRES_SCHEMES:
            return f"postgresql+asyncpg://{rest}"
        shown = f"the scheme {scheme}://" if separator else "not a URL"
        raise ValueError(f"{shown} is not PostgreSQL; use {DB_URL_FORM}")

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(SMTP_SCHEMES):
            raise ValueError("must start with smtp://, smtp+starttls:// or smtps://")
        return url

    @field_validator("mail_from")
    @classmethod
    def _one_address(cls, mail_from: str) -> str:
        if "@" not in parseaddr(mail_from)[1] or any(c in mail_from for c in "\r\n"):
            raise ValueError("must be an address, like 'H.O.M <no-reply@example.com>'")
        return mail_from

    @field_validator("jwt_algorithm")
    @classmethod
    def _hmac_only(cls, algorithm: str) -> str:
        if algorithm not in JWT_ALGORITHMS:
            raise ValueError(f"must be one of {', '.join(JWT_ALGORITHMS)}")
        return algorithm

    @property
    def is_dev(self) -> bool:
        return self.app_env is AppEnv.DEV

    @property
    def is_prod(self) -> bool:
        return self.app_env is AppEnv.PROD

    @property
    def effective_log_format(self) -> str:
        return self.log_format or ("console" if self.is_dev else "json")

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_prod

    @property
    def effective_public_url(self) -> str:
        return self.public_url or (self.effective_cors_origins or ["http://localhost:8000"])[0]

    @property
    def effective_cors_origins(self) -> list[str]:
        if self.cors_origins or not self.is_dev:
            return self.cors_origins
        return ["http://localhost:5173"]


def _check_environment(settings: Settings) -> Settings:
    """Apply the start-up refusals that depend on APP_ENV; fill the dev defaults."""
    if settings.is_dev:
        return _with_dev_secret(settings)
    for name, value in (("DB_URL", settings.db_url), ("REDIS_URL", settings.redis_url)):
        if not value:
            raise ConfigError(f"{name} is required when APP_ENV={settings.app_env.value}")
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"JWT_SECRET must be set and at least {MIN_SECRET_LENGTH} characters "
            f"when APP_ENV={settings.app_env.value}"
        )
    if settings.debug and settings.is_prod:
        raise ConfigError("DEBUG=true is refused when APP_ENV=prod")
    return settings


def _with_dev_secret(settings: Settings) -> Settings:
    if settings.jwt_secret is not None:
        return settings
    return settings.model_copy(update={"jwt_secret": SecretStr(secrets.token_urlsafe(48))})


def _describe(error: ValidationError, settings_cls: type[Settings]) -> str:
    """One line naming the variable of the first validation error."""
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "?"
    info = settings_cls.model_fields.get(field)
    name = (info.alias if info and info.alias else None) or _alias_of(info) or field.upper()
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{name}: {message}"


def _alias_of(info: Any) -> str | None:
    choices = getattr(info, "validation_alias", None)
    if isinstance(choices, AliasChoices):
        return str(choices.choices[0])
    return None


def load_settings(**overrides: Any) -> Settings:
    """Read and check the settings; raise ConfigError with one clear line on a bad value."""
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(_describe(error, Settings)) from None
    return _check_environment(settings)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
