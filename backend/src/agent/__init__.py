"""The chat agent: the model chosen by the environment and the todo assistant built on it."""

from .assistant import INSTRUCTIONS, build_agent, describe_now
from .offline import Clock, OfflineAssistantModel, utc_now
from .provider import DEFAULT_MODEL, build_model, is_offline, model_name

__all__ = [
    "DEFAULT_MODEL",
    "INSTRUCTIONS",
    "Clock",
    "OfflineAssistantModel",
    "build_agent",
    "build_model",
    "describe_now",
    "is_offline",
    "model_name",
    "utc_now",
]
