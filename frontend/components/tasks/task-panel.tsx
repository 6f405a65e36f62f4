"use client";

import { useEffect, useMemo, useState, useSyncExternalStore } from "react";

import { api, BACKEND_PROXY } from "@/lib/api";
import { TaskListModel, type Notice } from "@/lib/task-list";
import { DEFAULT_FILTERS, isFiltered, taskCountLabel, taskQuery, type TaskFilters } from "@/lib/task-filters";

import { TaskEditor } from "./task-editor";
import { TaskFiltersBar } from "./task-filters-bar";
import { TaskItem } from "./task-item";

/** The task list: filters, add form, optimistic edits with rollback, delete with undo. */
export function TaskPanel({ version, onVisibleTasks }: { version: number; onVisibleTasks: (numbers: number[]) => void }) {
  const [filters, setFilters] = useState<TaskFilters>(DEFAULT_FILTERS);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [knownTags, setKnownTags] = useState<string[]>([]);
  const model = useMemo(() => new TaskListModel(api, setNotice), []);
  const { tasks, truncated, load, loaded, pendingDelete } = useSyncExternalStore(model.subscribe, model.getView, model.getView);

  // Refetch when filters change (search debounced) or when the chat changed tasks.
  useEffect(() => {
    const timer = setTimeout(() => void model.setQuery(taskQuery(filters)), filters.q ? 250 : 0);
    return () => clearTimeout(timer);
  }, [filters, version, model]);

  useEffect(() => {
    onVisibleTasks(tasks.map((t) => t.number));
  }, [tasks, onVisibleTasks]);

  useEffect(() => {
    setKnownTags((known) => {
      const all = [...new Set([...known, ...tasks.flatMap((t) => t.tags)])].sort();
      return all.length === known.length ? known : all;
    });
  }, [tasks]);

  // Confirmations fade on their own; errors stay until dismissed.
  useEffect(() => {
    if (notice?.tone !== "info") return;
    const timer = setTimeout(() => setNotice(null), 4000);
    return () => clearTimeout(timer);
  }, [notice]);

  // Leaving the page inside the undo window still deletes the task.
  useEffect(() => {
    if (!pendingDelete) return;
    const flush = () => void fetch(`${BACKEND_PROXY}/tasks/${pendingDelete.id}`, { method: "DELETE", keepalive: true });
    window.addEventListener("pagehide", flush);
    return () => window.removeEventListener("pagehide", flush);
  }, [pendingDelete]);

  return (
    <div className="space-y-4 rounded-xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900" data-testid="task-panel">
      <div className="flex items-baseline justify-between">
        <h1 className="text-lg font-semibold">Tasks</h1>
        {load.state === "ready" ? (
          <p className="text-sm text-slate-500" data-testid="task-count">
            {taskCountLabel(tasks, filters)}
            {truncated ? " (first 100: narrow the filters)" : ""}
          </p>
        ) : null}
      </div>
      <TaskEditor submitLabel="Add" onSubmit={(input) => void model.add(input)} testId="task-add-form" />
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
            <span className="min-w-0 [overflow-wrap:anywhere]">{notice.text}</span>
            <button type="button" onClick={() => setNotice(null)} className="text-xs underline" aria-label="Dismiss message">
              Dismiss
            </button>
          </div>
        ) : null}
      </div>

      {load.state === "loading" && !loaded ? (
        <ul className="space-y-2" aria-label="Loading tasks" aria-busy="true" data-testid="task-loading">
          {[0, 1, 2].map((i) => (
            <li key={i} className="h-14 animate-pulse rounded-lg bg-slate-100 dark:bg-slate-800" />
          ))}
        </ul>
      ) : load.state === "error" ? (
        <div role="alert" className="rounded-lg border border-red-200 p-4 text-sm dark:border-red-900" data-testid="task-load-error">
          <p className="font-medium text-red-700 dark:text-red-300">Couldn&apos;t load your tasks.</p>
          <p className="mt-1 text-slate-600 dark:text-slate-400">{load.message}</p>
          <button type="button" onClick={() => void model.refresh()} className="mt-2 rounded-md bg-red-600 px-3 py-1 text-white" data-testid="task-retry">
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
            <TaskItem key={task.id} task={task} onToggle={(t) => void model.toggle(t)} onSave={(t, input) => void model.save(t, input)} onDelete={(t) => model.remove(t)} />
          ))}
        </ul>
      )}

      {pendingDelete ? (
        <div role="status" className="fixed inset-x-4 bottom-4 z-30 mx-auto flex max-w-md items-center justify-between gap-3 rounded-lg bg-slate-900 px-4 py-3 text-sm text-white shadow-lg dark:bg-slate-700" data-testid="undo-toast">
          <span className="truncate">Deleted &lsquo;{pendingDelete.title}&rsquo;</span>
          <button type="button" onClick={() => model.undoDelete()} className="font-semibold text-brand-100 underline" data-testid="undo-delete">
            Undo
          </button>
        </div>
      ) : null}
    </div>
  );
}
