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

from .choice import api_key, base_url, model_name
from .offline import Clock, OfflineAssistantModel, utc_now

log = logging.getLogger(__name__)


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
    client = AsyncOpenAI(api_key=key, base_url=url)
    if url is not None:
        # The key belongs to another provider: OpenAI's trace exporter must not send it anywhere.
        set_tracing_disabled(True)
        return OpenAIChatCompletionsModel(model=model_name(settings), openai_client=client)
    # The key may come from a .env file rather than the process environment.
    set_tracing_export_api_key(key)
    return OpenAIResponsesModel(model=model_name(settings), openai_client=client)
