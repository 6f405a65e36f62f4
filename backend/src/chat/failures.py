"""How a chat turn fails: past its deadline (`turn_deadline`), or by the model; and what the user
is told then: one plain sentence per cause, and the HTTP status that says whose problem it is
(never the provider's own 401, which a client would read as its session having expired)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import openai
from agents import MaxTurnsExceeded, ModelBehaviorError

# When a rate-limited provider gives no Retry-After of its own.
DEFAULT_RETRY_AFTER_SECONDS = 20


class TurnTimedOut(Exception):
    """The turn ran past CHAT_TURN_TIMEOUT_SECONDS. (Not a TimeoutError: that one reads as a
    database outage, src.db.errors.)"""


@asynccontextmanager
async def turn_deadline(when: float) -> AsyncIterator[None]:
    """Bounds the block by the event loop's time `when`: past it, TurnTimedOut."""
    timeout = asyncio.timeout_at(when)
    try:
        async with timeout:
            yield
    except TimeoutError:
        if timeout.expired():
            raise TurnTimedOut from None
        raise


@dataclass(frozen=True)
class ModelFailure:
    notice: str
    status: int = 502
    retry_after: int | None = None


def describe_failure(exc: BaseException) -> ModelFailure:
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return ModelFailure(
            f"The model provider refused this app's API key (HTTP {exc.status_code}), so the "
            "assistant can't answer. Whoever runs the app needs to check OPENAI_API_KEY."
        )
    if isinstance(exc, openai.RateLimitError):
        return ModelFailure(
            "The model provider is busy (rate limit reached). Wait a minute, then send your "
            "message again.",
            status=503,
            retry_after=_retry_after(exc.response) or DEFAULT_RETRY_AFTER_SECONDS,
        )
    # A stream that went quiet surfaces as httpx's own timeout.
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TurnTimedOut):
        return ModelFailure(
            "The model did not answer in time. Send your message again in a moment.", status=504
        )
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return ModelFailure(
            "The assistant lost its connection to the model provider. Send your message again "
            "in a moment."
        )
    if isinstance(exc, openai.APIStatusError):
        return ModelFailure(
            f"The model provider failed to answer (HTTP {exc.status_code}). Send your message "
            "again in a moment."
        )
    if isinstance(exc, MaxTurnsExceeded):
        return ModelFailure(
            "The assistant took too many steps and stopped. Try asking for one thing at a time."
        )
    if isinstance(exc, ModelBehaviorError | openai.APIResponseValidationError):
        return ModelFailure(
            "The model sent an answer the assistant couldn't use. Try rephrasing your message."
        )
    return ModelFailure(f"Sorry, the assistant could not answer ({type(exc).__name__}).")


def _retry_after(response: httpx.Response) -> int | None:
    try:
        return max(1, round(float(response.headers.get("retry-after", ""))))
    except ValueError:
        return None
