import { describe, expect, it } from "vitest";

import { insertTask, removeTask, replaceTask, tempId } from "@/lib/task-list-state";
import type { Task } from "@/lib/types";

const task = (id: number, title = `task ${id}`): Task => ({
  id,
  user_id: "u1",
  title,
  description: null,
  completed: false,
  priority: "medium",
  tags: [],
  due_at: null,
  recurrence: "none",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
});

describe("optimistic task list changes", () => {
  it("rolls back a failed toggle without losing a change made meanwhile", () => {
    const list = [task(1), task(2)];
    const toggle = replaceTask(list, 1, { ...task(1), completed: true });
    expect(toggle.tasks[0]!.completed).toBe(true);
    // Another edit lands while the toggle is in flight…
    const meanwhile = replaceTask(toggle.tasks, 2, task(2, "renamed")).tasks;
    // …then the toggle fails: only task 1 goes back.
    const rolledBack = toggle.undo(meanwhile);
    expect(rolledBack.map((t) => [t.title, t.completed])).toEqual([
      ["task 1", false],
      ["renamed", false],
    ]);
  });

  it("puts a deleted task back where it was, once", () => {
    const list = [task(1), task(2), task(3)];
    const removal = removeTask(list, 2);
    expect(removal.tasks.map((t) => t.id)).toEqual([1, 3]);
    const restored = removal.undo(removal.tasks);
    expect(restored.map((t) => t.id)).toEqual([1, 2, 3]);
    expect(removal.undo(restored).map((t) => t.id)).toEqual([1, 2, 3]);
  });

  it("removes an optimistic insert on failure and uses unique negative temporary ids", () => {
    const a = tempId();
    const b = tempId();
    expect(a).toBeLessThan(0);
    expect(b).not.toBe(a);
    const insert = insertTask([task(1)], task(a, "draft"));
    expect(insert.tasks.map((t) => t.id)).toEqual([a, 1]);
    expect(insert.undo(insert.tasks).map((t) => t.id)).toEqual([1]);
  });
});
