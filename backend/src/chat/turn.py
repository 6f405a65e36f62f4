"""One chat turn, stateless: read the conversation's recent history and store the user's message
(`begin`), run the agent with the app's MCP tools acting as the request's verified user, store
the reply and its tool calls (`finish`).

Database sessions are short and never held while the model thinks: the tools the agent calls
open their own, and a pool connection held across a model call would starve them under load.

A turn the model fails is stored whole all the same (`fail`): the user's message and, as the
reply, the sentence the user is shown (failures.py) with the tool calls that ran before
the failure, so a reload shows what the chat showed and the model later reads what happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from agents import Agent, Model, Runner, RunResult, RunResultStreaming, TResponseInputItem
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel.ext.asyncio.session import AsyncSession

from src.agent.assistant import build_agent
from src.agent.visible import showing
from src.core.timezones import UserZone, in_zone
from src.db.errors import is_database_outage
from src.mcp.client import InProcessMCPServer
from src.mcp.server import acting_as
from src.models.conversation import Conversation, Role
from src.services import conversations
from src.services.conversations import ConversationNotFound

from .errors import AssistantFailed
from .failures import turn_deadline
from .record import TurnRecord
from .results import final_text
from .ui_stream import stream_turn

HISTORY_MESSAGES = 40
MAX_AGENT_TURNS = 12


@dataclass
class Turn:
    """A turn begun: its conversation (read once, at the start), what the agent reads, and the
    task numbers the user's list shows (None: the request did not say)."""

    conversation: Conversation
    agent_input: list[TResponseInputItem]
    visible_tasks: Sequence[int] | None = None


@dataclass
class TurnResult:
    conversation_id: int
    response: str
    tool_calls: list[dict[str, Any]]
    message_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class Chat:
    """What a turn runs on, for one request's verified user: the model, the app's MCP tools,
    the database, how long a turn may take (CHAT_TURN_TIMEOUT_SECONDS), and the user's time
    zone (from the request, like the user)."""

    model: Model
    tools: InProcessMCPServer
    sessionmaker: async_sessionmaker[AsyncSession]
    user_id: str
    token: str = field(repr=False)
    timeout_seconds: float
    zone: UserZone

    async def begin(
        self,
        *,
        conversation_id: int | None,
        message: str,
        visible_tasks: Sequence[int] | None = None,
    ) -> Turn:
        """Finds (or starts) the conversation, reads its recent history, stores the message."""
        async with self.sessionmaker() as session:
            conversation = await conversations.start_or_continue(
                session,
                user_id=self.user_id,
                conversation_id=conversation_id,
                first_message=message,
            )
            history = (
                []
                if conversation_id is None
                else await conversations.list_messages(
                    session, conversation=conversation, last=HISTORY_MESSAGES, transcript=True
                )
            )
            await conversations.add_message(
                session, conversation=conversation, role=Role.USER, content=message
            )
        agent_input: list[TResponseInputItem] = [
            {"role": Role(m.role).value, "content": m.content}  # type: ignore[misc]
            for m in history
        ]
        agent_input.append({"role": "user", "content": message})
        return Turn(conversation, agent_input, visible_tasks)

    async def reply(self, turn: Turn) -> TurnResult:
        """Runs the turn to its end and stores the reply. Raises AssistantFailed (the turn
        stored with its notice) when the model fails."""
        record = TurnRecord(self.model)
        try:
            async with turn_deadline(self.deadline()):
                with self._agent(turn.visible_tasks) as agent:
                    result: RunResult = await Runner.run(
                        agent, turn.agent_input, max_turns=MAX_AGENT_TURNS, hooks=record
                    )
        except Exception as exc:
            if is_database_outage(exc):
                raise
            raise await self.fail(turn, record, exc) from exc
        record.log("answered")
        return await self.finish(turn, final_text(result.final_output), record.calls)

    def deadline(self) -> float:
        """The event loop time by which a turn starting now ends (CHAT_TURN_TIMEOUT_SECONDS)."""
        return asyncio.get_running_loop().time() + self.timeout_seconds

    def run_streamed(
        self,
        agent_input: list[TResponseInputItem],
        *,
        visible_tasks: Sequence[int] | None = None,
        record: TurnRecord | None = None,
    ) -> RunResultStreaming:
        """Starts the agent on `agent_input`; its events stream from the result."""
        # The run's task starts here and keeps the user's identity, zone and list: they are
        # bound only around the start because the caller may resume the stream elsewhere.
        with self._agent(visible_tasks) as agent:
            return Runner.run_streamed(agent, agent_input, max_turns=MAX_AGENT_TURNS, hooks=record)

    def stream(self, turn: Turn) -> AsyncIterator[dict[str, Any]]:
        """The turn as UI message stream parts (see ui_stream.py), stored when it ends."""
        return stream_turn(self, turn)

    async def finish(self, turn: Turn, reply: str, calls: list[dict[str, Any]]) -> TurnResult:
        """Stores the assistant's reply with the turn's tool calls."""
        conversation = turn.conversation
        conversation_id = conversation.id
        assert conversation_id is not None
        async with self.sessionmaker() as session:
            try:
                message = await conversations.add_message(
                    session,
                    conversation=conversation,
                    role=Role.ASSISTANT,
                    content=reply,
                    tool_calls=calls or None,
                )
            except StaleDataError:  # the user deleted the conversation while the agent ran
                raise ConversationNotFound(conversation_id) from None
        return TurnResult(conversation_id, reply, calls, message.id)

    async def fail(self, turn: Turn, record: TurnRecord, exc: Exception) -> AssistantFailed:
        """Stores the failed turn with the sentence the user is shown as its reply, and the
        tool calls that ran; returns the error to raise."""
        failure = record.failed(exc)
        await self.finish(turn, failure.notice, record.calls)
        return AssistantFailed(failure)

    @contextmanager
    def _agent(self, visible_tasks: Sequence[int] | None) -> Iterator[Agent[Any]]:
        """The assistant; the model and the tool calls in this context (and in tasks it starts)
        act as the user, read and write dates in the user's zone, and count "the first task"
        over the list the user sees."""
        with (
            acting_as(self.user_id, token=self.token),
            in_zone(self.zone),
            showing(visible_tasks),
        ):
            yield build_agent(
                model=self.model,
                tools=self.tools.agent_tools,
                zone=self.zone,
                visible=visible_tasks,
            )
