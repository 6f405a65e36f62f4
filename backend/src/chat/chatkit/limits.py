"""What the ChatKit endpoint accepts beyond ChatKit's own request types: the limits every chat
endpoint has (a message of at most MESSAGE_MAX characters, text PostgreSQL can store) and list
parameters the store can page by."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chatkit.store import NotFoundError
from chatkit.types import (
    ChatKitReq,
    ItemsListParams,
    ThreadListParams,
    UserMessageInput,
    UserMessageTagContent,
    UserMessageTextContent,
)
from pydantic import BaseModel

from src.models.conversation import MESSAGE_MAX

from .store import conversation_id_of, message_id_of

PAGE_MAX = 100


class InvalidRequest(Exception):
    """A well-formed ChatKit request the app refuses; `errors` as a 422 lists them."""

    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        super().__init__(msg)
        self.errors = [{"loc": list(loc), "msg": msg, "type": "value_error"}]


def check_request(request: ChatKitReq) -> None:
    for loc, text in _strings(request, ()):
        if "\x00" in text:
            raise InvalidRequest(loc, "must not contain the NUL character (\\u0000)")
    params = getattr(request, "params", None)
    message = getattr(params, "input", None)
    if isinstance(message, UserMessageInput):
        length = sum(
            len(part.text)
            for part in message.content
            if isinstance(part, UserMessageTextContent | UserMessageTagContent)
        )
        if length > MESSAGE_MAX:
            raise InvalidRequest(
                ("params", "input", "content"),
                f"a message has at most {MESSAGE_MAX} characters (this one has {length})",
            )
    if isinstance(params, ThreadListParams | ItemsListParams):
        _check_page(params)


def _check_page(params: ThreadListParams | ItemsListParams) -> None:
    if params.limit is not None and not 1 <= params.limit <= PAGE_MAX:
        raise InvalidRequest(("params", "limit"), f"must be between 1 and {PAGE_MAX}")
    if params.after is not None:
        parse = message_id_of if isinstance(params, ItemsListParams) else conversation_id_of
        try:
            parse(params.after)
        except NotFoundError:
            kind = "an item" if isinstance(params, ItemsListParams) else "a thread"
            raise InvalidRequest(("params", "after"), f"is not {kind} id") from None


def _strings(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string in the request (field values and dictionary keys), with where it is."""
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _strings(getattr(value, name), (*loc, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, (*loc, str(key)))
            yield from _strings(item, (*loc, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index))
