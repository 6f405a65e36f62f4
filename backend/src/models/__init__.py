"""Importing this package registers every table on SQLModel.metadata (Alembic relies on it)."""

from src.models.conversation import Conversation, Message
from src.models.task import Task, TaskCounter

__all__ = ["Conversation", "Message", "Task", "TaskCounter"]
