"""Conversations and their messages; the service keeps no chat state between requests."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from src.db.types import JSONDocument, UTCDateTime, utcnow

CONVERSATION_TITLE_MAX = 80
# The longest message a user may send, whichever chat endpoint it comes through.
MESSAGE_MAX = 4000


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"
    __table_args__ = (sa.Index("ix_conversation_user_updated", "user_id", "updated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=255, nullable=False)
    title: str = Field(max_length=CONVERSATION_TITLE_MAX, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Message(SQLModel, table=True):
    __tablename__ = "message"
    __table_args__ = (sa.Index("ix_message_conversation", "conversation_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", ondelete="CASCADE", nullable=False)
    user_id: str = Field(max_length=255, nullable=False)
    role: Role = Field(sa_type=sa.String(16), nullable=False)
    content: str = Field(sa_type=sa.Text, nullable=False)
    tool_calls: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONDocument)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ConversationPublic(SQLModel):
    id: int
    title: str
    created_at: datetime
    updated_at: datetime


class ToolCallPublic(SQLModel):
    name: str
    arguments: Any
    result: Any


class MessagePublic(SQLModel):
    id: int
    role: Role
    content: str
    tool_calls: list[ToolCallPublic] | None
    created_at: datetime
