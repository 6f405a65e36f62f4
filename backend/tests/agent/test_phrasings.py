"""The offline assistant's phrasing table: what a user types → the tool calls the agent makes
(names and exact arguments, through the real Runner) → what it answers.

The store behind the tools starts with (see conftest.py):
  #1 Buy milk (high, #home, due tomorrow)   #2 Dentist appointment (due Friday 2pm)
  #3 Pay rent (due Tue Dec 1)               #4 Call mom (completed)
  #5 Buy bread (low)
and "now" is Tuesday 2026-11-24 15:00 UTC.
"""

from __future__ import annotations

from typing import Any

import pytest
from agents import Runner

from src.agent.assistant import build_agent
from src.agent.offline.model import TOOLS_UNAVAILABLE
from src.agent.provider import build_model

from .standins import NOW, ModelSettings, RunTurn, TaskStore, at, fixed_clock

NO_REMINDERS = "I can't set reminders, so nothing will notify you; the due date shows in your list."
END_OF_TODAY = "2026-11-24T23:59:59+00:00"
START_OF_TODAY = "2026-11-24T00:00:00+00:00"
A_WEEK_ON = "2026-12-01T00:00:00+00:00"


def find(q: str) -> tuple[str, dict[str, Any]]:
    return ("list_tasks", {"q": q, "status": "all"})


Call = tuple[str, dict[str, Any]]

