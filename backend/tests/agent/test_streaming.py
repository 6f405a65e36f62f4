"""The offline assistant streams through Runner.run_streamed like a real model: text arrives
in word-sized deltas, tool calls and results surface as run items, and the turn ends with the
same answer as the non-streamed run."""

from __future__ import annotations

from typing import Any

from agents import Runner

from src.agent.assistant import build_agent
from src.agent.provider import build_model

from .standins import ModelSettings, TaskStore, fixed_clock, standin_tools


async def stream_turn(store: TaskStore, message: str) -> tuple[list[Any], Any]:
    agent = build_agent(
        model=build_model(ModelSettings(), clock=fixed_clock),
        tools=standin_tools(store),
        clock=fixed_clock,
    )
    result = Runner.run_streamed(agent, message)
    events = [event async for event in result.stream_events()]
    return events, result


def raw(events: list[Any], kind: str) -> list[Any]:
    return [e.data for e in events if e.type == "raw_response_event" and e.data.type == kind]


async def test_streamed_text_deltas_add_up_to_the_reply(store: TaskStore) -> None:
    events, result = await stream_turn(store, "what's left?")

    deltas = [event.delta for event in raw(events, "response.output_text.delta")]
    assert len(deltas) > 5  # word by word, not one lump
    assert "".join(deltas) == result.final_output
    assert result.final_output.startswith("Here are your pending tasks (4):")


async def test_streamed_tool_calls_and_results_surface_as_run_items(store: TaskStore) -> None:
    events, result = await stream_turn(store, "mark buy milk as done")

    items = [e for e in events if e.type == "run_item_stream_event"]
    names = [(e.name, getattr(e.item.raw_item, "name", None)) for e in items]
    assert names == [
        ("tool_called", "list_tasks"),
        ("tool_output", None),
        ("tool_called", "complete_task"),
        ("tool_output", None),
        ("message_output_created", None),
    ]
    assert result.final_output == "Marked 'Buy milk' as done."
    assert store.get(1)["completed"] is True


async def test_each_model_response_streams_in_protocol_order(store: TaskStore) -> None:
    events, _ = await stream_turn(store, "remove the dentist task")

    kinds = [e.data.type for e in events if e.type == "raw_response_event"]
    responses: list[list[str]] = []
    for kind in kinds:
        if kind == "response.created":
            responses.append([])
        responses[-1].append(kind)
    assert len(responses) == 3  # look the task up, delete it, answer
    for sequence in responses:
        assert sequence[:2] == ["response.created", "response.in_progress"]
        assert sequence[-1] == "response.completed"
    assert responses[0][2:-1] == [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ]
    assert responses[2][2:4] == ["response.output_item.added", "response.content_part.added"]
    assert responses[2][-3:-1] == ["response.content_part.done", "response.output_item.done"]
    numbers = [e.data.sequence_number for e in events if e.type == "raw_response_event"]
    first_of_each = [i for i, kind in enumerate(kinds) if kind == "response.created"]
    for start, end in zip(first_of_each, [*first_of_each[1:], len(kinds)], strict=True):
        assert numbers[start:end] == list(range(end - start))


async def test_streamed_and_plain_runs_answer_alike(store: TaskStore) -> None:
    _, streamed = await stream_turn(
        TaskStore(tasks=[dict(t) for t in store.tasks]), "show all my tasks"
    )
    plain = await Runner.run(
        build_agent(
            model=build_model(ModelSettings(), clock=fixed_clock),
            tools=standin_tools(store),
        ),
        "show all my tasks",
    )
    assert streamed.final_output == plain.final_output
