"""The model follows the environment: no key → offline assistant with tracing off; a key →
OpenAI; a key and a base URL → any OpenAI-compatible endpoint over Chat Completions; OPENAI_API
picks the API either way. (tests/test_chat_openai.py runs both against a local server.)"""

from __future__ import annotations

import logging

import pytest
from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel, trace
from agents.tracing.traces import NoOpTrace
from pydantic import SecretStr

from src.agent.assistant import build_agent
from src.agent.choice import is_offline, model_name
from src.agent.offline import OfflineAssistantModel
from src.agent.provider import build_model

from .standins import NOW, ModelSettings, fixed_clock


def test_no_key_means_the_offline_assistant_and_no_tracing() -> None:
    settings = ModelSettings()
    model = build_model(settings)
    assert isinstance(model, OfflineAssistantModel)
    assert is_offline(settings)
    assert model_name(settings) == "offline-assistant"
    assert isinstance(trace("chat"), NoOpTrace)


def test_blank_key_counts_as_no_key() -> None:
    settings = ModelSettings(openai_api_key="  ")
    assert is_offline(settings)
    assert isinstance(build_model(settings), OfflineAssistantModel)


def test_base_url_without_key_stays_offline_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    settings = ModelSettings(openai_base_url="http://localhost:11434/v1", openai_model="llama3.2")
    with caplog.at_level(logging.WARNING, logger="src.agent.provider"):
        model = build_model(settings)
    assert isinstance(model, OfflineAssistantModel)
    assert model_name(settings) == "offline-assistant"
    assert "Set OPENAI_API_KEY too" in caplog.text


def test_key_means_openai_with_the_configured_model() -> None:
    settings = ModelSettings(openai_api_key="sk-test", openai_model="gpt-4.1-mini")
    model = build_model(settings)
    assert isinstance(model, OpenAIResponsesModel)
    assert model.model == "gpt-4.1-mini"
    assert not is_offline(settings)
    assert model_name(settings) == "gpt-4.1-mini"


def test_secret_key_and_default_model() -> None:
    class PydanticLikeSettings:
        openai_api_key = SecretStr("sk-test")
        openai_base_url = None
        openai_model = ""

    model = build_model(PydanticLikeSettings())
    assert isinstance(model, OpenAIResponsesModel)
    assert model.model == "gpt-4o-mini"


def test_base_url_means_an_openai_compatible_endpoint() -> None:
    settings = ModelSettings(
        openai_api_key="gemini-key",
        openai_base_url="https://generativelanguage.googleapis.com/v1beta/openai/",
        openai_model="gemini-2.0-flash",
    )
    model = build_model(settings)
    assert isinstance(model, OpenAIChatCompletionsModel)
    assert model.model == "gemini-2.0-flash"
    client = model._client
    assert str(client.base_url) == "https://generativelanguage.googleapis.com/v1beta/openai/"
    assert client.api_key == "gemini-key"
    # The other provider's key must not reach OpenAI's trace exporter.
    assert isinstance(trace("chat"), NoOpTrace)


def test_openai_api_picks_the_api_and_the_client_keeps_the_timeout_and_retries() -> None:
    proxy = ModelSettings(
        openai_api_key="proxy-key",
        openai_base_url="http://litellm.internal:4000/v1",
        openai_api="responses",
        openai_timeout_seconds=12.5,
        openai_max_retries=0,
    )
    model = build_model(proxy)
    assert isinstance(model, OpenAIResponsesModel)
    client = model._client
    assert str(client.base_url) == "http://litellm.internal:4000/v1/"
    assert (client.timeout, client.max_retries) == (12.5, 0)
    assert isinstance(trace("chat"), NoOpTrace)

    openai = ModelSettings(openai_api_key="sk-test", openai_api="chat_completions")
    assert isinstance(build_model(openai), OpenAIChatCompletionsModel)


async def test_instructions_tell_the_model_today_and_forbid_user_ids() -> None:
    agent = build_agent(model=build_model(ModelSettings()), tools=[], clock=fixed_clock)
    from agents import RunContextWrapper

    prompt = await agent.get_system_prompt(RunContextWrapper(context=None))
    assert prompt is not None
    assert "Tuesday, November 24, 2026, 15:00 UTC" in prompt
    assert NOW.isoformat(timespec="minutes") in prompt
    assert "Never ask for, mention or pass a user id" in prompt
    assert "call list_tasks with q" in prompt
