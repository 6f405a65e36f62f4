"""The ASGI app: `uvicorn src.main:app` (from backend/)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from src.api.errors import ErrorsEndHere, install_error_handlers
from src.api.gate import RequestGate
from src.api.routes import chat, chatkit, conversations, health, tasks
from src.auth.jwks import JWKSVerifier
from src.core.logging import RequestContextMiddleware, configure_logging
from src.core.settings import Settings, load_settings_or_exit
from src.db.engine import create_engine, create_sessionmaker
from src.mcp import MCP_PATH
from src.mcp.lazy import LazyMCP

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings_or_exit()
    configure_logging(settings.log_level)
    if settings.db.is_sqlite and settings.environment != "development":
        log.warning(
            "DATABASE_URL is not set: using the embedded SQLite file, which is neither shared "
            "between replicas nor kept when the container goes",
            extra={"environment": settings.environment},
        )

    engine = create_engine(
        settings.db, timeout=settings.database_timeout, pool_size=settings.database_pool_size
    )
    sessionmaker = create_sessionmaker(engine)
    verifier = JWKSVerifier(
        jwks_url=settings.jwks_url,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        refresh_interval=settings.jwks_refresh_seconds,
    )
    # Built on first use: the MCP SDK is a second of CPU that /health and /ready never need.
    mcp = LazyMCP(verifier=verifier, sessionmaker=sessionmaker, issuer=settings.token_issuer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            stack.push_async_callback(engine.dispose)
            stack.push_async_callback(verifier.aclose)
            stack.push_async_callback(mcp.aclose)
            verifier.start_refresh_schedule()
            yield

    app = FastAPI(
        title="todo-chatbot API",
        summary="Tasks, conversations and the chat assistant; its tools are served over MCP "
        f"at {MCP_PATH}.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.verifier = verifier
    app.state.mcp = mcp

    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(tasks.router)
    app.include_router(chat.router)
    app.include_router(conversations.router)
    app.include_router(chatkit.router)
    app.mount(MCP_PATH.rstrip("/"), mcp)
    # Innermost, so its answers carry the CORS headers and the request id.
    app.add_middleware(ErrorsEndHere)
    # Before any body is read: authentication of /api requests and the body size limit.
    app.add_middleware(RequestGate, verifier=verifier)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["x-conversation-id", "x-request-id", "x-vercel-ai-ui-message-stream"],
    )
    app.add_middleware(McpPathWithoutSlash)
    app.add_middleware(RequestContextMiddleware)
    return app


class McpPathWithoutSlash:
    """`/mcp` is served as `/mcp/` (instead of a redirect many MCP clients would not follow)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == MCP_PATH.rstrip("/"):
            scope = {**scope, "path": MCP_PATH, "raw_path": MCP_PATH.encode()}
        await self.app(scope, receive, send)


app = create_app()
