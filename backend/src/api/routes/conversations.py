"""`/api/{user_id}/conversations`: past chats, newest first."""

from __future__ import annotations

from fastapi import APIRouter, status

from src.api.deps import SessionDep, UserId
from src.api.params import ConversationId
from src.api.responses import AUTHENTICATED, not_found
from src.models.conversation import ConversationPublic, MessagePublic
from src.services import conversations as service

router = APIRouter(prefix="/api/{user_id}/conversations", tags=["chat"], responses=AUTHENTICATED)
CONVERSATION_NOT_FOUND = not_found("conversation")


@router.get("", response_model=list[ConversationPublic])
async def list_conversations(session: SessionDep, user_id: UserId) -> list[ConversationPublic]:
    conversations = await service.list_conversations(session, user_id=user_id)
    return [ConversationPublic.model_validate(c) for c in conversations]


@router.get(
    "/{conversation_id}/messages",
    response_model=list[MessagePublic],
    responses=CONVERSATION_NOT_FOUND,
)
async def list_messages(
    session: SessionDep, user_id: UserId, conversation_id: ConversationId
) -> list[MessagePublic]:
    conversation = await service.get_conversation(
        session, user_id=user_id, conversation_id=conversation_id
    )
    messages = await service.list_messages(session, conversation=conversation)
    return [MessagePublic.model_validate(m) for m in messages]


@router.delete(
    "/{conversation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=CONVERSATION_NOT_FOUND,
)
async def delete_conversation(
    session: SessionDep, user_id: UserId, conversation_id: ConversationId
) -> None:
    await service.delete_conversation(session, user_id=user_id, conversation_id=conversation_id)
