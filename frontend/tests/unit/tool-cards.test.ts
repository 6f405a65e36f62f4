import { describe, expect, it } from "vitest";

import { describeToolCall, unwrapToolResult } from "@/lib/tool-cards";

const now = new Date(2026, 2, 10, 15, 30);
const tomorrow = new Date(2026, 2, 11).toISOString();

describe("describeToolCall", () => {
  it("summarizes an added task with its due date and priority", () => {
    const card = describeToolCall(
      "add_task",
      { title: "Buy milk", due_at: tomorrow, priority: "high" },
      { task_id: 7, status: "created", title: "Buy milk", due_at: tomorrow, priority: "high" },
      "done",
      now,
    );
    expect(card).toEqual({ tone: "success", text: "Added 'Buy milk' — due tomorrow, high" });
  });

  it("reads MCP call results and FastMCP's wrapped values", () => {
    const mcp = { content: [{ type: "text", text: JSON.stringify({ task_id: 3, status: "completed", title: "Pay rent" }) }] };
    expect(describeToolCall("complete_task", { task_id: 3 }, mcp, "done", now).text).toBe("Completed 'Pay rent'");
    const wrapped = { structuredContent: { result: [{ id: 1 }, { id: 2 }] } };
    expect(describeToolCall("list_tasks", {}, wrapped, "done", now)).toEqual({ tone: "info", text: "Found 2 tasks" });
  });

  it("tells a reopened task from a completed one and names deleted tasks", () => {
    expect(describeToolCall("complete_task", { task_id: 3 }, '{"task_id":3,"status":"pending","title":"Pay rent"}', "done", now).text).toBe("Reopened 'Pay rent'");
    expect(describeToolCall("delete_task", { task_id: 9 }, { task_id: 9, status: "deleted", title: "Old" }, "done", now).text).toBe("Deleted 'Old'");
    expect(describeToolCall("delete_task", { task_id: 9 }, { task_id: 9, status: "deleted" }, "done", now).text).toBe("Deleted task 9");
    // Tools take the user's number: a result without a title names the task by it, not the id.
    expect(describeToolCall("delete_task", { number: 3 }, { task_id: 41, number: 3, status: "deleted" }, "done", now).text).toBe("Deleted task #3");
  });

  it("describes updates by what changed", () => {
    const card = describeToolCall("update_task", { task_id: 2, priority: "low", tags: ["home"] }, { task_id: 2, status: "updated", title: "Laundry" }, "done", now);
    expect(card.text).toBe("Updated 'Laundry' — low, #home");
  });

  it("shows failures and calls still running", () => {
    expect(describeToolCall("delete_task", { task_id: 99 }, { error: "Task 99 not found" }, "done", now)).toEqual({
      tone: "error",
      text: "Couldn't delete the task: Task 99 not found",
    });
    expect(describeToolCall("complete_task", { task_id: 99 }, "Error calling tool 'complete_task': Task 99 not found", "done", now)).toEqual({
      tone: "error",
      text: "Couldn't complete the task: Task 99 not found",
    });
    expect(describeToolCall("add_task", { title: "Buy milk" }, undefined, "pending", now)).toEqual({ tone: "pending", text: "Adding 'Buy milk'…" });
    expect(describeToolCall("add_task", { title: "x" }, "boom", "error", now).tone).toBe("error");
  });
});

describe("unwrapToolResult", () => {
  it("parses JSON text and leaves other text as it is", () => {
    expect(unwrapToolResult('{"task_id":1}')).toEqual({ task_id: 1 });
    expect(unwrapToolResult("Task 9 not found")).toBe("Task 9 not found");
  });
});
