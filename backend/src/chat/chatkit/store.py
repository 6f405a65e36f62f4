"""ChatKit's Store on the app's own tables: a ChatKit thread is a conversation, its user and
assistant messages are messages. So a chat held in ChatKit shows up in the conversation
history of the regular chat UI, and the other way round.

Ids: thread `conv_<conversation id>`, item `msg_<message id>`. A user message gets its id when
it is stored; an assistant message streams under the model's item id and is `msg_<id>` once
stored (ChatKit reloads a thread's items by id when it opens it again).
Only user and assistant messages are kept: hidden context and widgets are not part of a
conversation's record, and attachments are not supported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from chatkit.store import NotFoundError, Store
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    Attachment,
    InferenceOptions,
    Page,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
)
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from src.db.types import ID_MAX
from src.models.conversation import CONVERSATION_TITLE_MAX, Conversation, Message, Role
from src.services import conversations
from src.services.conversations import ConversationNotFound

THREAD_PREFIX = "conv_"
ITEM_PREFIX = "msg_"
_ID = re.compile(r"[1-9][0-9]{0,9}")


@dataclass
class ChatKitContext:
    """Who is asking, per request; never taken from the request body."""

    user_id: str
    # threads.create: the conversation made for the new thread before ChatKit names it.
    new_conversation_id: int | None = None
    # The tool calls of the turn being answered, stored with the assistant's message.
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


def thread_id_of(conversation_id: int) -> str:
    return f"{THREAD_PREFIX}{conversation_id}"


def conversation_id_of(thread_id: str) -> int:
    return _number(thread_id, THREAD_PREFIX, "thread")


def item_id_of(message_id: int) -> str:
    return f"{ITEM_PREFIX}{message_id}"


def message_id_of(item_id: str) -> int:
    return _number(item_id, ITEM_PREFIX, "item")


def _number(value: str, prefix: str, kind: str) -> int:
    """The id in `<prefix><id>`; anything else (`conv_²`, `conv_007`, an id past the
    database's integers) names nothing there can be."""
    digits = value.removeprefix(prefix)
    if not (value.startswith(prefix) and _ID.fullmatch(digits) and int(digits) <= ID_MAX):
        raise NotFoundError(f"{kind} {value} not found")
    return int(digits)


def thread_of(conversation: Conversation) -> ThreadMetadata:
    assert conversation.id is not None
    return ThreadMetadata(
        id=thread_id_of(conversation.id),
        title=conversation.title,
        created_at=conversation.created_at,
    )


def item_of(message: Message, thread_id: str) -> ThreadItem:
    assert message.id is not None
    item_id, created_at = item_id_of(message.id), message.created_at
    if message.role == Role.USER:
        return UserMessageItem(
            id=item_id,
            thread_id=thread_id,
            created_at=created_at,
            content=[UserMessageTextContent(text=message.content)],
            inference_options=InferenceOptions(),
        )
    return AssistantMessageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=created_at,
        content=[AssistantMessageContent(text=message.content)],
    )


def text_of(item: UserMessageItem | AssistantMessageItem) -> str:
    parts = [
        part.text
        for part in item.content
        if isinstance(
            part, UserMessageTextContent | UserMessageTagContent | AssistantMessageContent
        )
    ]
    text = "".join(parts)
    if isinstance(item, UserMessageItem) and item.quoted_text:
        text = f"> {item.quoted_text}\n\n{text}"
    return text


