"""The ASGI app: `uvicorn src.main:app` (from backend/)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from src.api.errors import install_error_handlers
from src.api.routes import conversations, health, tasks
from src.auth.jwks import JWKSVerifier
from src.core.logging import RequestContextMiddleware, configure_logging
from src.core.settings import Settings, load_settings_or_exit
from src.db.engine import create_engine, create_sessionmaker


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings_or_exit()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            engine = create_engine(settings.db)
            stack.push_async_callback(engine.dispose)
            verifier = JWKSVerifier(
                jwks_url=settings.jwks_url,
                issuer=settings.token_issuer,
                audience=settings.token_audience,
            )
            stack.push_async_callback(verifier.aclose)
            app.state.engine = engine
            app.state.sessionmaker = create_sessionmaker(engine)
            app.state.verifier = verifier
            yield

    app = FastAPI(
        title="todo-chatbot API",
        summary="Tasks, conversations and the chat assistant; tools served over MCP at /mcp/.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(tasks.router)
    app.include_router(conversations.router)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["x-conversation-id", "x-request-id", "x-vercel-ai-ui-message-stream"],
    )
    app.add_middleware(RequestContextMiddleware)
    return app


app = create_app()
