"""Which model answers the chat, chosen by the environment.

OPENAI_API_KEY set → OpenAI (OPENAI_MODEL), or with OPENAI_BASE_URL any OpenAI-compatible
endpoint (Gemini, Ollama, LiteLLM) over Chat Completions. No key → the offline assistant.
`settings` is duck-typed: anything with `openai_api_key` (str or SecretStr), `openai_base_url`
and `openai_model` attributes.
"""

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

from .offline import MODEL_NAME as OFFLINE_MODEL_NAME
from .offline import Clock, OfflineAssistantModel, utc_now

DEFAULT_MODEL = "gpt-4o-mini"

log = logging.getLogger(__name__)


def _text_setting(settings: Any, name: str) -> str | None:
    """A setting's text (a SecretStr unwrapped); blank counts as unset."""
    value = getattr(settings, name, None)
    if value is not None and hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    text = str(value).strip() if value is not None else ""
    return text or None


def _api_key(settings: Any) -> str | None:
    return _text_setting(settings, "openai_api_key")


def _base_url(settings: Any) -> str | None:
    return _text_setting(settings, "openai_base_url")


def is_offline(settings: Any) -> bool:
    return _api_key(settings) is None


def model_name(settings: Any) -> str:
    if is_offline(settings):
        return OFFLINE_MODEL_NAME
    return _text_setting(settings, "openai_model") or DEFAULT_MODEL


def build_model(settings: Any, *, clock: Clock = utc_now) -> Model:
    """The chat model for these settings. Build it once per process: it holds an HTTP client."""
    key = _api_key(settings)
    base_url = _base_url(settings)
    if key is None:
        if base_url is not None:
            log.warning(
                "OPENAI_BASE_URL is set but OPENAI_API_KEY is not: the offline assistant answers. "
                "Set OPENAI_API_KEY too (any non-empty value for keyless servers such as Ollama)."
            )
        # Nothing may leave the machine without a key, traces included.
        set_tracing_disabled(True)
        return OfflineAssistantModel(clock=clock)
    client = AsyncOpenAI(api_key=key, base_url=base_url)
    if base_url is not None:
        # The key belongs to another provider: OpenAI's trace exporter must not send it anywhere.
        set_tracing_disabled(True)
        return OpenAIChatCompletionsModel(model=model_name(settings), openai_client=client)
    # The key may come from a .env file rather than the process environment.
    set_tracing_export_api_key(key)
    return OpenAIResponsesModel(model=model_name(settings), openai_client=client)
