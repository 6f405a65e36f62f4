"""Dependencies shared by the routes: the settings, a database session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from src.auth.deps import CurrentUser, UserId
from src.core.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]

__all__ = ["CurrentUser", "SessionDep", "SettingsDep", "UserId", "get_session", "get_settings"]
