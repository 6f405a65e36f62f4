"""The offline assistant: a deterministic Agents SDK model used when no API key is configured."""

from .dates import Clock, utc_now
from .model import MODEL_NAME, OfflineAssistantModel

__all__ = ["MODEL_NAME", "Clock", "OfflineAssistantModel", "utc_now"]
