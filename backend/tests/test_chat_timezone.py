"""The user's time zone (the X-Timezone header) through every chat endpoint: the offline
assistant reads and says dates in it, the MCP tools parse dates in it, and a turn without it
is in UTC and says so. The offline assistant runs on a fixed "now": Tuesday 2026-11-24 15:00
UTC, which is 07:00 that morning in Los Angeles and already Wednesday 00:00 in Tokyo."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from agents.testing import assistant_message, function_call
from fastapi import FastAPI

from src.agent.offline import OfflineAssistantModel
from src.chat.deps import get_model
from tests.agent.standins import NOW, fixed_clock
from tests.chatkit.test_chatkit import assistant_text, user_input
from tests.conftest import User, script
from tests.support.tasks_api import create_task, list_tasks
from tests.support.ui_stream import read_ui_stream

LOS_ANGELES = "America/Los_Angeles"
TOKYO = "Asia/Tokyo"
IN_UTC = "(Dates and times are in UTC: your time zone wasn't sent.)"


@pytest.fixture(autouse=True)
def offline_at_a_fixed_now(app: FastAPI) -> None:
    model = OfflineAssistantModel(clock=fixed_clock)
    app.dependency_overrides[get_model] = lambda: model


def headers(user: User, zone: str | None) -> dict[str, str]:
    return user.headers | ({"X-Timezone": zone} if zone else {})


async def reply(
    client: httpx.AsyncClient, user: User, message: str, zone: str | None
) -> dict[str, Any]:
    response = await client.post(
        user.url("/chat"), json={"message": message}, headers=headers(user, zone)
    )
    assert response.status_code == 200, response.text
    return response.json()


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_an_unknown_zone_is_refused_naming_the_header(
    client: httpx.AsyncClient, user: User
) -> None:
    chatkit = {"type": "threads.create", "params": {"input": user_input("add milk")}}
    for path, body in [
        ("/chat", {"message": "add milk"}),
        ("/chat/stream", {"message": "add milk"}),
        ("/chatkit", chatkit),
    ]:
        response = await client.post(
            user.url(path), json=body, headers=headers(user, "Mars/Olympus_Mons")
        )
        assert response.status_code == 422, (path, response.text)
        [error] = response.json()["detail"]
        assert error["field"] == "X-Timezone", path
        assert "Mars/Olympus_Mons" in error["msg"] and "IANA" in error["msg"]
    # Nothing was stored or done.
    assert (await client.get(user.url("/conversations"), headers=user.headers)).json() == []
    assert await list_tasks(client, user) == []


async def test_tomorrow_at_9am_in_los_angeles_is_17_utc(
    client: httpx.AsyncClient, user: User
) -> None:
    body = await reply(client, user, "add call the bank tomorrow at 9am", LOS_ANGELES)
    assert body["response"] == "Added 'Call the bank' — due tomorrow."
    [task] = await list_tasks(client, user)
    assert task["due_at"] == "2026-11-25T17:00:00Z"


async def test_due_tomorrow_in_tokyo_is_tomorrow_on_the_card_too(
    client: httpx.AsyncClient, user: User
) -> None:
    async with client.stream(
        "POST", user.url("/chat/stream"), json={"message": "add pay rent due tomorrow"},
        headers=headers(user, TOKYO),
    ) as response:  # fmt: skip
        assert response.status_code == 200
        message = await read_ui_stream(response)
    assert message.text == "Added 'Pay rent' — due tomorrow."
    [tool] = message.tools
    # The card shows the tool's due date in the browser's zone: Thursday, Tokyo's tomorrow.
    tokyo_now = NOW.astimezone(ZoneInfo(TOKYO))
    card = moment(tool["output"]["due_at"]).astimezone(ZoneInfo(TOKYO))
    assert card.date() == tokyo_now.date() + timedelta(days=1)
    assert (card.hour, card.minute) == (9, 0)


async def test_moving_the_dentist_thing_to_friday_afternoon_with_a_reminder(
    client: httpx.AsyncClient, user: User
) -> None:
    """The request from a user in Los Angeles: the task moves to Friday 3pm there, and the one
    reply says the reminder can't be set, after a single lookup that found the task."""
    dentist = await create_task(client, user, title="Dentist appointment")
    body = await reply(
        client,
        user,
        "could you move the dentist thing to friday afternoon and remind me an hour before?",
        LOS_ANGELES,
    )
    assert body["response"] == (
        "Moved 'Dentist appointment' to Friday at 3pm. I can't set reminders, so nothing will "
        "notify you; the due date shows in your list."
    )
    assert [call["name"] for call in body["tool_calls"]] == ["list_tasks", "update_task"]
    [task] = await list_tasks(client, user)
    assert (task["id"], task["due_at"]) == (dentist["id"], "2026-11-27T23:00:00Z")


