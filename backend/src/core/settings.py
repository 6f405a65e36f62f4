"""All configuration, read once from the environment (and `.env` files) into one class."""

from __future__ import annotations

import ipaddress
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The engine's defaults, kept here so settings need not import SQLAlchemy.
DATABASE_TIMEOUT = 3.0
# Connections one process keeps: as many as a busy worker keeps in use. The Helm chart sets
# DATABASE_POOL_SIZE from the release's connection budget (database.maxConnections).
DATABASE_POOL_SIZE = 15

BACKEND_DIR = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = BACKEND_DIR / ".data" / "todo.db"

# libpq spells TLS as `sslmode`; asyncpg takes the same words as its `ssl` argument.
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
# libpq-only query parameters asyncpg would reject (Neon adds channel_binding=require).
_LIBPQ_ONLY_PARAMS = {"channel_binding", "gssencmode", "target_session_attrs", "sslrootcert"}
_LOOPBACK_HOSTS = {"localhost", "localhost.localdomain"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=(BACKEND_DIR.parent / ".env", BACKEND_DIR / ".env"),
        env_ignore_empty=True,
        extra="ignore",
    )

    environment: Literal["development", "staging", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Unset → the embedded SQLite file, so the service runs with no database server.
    database_url: str | None = None
    # Seconds a request waits on the database for any one thing (a pooled connection, a new
    # connection, a statement) before it answers 503; see src/db/engine.py.
    database_timeout: float = Field(default=DATABASE_TIMEOUT, gt=0, le=300)
    # Connections this process opens to PostgreSQL at most; requests beyond them wait their turn
    # (up to DATABASE_TIMEOUT). Every process of a deployment counts against max_connections.
    database_pool_size: int = Field(default=DATABASE_POOL_SIZE, ge=1, le=1000)

    better_auth_url: AnyHttpUrl = AnyHttpUrl("http://localhost:3000")
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # Seconds between two fetches of the JWKS: a key withdrawn from it stops being accepted,
    # with every token it signed, within this time.
    jwks_refresh_seconds: float = Field(default=300.0, gt=0, le=86400)

    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:3000"]
    )

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    # The API the model is called over. Unset: Responses for OpenAI itself, Chat Completions
    # (what every OpenAI-compatible server speaks) when OPENAI_BASE_URL is set.
    openai_api: Literal["responses", "chat_completions"] | None = None
    # How long the model may stay silent (before its first byte, or between two streamed
    # chunks) before its call fails and the user is told.
    openai_timeout_seconds: float = Field(default=30.0, gt=0)
    # Retries of a model call refused with 429 or 5xx, or cut off, with the OpenAI client's backoff.
    openai_max_retries: int = Field(default=2, ge=0, le=10)
    # A whole chat turn (every model and tool call in it) ends with a message to the user then.
    chat_turn_timeout_seconds: float = Field(default=120.0, gt=0)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("environment", mode="before")
    @classmethod
    def _lower_environment(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is not None:
            database_connection(value)  # raises ValueError with the reason
        return value

    # Derived values -------------------------------------------------------------------------

    @property
    def auth_base_url(self) -> str:
        return str(self.better_auth_url).rstrip("/")

    @property
    def jwks_url(self) -> str:
        return f"{self.auth_base_url}/api/auth/jwks"

    @property
    def token_issuer(self) -> str:
        return self.jwt_issuer or self.auth_base_url

    @property
    def token_audience(self) -> str:
        return self.jwt_audience or self.auth_base_url

    @property
    def db(self) -> DatabaseConnection:
        return database_connection(self.database_url)


class DatabaseConnection:
    """A DATABASE_URL as SQLAlchemy wants it: an async driver URL plus driver arguments."""

    def __init__(self, url: str, connect_args: dict[str, Any], dialect: str) -> None:
        self.url = url
        self.connect_args = connect_args
        self.dialect = dialect

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"


def database_connection(raw_url: str | None) -> DatabaseConnection:
    """Accept what users paste (postgres://, postgresql://, Neon's ?sslmode=…, sqlite:///…)."""
    if raw_url is None:
        return DatabaseConnection(f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}", {}, "sqlite")
    parts = urlsplit(raw_url.strip())
    scheme = parts.scheme.lower()
    if scheme.startswith("sqlite"):
        return DatabaseConnection("sqlite+aiosqlite" + raw_url.strip()[len(scheme) :], {}, "sqlite")
    if scheme not in {"postgres", "postgresql"} and not scheme.startswith("postgresql+"):
        raise ValueError(
            f"unsupported scheme {scheme or '(none)'!r}: use postgresql://… or sqlite:///…"
        )
    if not parts.hostname and not parts.path.strip("/"):
        raise ValueError("a PostgreSQL URL needs a host and a database name")
    connect_args: dict[str, Any] = {}
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in ("sslmode", "ssl"):
            if value not in _SSL_MODES:
                raise ValueError(f"{key}={value!r} is not one of {sorted(_SSL_MODES)}")
            connect_args["ssl"] = value
        elif key == "connect_timeout":
            connect_args["timeout"] = float(value)
        elif key not in _LIBPQ_ONLY_PARAMS:
            query.append((key, value))
    connect_args.setdefault("timeout", 5.0)
    if (
        "ssl" not in connect_args
        and not os.environ.get("PGSSLMODE")
        and _is_loopback(parts.hostname)
    ):
        # libpq's default, sslmode=prefer, builds a TLS context for every new connection; on
        # loopback there is no network to protect, so an explicit sslmode is needed to get TLS.
        connect_args["ssl"] = "disable"
    url = urlunsplit(("postgresql+asyncpg", parts.netloc, parts.path, urlencode(query), ""))
    return DatabaseConnection(url, connect_args, "postgresql")


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in _LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@lru_cache
def get_settings() -> Settings:
    return Settings()


def load_settings_or_exit() -> Settings:
    """Settings for a process start: a bad value ends it with one line naming the variable."""
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: "
            f"{err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        print(f"configuration error: {problems}", file=sys.stderr)
        raise SystemExit(2) from None
