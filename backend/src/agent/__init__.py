"""The chat agent: the model chosen by the environment and the todo assistant built on it.

The Agents SDK and the OpenAI client are most of the service's import time, and the app only
needs them for a chat: each name below loads its submodule on first use, so start-up (and the
/health probe a cold pod waits on) does not pay for them.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

_SUBMODULE_OF = {
    "INSTRUCTIONS": "assistant",
    "build_agent": "assistant",
    "describe_now": "assistant",
    "Clock": "offline",
    "OfflineAssistantModel": "offline",
    "utc_now": "offline",
    "DEFAULT_MODEL": "provider",
    "build_model": "provider",
    "is_offline": "provider",
    "model_name": "provider",
}

__all__ = [
    "INSTRUCTIONS",
    "build_agent",
    "describe_now",
    "Clock",
    "OfflineAssistantModel",
    "utc_now",
    "DEFAULT_MODEL",
    "build_model",
    "is_offline",
    "model_name",
]


def __getattr__(name: str) -> Any:
    if name not in _SUBMODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_SUBMODULE_OF[name]}", __name__), name)


if TYPE_CHECKING:
    from .assistant import INSTRUCTIONS, build_agent, describe_now
    from .offline import Clock, OfflineAssistantModel, utc_now
    from .provider import DEFAULT_MODEL, build_model, is_offline, model_name
