"""The chat model for the settings (see choice.py for which one): built once per process."""

from __future__ import annotations

import logging
from typing import Any

from agents import (
    Model,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    set_tracing_disabled,
    set_tracing_export_api_key,
)
from openai import AsyncOpenAI

from .choice import api_key, base_url, model_name, text_setting
from .offline import Clock, OfflineAssistantModel, utc_now

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_RETRIES = 2


def build_model(settings: Any, *, clock: Clock = utc_now) -> Model:
    """The chat model for these settings. Build it once per process: it holds an HTTP client."""
    key = api_key(settings)
    url = base_url(settings)
    if key is None:
        if url is not None:
            log.warning(
                "OPENAI_BASE_URL is set but OPENAI_API_KEY is not: the offline assistant answers. "
                "Set OPENAI_API_KEY too (any non-empty value for keyless servers such as Ollama)."
            )
        # Nothing may leave the machine without a key, traces included.
        set_tracing_disabled(True)
        return OfflineAssistantModel(clock=clock)
    client = AsyncOpenAI(
        api_key=key,
        base_url=url,
        # One number bounds every wait: connecting, the first byte, and each gap in a stream.
        timeout=float(getattr(settings, "openai_timeout_seconds", DEFAULT_TIMEOUT_SECONDS)),
        max_retries=int(getattr(settings, "openai_max_retries", DEFAULT_MAX_RETRIES)),
    )
    if url is not None:
        # The key belongs to another provider: OpenAI's trace exporter must not send it anywhere.
        set_tracing_disabled(True)
    else:
        # The key may come from a .env file rather than the process environment.
        set_tracing_export_api_key(key)
    api = text_setting(settings, "openai_api") or (
        "chat_completions" if url is not None else "responses"
    )
    if api == "chat_completions":
        return OpenAIChatCompletionsModel(model=model_name(settings), openai_client=client)
    return OpenAIResponsesModel(model=model_name(settings), openai_client=client)