# (what the user says, the tool calls in order, words the reply contains)
PHRASINGS: list[tuple[str, list[Call], str]] = [
    # Adding
    ("add buy milk tomorrow, high priority #home",
     [("add_task", {"title": "Buy milk", "priority": "high", "tags": ["home"], "due_at": at(1)})],
     "Added 'Buy milk' — due tomorrow, high priority, #home."),
    ("remind me to call mom next friday",
     [("add_task", {"title": "Call mom", "due_at": at(3)})],
     f"Added 'Call mom' — due Friday. {NO_REMINDERS}"),
    ("Add pay rent tomorrow high priority",
     [("add_task", {"title": "Pay rent", "priority": "high", "due_at": at(1)})],
     "Added 'Pay rent' — due tomorrow, high priority."),
    ("add water the plants", [("add_task", {"title": "Water the plants"})],
     "Added 'Water the plants'."),
    ("add dentist at 4pm", [("add_task", {"title": "Dentist", "due_at": at(0, 16)})],
     "due today at 4pm"),
    ("remind me to call the bank in 3 days",
     [("add_task", {"title": "Call the bank", "due_at": at(3)})], "due Friday"),
    ("add submit report on dec 1 #work",
     [("add_task", {"title": "Submit report", "tags": ["work"], "due_at": at(7)})],
     "due Tue, Dec 1, #work"),
    ("create a task to book flights in 2 weeks",
     [("add_task", {"title": "Book flights", "due_at": at(14)})], "due Tue, Dec 8"),
    ("I need to renew my passport by 2026-12-15",
     [("add_task", {"title": "Renew my passport", "due_at": "2026-12-15T09:00:00+00:00"})],
     "Added 'Renew my passport' — due Tue, Dec 15."),
    ("every weekday standup",
     [("add_task", {"title": "Standup", "due_at": at(1), "recurrence": "daily"})],
     "repeats daily (there is no weekdays-only repeat"),
    ("add gym every monday at 7am",
     [("add_task", {"title": "Gym", "due_at": at(6, 7), "recurrence": "weekly"})],
     "due Monday at 7am, repeats weekly"),
    ("add urgent: call the plumber",
     [("add_task", {"title": "Call the plumber", "priority": "high"})], "high priority"),
    ("todo: pick up dry cleaning tonight",
     [("add_task", {"title": "Pick up dry cleaning", "due_at": at(0, 20)})], "due today at 8pm"),
    ("add read a book, low priority",
     [("add_task", {"title": "Read a book", "priority": "low"})], "low priority"),
    ("don't forget to water plants every day",
     [("add_task", {"title": "Water plants", "due_at": at(1), "recurrence": "daily"})],
     "repeats daily"),
    # Listing
    ("what's left?", [("list_tasks", {"status": "pending"})],
     "Here are your pending tasks (4):\n- #1 Buy milk — due tomorrow, high priority, #home"),
    ("show completed tasks", [("list_tasks", {"status": "completed"})],
     "Here is your completed task (1):\n- ✓ #4 Call mom"),
    ("list high priority tasks", [("list_tasks", {"status": "pending", "priority": "high"})],
     "Here is your high priority pending task (1):\n- #1 Buy milk"),
    ("what's due this week",
     [("list_tasks", {"status": "pending", "due_after": START_OF_TODAY, "due_before": A_WEEK_ON})],
     "Here are your pending tasks due in the next 7 days (2):\n- #1 Buy milk"),
    ("show all my tasks", [("list_tasks", {"status": "all"})], "Here are all your tasks (5):"),
    ("what's overdue?", [("list_tasks", {"status": "pending", "due_before": NOW.isoformat()})],
     "You have no pending tasks that are overdue."),
    ("show tasks tagged #home", [("list_tasks", {"status": "pending", "tag": "home"})],
     "pending task tagged #home (1)"),
    ("find milk", [("list_tasks", {"status": "all", "q": "milk"})],
     "Here is your task matching 'milk' (1):\n- #1 Buy milk"),
    ("what do I have to do today",
     [("list_tasks", {"status": "pending", "due_before": END_OF_TODAY})],
     "You have no pending tasks due today."),
    ("what's due tomorrow",
     [("list_tasks", {"status": "pending", "due_after": "2026-11-25T00:00:00+00:00",
                      "due_before": "2026-11-25T23:59:59+00:00"})],
     "- #1 Buy milk"),
    ("show my todo list", [("list_tasks", {"status": "pending"})], "pending tasks (4)"),
    ("what's on my plate today?",
     [("list_tasks", {"status": "pending", "due_before": END_OF_TODAY})],
     "You have no pending tasks due today."),
    ("show me what I did", [("list_tasks", {"status": "completed"})], "- ✓ #4 Call mom"),
    ("hello, add eggs", [("add_task", {"title": "Eggs"})], "Added 'Eggs'."),
    ("what still needs to be done?", [("list_tasks", {"status": "pending"})], "pending tasks (4)"),
    ("what is high priority", [("list_tasks", {"status": "pending", "priority": "high"})],
     "- #1 Buy milk"),
    # Completing
    ("mark buy milk as done", [find("buy milk"), ("complete_task", {"number": 1})],
     "Marked 'Buy milk' as done."),
    ("complete task 3", [("complete_task", {"number": 3})], "Marked 'Pay rent' as done."),
    ("I finished the dentist appointment",
     [find("dentist appointment"), ("complete_task", {"number": 2})],
     "Marked 'Dentist appointment' as done."),
    ("buy bread is done", [find("buy bread"), ("complete_task", {"number": 5})],
     "Marked 'Buy bread' as done."),
    ("mark buy as done", [find("buy")],
     "2 tasks match 'buy' — which one do you mean?\n- #1 Buy milk"),
    ("mark call mom as done", [find("call mom")], "'Call mom' is already done."),
    ("complete the gym task", [find("gym")],
     "I couldn't find a pending task matching 'gym'."),
    ("check off buy the milk",
     [find("buy the milk"), find("milk"), ("complete_task", {"number": 1})],
     "Marked 'Buy milk' as done."),
    # Deleting
    ("delete task 3", [("delete_task", {"number": 3})], "Deleted 'Pay rent'."),
    ("remove the dentist task", [find("dentist"), ("delete_task", {"number": 2})],
     "Deleted 'Dentist appointment'."),
    ("delete task 99", [("delete_task", {"number": 99})],
     "I couldn't delete task 99: Task #99 not found."),
    ("clear completed tasks",
     [("list_tasks", {"status": "completed"}), ("delete_task", {"number": 4})],
     "Deleted 1 completed task: 'Call mom'."),
    # Changing
    ("rename the dentist task to dentist at 4pm",
     [find("dentist"), ("update_task", {"number": 2, "title": "Dentist at 4pm"})],
     "Renamed 'Dentist appointment' to 'Dentist at 4pm'."),
    ("change priority of task 2 to low", [("update_task", {"number": 2, "priority": "low"})],
     "'Dentist appointment' is now low priority."),
    ("move buy milk to next monday",
     [find("buy milk"), ("update_task", {"number": 1, "due_at": at(6)})],
     "Moved 'Buy milk' to Monday."),
    ("reschedule task 3 to friday at 5pm",
     [("update_task", {"number": 3, "due_at": at(3, 17)})], "Moved 'Pay rent' to Friday at 5pm."),
    ("make pay rent high priority",
     [find("pay rent"), ("update_task", {"number": 3, "priority": "high"})],
     "'Pay rent' is now high priority."),
    ("reopen call mom", [find("call mom"), ("update_task", {"number": 4, "completed": False})],
     "Reopened 'Call mom'"),
    ("remove the due date from task 1", [("update_task", {"number": 1, "due_at": ""})],
     "Removed the due date from 'Buy milk'."),
    ("make task 5 repeat weekly", [("update_task", {"number": 5, "recurrence": "weekly"})],
     "'Buy bread' now repeats weekly."),
    ("change task 3 to friday", [("update_task", {"number": 3, "due_at": at(3)})],
     "Moved 'Pay rent' to Friday."),
    ("rename task 5 to buy sourdough bread",
     [("update_task", {"number": 5, "title": "Buy sourdough bread"})],
     "Renamed task 5 to 'Buy sourdough bread'."),
    ("push task 2 back to tomorrow at 10am",
     [("update_task", {"number": 2, "due_at": at(1, 10)})],
     "Moved 'Dentist appointment' to tomorrow at 10am."),
    ("add a note to buy milk: get the oat one",
     [find("buy milk"), ("update_task", {"number": 1, "description": "get the oat one"})],
     "Added the note to 'Buy milk'."),
    ("add note to task 3 - landlord changed the IBAN",
     [("update_task", {"number": 3, "description": "landlord changed the IBAN"})],
     "Added the note to 'Pay rent'."),
    ("tag buy milk with #errands",
     [find("buy milk"), ("update_task", {"number": 1, "tags": ["home", "errands"]})],
     "Tagged 'Buy milk' #errands. Its tags: #home #errands."),
    ("add tag work to task 3",
     [("list_tasks", {"status": "all"}), ("update_task", {"number": 3, "tags": ["work"]})],
     "Tagged 'Pay rent' #work."),
    ("untag task 1 #home",
     [("list_tasks", {"status": "all"}), ("update_task", {"number": 1, "tags": []})],
     "Removed #home from 'Buy milk'. Its tags: none."),
    ("tag task 42 as work", [("list_tasks", {"status": "all"})], "I couldn't find task 42."),
    ("add eggs to the shopping list", [("add_task", {"title": "Eggs"})], "Added 'Eggs'."),
    ("mark the milk thing as done", [find("milk"), ("complete_task", {"number": 1})],
     "Marked 'Buy milk' as done."),
    ("delete the bread stuff", [find("bread"), ("delete_task", {"number": 5})],
     "Deleted 'Buy bread'."),
    ("move the dentist visit to friday", [find("dentist visit"), find("dentist")],
     "No task matches 'dentist visit', but 1 task matches 'dentist' — which one do you mean?\n"
     "- #2 Dentist appointment — due Friday at 2pm\nReply with its number, e.g. “task 2”."),
    # Reminders: the rest is done, and the reply says once that there are no reminders.
    ("could you move the dentist thing to friday afternoon and remind me an hour before?",
     [find("dentist"), ("update_task", {"number": 2, "due_at": at(3, 15)})],
     f"Moved 'Dentist appointment' to Friday at 3pm. {NO_REMINDERS}"),
    ("can you push the dentist stuff to next monday morning, and set a reminder",
     [find("dentist"), ("update_task", {"number": 2, "due_at": at(6)})],
     f"Moved 'Dentist appointment' to Monday. {NO_REMINDERS}"),
    ("change the dentist appointment to friday afternoon and notify me an hour before",
     [find("dentist appointment"), ("update_task", {"number": 2, "due_at": at(3, 15)})],
     f"Moved 'Dentist appointment' to Friday at 3pm. {NO_REMINDERS}"),
    ("reschedule task 3 to friday 5pm, ping me the day before",
     [("update_task", {"number": 3, "due_at": at(3, 17)})],
     f"Moved 'Pay rent' to Friday at 5pm. {NO_REMINDERS}"),
    ("add dentist friday at 3pm and remind me an hour before",
     [("add_task", {"title": "Dentist", "due_at": at(3, 15)})],
     f"Added 'Dentist' — due Friday at 3pm. {NO_REMINDERS}"),
    ("set a reminder to call mom at 5pm",
     [("add_task", {"title": "Call mom", "due_at": at(0, 17)})],
     f"Added 'Call mom' — due today at 5pm. {NO_REMINDERS}"),
    ("remind me an hour before the dentist", [],
     "I can't set reminders, so nothing will notify you, but I can give a task a due date"),
    ("set a reminder for the dentist appointment", [],
     "I can't set reminders, so nothing will notify you, but I can give a task a due date"),
    ("delete all my tasks", [], "I change one task at a time"),
    ("mark all as done", [], "say “clear completed tasks”"),
    # Talking
    ("hi", [], "Hi! I keep your to-do list."),
    ("help", [], "I can add, list, complete, reschedule, rename and delete your tasks."),
    ("thanks!", [], "You're welcome!"),
    ("what's the weather like?", [],
     "I'm the offline assistant (no API key is configured)"),
]  # fmt: skip


