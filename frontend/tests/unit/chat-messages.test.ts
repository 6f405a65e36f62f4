import { describe, expect, it } from "vitest";

import { cardTools, chatErrorMessage, chatRequestBody, lastUserText, MAX_VISIBLE_TASKS, messageChangedTasks, sortConversations, toolPart, toUIMessages, type ChatMessage } from "@/lib/chat-messages";

describe("stored conversation history", () => {
  const stored = toUIMessages([
    { id: 1, role: "user", content: "add buy milk", tool_calls: null, created_at: "2026-03-10T10:00:00Z" },
    {
      id: 2,
      role: "assistant",
      content: "Added it.",
      tool_calls: [{ name: "add_task", arguments: { title: "Buy milk" }, result: { task_id: 1, status: "created", title: "Buy milk" } }],
      created_at: "2026-03-10T10:00:01Z",
    },
    { id: 3, role: "tool", content: "{}", tool_calls: null, created_at: "2026-03-10T10:00:02Z" },
  ]);

  it("becomes user and assistant messages with tool calls as finished tool parts", () => {
    expect(stored.map((m) => m.role)).toEqual(["user", "assistant"]);
    const tool = toolPart(stored[1]!.parts[0]!);
    expect(tool).toMatchObject({ name: "add_task", state: "done", input: { title: "Buy milk" } });
    expect(stored[1]!.parts[1]).toEqual({ type: "text", text: "Added it." });
  });

  it("marks replies that changed tasks, but not ones that only listed them", () => {
    expect(messageChangedTasks(stored[1]!)).toBe(true);
    const listing: ChatMessage = {
      id: "x",
      role: "assistant",
      parts: [{ type: "tool-list_tasks", toolCallId: "c1", state: "output-available", input: {}, output: [] }],
    };
    expect(toolPart(listing.parts[0]!)?.name).toBe("list_tasks");
    expect(messageChangedTasks(listing)).toBe(false);
  });
});

describe("chat helpers", () => {
  it("sends the newest user text only", () => {
    const messages: ChatMessage[] = [
      { id: "1", role: "user", parts: [{ type: "text", text: "first" }] },
      { id: "2", role: "assistant", parts: [{ type: "text", text: "ok" }] },
      { id: "3", role: "user", parts: [{ type: "text", text: "mark pay rent " }, { type: "text", text: "as done" }] },
    ];
    expect(lastUserText(messages)).toBe("mark pay rent as done");
    expect(lastUserText([])).toBe("");
  });

  it("orders conversations by latest activity", () => {
    const c = (id: number, updated_at: string) => ({ id, title: null, created_at: updated_at, updated_at });
    expect(sortConversations([c(1, "2026-03-10T10:00:00Z"), c(2, "2026-03-11T09:00:00Z"), c(3, "2026-03-10T12:00:00Z")]).map((x) => x.id)).toEqual([2, 3, 1]);
  });

  it("shows the backend's detail for a failed chat request", () => {
    expect(chatErrorMessage(new Error('{"detail":"Conversation 5 not found"}'))).toBe("Conversation 5 not found");
    expect(chatErrorMessage(new Error("Failed to fetch"))).toBe("Failed to fetch");
  });
});

describe("chatRequestBody", () => {
  const user = (text: string): ChatMessage => ({ id: text, role: "user", parts: [{ type: "text", text }] });

  it("sends the new text, the conversation and the task numbers the list shows, in order", () => {
    expect(chatRequestBody([user("hi"), user("delete the first task")], 7, [5, 2, 9])).toEqual({
      message: "delete the first task",
      conversation_id: 7,
      visible_tasks: [5, 2, 9],
    });
    expect(chatRequestBody([user("hi")], null, [])).toEqual({ message: "hi", visible_tasks: [] });
  });

  it("leaves out unsaved drafts and stays within the backend's 500", () => {
    const many = Array.from({ length: 600 }, (_, i) => i + 1);
    expect(chatRequestBody([user("x")], null, [0, ...many]).visible_tasks).toEqual(many.slice(0, MAX_VISIBLE_TASKS));
  });
});

describe("cardTools", () => {
  const call = (id: string, name: string, output: unknown) => ({ type: `tool-${name}` as const, toolCallId: id, state: "output-available" as const, input: {}, output });
  const reply = (...parts: ChatMessage["parts"]): ChatMessage => ({ id: "r", role: "assistant", parts });

  it("shows an action's card, not the lookups that found its task", () => {
    const moved = reply(call("a", "list_tasks", []), call("b", "list_tasks", [{ id: 1 }]), call("c", "update_task", { title: "Dentist" }), { type: "text", text: "Moved 'Dentist'." });
    expect(cardTools(moved).map((t) => t.toolCallId)).toEqual(["c"]);
  });

  it("shows the last lookup when the reply asks which task, and a listing that answers", () => {
    expect(cardTools(reply(call("a", "list_tasks", []), call("b", "list_tasks", [{ id: 1 }, { id: 2 }]))).map((t) => t.toolCallId)).toEqual(["b"]);
    expect(cardTools(reply(call("a", "list_tasks", [{ id: 1 }]), { type: "text", text: "1 task" })).map((t) => t.name)).toEqual(["list_tasks"]);
    expect(cardTools(reply({ type: "text", text: "Hi" }))).toEqual([]);
  });

  it("keeps every change of a turn that made several", () => {
    const cleared = reply(call("l", "list_tasks", [{ id: 1 }, { id: 2 }]), call("d1", "delete_task", {}), call("d2", "delete_task", {}));
    expect(cardTools(cleared).map((t) => t.toolCallId)).toEqual(["d1", "d2"]);
  });
});
