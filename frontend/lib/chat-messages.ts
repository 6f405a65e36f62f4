import type { UIMessage } from "ai";

import { changesTasks } from "./tool-cards";
import type { Conversation, StoredMessage } from "./types";

export interface ChatMetadata {
  conversation_id?: number;
}
export type ChatMessage = UIMessage<ChatMetadata>;

/** A tool call found in a message part, whether the stream sent it as a static or dynamic tool. */
export interface ToolPartView {
  toolCallId: string;
  name: string;
  state: "pending" | "done" | "error";
  input: unknown;
  output: unknown;
}

export function toolPart(part: ChatMessage["parts"][number]): ToolPartView | null {
  const p = part as { type: string; toolName?: string; toolCallId?: string; state?: string; input?: unknown; output?: unknown; errorText?: string };
  let name: string | undefined;
  if (p.type === "dynamic-tool") name = p.toolName;
  else if (p.type.startsWith("tool-")) name = p.type.slice("tool-".length);
  if (!name || !p.toolCallId) return null;
  const state = p.state === "output-available" ? "done" : p.state === "output-error" ? "error" : "pending";
  return { toolCallId: p.toolCallId, name, state, input: p.input, output: state === "error" ? p.errorText : p.output };
}

/**
 * The tool calls a message shows as cards, in order. A list_tasks call that another call follows
 * is a lookup, the assistant finding the task it then acts on or asks about: its "Found 0 tasks"
 * beside "Updated 'Dentist'" would contradict the reply, so only the calls after it show. A
 * listing that ends the calls is what the user asked for, and shows.
 */
export function cardTools(message: ChatMessage): ToolPartView[] {
  const tools = message.parts.map(toolPart).filter((tool): tool is ToolPartView => tool !== null);
  return tools.filter((tool, i) => tool.name !== "list_tasks" || i === tools.length - 1);
}

/** Whether the assistant's reply ran a tool that changes tasks (so the list must refetch). */
export function messageChangedTasks(message: ChatMessage): boolean {
  return message.parts.some((part) => {
    const tool = toolPart(part);
    return tool !== null && tool.state === "done" && changesTasks(tool.name);
  });
}

/** Stored conversation history → the messages useChat renders (tool calls become tool cards). */
export function toUIMessages(stored: StoredMessage[]): ChatMessage[] {
  return stored
    .filter((m) => m.role === "user" || m.role === "assistant")
    .map((m) => {
      const parts: ChatMessage["parts"] = (m.tool_calls ?? []).map((call, i) => ({
        type: "dynamic-tool" as const,
        toolName: call.name,
        toolCallId: `stored-${m.id}-${i}`,
        state: "output-available" as const,
        input: call.arguments,
        output: call.result,
      }));
      if (m.content) parts.push({ type: "text", text: m.content });
      return { id: `stored-${m.id}`, role: m.role as "user" | "assistant", parts };
    });
}

/** Text of the newest user message: the only thing the backend needs (it keeps the history). */
export function lastUserText(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === "user") {
      return m.parts.map((p) => (p.type === "text" ? p.text : "")).join("");
    }
  }
  return "";
}

/** The most task numbers a chat request names as the visible list (the backend's limit). */
export const MAX_VISIBLE_TASKS = 500;

/**
 * Body of a chat turn: the new text, the conversation it continues, and the task numbers the
 * list shows in display order, so "the first task" means the first one the user sees.
 */
export function chatRequestBody(messages: ChatMessage[], conversationId: number | null, visibleTasks: number[]) {
  return {
    message: lastUserText(messages),
    ...(conversationId !== null ? { conversation_id: conversationId } : {}),
    visible_tasks: visibleTasks.filter((n) => n > 0).slice(0, MAX_VISIBLE_TASKS),
  };
}

/** Newest activity first, whatever order the server used. */
export function sortConversations(conversations: Conversation[]): Conversation[] {
  return [...conversations].sort((a, b) => b.updated_at.localeCompare(a.updated_at) || b.id - a.id);
}

/** A chat error's message: the backend's `detail` when the body is FastAPI's JSON error. */
export function chatErrorMessage(error: Error): string {
  try {
    const body = JSON.parse(error.message) as { detail?: unknown };
    if (typeof body.detail === "string") return body.detail;
  } catch {
    // Not JSON: use the message as it is.
  }
  return error.message || "The assistant could not answer.";
}
