/** Shapes of the backend's REST API (see the app contract in the repository's docs). */

export const PRIORITIES = ["low", "medium", "high"] as const;
export type Priority = (typeof PRIORITIES)[number];

export const RECURRENCES = ["none", "daily", "weekly", "monthly"] as const;
export type Recurrence = (typeof RECURRENCES)[number];

export interface Task {
  id: number;
  /** The user's own task number (1, 2, …, never reused): what the list shows and chat accepts. */
  number: number;
  user_id: string;
  title: string;
  description: string | null;
  completed: boolean;
  priority: Priority;
  tags: string[];
  due_at: string | null;
  recurrence: Recurrence;
  created_at: string;
  updated_at: string;
}

/** Body of POST /tasks and PUT /tasks/{id}. */
export interface TaskInput {
  title: string;
  description?: string | null;
  priority?: Priority;
  tags?: string[];
  due_at?: string | null;
  recurrence?: Recurrence;
  completed?: boolean;
}

export interface TaskList {
  items: Task[];
  total: number;
}

export interface Conversation {
  id: number;
  title: string | null;
  created_at: string;
  updated_at: string;
}

export interface StoredToolCall {
  name: string;
  arguments: unknown;
  result: unknown;
}

export interface StoredMessage {
  id: number;
  role: "user" | "assistant" | "system" | "tool";
  content: string;
  tool_calls: StoredToolCall[] | null;
  created_at: string;
}

export interface AssistantInfo {
  offline: boolean;
  model: string;
}