async def test_chatkit_reads_the_zone_too(client: httpx.AsyncClient, user: User) -> None:
    response = await client.post(
        user.url("/chatkit"),
        json={"type": "threads.create", "params": {"input": user_input("add gym tomorrow at 9am")}},
        headers=headers(user, LOS_ANGELES),
    )
    assert response.status_code == 200, response.text
    events = [
        json.loads(line.removeprefix("data: "))
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ]
    assert assistant_text(events) == "Added 'Gym' — due tomorrow."
    [task] = await list_tasks(client, user)
    assert task["due_at"] == "2026-11-25T17:00:00Z"


async def test_without_a_zone_dates_are_utc_and_the_reply_says_so(
    client: httpx.AsyncClient, user: User
) -> None:
    dated = await reply(client, user, "add call the bank tomorrow at 9am", None)
    assert dated["response"] == f"Added 'Call the bank' — due tomorrow. {IN_UTC}"
    [task] = await list_tasks(client, user)
    assert task["due_at"] == "2026-11-25T09:00:00Z"
    # A reply without dates has nothing to qualify.
    undated = await reply(client, user, "add water the plants", None)
    assert undated["response"] == "Added 'Water the plants'."


async def test_the_zone_reaches_the_tools_and_the_models_instructions(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    """A real model writes a local time without an offset: the tool reads it in the request's
    zone. (The zone comes from the request, like the user; the model cannot change it.)"""
    model = script(
        app,
        [
            function_call(
                "add_task", {"title": "Standup", "due_at": "2026-11-25T09:00:00"}, call_id="c1"
            )
        ],
        [assistant_message("Added 'Standup' for tomorrow at 9am.")],
    )
    await reply(client, user, "add standup tomorrow at 9am", LOS_ANGELES)
    [task] = await list_tasks(client, user)
    assert task["due_at"] == "2026-11-25T17:00:00Z"
    instructions = model.first_call.system_instructions if model.first_call else ""
    assert f"The user's time zone is {LOS_ANGELES}" in (instructions or "")

    model = script(app, [assistant_message("ok")])
    await reply(client, user, "hi", None)
    instructions = model.first_call.system_instructions if model.first_call else ""
    assert "say that it is in UTC" in (instructions or "")


async def test_due_this_week_agrees_with_the_lists_next_7_days(
    client: httpx.AsyncClient, user: User
) -> None:
    """The list's "Next 7 days" filter asks for due_after the start of the browser's today and
    due_before the start of the same weekday a week on (frontend/lib/task-filters.ts)."""
    la = ZoneInfo(LOS_ANGELES)
    today = NOW.astimezone(la).date()

    def local(days: int, hour: int, minute: int = 0) -> str:
        day = today + timedelta(days)
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=la).isoformat()

    for title, due in [
        ("Yesterday night", local(-1, 23)),
        ("Early today", local(0, 0, 30)),
        ("Monday evening", local(6, 23, 30)),
        ("A week on", local(7, 0)),
        ("Next month", local(30, 9)),
    ]:
        await create_task(client, user, title=title, due_at=due)
    start = datetime(today.year, today.month, today.day, tzinfo=la)
    shown = await list_tasks(
        client,
        user,
        status="pending",
        due_after=start.isoformat(),
        due_before=(start + timedelta(days=7)).isoformat(),
    )
    assert [t["title"] for t in shown] == ["Monday evening", "Early today"]

    body = await reply(client, user, "What's due this week?", LOS_ANGELES)
    listed = [line for line in body["response"].splitlines() if line.startswith("- ")]
    assert sorted(line.split(" ", 2)[2].split(" — ")[0] for line in listed) == sorted(
        t["title"] for t in shown
    )
    assert "Early today — due today at 12:30am (overdue)" in body["response"]
