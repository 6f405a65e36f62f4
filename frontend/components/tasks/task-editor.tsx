"use client";

import { useId, useState, type FormEvent } from "react";

import { fromLocalInput, toLocalInput } from "@/lib/format";
import { parseTags } from "@/lib/task-filters";
import { PRIORITIES, RECURRENCES, type Priority, type Recurrence, type Task, type TaskInput } from "@/lib/types";

export const fieldClass =
  "block w-full rounded-md border border-slate-300 bg-white px-2.5 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900";

/** The full set of task fields, for adding (with details open) and for editing. */
export function TaskEditor({
  task,
  submitLabel,
  onSubmit,
  onCancel,
  testId,
}: {
  task?: Task;
  submitLabel: string;
  onSubmit: (input: TaskInput) => void;
  onCancel?: () => void;
  testId: string;
}) {
  const id = useId();
  const [title, setTitle] = useState(task?.title ?? "");
  const [description, setDescription] = useState(task?.description ?? "");
  const [priority, setPriority] = useState<Priority>(task?.priority ?? "medium");
  const [tags, setTags] = useState(task?.tags.join(", ") ?? "");
  const [due, setDue] = useState(toLocalInput(task?.due_at ?? null));
  const [recurrence, setRecurrence] = useState<Recurrence>(task?.recurrence ?? "none");
  const [showDetails, setShowDetails] = useState(Boolean(task));
  const [error, setError] = useState<string | null>(null);

  function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = title.trim();
    if (!trimmed) return setError("Give the task a title.");
    setError(null);
    onSubmit({
      title: trimmed,
      description: description.trim() || null,
      priority,
      tags: parseTags(tags),
      due_at: fromLocalInput(due),
      recurrence,
    });
    if (!task) {
      setTitle("");
      setDescription("");
      setTags("");
      setDue("");
      setRecurrence("none");
      setPriority("medium");
    }
  }

  return (
    <form
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === "Escape" && onCancel) onCancel();
      }}
      // Once the user has moved on to something else, the complaint about this form is stale.
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget)) setError(null);
      }}
      className="space-y-2"
      data-testid={testId}
      aria-label={task ? `Edit ${task.title}` : "Add a task"}
    >
      <div className="flex gap-2">
        <label htmlFor={`${id}-title`} className="sr-only">Title</label>
        <input
          id={`${id}-title`}
          value={title}
          onChange={(e) => {
            setTitle(e.target.value);
            if (e.target.value.trim()) setError(null);
          }}
          placeholder={task ? "Title" : "Add a task…"}
          className={fieldClass}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          autoFocus={Boolean(task)}
          maxLength={200}
          data-testid="task-title-input"
        />
        <button type="submit" className="shrink-0 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-brand-700" data-testid="task-submit">
          {submitLabel}
        </button>
      </div>
      {error ? (
        <p id={`${id}-error`} className="text-sm text-red-600" role="alert">
          {error}
        </p>
      ) : null}
      {!task ? (
        <button
          type="button"
          className="text-xs font-medium text-brand-600 hover:underline"
          aria-expanded={showDetails}
          aria-controls={`${id}-details`}
          onClick={() => setShowDetails((v) => !v)}
          data-testid="task-details-toggle"
        >
          {showDetails ? "Hide details" : "Priority, due date, tags…"}
        </button>
      ) : null}
      {showDetails ? (
        <div id={`${id}-details`} className="grid grid-cols-1 gap-2 sm:grid-cols-2">
          <div className="sm:col-span-2">
            <label htmlFor={`${id}-description`} className="text-xs font-medium text-slate-600 dark:text-slate-400">Description</label>
            <textarea id={`${id}-description`} value={description} onChange={(e) => setDescription(e.target.value)} rows={2} className={fieldClass} data-testid="task-description-input" />
          </div>
          <div>
            <label htmlFor={`${id}-priority`} className="text-xs font-medium text-slate-600 dark:text-slate-400">Priority</label>
            <select id={`${id}-priority`} value={priority} onChange={(e) => setPriority(e.target.value as Priority)} className={fieldClass} data-testid="task-priority-input">
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>{p[0]!.toUpperCase() + p.slice(1)}</option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor={`${id}-due`} className="text-xs font-medium text-slate-600 dark:text-slate-400">Due</label>
            <input id={`${id}-due`} type="datetime-local" value={due} onChange={(e) => setDue(e.target.value)} className={fieldClass} data-testid="task-due-input" />
          </div>
          <div>
            <label htmlFor={`${id}-tags`} className="text-xs font-medium text-slate-600 dark:text-slate-400">Tags (comma-separated)</label>
            <input id={`${id}-tags`} value={tags} onChange={(e) => setTags(e.target.value)} placeholder="home, errands" className={fieldClass} data-testid="task-tags-input" />
          </div>
          <div>
            <label htmlFor={`${id}-recurrence`} className="text-xs font-medium text-slate-600 dark:text-slate-400">Repeats</label>
            <select id={`${id}-recurrence`} value={recurrence} onChange={(e) => setRecurrence(e.target.value as Recurrence)} className={fieldClass} data-testid="task-recurrence-input">
              {RECURRENCES.map((r) => (
                <option key={r} value={r}>{r === "none" ? "Never" : r[0]!.toUpperCase() + r.slice(1)}</option>
              ))}
            </select>
          </div>
        </div>
      ) : null}
      {onCancel ? (
        <button type="button" onClick={onCancel} className="text-sm text-slate-600 hover:underline dark:text-slate-400" data-testid="task-cancel">
          Cancel
        </button>
      ) : null}
    </form>
  );
}
