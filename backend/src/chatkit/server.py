"""The self-hosted ChatKit server: ChatKit's protocol over the same agent, MCP tools and user
scoping as `POST /api/{user_id}/chat`, storing threads as the app's conversations."""

from __future__ import annotations

from collections.abc import AsyncIterator

from agents import Model, Runner, TResponseInputItem
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.types import (
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
from openai.types.responses import EasyInputMessageParam
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.types import ASGIApp

from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.store import NotFoundError
from src.agent import build_agent
from src.mcp.client import agent_mcp_server
from src.mcp.server import acting_as
from src.services.chat import HISTORY_MESSAGES, MAX_AGENT_TURNS, tool_calls_of

from .store import ChatKitContext, ConversationStore

_REQUEST = TypeAdapter[ChatKitReq](ChatKitReq)


class TodoChatKitServer(ChatKitServer[ChatKitContext]):
    def __init__(
        self, *, app: ASGIApp, model: Model, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        self.store: ConversationStore
        super().__init__(store=ConversationStore(sessionmaker))
        self._app = app
        self._model = model

    async def process(
        self, request: str | bytes | bytearray, context: ChatKitContext
    ) -> StreamingResult | NonStreamingResult:
        """Checks the request before anything streams: malformed → pydantic's ValidationError,
        someone else's (or no such) thread → NotFoundError."""
        parsed = _REQUEST.validate_json(request)
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
        mcp = await agent_mcp_server(self._app)
        # The run's task starts here and keeps this identity; it is bound only around the start
        # because this generator may be resumed from other contexts.
        with acting_as(context.user_id, token=context.bearer_token):
            agent = build_agent(model=self._model, tools=mcp.agent_tools)
            result = Runner.run_streamed(agent, agent_input, max_turns=MAX_AGENT_TURNS)
        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        async for event in stream_agent_response(agent_context, result):
            if isinstance(event, ThreadItemDoneEvent) and isinstance(
                event.item, AssistantMessageItem
            ):
                # The store keeps them with this message, as the /chat endpoint does.
                context.tool_calls = tool_calls_of(result.new_items)
            yield event


__all__ = ["NotFoundError", "StreamingResult", "TodoChatKitServer"]
