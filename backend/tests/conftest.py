"""Shared fixtures: a migrated PostgreSQL database, a JWKS-serving identity provider, the app.

Tests isolate themselves by using fresh user ids, so one database serves the whole session.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from agents.testing import ScriptedModel
from fastapi import FastAPI

from src.chat.deps import get_model
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


@pytest.fixture
async def database() -> AsyncIterator[str]:
    """A migrated database of the test's own, for a test that acts on the server's connections
    (kills, freezes or counts them) and so can't share `database_url`."""
    url = await asyncio.to_thread(create_database)
    try:
        await asyncio.to_thread(migrate, url)
        yield url
    finally:
        await asyncio.to_thread(drop_database, url)


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
    """A fresh app instance with its lifespan running, and a client talking ASGI to it.

    The lifespan runs in a task of its own, as under uvicorn: it must start and end in the same
    task, and pytest may tear a fixture down from another one.
    """
    app = create_app(settings)
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with app.router.lifespan_context(app):
            started.set()
            await stop.wait()

    server = asyncio.create_task(serve())
    await asyncio.wait([server, asyncio.create_task(started.wait())], return_when="FIRST_COMPLETED")
    if server.done():
        server.result()  # startup failed: raise its error
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client
    finally:
        stop.set()
        await server


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


@dataclass
class ChatClient:
    """Chat turns sent as the UI sends them: `POST /api/{user_id}/chat` and `/chat/stream`."""

    client: httpx.AsyncClient

    async def send(self, user: User, message: str, **extra: Any) -> httpx.Response:
        return await self.client.post(
            user.url("/chat"), json={"message": message, **extra}, headers=user.headers
        )

    async def reply(self, user: User, message: str, **extra: Any) -> dict[str, Any]:
        """The turn's JSON body; the turn must succeed."""
        response = await self.send(user, message, **extra)
        assert response.status_code == 200, response.text
        return response.json()

    def stream(
        self, user: User, message: str, **extra: Any
    ) -> AbstractAsyncContextManager[httpx.Response]:
        body = {"message": message, **extra}
        return self.client.stream("POST", user.url("/chat/stream"), json=body, headers=user.headers)


@pytest.fixture
def chat(client: httpx.AsyncClient) -> ChatClient:
    return ChatClient(client)


def new_user(idp: IdentityProvider) -> User:
    user_id = uuid.uuid4().hex
    return User(id=user_id, token=idp.token(user_id))


@pytest.fixture
def user(idp: IdentityProvider) -> User:
    return new_user(idp)


@pytest.fixture
def other_user(idp: IdentityProvider) -> User:
    return new_user(idp)


def script(app: FastAPI, *steps: Any) -> ScriptedModel:
    """Makes `app` answer chats with a ScriptedModel running these steps through the real agent."""
    model = ScriptedModel(steps)
    app.dependency_overrides[get_model] = lambda: model
    return model


@pytest.fixture(autouse=True)
def _no_leftover_model(app_and_client: tuple[FastAPI, httpx.AsyncClient]) -> Iterator[None]:
    yield
    app_and_client[0].dependency_overrides.pop(get_model, None)
