"""Which model answers the chat, read from the settings alone (this module imports no SDK, so
the app can say which assistant it runs without loading one).

OPENAI_API_KEY set → OpenAI (OPENAI_MODEL) over the Responses API, or with OPENAI_BASE_URL any
OpenAI-compatible endpoint (Gemini, Ollama, LiteLLM) over Chat Completions; OPENAI_API picks
the API either way. No key → the offline assistant. `settings` is duck-typed: anything with
`openai_api_key` (str or SecretStr), `openai_base_url` and `openai_model` attributes, and
optionally `openai_api`, `openai_timeout_seconds` and `openai_max_retries` (provider.py).
"""

from __future__ import annotations

from typing import Any

DEFAULT_MODEL = "gpt-4o-mini"
OFFLINE_MODEL_NAME = "offline-assistant"


def text_setting(settings: Any, name: str) -> str | None:
    """A setting's text (a SecretStr unwrapped); blank counts as unset."""
    value = getattr(settings, name, None)
    if value is not None and hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    text = str(value).strip() if value is not None else ""
    return text or None


def api_key(settings: Any) -> str | None:
    return text_setting(settings, "openai_api_key")


def base_url(settings: Any) -> str | None:
    return text_setting(settings, "openai_base_url")


def is_offline(settings: Any) -> bool:
    return api_key(settings) is None


def model_name(settings: Any) -> str:
    if is_offline(settings):
        return OFFLINE_MODEL_NAME
    return text_setting(settings, "openai_model") or DEFAULT_MODEL
