import { describe, expect, it } from "vitest";

import { DEFAULT_FILTERS, dueRange, isFiltered, parseTags, taskCountLabel, taskQuery } from "@/lib/task-filters";

const now = new Date(2026, 2, 10, 15, 30); // Tue 10 Mar 2026, 15:30 local

describe("taskQuery", () => {
  it("sends only the sort, order and page size by default", () => {
    expect(taskQuery(DEFAULT_FILTERS, now).toString()).toBe("sort=created&order=desc&limit=100");
  });

  it("maps search, status, priority and tag filters to the backend's parameters", () => {
    const query = taskQuery({ ...DEFAULT_FILTERS, q: "  rent ", status: "completed", priority: "high", tag: "#Home", sort: "due", order: "asc" }, now);
    expect(Object.fromEntries(query)).toEqual({ q: "rent", status: "completed", priority: "high", tag: "home", sort: "due", order: "asc", limit: "100" });
  });

  it("limits 'overdue' to pending tasks due before now", () => {
    const query = taskQuery({ ...DEFAULT_FILTERS, due: "overdue" }, now);
    expect(query.get("status")).toBe("pending");
    expect(query.get("due_before")).toBe(now.toISOString());
    expect(query.has("due_after")).toBe(false);
  });
});

describe("dueRange", () => {
  it("covers the whole local day for 'today' and seven days for 'week'", () => {
    expect(dueRange("today", now)).toEqual({
      after: new Date(2026, 2, 10).toISOString(),
      before: new Date(2026, 2, 11).toISOString(),
    });
    expect(dueRange("week", now).before).toBe(new Date(2026, 2, 17).toISOString());
    expect(dueRange("any", now)).toEqual({});
  });
});

describe("tags and filter state", () => {
  it("parses tags from commas or spaces, lower-cased, without '#' or duplicates", () => {
    expect(parseTags("Home, #errands  urgent,home")).toEqual(["home", "errands", "urgent"]);
    expect(parseTags(" , ")).toEqual([]);
  });

  it("knows when any filter narrows the list (sorting does not)", () => {
    expect(isFiltered({ ...DEFAULT_FILTERS, sort: "title", order: "asc" })).toBe(false);
    expect(isFiltered({ ...DEFAULT_FILTERS, tag: "#" })).toBe(false);
    expect(isFiltered({ ...DEFAULT_FILTERS, q: "milk" })).toBe(true);
  });
});

describe("taskCountLabel", () => {
  const open = { completed: false };
  const done = { completed: true };

  it("counts what the status filter shows, so an open task is never '0 to do' because of it", () => {
    expect(taskCountLabel([open, open, done], DEFAULT_FILTERS)).toBe("2 to do · 1 done");
    expect(taskCountLabel([done], { ...DEFAULT_FILTERS, status: "completed" })).toBe("1 done");
    expect(taskCountLabel([open], { ...DEFAULT_FILTERS, status: "pending" })).toBe("1 to do");
    expect(taskCountLabel([open], { ...DEFAULT_FILTERS, due: "overdue" })).toBe("1 to do match the filters");
  });

  it("says when other filters narrow the list", () => {
    expect(taskCountLabel([open], { ...DEFAULT_FILTERS, q: "milk" })).toBe("1 to do · 0 done match the filters");
    expect(taskCountLabel([], { ...DEFAULT_FILTERS, tag: "#home", status: "completed" })).toBe("0 done match the filters");
  });
});
