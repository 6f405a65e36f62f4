import type { Priority } from "./types";

export type StatusFilter = "all" | "pending" | "completed";
export type DueFilter = "any" | "overdue" | "today" | "week";
export type SortKey = "created" | "due" | "priority" | "title";
export type SortOrder = "asc" | "desc";

export interface TaskFilters {
  q: string;
  status: StatusFilter;
  priority: Priority | "any";
  tag: string;
  due: DueFilter;
  sort: SortKey;
  order: SortOrder;
}

export const DEFAULT_FILTERS: TaskFilters = {
  q: "",
  status: "all",
  priority: "any",
  tag: "",
  due: "any",
  sort: "created",
  order: "desc",
};

/** The natural direction of each sort: newest first, soonest due first, most urgent first, A→Z. */
export const DEFAULT_ORDER: Record<SortKey, SortOrder> = {
  created: "desc",
  due: "asc",
  priority: "desc",
  title: "asc",
};

/** due_after / due_before bounds (ISO 8601) for a due filter, in the user's local day. */
export function dueRange(due: DueFilter, now: Date = new Date()): { after?: string; before?: string } {
  const startOfDay = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const days = (n: number) => new Date(startOfDay.getFullYear(), startOfDay.getMonth(), startOfDay.getDate() + n);
  switch (due) {
    case "overdue":
      return { before: now.toISOString() };
    case "today":
      return { after: startOfDay.toISOString(), before: days(1).toISOString() };
    case "week":
      return { after: startOfDay.toISOString(), before: days(7).toISOString() };
    case "any":
      return {};
  }
}

/** Query string for GET /tasks: only what differs from the backend's defaults is sent. */
export function taskQuery(filters: TaskFilters, now: Date = new Date()): URLSearchParams {
  const query = new URLSearchParams();
  const q = filters.q.trim();
  if (q) query.set("q", q);
  // "Overdue" only makes sense for work not yet done.
  const status = filters.due === "overdue" && filters.status === "all" ? "pending" : filters.status;
  if (status !== "all") query.set("status", status);
  if (filters.priority !== "any") query.set("priority", filters.priority);
  const tag = normalizeTag(filters.tag);
  if (tag) query.set("tag", tag);
  const { after, before } = dueRange(filters.due, now);
  if (after) query.set("due_after", after);
  if (before) query.set("due_before", before);
  query.set("sort", filters.sort);
  query.set("order", filters.order);
  query.set("limit", "100");
  return query;
}

export function isFiltered(filters: TaskFilters): boolean {
  return (
    filters.q.trim() !== "" ||
    filters.status !== "all" ||
    filters.priority !== "any" ||
    normalizeTag(filters.tag) !== "" ||
    filters.due !== "any"
  );
}

/** Tags are stored lower-case without the leading '#'. */
export function normalizeTag(raw: string): string {
  return raw.trim().replace(/^#+/, "").toLowerCase();
}

/** "home, #Errands  urgent" → ["home", "errands", "urgent"], without duplicates. */
export function parseTags(raw: string): string[] {
  const tags = raw.split(/[\s,]+/).map(normalizeTag).filter(Boolean);
  return [...new Set(tags)];
}

/**
 * What the list's header counts: the tasks shown, split by status as far as the status filter
 * lets both kinds through ("2 to do · 1 done", "1 done"), "of N shown" when other filters apply.
 */
export function taskCountLabel(tasks: { completed: boolean }[], filters: TaskFilters): string {
  const done = tasks.filter((t) => t.completed).length;
  const open = tasks.length - done;
  const status = filters.due === "overdue" && filters.status === "all" ? "pending" : filters.status;
  const parts = status === "pending" ? [`${open} to do`] : status === "completed" ? [`${done} done`] : [`${open} to do`, `${done} done`];
  const narrowed = filters.q.trim() !== "" || filters.priority !== "any" || normalizeTag(filters.tag) !== "" || filters.due !== "any";
  return `${parts.join(" · ")}${narrowed ? " match the filters" : ""}`;
}
