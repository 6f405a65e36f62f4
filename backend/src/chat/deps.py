"""The chat's FastAPI dependencies: the model, the agent's MCP connection, the user's time zone,
the `Chat` they make for the request's user, and the ChatKit server over it.

The Agents SDK and the OpenAI client are about 40 % of the app's import time, and probes, the
task API and MCP never need them. So the modules that import them are imported inside these
dependencies, on the first chat: the one way this app defers a heavy import. (The types are
named in quotes for the same reason; this module leaves annotations unpostponed so FastAPI
finds the dependencies without resolving them.)
"""

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError

from src.auth.deps import CurrentUser
from src.core.timezones import UnknownTimezone, UserZone, iana_names, user_zone

if TYPE_CHECKING:
    from agents import Model

    from src.chat.chatkit.server import TodoChatKitServer
    from src.chat.turn import Chat
    from src.mcp.client import InProcessMCPServer


def get_model(request: Request) -> "Model":
    """The process's chat model, built on first use (tests override this dependency with a
    scripted one)."""
    state = request.app.state
    if getattr(state, "model", None) is None:
        from src.agent.provider import build_model

        state.model = build_model(state.settings)
    return state.model


async def get_agent_tools(request: Request) -> "InProcessMCPServer":
    """The app's MCP server as the agent's tools, connected in-process on the first chat."""
    return await request.app.state.mcp.agent_server()


TIMEZONE_HEADER = "X-Timezone"


def get_zone(
    x_timezone: Annotated[
        str | None,
        Header(
            alias=TIMEZONE_HEADER,
            description="The user's IANA time zone (e.g. America/Los_Angeles); absent: UTC",
            # Empty is taken as absent.
            json_schema_extra={"enum": ["", *sorted(iana_names())]},
        ),
    ] = None,
) -> UserZone:
    """The zone the chat reads and writes dates in: every chat endpoint gets it here."""
    try:
        return user_zone(x_timezone)
    except UnknownTimezone as exc:
        raise RequestValidationError(
            [{"loc": ("header", TIMEZONE_HEADER), "msg": str(exc), "type": "value_error"}]
        ) from None


ModelDep = Annotated["Model", Depends(get_model)]
AgentToolsDep = Annotated["InProcessMCPServer", Depends(get_agent_tools)]
ZoneDep = Annotated[UserZone, Depends(get_zone)]


async def get_chat(
    request: Request, user: CurrentUser, zone: ZoneDep, model: ModelDep, tools: AgentToolsDep
) -> "Chat":
    from src.chat.turn import Chat

    return Chat(
        model=model,
        tools=tools,
        sessionmaker=request.app.state.sessionmaker,
        user_id=user.id,
        token=user.token,
        timeout_seconds=request.app.state.settings.chat_turn_timeout_seconds,
        zone=zone,
    )


ChatDep = Annotated["Chat", Depends(get_chat)]


async def get_chatkit(chat: ChatDep) -> "TodoChatKitServer":
    from src.chat.chatkit.server import TodoChatKitServer

    return TodoChatKitServer(chat)


ChatKitDep = Annotated["TodoChatKitServer", Depends(get_chatkit)]
