import { describe, expect, it } from "vitest";

import { formatDue, fromLocalInput, isOverdue, toLocalInput } from "@/lib/format";

const now = new Date(2026, 2, 10, 15, 30); // Tue 10 Mar 2026

describe("formatDue", () => {
  it("words nearby days relative to today, with a time when one is set", () => {
    expect(formatDue(new Date(2026, 2, 10).toISOString(), now)).toBe("today");
    expect(formatDue(new Date(2026, 2, 11, 17, 0).toISOString(), now)).toBe("tomorrow 5:00 PM");
    expect(formatDue(new Date(2026, 2, 9).toISOString(), now)).toBe("yesterday");
    expect(formatDue(new Date(2026, 2, 13).toISOString(), now)).toBe("Fri");
    expect(formatDue(new Date(2026, 3, 2).toISOString(), now)).toBe("Apr 2");
    expect(formatDue(new Date(2027, 0, 5).toISOString(), now)).toBe("Jan 5, 2027");
  });

  it("returns unparseable input unchanged", () => {
    expect(formatDue("soon", now)).toBe("soon");
  });
});

describe("due date inputs", () => {
  it("round-trips through a datetime-local value in local time", () => {
    const iso = new Date(2026, 2, 11, 9, 5).toISOString();
    expect(toLocalInput(iso)).toBe("2026-03-11T09:05");
    expect(fromLocalInput("2026-03-11T09:05")).toBe(iso);
    expect(fromLocalInput("")).toBeNull();
    expect(toLocalInput(null)).toBe("");
  });

  it("flags only unfinished tasks past their due time as overdue", () => {
    const past = new Date(2026, 2, 10, 9).toISOString();
    expect(isOverdue(past, false, now)).toBe(true);
    expect(isOverdue(past, true, now)).toBe(false);
    expect(isOverdue(null, false, now)).toBe(false);
  });
});
