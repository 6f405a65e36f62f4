"use client";

import { useId } from "react";

import { DEFAULT_FILTERS, DEFAULT_ORDER, isFiltered, type DueFilter, type SortKey, type StatusFilter, type TaskFilters } from "@/lib/task-filters";
import { PRIORITIES, type Priority } from "@/lib/types";

import { fieldClass } from "./task-editor";

export function TaskFiltersBar({
  filters,
  onChange,
  knownTags,
}: {
  filters: TaskFilters;
  onChange: (filters: TaskFilters) => void;
  knownTags: string[];
}) {
  const id = useId();
  const set = <K extends keyof TaskFilters>(key: K, value: TaskFilters[K]) => onChange({ ...filters, [key]: value });
  const label = "text-xs font-medium text-slate-600 dark:text-slate-400";

  return (
    <div className="space-y-2" role="search" aria-label="Filter tasks">
      <div>
        <label htmlFor={`${id}-q`} className="sr-only">Search tasks</label>
        <input
          id={`${id}-q`}
          type="search"
          value={filters.q}
          onChange={(e) => set("q", e.target.value)}
          placeholder="Search tasks…"
          className={fieldClass}
          data-testid="task-search"
        />
      </div>
      <div className="grid grid-cols-2 gap-2 sm:grid-cols-3">
        <div>
          <label htmlFor={`${id}-status`} className={label}>Status</label>
          <select id={`${id}-status`} value={filters.status} onChange={(e) => set("status", e.target.value as StatusFilter)} className={fieldClass} data-testid="filter-status">
            <option value="all">All</option>
            <option value="pending">To do</option>
            <option value="completed">Done</option>
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-priority`} className={label}>Priority</label>
          <select id={`${id}-priority`} value={filters.priority} onChange={(e) => set("priority", e.target.value as Priority | "any")} className={fieldClass} data-testid="filter-priority">
            <option value="any">Any</option>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>{p[0]!.toUpperCase() + p.slice(1)}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-tag`} className={label}>Tag</label>
          <input id={`${id}-tag`} list={`${id}-tags`} value={filters.tag} onChange={(e) => set("tag", e.target.value)} placeholder="any" className={fieldClass} data-testid="filter-tag" />
          <datalist id={`${id}-tags`}>
            {knownTags.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </div>
        <div>
          <label htmlFor={`${id}-due`} className={label}>Due</label>
          <select id={`${id}-due`} value={filters.due} onChange={(e) => set("due", e.target.value as DueFilter)} className={fieldClass} data-testid="filter-due">
            <option value="any">Any time</option>
            <option value="overdue">Overdue</option>
            <option value="today">Today</option>
            <option value="week">Next 7 days</option>
          </select>
        </div>
        <div className="col-span-2 sm:col-span-1">
          <label htmlFor={`${id}-sort`} className={label}>Sort</label>
          <div className="flex gap-1">
            <select
              id={`${id}-sort`}
              value={filters.sort}
              onChange={(e) => {
                const sort = e.target.value as SortKey;
                onChange({ ...filters, sort, order: DEFAULT_ORDER[sort] });
              }}
              className={fieldClass}
              data-testid="filter-sort"
            >
              <option value="created">Newest</option>
              <option value="due">Due date</option>
              <option value="priority">Priority</option>
              <option value="title">Title</option>
            </select>
            <button
              type="button"
              onClick={() => set("order", filters.order === "asc" ? "desc" : "asc")}
              className="rounded-md border border-slate-300 px-2 text-sm dark:border-slate-700"
              aria-label={`Sort ${filters.order === "asc" ? "ascending" : "descending"}; switch direction`}
              data-testid="filter-order"
            >
              {filters.order === "asc" ? "↑" : "↓"}
            </button>
          </div>
        </div>
      </div>
      {isFiltered(filters) ? (
        <button type="button" onClick={() => onChange({ ...DEFAULT_FILTERS, sort: filters.sort, order: filters.order })} className="text-xs font-medium text-brand-600 hover:underline" data-testid="filter-clear">
          Clear filters
        </button>
      ) : null}
    </div>
  );
}
