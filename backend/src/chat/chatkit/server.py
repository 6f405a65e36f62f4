"""The self-hosted ChatKit server: ChatKit's protocol over the same chat turn as
`POST /api/{user_id}/chat` (its agent, MCP tools and user), storing threads as the app's
conversations. ChatKit stores the turn's messages itself, through the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from agents import TResponseInputItem
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.errors import CustomStreamError
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ChatKitReq,
    ThreadItemDoneEvent,
    ThreadMetadata,
    ThreadsCreateReq,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
)
from fastapi import status
from fastapi.responses import JSONResponse, Response, StreamingResponse
from openai.types.responses import EasyInputMessageParam
from pydantic import TypeAdapter, ValidationError

from src.chat.failures import turn_deadline
from src.chat.record import TurnRecord
from src.chat.turn import HISTORY_MESSAGES, Chat
from src.db.errors import is_database_outage

from .limits import InvalidRequest, check_request
from .store import ChatKitContext, ConversationStore

_REQUEST = TypeAdapter[ChatKitReq](ChatKitReq)


class TodoChatKitServer(ChatKitServer[ChatKitContext]):
    def __init__(self, chat: Chat) -> None:
        self.store: ConversationStore
        super().__init__(store=ConversationStore(chat.sessionmaker))
        self._chat = chat

    async def answer(self, request: bytes) -> Response:
        """The HTTP response to a ChatKit request: server-sent events for a streaming one, JSON
        for the others; a malformed request is a 422, someone else's thread a 404."""
        try:
            result = await self.process(request, ChatKitContext(user_id=self._chat.user_id))
        except ValidationError as exc:
            return JSONResponse(
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                content={
                    "detail": exc.errors(
                        include_url=False, include_context=False, include_input=False
                    )
                },
            )
        except InvalidRequest as exc:
            return JSONResponse(
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": exc.errors}
            )
        except NotFoundError as exc:
            return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(exc)})
        if isinstance(result, StreamingResult):
            return StreamingResponse(
                result, media_type="text/event-stream", headers={"cache-control": "no-cache"}
            )
        return Response(content=result.json, media_type="application/json")

    async def process(
        self, request: str | bytes | bytearray, context: ChatKitContext
    ) -> StreamingResult | NonStreamingResult:
        """Checks the request before anything streams: malformed → pydantic's ValidationError,
        beyond the app's limits → InvalidRequest, someone else's (or no such) thread →
        NotFoundError."""
        parsed = _REQUEST.validate_json(request)
        check_request(parsed)
        thread_id = getattr(getattr(parsed, "params", None), "thread_id", None)
        if thread_id is not None:
            await self.store.load_thread(thread_id, context)
        if isinstance(parsed, ThreadsCreateReq):
            first = "".join(
                part.text
                for part in parsed.params.input.content
                if isinstance(part, UserMessageTextContent | UserMessageTagContent)
            )
            context.new_conversation_id = await self.store.create_conversation(first, context)
        return await super().process(request, context)

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: ChatKitContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        history = await self.store.load_thread_items(
            thread.id, None, HISTORY_MESSAGES, "desc", context
        )
        agent_input: list[TResponseInputItem] = [
            EasyInputMessageParam(
                role="user" if isinstance(item, UserMessageItem) else "assistant",
                content="".join(part.text for part in item.content),
            )
            for item in reversed(history.data)
            if isinstance(item, UserMessageItem | AssistantMessageItem)
        ]
        record = TurnRecord(self._chat.model)
        result = self._chat.run_streamed(agent_input, record=record)
        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        events = stream_agent_response(agent_context, result)
        deadline = self._chat.deadline()
        try:
            while True:
                # The deadline bounds each wait for the next event, never a yield: the caller
                # runs between two events.
                async with turn_deadline(deadline):
                    try:
                        event = await anext(events)
                    except StopAsyncIteration:
                        break
                if isinstance(event, ThreadItemDoneEvent) and isinstance(
                    event.item, AssistantMessageItem
                ):
                    # The store keeps them with this message, as the /chat endpoint does.
                    context.tool_calls = list(record.calls)
                yield event
        except Exception as exc:
            result.cancel()  # a turn past its deadline calls neither the model nor tools again
            await events.aclose()
            if is_database_outage(exc):
                raise
            # As on the other endpoints: the sentence is the stored reply (with the tool calls
            # that ran), and ChatKit shows it as the error, with a retry.
            failure = record.failed(exc)
            context.tool_calls = list(record.calls)
            notice = AssistantMessageItem(
                id=self.store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=datetime.now(UTC),
                content=[AssistantMessageContent(text=failure.notice)],
            )
            await self.store.add_thread_item(thread.id, notice, context)
            raise CustomStreamError(failure.notice, allow_retry=True) from exc
        record.log("answered")
