"use client";

import { useState } from "react";

import { formatDue, isOverdue } from "@/lib/format";
import type { Task, TaskInput } from "@/lib/types";

import { TaskEditor } from "./task-editor";

const PRIORITY_STYLE: Record<Task["priority"], string> = {
  high: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
  medium: "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300",
  low: "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
};

export function TaskItem({
  task,
  onToggle,
  onSave,
  onDelete,
}: {
  task: Task;
  onToggle: (task: Task) => void;
  onSave: (task: Task, input: TaskInput) => void;
  onDelete: (task: Task) => void;
}) {
  const [editing, setEditing] = useState(false);
  const saving = task.id < 0;
  const overdue = isOverdue(task.due_at, task.completed);

  if (editing) {
    return (
      <li className="rounded-lg border border-brand-500 bg-white p-3 dark:bg-slate-900" data-testid="task-item-editing">
        <TaskEditor
          task={task}
          submitLabel="Save"
          testId="task-edit-form"
          onCancel={() => setEditing(false)}
          onSubmit={(input) => {
            setEditing(false);
            onSave(task, input);
          }}
        />
      </li>
    );
  }

  return (
    <li
      className="group flex items-start gap-3 rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900"
      data-testid="task-item"
      data-task-id={task.id}
      data-completed={task.completed}
      aria-busy={saving || undefined}
    >
      <input
        type="checkbox"
        checked={task.completed}
        onChange={() => onToggle(task)}
        disabled={saving}
        className="mt-1 size-4 shrink-0 accent-brand-600"
        aria-label={`Mark '${task.title}' as ${task.completed ? "not done" : "done"}`}
        data-testid="task-toggle"
      />
      <div className="min-w-0 flex-1">
        <p className="break-words font-medium">
          {task.number > 0 ? (
            // The number chat understands ("delete task 3"): the user's own, never reused.
            <span className="mr-1.5 font-normal tabular-nums text-slate-400" data-testid="task-number">
              #{task.number}
            </span>
          ) : null}
          <span className={task.completed ? "text-slate-400 line-through" : ""} data-testid="task-title">
            {task.title}
          </span>
        </p>
        {task.description ? <p className="mt-0.5 break-words text-sm text-slate-600 dark:text-slate-400">{task.description}</p> : null}
        <div className="mt-1.5 flex flex-wrap items-center gap-1.5 text-xs">
          <span className={`rounded px-1.5 py-0.5 font-medium ${PRIORITY_STYLE[task.priority]}`} data-testid="task-priority">
            {task.priority}
          </span>
          {task.due_at ? (
            <span
              className={`rounded px-1.5 py-0.5 ${overdue ? "bg-red-600 text-white" : "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300"}`}
              title={new Date(task.due_at).toLocaleString()}
              data-testid="task-due"
            >
              {overdue ? "overdue · " : "due "}
              {formatDue(task.due_at)}
            </span>
          ) : null}
          {task.recurrence !== "none" ? (
            <span className="rounded bg-violet-100 px-1.5 py-0.5 text-violet-800 dark:bg-violet-950 dark:text-violet-300" data-testid="task-recurrence">
              ↻ {task.recurrence}
            </span>
          ) : null}
          {task.tags.map((tag) => (
            <span key={tag} className="rounded bg-slate-100 px-1.5 py-0.5 text-slate-700 dark:bg-slate-800 dark:text-slate-300" data-testid="task-tag">
              #{tag}
            </span>
          ))}
        </div>
      </div>
      <div className="flex shrink-0 gap-1">
        <RowAction label="Edit" task={task} disabled={saving} onClick={() => setEditing(true)} testId="task-edit"
          className="text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800" />
        <RowAction label="Delete" task={task} disabled={saving} onClick={() => onDelete(task)} testId="task-delete"
          className="text-red-600 hover:bg-red-50 dark:hover:bg-red-950" />
      </div>
    </li>
  );
}

/** A small text button acting on one task row; its accessible name says which task. */
function RowAction(props: {
  label: string;
  task: Task;
  disabled: boolean;
  onClick: () => void;
  testId: string;
  className: string;
}) {
  return (
    <button
      type="button"
      onClick={props.onClick}
      disabled={props.disabled}
      className={`rounded px-2 py-1 text-sm disabled:opacity-40 ${props.className}`}
      aria-label={`${props.label} '${props.task.title}'`}
      data-testid={props.testId}
    >
      {props.label}
    </button>
  );
}
