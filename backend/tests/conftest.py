"""Shared fixtures: a migrated PostgreSQL database, a JWKS-serving identity provider, the app.

Tests isolate themselves by using fresh user ids, so one database serves the whole session.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.settings import Settings
from src.main import create_app
from tests.support.auth import IdentityProvider
from tests.support.database import create_database, drop_database, migrate


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = create_database()
    try:
        migrate(url)
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="session")
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider().start()
    yield provider
    provider.stop()


def make_settings(database_url: str, idp: IdentityProvider, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "better_auth_url": idp.url,
        "jwt_issuer": None,
        "jwt_audience": None,
        "cors_origins": ["http://localhost:3000"],
        "openai_api_key": None,
        "openai_base_url": None,
        "log_level": "INFO",
        "environment": "development",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A fresh app instance with its lifespan running, and a client talking ASGI to it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


@pytest.fixture(scope="session")
async def app_and_client(
    database_url: str, idp: IdentityProvider
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running_app(make_settings(database_url, idp)) as pair:
        yield pair


@pytest.fixture(scope="session")
def app(app_and_client: tuple[FastAPI, httpx.AsyncClient]) -> FastAPI:
    return app_and_client[0]


@pytest.fixture(scope="session")
def client(app_and_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_and_client[1]


@dataclass
class User:
    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def url(self, path: str = "") -> str:
        return f"/api/{self.id}{path}"


def new_user(idp: IdentityProvider) -> User:
    user_id = uuid.uuid4().hex
    return User(id=user_id, token=idp.token(user_id))


@pytest.fixture
def user(idp: IdentityProvider) -> User:
    return new_user(idp)


@pytest.fixture
def other_user(idp: IdentityProvider) -> User:
    return new_user(idp)
