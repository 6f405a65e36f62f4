/** Human wording for due dates, relative to now in the user's time zone. */

function startOfDay(d: Date): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

function dayDiff(date: Date, now: Date): number {
  return Math.round((startOfDay(date).getTime() - startOfDay(now).getTime()) / 86_400_000);
}

function hasTime(date: Date): boolean {
  return date.getHours() !== 0 || date.getMinutes() !== 0;
}

function timeOf(date: Date): string {
  return date.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" });
}

/** "today", "tomorrow 5:00 PM", "yesterday", "Mon", "Mar 3", "Mar 3, 2027". */
export function formatDue(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const diff = dayDiff(date, now);
  let day: string;
  if (diff === 0) day = "today";
  else if (diff === 1) day = "tomorrow";
  else if (diff === -1) day = "yesterday";
  else if (diff > 1 && diff < 7) day = date.toLocaleDateString("en-US", { weekday: "short" });
  else
    day = date.toLocaleDateString("en-US", {
      month: "short",
      day: "numeric",
      ...(date.getFullYear() !== now.getFullYear() ? { year: "numeric" } : {}),
    });
  return hasTime(date) ? `${day} ${timeOf(date)}` : day;
}

export function isOverdue(iso: string | null, completed: boolean, now: Date = new Date()): boolean {
  return !completed && iso !== null && new Date(iso).getTime() < now.getTime();
}

/** ISO instant → value of an `<input type="datetime-local">` in local time ("2026-03-01T17:30"). */
export function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Value of a datetime-local input (local time) → ISO instant, or null when empty. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