def test_the_table_covers_at_least_forty_phrasings() -> None:
    assert len(PHRASINGS) >= 40
    assert len({phrase for phrase, _, _ in PHRASINGS}) == len(PHRASINGS)


@pytest.mark.parametrize(("message", "calls", "reply"), PHRASINGS, ids=[p[0] for p in PHRASINGS])
async def test_phrasing(run_turn: RunTurn, message: str, calls: list[Call], reply: str) -> None:
    turn = await run_turn(message)
    assert turn.calls == calls
    assert reply in turn.reply


@pytest.mark.parametrize(
    "message", [phrase for phrase, _, reply in PHRASINGS if "I can't set reminders" in reply]
)
async def test_a_reminder_is_declined_once_and_nothing_contradicts_it(
    run_turn: RunTurn, message: str
) -> None:
    turn = await run_turn(message)
    assert turn.reply.count("I can't set reminders") == 1
    assert "couldn't" not in turn.reply and "didn't understand" not in turn.reply


async def test_the_answer_to_which_one_finishes_the_request_and_declines_the_reminder(
    run_turn: RunTurn, store: TaskStore
) -> None:
    asked = "move the dentist visit to friday afternoon and remind me an hour before"
    first = await run_turn(asked)
    assert "which one do you mean?" in first.reply and "reminders" not in first.reply
    history = [{"role": "user", "content": asked}, {"role": "assistant", "content": first.reply}]

    second = await run_turn("task 2", history)

    assert second.calls == [("update_task", {"number": 2, "due_at": at(3, 15)})]
    assert second.reply == f"Moved 'Dentist appointment' to Friday at 3pm. {NO_REMINDERS}"
    assert store.get(2)["due_at"] == at(3, 15)


