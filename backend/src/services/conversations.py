"""Conversations and messages, always scoped to their owner."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import load_only
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from src.db.types import utcnow
from src.models.conversation import CONVERSATION_TITLE_MAX, Conversation, Message, Role


class ConversationNotFound(Exception):
    def __init__(self, conversation_id: int) -> None:
        super().__init__(f"conversation {conversation_id} not found")
        self.conversation_id = conversation_id


def title_from(message: str) -> str:
    """The first line of the first message, shortened on a word boundary."""
    line = " ".join(message.split())
    if len(line) <= CONVERSATION_TITLE_MAX:
        return line or "New conversation"
    cut = line[: CONVERSATION_TITLE_MAX - 1].rsplit(" ", 1)[0]
    return f"{cut}…"


async def get_conversation(
    session: AsyncSession, *, user_id: str, conversation_id: int
) -> Conversation:
    conversation = (
        await session.exec(
            select(Conversation).where(
                Conversation.id == conversation_id, Conversation.user_id == user_id
            )
        )
    ).first()
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation


async def list_conversations(session: AsyncSession, *, user_id: str) -> list[Conversation]:
    statement = (
        select(Conversation)
        .where(Conversation.user_id == user_id)
        .order_by(col(Conversation.updated_at).desc(), col(Conversation.id).desc())
    )
    return list((await session.exec(statement)).all())


async def list_messages(
    session: AsyncSession,
    *,
    conversation: Conversation,
    last: int | None = None,
    transcript: bool = False,
) -> list[Message]:
    """The conversation's messages in order; `last` keeps only the most recent ones.
    `transcript` reads only who said what: the stored tool calls (whole task lists, some of
    them) are for the UI, not for the model."""
    statement = select(Message).where(
        Message.conversation_id == conversation.id, Message.user_id == conversation.user_id
    )
    if transcript:
        statement = statement.options(load_only(Message.role, Message.content))  # type: ignore[arg-type]
    if last is None:
        return list((await session.exec(statement.order_by(col(Message.id)))).all())
    recent = (await session.exec(statement.order_by(col(Message.id).desc()).limit(last))).all()
    return list(reversed(recent))


async def start_or_continue(
    session: AsyncSession, *, user_id: str, conversation_id: int | None, first_message: str
) -> Conversation:
    if conversation_id is not None:
        return await get_conversation(session, user_id=user_id, conversation_id=conversation_id)
    conversation = Conversation(user_id=user_id, title=title_from(first_message))
    session.add(conversation)
    await session.flush()
    return conversation


async def add_message(
    session: AsyncSession,
    *,
    conversation: Conversation,
    role: Role,
    content: str,
    tool_calls: list[dict[str, Any]] | None = None,
) -> Message:
    message = Message(
        conversation_id=conversation.id,
        user_id=conversation.user_id,
        role=role,
        content=content,
        tool_calls=tool_calls,
    )
    conversation.updated_at = utcnow()
    session.add(message)
    session.add(conversation)
    await session.commit()
    return message


async def delete_conversation(session: AsyncSession, *, user_id: str, conversation_id: int) -> None:
    conversation = await get_conversation(session, user_id=user_id, conversation_id=conversation_id)
    # Explicit, so SQLite without foreign-key enforcement loses nothing either.
    await session.exec(delete(Message).where(col(Message.conversation_id) == conversation.id))
    await session.delete(conversation)
    await session.commit()
