"""`POST /api/{user_id}/chatkit`: the ChatKit protocol endpoint (for `@openai/chatkit-react`
with a custom `api.url`). Streaming requests answer with server-sent events, the others JSON."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError

from src.api.deps import CurrentUser, UserId
from src.api.routes.chat import ModelDep

router = APIRouter(prefix="/api/{user_id}", tags=["chatkit"])


@router.post(
    "/chatkit",
    responses={
        200: {"content": {"text/event-stream": {}, "application/json": {}}},
        404: {"description": "No such thread for this user"},
        422: {"description": "Not a ChatKit request"},
    },
)
async def chatkit(
    request: Request, user_id: UserId, user: CurrentUser, model: ModelDep
) -> Response:
    from .server import NotFoundError, StreamingResult, TodoChatKitServer  # see __init__
    from .store import ChatKitContext

    server = TodoChatKitServer(
        app=request.app, model=model, sessionmaker=request.app.state.sessionmaker
    )
    context = ChatKitContext(user_id=user_id, bearer_token=user.token)
    try:
        result = await server.process(await request.body(), context)
    except ValidationError as exc:
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={
                "detail": exc.errors(include_url=False, include_context=False, include_input=False)
            },
        )
    except NotFoundError as exc:
        return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(exc)})
    if isinstance(result, StreamingResult):
        return StreamingResponse(
            result, media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )
    return Response(content=result.json, media_type="application/json")