async def test_answer_to_which_one_picks_the_offered_task(
    run_turn: RunTurn, store: TaskStore
) -> None:
    first = await run_turn("mark buy as done")
    history = [
        {"role": "user", "content": "mark buy as done"},
        {"role": "assistant", "content": first.reply},
    ]

    second = await run_turn("the second one", history)

    assert second.calls == [("complete_task", {"number": 5})]
    assert second.reply == "Marked 'Buy bread' as done."
    assert store.get(5)["completed"] and not store.get(1)["completed"]


async def test_answer_by_number_to_which_one(run_turn: RunTurn) -> None:
    first = await run_turn("remove buy")
    history = [
        {"role": "user", "content": "remove buy"},
        {"role": "assistant", "content": [{"type": "output_text", "text": first.reply}]},
    ]

    second = await run_turn("#1", history)

    assert second.calls == [("delete_task", {"number": 1})]
    assert second.reply == "Deleted 'Buy milk'."


async def test_a_bare_number_without_a_question_is_not_understood(run_turn: RunTurn) -> None:
    turn = await run_turn("3")
    assert turn.calls == []
    assert "offline assistant" in turn.reply


async def test_added_task_lands_in_the_store_with_every_field(
    run_turn: RunTurn, store: TaskStore
) -> None:
    await run_turn("add buy milk tomorrow, high priority #home")
    added = store.tasks[-1]
    assert (added["title"], added["priority"], added["tags"], added["due_at"]) == (
        "Buy milk", "high", ["home"], at(1),
    )  # fmt: skip


async def test_listing_many_tasks_is_capped(run_turn: RunTurn, store: TaskStore) -> None:
    for n in range(30):
        store.add(f"Chore {n}")
    turn = await run_turn("what's left")
    assert "Here are your pending tasks (34):" in turn.reply
    assert turn.reply.count("\n- ") == 25
    assert turn.reply.endswith("…and 9 more.")


async def test_without_its_tools_it_says_so_instead_of_calling_them() -> None:
    agent = build_agent(model=build_model(ModelSettings(), clock=fixed_clock), tools=[])
    result = await Runner.run(agent, "add buy milk")
    assert result.final_output == TOOLS_UNAVAILABLE
    assert not [item for item in result.new_items if item.type == "tool_call_item"]
