"use client";

import { useCallback, useEffect, useRef, useState } from "react";

import { api, ApiError, BACKEND_PROXY } from "@/lib/api";
import { DEFAULT_FILTERS, isFiltered, taskQuery, type TaskFilters } from "@/lib/task-filters";
import { insertTask, removeTask, replaceTask, tempId, type Change } from "@/lib/task-list-state";
import type { Task, TaskInput } from "@/lib/types";

import { TaskEditor } from "./task-editor";
import { TaskFiltersBar } from "./task-filters-bar";
import { TaskItem } from "./task-item";

const UNDO_MS = 5000;
type Load = { state: "loading" } | { state: "error"; message: string } | { state: "ready" };
interface PendingDelete {
  task: Task;
  change: Change;
  timer: ReturnType<typeof setTimeout>;
}

/** The task list: filters, add form, optimistic edits with rollback, delete with undo. */
export function TaskPanel({ version }: { version: number }) {
  const [filters, setFilters] = useState<TaskFilters>(DEFAULT_FILTERS);
  const [tasks, setTasks] = useState<Task[]>([]);
  /** The backend had more matches than one page: say so rather than pretend the list is whole. */
  const [truncated, setTruncated] = useState(false);
  const [load, setLoad] = useState<Load>({ state: "loading" });
  const [notice, setNotice] = useState<{ tone: "error" | "info"; text: string } | null>(null);
  const [pendingDelete, setPendingDelete] = useState<PendingDelete | null>(null);
  const [knownTags, setKnownTags] = useState<string[]>([]);
  const requestSeq = useRef(0);
  const fetching = useRef(false);
  const hasLoaded = useRef(false);

  const fetchTasks = useCallback(async (current: TaskFilters, quiet: boolean) => {
    const seq = ++requestSeq.current;
    fetching.current = true;
    if (!quiet) setLoad({ state: "loading" });
    try {
      const list = await api.listTasks(taskQuery(current));
      if (seq !== requestSeq.current) return; // a newer request or a local change superseded it
      fetching.current = false;
      setTasks(list.items);
      setTruncated(list.total > list.items.length);
      setKnownTags((known) => [...new Set([...known, ...list.items.flatMap((t) => t.tags)])].sort());
      setLoad({ state: "ready" });
      hasLoaded.current = true;
    } catch (error) {
      if (seq !== requestSeq.current) return;
      fetching.current = false;
      setLoad({ state: "error", message: error instanceof Error ? error.message : String(error) });
    }
  }, []);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  // Refetch when filters change (search debounced) or when the chat changed tasks (quietly).
  useEffect(() => {
    const timer = setTimeout(() => void fetchTasks(filters, hasLoaded.current), filters.q ? 250 : 0);
    return () => clearTimeout(timer);
  }, [filters, version, fetchTasks]);

  /** Applies a change now and runs `save`; on failure only that change is rolled back. */
  const optimistic = useCallback(
    async (change: Change, save: () => Promise<void>, failure: string) => {
      // A list response already on its way predates this change: drop it and fetch again after.
      const supersedes = fetching.current;
      if (supersedes) requestSeq.current++;
      setTasks(change.tasks);
      try {
        await save();
      } catch (error) {
        setTasks((current) => change.undo(current));
        const reason = error instanceof ApiError ? error.message : "network error";
        setNotice({ tone: "error", text: `${failure}: ${reason}` });
      }
      if (supersedes) void fetchTasks(filtersRef.current, true);
    },
    [fetchTasks],
  );

  function add(input: TaskInput) {
    const now = new Date().toISOString();
    const draft: Task = {
      id: tempId(),
      user_id: "",
      title: input.title,
      description: input.description ?? null,
      completed: false,
      priority: input.priority ?? "medium",
      tags: input.tags ?? [],
      due_at: input.due_at ?? null,
      recurrence: input.recurrence ?? "none",
      created_at: now,
      updated_at: now,
    };
    const change = insertTask(tasks, draft);
    void optimistic(
      change,
      async () => {
        const saved = await api.createTask(input);
        setTasks((current) => current.map((t) => (t.id === draft.id ? saved : t)));
        setNotice({ tone: "info", text: `Added '${saved.title}'.` });
      },
      `Couldn't add '${input.title}'`,
    );
  }

  function toggle(task: Task) {
    const change = replaceTask(tasks, task.id, { ...task, completed: !task.completed });
    void optimistic(
      change,
      async () => {
        const saved = await api.toggleTask(task.id);
        setTasks((current) => current.map((t) => (t.id === task.id ? saved : t)));
        // A recurring task may have spawned its next occurrence: pick it up.
        if (saved.completed && saved.recurrence !== "none") void fetchTasks(filtersRef.current, true);
      },
      `Couldn't update '${task.title}'`,
    );
  }

  function save(task: Task, input: TaskInput) {
    const change = replaceTask(tasks, task.id, { ...task, ...input, description: input.description ?? null, due_at: input.due_at ?? null });
    void optimistic(
      change,
      async () => {
        const saved = await api.updateTask(task.id, input);
        setTasks((current) => current.map((t) => (t.id === task.id ? saved : t)));
      },
      `Couldn't save '${task.title}'`,
    );
  }

  /** Hides the task at once and deletes it for real when the undo window closes. */
  function remove(task: Task) {
    if (pendingDelete) void commitDelete(pendingDelete);
    const change = removeTask(tasks, task.id);
    setTasks(change.tasks);
    const entry: PendingDelete = { task, change, timer: setTimeout(() => void commitDelete(entry), UNDO_MS) };
    setPendingDelete(entry);
  }

  async function commitDelete(entry: PendingDelete) {
    clearTimeout(entry.timer);
    setPendingDelete((current) => (current === entry ? null : current));
    try {
      await api.deleteTask(entry.task.id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return; // already gone (e.g. deleted in chat)
      setTasks((current) => entry.change.undo(current));
      setNotice({ tone: "error", text: `Couldn't delete '${entry.task.title}': ${error instanceof Error ? error.message : "network error"}` });
    }
  }

  function undoDelete() {
    if (!pendingDelete) return;
    clearTimeout(pendingDelete.timer);
    setTasks((current) => pendingDelete.change.undo(current));
    setPendingDelete(null);
  }

  // Confirmations fade on their own; errors stay until dismissed.
  useEffect(() => {
    if (notice?.tone !== "info") return;
    const timer = setTimeout(() => setNotice(null), 4000);
    return () => clearTimeout(timer);
  }, [notice]);

  // Leaving the page inside the undo window still deletes the task.
  useEffect(() => {
    if (!pendingDelete) return;
    const flush = () => void fetch(`${BACKEND_PROXY}/tasks/${pendingDelete.task.id}`, { method: "DELETE", keepalive: true });
    window.addEventListener("pagehide", flush);
    return () => window.removeEventListener("pagehide", flush);
  }, [pendingDelete]);

  const pendingCount = tasks.filter((t) => !t.completed).length;

  return (
    <div className="space-y-4 rounded-xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
      <div className="flex items-baseline justify-between">
        <h1 className="text-lg font-semibold">Tasks</h1>
        {load.state === "ready" ? (
          <p className="text-sm text-slate-500" data-testid="task-count">
            {pendingCount} to do · {tasks.length} shown{truncated ? " (first 100: narrow the filters)" : ""}
          </p>
        ) : null}
      </div>
      <TaskEditor submitLabel="Add" onSubmit={add} testId="task-add-form" />
      <TaskFiltersBar filters={filters} onChange={setFilters} knownTags={knownTags} />

      <div aria-live="polite" className="min-h-0">
        {notice ? (
          <div
            role={notice.tone === "error" ? "alert" : "status"}
            className={`flex items-center justify-between gap-2 rounded-md px-3 py-2 text-sm ${
              notice.tone === "error" ? "bg-red-50 text-red-800 dark:bg-red-950 dark:text-red-200" : "bg-emerald-50 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200"
            }`}
            data-testid={notice.tone === "error" ? "task-error" : "task-notice"}
          >
            <span>{notice.text}</span>
            <button type="button" onClick={() => setNotice(null)} className="text-xs underline" aria-label="Dismiss message">
              Dismiss
            </button>
          </div>
        ) : null}
      </div>

      {load.state === "loading" && !hasLoaded.current ? (
        <ul className="space-y-2" aria-label="Loading tasks" aria-busy="true" data-testid="task-loading">
          {[0, 1, 2].map((i) => (
            <li key={i} className="h-14 animate-pulse rounded-lg bg-slate-100 dark:bg-slate-800" />
          ))}
        </ul>
      ) : load.state === "error" ? (
        <div role="alert" className="rounded-lg border border-red-200 p-4 text-sm dark:border-red-900" data-testid="task-load-error">
          <p className="font-medium text-red-700 dark:text-red-300">Couldn&apos;t load your tasks.</p>
          <p className="mt-1 text-slate-600 dark:text-slate-400">{load.message}</p>
          <button type="button" onClick={() => void fetchTasks(filters, false)} className="mt-2 rounded-md bg-red-600 px-3 py-1 text-white" data-testid="task-retry">
            Retry
          </button>
        </div>
      ) : tasks.length === 0 ? (
        <div className="rounded-lg border border-dashed border-slate-300 p-8 text-center text-sm text-slate-500 dark:border-slate-700" data-testid="task-empty">
          {isFiltered(filters) ? "No tasks match these filters." : "No tasks yet. Add one above, or ask the assistant: “add buy milk tomorrow”."}
        </div>
      ) : (
        <ul className="space-y-2" aria-label="Task list" data-testid="task-list">
          {tasks.map((task) => (
            <TaskItem key={task.id} task={task} onToggle={toggle} onSave={save} onDelete={remove} />
          ))}
        </ul>
      )}

      {pendingDelete ? (
        <div role="status" className="fixed inset-x-4 bottom-4 z-30 mx-auto flex max-w-md items-center justify-between gap-3 rounded-lg bg-slate-900 px-4 py-3 text-sm text-white shadow-lg dark:bg-slate-700" data-testid="undo-toast">
          <span className="truncate">Deleted &lsquo;{pendingDelete.task.title}&rsquo;</span>
          <button type="button" onClick={undoDelete} className="font-semibold text-brand-100 underline" data-testid="undo-delete">
            Undo
          </button>
        </div>
      ) : null}
    </div>
  );
}
