"""The offline assistant: a deterministic Agents SDK model used when no API key is configured.

It runs in the real agent loop and calls the same MCP tools a real model would. It understands:
- adding: "add buy milk tomorrow, high priority #home", "remind me to call mom next friday at
  5pm", "I need to pay rent on dec 1", "every weekday standup" (recurrence);
- listing: "what's left?", "show completed tasks", "list high priority tasks", "what's due this
  week", "what's overdue?", "show tasks tagged #home", "find milk";
- changing one task, named by number ("task 3") or by words of its title ("the dentist task"):
  "mark buy milk as done", "complete task 3", "delete task 3", "remove the dentist task",
  "rename the dentist task to dentist at 4pm", "change priority of task 2 to low", "move buy
  milk to next monday", "remove the due date from task 1", "make task 5 repeat weekly",
  "reopen call mom", "add a note to buy milk: oat milk", "tag buy milk with #errands",
  "untag task 1 #home"; and "clear completed tasks";
- "hi", "help", "thanks". Anything else gets an explanation and example phrasings.
A task named by words ("the dentist thing": "thing", "stuff" and "task" are dropped) is looked up
with list_tasks first; several matches, or only some of the words matching, get a "which one?"
question that "the second one" or "task 12" answers in the next message.
No tool sets reminders: "… and remind me an hour before" does the rest of the request and the reply
says so once; a request that is only a reminder gets that sentence alone.
"""

from .dates import Clock, utc_now
from .model import MODEL_NAME, OfflineAssistantModel

__all__ = ["MODEL_NAME", "Clock", "OfflineAssistantModel", "utc_now"]
