"""Configuration: the URLs people paste work, and a bad value stops start-up with one line."""

from __future__ import annotations

import pytest

from src.core.settings import (
    DEFAULT_SQLITE_PATH,
    Settings,
    database_connection,
    get_settings,
    load_settings_or_exit,
)


@pytest.mark.parametrize(
    ("raw", "url", "connect_args"),
    [
        (
            "postgres://u:p@db.example:5432/todo",
            "postgresql+asyncpg://u:p@db.example:5432/todo",
            {"timeout": 5.0},
        ),
        (
            "postgresql://u:p@ep-x.neon.tech/neondb?sslmode=require&channel_binding=require",
            "postgresql+asyncpg://u:p@ep-x.neon.tech/neondb",
            {"ssl": "require", "timeout": 5.0},
        ),
        (
            "postgresql+asyncpg://u@h/db?connect_timeout=2&application_name=todo",
            "postgresql+asyncpg://u@h/db?application_name=todo",
            {"timeout": 2.0},
        ),
        # A server on this machine is reached without TLS unless the URL asks for it.
        (
            "postgresql://u@127.0.0.1:5432/todo",
            "postgresql+asyncpg://u@127.0.0.1:5432/todo",
            {"ssl": "disable", "timeout": 5.0},
        ),
        (
            "postgresql://u@localhost/todo?sslmode=require",
            "postgresql+asyncpg://u@localhost/todo",
            {"ssl": "require", "timeout": 5.0},
        ),
        ("sqlite:////var/lib/todo.db", "sqlite+aiosqlite:////var/lib/todo.db", {}),
        (None, f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}", {}),
    ],
)
def test_database_urls(
    raw: str | None, url: str, connect_args: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGSSLMODE", raising=False)
    connection = database_connection(raw)
    assert (connection.url, connection.connect_args) == (url, connect_args)


def test_pgsslmode_applies_to_a_local_server_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGSSLMODE", "require")
    assert "ssl" not in database_connection("postgresql://u@localhost/todo").connect_args


def test_derived_auth_settings() -> None:
    settings = Settings(
        _env_file=None,
        better_auth_url="https://todo.example/",  # type: ignore[call-arg]
        cors_origins="https://a.example/, https://b.example",
        jwt_audience="todo-api",
    )
    assert settings.jwks_url == "https://todo.example/api/auth/jwks"
    assert settings.token_issuer == "https://todo.example"
    assert settings.token_audience == "todo-api"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://u@h/db", "DATABASE_URL: unsupported scheme 'mysql'"),
        ("DATABASE_URL", "postgresql://h/db?sslmode=maybe", "DATABASE_URL: sslmode='maybe'"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL: Input should be 'DEBUG'"),
        ("BETTER_AUTH_URL", "not a url", "BETTER_AUTH_URL: Input should be a valid URL"),
        ("ENVIRONMENT", "prod", "ENVIRONMENT: Input should be 'development'"),
    ],
)
def test_invalid_settings_stop_start_up_with_one_line(
    variable: str,
    value: str,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            load_settings_or_exit()
    finally:
        get_settings.cache_clear()
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"configuration error: {message}"), lines
