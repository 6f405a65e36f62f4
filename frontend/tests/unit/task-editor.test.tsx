// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { TaskEditor } from "@/components/tasks/task-editor";
import type { Task } from "@/lib/types";

afterEach(cleanup);

describe("TaskEditor", () => {
  it("refuses an empty title with an accessible message and sends nothing", async () => {
    const onSubmit = vi.fn();
    render(<TaskEditor submitLabel="Add" onSubmit={onSubmit} testId="add" />);
    await userEvent.type(screen.getByLabelText("Title"), "   ");
    await userEvent.click(screen.getByRole("button", { name: "Add" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByRole("alert").textContent).toBe("Give the task a title.");
    expect(screen.getByLabelText("Title").getAttribute("aria-invalid")).toBe("true");
  });

  it("drops the empty-title message once there is a title or the user moves on", async () => {
    render(
      <>
        <TaskEditor submitLabel="Add" onSubmit={() => undefined} testId="add" />
        <button type="button">elsewhere</button>
      </>,
    );
    await userEvent.click(screen.getByRole("button", { name: "Add" }));
    expect(screen.getByRole("alert").textContent).toBe("Give the task a title.");
    await userEvent.type(screen.getByLabelText("Title"), "M");
    expect(screen.queryByRole("alert")).toBeNull();

    await userEvent.clear(screen.getByLabelText("Title"));
    await userEvent.click(screen.getByRole("button", { name: "Add" }));
    expect(screen.getByRole("alert")).not.toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "elsewhere" }));
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("builds the API input from the form: tags parsed, local due time as ISO, then clears", async () => {
    const onSubmit = vi.fn();
    render(<TaskEditor submitLabel="Add" onSubmit={onSubmit} testId="add" />);
    await userEvent.type(screen.getByLabelText("Title"), "  Pay rent ");
    await userEvent.click(screen.getByRole("button", { name: /Priority, due date/ }));
    await userEvent.selectOptions(screen.getByLabelText("Priority"), "high");
    await userEvent.type(screen.getByLabelText("Tags (comma-separated)"), "#Home, bills");
    await userEvent.type(screen.getByLabelText("Due"), "2030-01-15T09:30");
    await userEvent.selectOptions(screen.getByLabelText("Repeats"), "monthly");
    await userEvent.click(screen.getByRole("button", { name: "Add" }));
    expect(onSubmit).toHaveBeenCalledWith({
      title: "Pay rent",
      description: null,
      priority: "high",
      tags: ["home", "bills"],
      due_at: new Date(2030, 0, 15, 9, 30).toISOString(),
      recurrence: "monthly",
    });
    expect((screen.getByLabelText("Title") as HTMLInputElement).value).toBe("");
  });

  it("starts from the task when editing and can clear its due date", async () => {
    const task: Task = {
      id: 4,
      number: 2,
      user_id: "u",
      title: "Laundry",
      description: "whites",
      completed: false,
      priority: "low",
      tags: ["home"],
      due_at: new Date(2030, 0, 15, 9, 30).toISOString(),
      recurrence: "weekly",
      created_at: "",
      updated_at: "",
    };
    const onSubmit = vi.fn();
    render(<TaskEditor task={task} submitLabel="Save" onSubmit={onSubmit} onCancel={() => undefined} testId="edit" />);
    expect((screen.getByLabelText("Due") as HTMLInputElement).value).toBe("2030-01-15T09:30");
    await userEvent.clear(screen.getByLabelText("Due"));
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(onSubmit).toHaveBeenCalledWith(expect.objectContaining({ title: "Laundry", description: "whites", tags: ["home"], due_at: null, recurrence: "weekly" }));
  });
});

describe("TaskEditor keyboard", () => {
  it("Escape cancels an edit", async () => {
    const onCancel = vi.fn();
    const task: Task = { id: 1, number: 1, user_id: "u", title: "Laundry", description: null, completed: false, priority: "low", tags: [], due_at: null, recurrence: "none", created_at: "", updated_at: "" };
    render(<TaskEditor task={task} submitLabel="Save" onSubmit={vi.fn()} onCancel={onCancel} testId="edit" />);
    await userEvent.type(screen.getByLabelText("Title"), "{Escape}");
    expect(onCancel).toHaveBeenCalledOnce();
  });
});