class ConversationStore(Store[ChatKitContext]):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    # Threads ------------------------------------------------------------------------------------

    def generate_thread_id(self, context: ChatKitContext) -> str:
        if context.new_conversation_id is None:
            raise RuntimeError("a new thread needs its conversation created first")
        return thread_id_of(context.new_conversation_id)

    async def create_conversation(self, first_message: str, context: ChatKitContext) -> int:
        async with self._sessionmaker() as session:
            conversation = await conversations.start_or_continue(
                session, user_id=context.user_id, conversation_id=None, first_message=first_message
            )
            await session.commit()
            assert conversation.id is not None
            return conversation.id

    async def load_thread(self, thread_id: str, context: ChatKitContext) -> ThreadMetadata:
        async with self._sessionmaker() as session:
            return thread_of(await self._conversation(session, thread_id, context))

    async def save_thread(self, thread: ThreadMetadata, context: ChatKitContext) -> None:
        async with self._sessionmaker() as session:
            conversation = await self._conversation(session, thread.id, context)
            title = (thread.title or "").strip()[:CONVERSATION_TITLE_MAX]
            if title and title != conversation.title:
                conversation.title = title
                session.add(conversation)
                await session.commit()

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: ChatKitContext
    ) -> Page[ThreadMetadata]:
        newest_first = order == "desc"
        statement = select(Conversation).where(Conversation.user_id == context.user_id)
        if after is not None:
            boundary = conversation_id_of(after)
            statement = statement.where(
                col(Conversation.id) < boundary if newest_first else col(Conversation.id) > boundary
            )
        key = col(Conversation.id).desc() if newest_first else col(Conversation.id)
        async with self._sessionmaker() as session:
            rows = list((await session.exec(statement.order_by(key).limit(limit + 1))).all())
        threads = [thread_of(row) for row in rows[:limit]]
        return Page(
            data=threads, has_more=len(rows) > limit, after=threads[-1].id if threads else None
        )

    async def delete_thread(self, thread_id: str, context: ChatKitContext) -> None:
        async with self._sessionmaker() as session:
            try:
                await conversations.delete_conversation(
                    session, user_id=context.user_id, conversation_id=conversation_id_of(thread_id)
                )
            except ConversationNotFound as exc:
                raise NotFoundError(f"thread {thread_id} not found") from exc

    # Items --------------------------------------------------------------------------------------

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: ChatKitContext
    ) -> Page[ThreadItem]:
        newest_first = order == "desc"
        async with self._sessionmaker() as session:
            conversation = await self._conversation(session, thread_id, context)
            statement = select(Message).where(
                Message.conversation_id == conversation.id, Message.user_id == context.user_id
            )
            if after is not None:
                boundary = message_id_of(after)
                statement = statement.where(
                    col(Message.id) < boundary if newest_first else col(Message.id) > boundary
                )
            key = col(Message.id).desc() if newest_first else col(Message.id)
            rows = list((await session.exec(statement.order_by(key).limit(limit + 1))).all())
        items = [item_of(row, thread_id) for row in rows[:limit]]
        return Page(data=items, has_more=len(rows) > limit, after=items[-1].id if items else None)

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: ChatKitContext
    ) -> None:
        if not isinstance(item, UserMessageItem | AssistantMessageItem):
            return
        user = isinstance(item, UserMessageItem)
        async with self._sessionmaker() as session:
            conversation = await self._conversation(session, thread_id, context)
            message = await conversations.add_message(
                session,
                conversation=conversation,
                role=Role.USER if user else Role.ASSISTANT,
                content=text_of(item),
                tool_calls=None if user else (context.tool_calls or None),
            )
        if user:
            # ChatKit sends the user's item to the client after this call, with this id.
            assert message.id is not None
            item.id = item_id_of(message.id)
        else:
            context.tool_calls = []

    async def save_item(self, thread_id: str, item: ThreadItem, context: ChatKitContext) -> None:
        if not isinstance(item, UserMessageItem | AssistantMessageItem):
            return
        async with self._sessionmaker() as session:
            message = await self._message(session, thread_id, item.id, context)
            message.content = text_of(item)
            session.add(message)
            await session.commit()

    async def load_item(self, thread_id: str, item_id: str, context: ChatKitContext) -> ThreadItem:
        async with self._sessionmaker() as session:
            return item_of(await self._message(session, thread_id, item_id, context), thread_id)

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: ChatKitContext
    ) -> None:
        async with self._sessionmaker() as session:
            message = await self._message(session, thread_id, item_id, context)
            await session.delete(message)
            await session.commit()

    # Attachments are not supported ---------------------------------------------------------------

    async def save_attachment(self, attachment: Attachment, context: ChatKitContext) -> None:
        raise NotImplementedError("attachments are not supported")

    async def load_attachment(self, attachment_id: str, context: ChatKitContext) -> Attachment:
        raise NotFoundError(f"attachment {attachment_id} not found")

    async def delete_attachment(self, attachment_id: str, context: ChatKitContext) -> None:
        raise NotFoundError(f"attachment {attachment_id} not found")

    # Lookups, always scoped to the caller ---------------------------------------------------------

    async def _conversation(
        self, session: AsyncSession, thread_id: str, context: ChatKitContext
    ) -> Conversation:
        try:
            return await conversations.get_conversation(
                session, user_id=context.user_id, conversation_id=conversation_id_of(thread_id)
            )
        except ConversationNotFound as exc:
            raise NotFoundError(f"thread {thread_id} not found") from exc

    async def _message(
        self, session: AsyncSession, thread_id: str, item_id: str, context: ChatKitContext
    ) -> Message:
        conversation = await self._conversation(session, thread_id, context)
        message = (
            await session.exec(
                select(Message).where(
                    Message.id == message_id_of(item_id),
                    Message.conversation_id == conversation.id,
                    Message.user_id == context.user_id,
                )
            )
        ).first()
        if message is None:
            raise NotFoundError(f"item {item_id} not found")
        return message
