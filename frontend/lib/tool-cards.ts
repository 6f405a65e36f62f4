import { formatDue } from "./format";

/** One tool call of the assistant, as the chat shows it. */
export interface ToolCard {
  tone: "success" | "info" | "error" | "pending";
  text: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Tool results arrive as objects, JSON strings, or MCP call results
 * (`{structuredContent}` or `{content: [{type: "text", text}]}`); this unwraps any of them.
 */
export function unwrapToolResult(value: unknown): unknown {
  if (typeof value === "string") {
    try {
      return unwrapToolResult(JSON.parse(value));
    } catch {
      return value;
    }
  }
  if (isObject(value)) {
    if ("structuredContent" in value && value.structuredContent != null) {
      const structured = value.structuredContent;
      // The MCP server wraps non-object results as {"result": ...}.
      return isObject(structured) && Object.keys(structured).length === 1 && "result" in structured
        ? unwrapToolResult(structured.result)
        : structured;
    }
    if (Array.isArray(value.content)) {
      const text = (value.content as unknown[])
        .map((part) => (isObject(part) && part.type === "text" ? String(part.text) : ""))
        .join("");
      return unwrapToolResult(text);
    }
  }
  return value;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() ? value : undefined;
}

function details(fields: Json, now: Date): string {
  const parts: string[] = [];
  const due = str(fields.due_at);
  if (due) parts.push(`due ${formatDue(due, now)}`);
  const priority = str(fields.priority);
  if (priority) parts.push(priority);
  const tags = Array.isArray(fields.tags) ? (fields.tags as unknown[]).filter((t) => typeof t === "string") : [];
  if (tags.length) parts.push(tags.map((t) => `#${t}`).join(" "));
  const recurrence = str(fields.recurrence);
  if (recurrence && recurrence !== "none") parts.push(`repeats ${recurrence}`);
  return parts.length ? ` — ${parts.join(", ")}` : "";
}

/** Tools answer with data; a bare text answer is the tool's error message (e.g. "Task 9 not found"). */
function errorText(result: unknown): string | undefined {
  if (typeof result === "string") return result.replace(/^Error calling tool '[^']*':\s*/, "") || "the tool failed";
  if (isObject(result)) {
    if (str(result.error)) return str(result.error);
    if (result.isError === true) return "the tool failed";
    if (str(result.detail)) return str(result.detail);
  }
  return undefined;
}

const FAILED_VERB: Record<string, string> = {
  add_task: "add the task",
  complete_task: "complete the task",
  delete_task: "delete the task",
  update_task: "update the task",
  list_tasks: "list tasks",
};

/** "Added 'Buy milk' — due tomorrow, high", "Completed 'Pay rent'", "Found 3 tasks", … */
export function describeToolCall(
  name: string,
  args: unknown,
  rawResult: unknown,
  state: "pending" | "done" | "error" = "done",
  now: Date = new Date(),
): ToolCard {
  const input = isObject(args) ? args : isObject(unwrapToolResult(args)) ? (unwrapToolResult(args) as Json) : {};
  if (state === "pending") {
    const title = str(input.title);
    return { tone: "pending", text: `${pendingVerb(name)}${title ? ` '${title}'` : ""}…` };
  }
  const result = unwrapToolResult(rawResult);
  const failure = state === "error" ? (typeof rawResult === "string" ? rawResult : "the tool failed") : errorText(result);
  if (failure) return { tone: "error", text: `Couldn't ${FAILED_VERB[name] ?? name}: ${failure}` };

  const fields: Json = { ...input, ...(isObject(result) ? result : {}) };
  const title = str(fields.title);
  // Tools name tasks by the user's number; conversations stored before that, by the global id.
  const number = fields.number ?? input.number;
  const quoted = title ? `'${title}'` : number != null ? `task #${String(number)}` : `task ${String(fields.task_id ?? input.task_id ?? "")}`.trim();
  switch (name) {
    case "add_task":
      return { tone: "success", text: `Added ${quoted}${details(fields, now)}` };
    case "complete_task": {
      const reopened = fields.status === "pending" || fields.completed === false;
      return { tone: "success", text: `${reopened ? "Reopened" : "Completed"} ${quoted}` };
    }
    case "delete_task":
      return { tone: "success", text: `Deleted ${quoted}` };
    case "update_task": {
      const changed = details(input, now);
      const done = input.completed === true ? " — marked done" : input.completed === false ? " — reopened" : "";
      return { tone: "success", text: `Updated ${quoted}${changed || done}` };
    }
    case "list_tasks": {
      const items = Array.isArray(result) ? result : isObject(result) && Array.isArray(result.items) ? result.items : null;
      const count = items?.length ?? 0;
      return { tone: "info", text: `Found ${count} task${count === 1 ? "" : "s"}` };
    }
    default:
      return { tone: "info", text: `Used ${name}` };
  }
}

function pendingVerb(name: string): string {
  switch (name) {
    case "add_task":
      return "Adding";
    case "complete_task":
      return "Completing";
    case "delete_task":
      return "Deleting";
    case "update_task":
      return "Updating";
    case "list_tasks":
      return "Looking up tasks";
    default:
      return `Running ${name}`;
  }
}

/** Tool calls that change tasks, after which the task list must be refreshed. */
export function changesTasks(name: string): boolean {
  return name !== "list_tasks";
}
