import type { AssistantInfo, Conversation, StoredMessage, Task, TaskInput, TaskList } from "./types";

/** Every backend call goes through this app's server proxy, which adds the user's token. */
export const BACKEND_PROXY = "/api/backend";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** Field name → message, from a 422 validation error. */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Turns a FastAPI error body (`{"detail": str | [{loc, msg}]}`) into one readable error. */
export function errorFromBody(status: number, body: unknown): ApiError {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === "string") return new ApiError(detail, status);
  if (Array.isArray(detail)) {
    const fields: Record<string, string> = {};
    const messages: string[] = [];
    for (const item of detail as { loc?: unknown[]; msg?: string }[]) {
      const loc = (item.loc ?? []).filter((part) => part !== "body" && part !== "query");
      const field = loc.map(String).join(".") || "request";
      const msg = item.msg ?? "is invalid";
      fields[field] ??= msg;
      messages.push(`${field}: ${msg}`);
    }
    return new ApiError(messages.join("; ") || "Invalid request.", status, fields);
  }
  if (status === 401) return new ApiError("Your session has ended. Sign in again.", status);
  if (status === 404) return new ApiError("Not found — it may have been deleted.", status);
  return new ApiError(`Request failed (${status}).`, status);
}

export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${BACKEND_PROXY}${path}`, {
      ...init,
      headers: { accept: "application/json", ...(init.body ? { "content-type": "application/json" } : {}), ...init.headers },
    });
  } catch {
    throw new ApiError("Network error: check your connection and try again.", 0);
  }
  if (response.status === 204) return undefined as T;
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) throw errorFromBody(response.status, body);
  return body as T;
}

const json = (value: unknown) => JSON.stringify(value);

export const api = {
  listTasks: (query: URLSearchParams) => request<TaskList>(`/tasks?${query.toString()}`),
  createTask: (input: TaskInput) => request<Task>("/tasks", { method: "POST", body: json(input) }),
  updateTask: (id: number, input: TaskInput) => request<Task>(`/tasks/${id}`, { method: "PUT", body: json(input) }),
  toggleTask: (id: number) => request<Task>(`/tasks/${id}/complete`, { method: "PATCH" }),
  deleteTask: (id: number) => request<void>(`/tasks/${id}`, { method: "DELETE" }),
  listConversations: () => request<Conversation[]>("/conversations"),
  conversationMessages: (id: number) => request<StoredMessage[]>(`/conversations/${id}/messages`),
  deleteConversation: (id: number) => request<void>(`/conversations/${id}`, { method: "DELETE" }),
  assistant: () => request<AssistantInfo>("/assistant"),
};
