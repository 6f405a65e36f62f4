"""Fixtures for the agent's unit tests (the stand-in tools live in standins.py)."""

from __future__ import annotations

from typing import Any

import pytest
from agents import Runner

from src.agent.assistant import build_agent
from src.agent.provider import build_model
from src.core.timezones import in_zone, user_zone

from .standins import (
    ModelSettings,
    RunTurn,
    TaskStore,
    Turn,
    at,
    fixed_clock,
    standin_tools,
    tool_calls,
)


@pytest.fixture
def store() -> TaskStore:
    """Tasks the reference phrasings point at ("buy" matches two of them on purpose)."""
    tasks = TaskStore()
    tasks.add("Buy milk", priority="high", due_at=at(1), tags=["home"])
    tasks.add("Dentist appointment", due_at=at(3, 14))
    tasks.add("Pay rent", due_at=at(7))
    tasks.add("Call mom", completed=True)
    tasks.add("Buy bread", priority="low")
    return tasks


@pytest.fixture
def run_turn(store: TaskStore) -> RunTurn:
    """One chat turn through the real Runner, for a user whose browser says UTC: the tool calls
    made and the reply."""
    agent = build_agent(
        model=build_model(ModelSettings(), clock=fixed_clock),
        tools=standin_tools(store),
        clock=fixed_clock,
    )

    async def run(message: str, history: list[dict[str, Any]] | None = None) -> Turn:
        with in_zone(user_zone("UTC")):
            result = await Runner.run(
                agent, [*(history or []), {"role": "user", "content": message}]
            )
        return Turn(tool_calls(result.new_items), str(result.final_output))

    return run
