"use client";

import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport } from "ai";
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import { BACKEND_PROXY } from "@/lib/api";
import { cardTools, chatErrorMessage, chatRequestBody, messageChangedTasks, toolPart, type ChatMessage } from "@/lib/chat-messages";
import { markdownBlocks } from "@/lib/markdown-blocks";
import { timezoneHeaders } from "@/lib/timezone";

import { ToolCard } from "./tool-card";

const EXAMPLES = ["add pay rent tomorrow high priority", "what's left?", "mark pay rent as done"];

/**
 * One conversation: streams the assistant's reply through the server proxy to the backend's
 * UI-message-stream endpoint. The backend keeps the history, so only the new text is sent,
 * with the conversation id learned from the first reply.
 */
export function ChatThread({
  chatKey,
  conversationId,
  initialMessages,
  onConversation,
  onReply,
  visibleTasks,
}: {
  chatKey: string;
  conversationId: number | null;
  initialMessages: ChatMessage[];
  onConversation: (id: number) => void;
  onReply: (changedTasks: boolean) => void;
  /** The task numbers the list shows now, in display order. */
  visibleTasks: () => number[];
}) {
  const conversation = useRef(conversationId);
  const [transport] = useState(
    () =>
      new DefaultChatTransport<ChatMessage>({
        api: `${BACKEND_PROXY}/chat/stream`,
        prepareSendMessagesRequest: ({ messages }) => ({
          body: chatRequestBody(messages, conversation.current, visibleTasks()),
          headers: timezoneHeaders(),
        }),
        // The conversation id comes as a header before any token: remember it at once.
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          const id = Number(response.headers.get("x-conversation-id"));
          if (id && conversation.current !== id) {
            conversation.current = id;
            onConversation(id);
          }
          return response;
        },
      }),
  );
  const { messages, sendMessage, status, error, regenerate, stop, clearError } = useChat<ChatMessage>({
    id: chatKey,
    messages: initialMessages,
    transport,
    onFinish: ({ message }) => {
      const id = message.metadata?.conversation_id;
      if (id && conversation.current !== id) {
        conversation.current = id;
        onConversation(id);
      }
      onReply(messageChangedTasks(message));
    },
  });
  const [input, setInput] = useState("");
  const bottom = useRef<HTMLDivElement>(null);
  const busy = status === "submitted" || status === "streaming";

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [messages]);

  function send(text: string) {
    const trimmed = text.trim();
    if (!trimmed || busy) return;
    clearError();
    void sendMessage({ text: trimmed });
    setInput("");
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    send(input);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      send(input);
    }
  }

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="min-h-0 flex-1 space-y-3 overflow-y-auto p-3" role="log" aria-label="Conversation" aria-busy={busy} data-testid="chat-messages">
        {messages.length === 0 ? (
          <div className="py-8 text-center text-sm text-slate-500">
            <p>Ask the assistant to manage your tasks.</p>
            <ul className="mt-3 flex flex-wrap justify-center gap-2">
              {EXAMPLES.map((example) => (
                <li key={example}>
                  <button type="button" onClick={() => setInput(example)} className="rounded-full border border-slate-300 px-3 py-1 text-xs hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">
                    {example}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {messages.map((message) => (
          <div key={message.id} className={`flex ${message.role === "user" ? "justify-end" : "justify-start"}`} data-testid={`chat-message-${message.role}`}>
            <div
              className={`max-w-[85%] space-y-1.5 rounded-2xl px-3 py-2 text-sm ${
                message.role === "user" ? "bg-brand-600 text-white" : "bg-slate-100 text-slate-900 dark:bg-slate-800 dark:text-slate-100"
              }`}
            >
              <span className="sr-only">{message.role === "user" ? "You said:" : "Assistant said:"}</span>
              <MessageParts message={message} />
            </div>
          </div>
        ))}
        {status === "submitted" ? (
          <p className="text-sm text-slate-500" data-testid="chat-thinking">
            Thinking…
          </p>
        ) : null}
        {error ? (
          <div role="alert" className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200" data-testid="chat-error">
            <p>{chatErrorMessage(error)}</p>
            <button type="button" onClick={() => void regenerate()} className="mt-2 rounded-md bg-red-600 px-3 py-1 text-white" data-testid="chat-retry">
              Retry
            </button>
          </div>
        ) : null}
        <div ref={bottom} />
      </div>
      <form onSubmit={onSubmit} className="flex items-end gap-2 border-t border-slate-200 p-3 dark:border-slate-800">
        <label htmlFor={`${chatKey}-input`} className="sr-only">Message the assistant</label>
        <textarea
          id={`${chatKey}-input`}
          value={input}
          onChange={(e) => setInput(e.target.value)}
          onKeyDown={onKeyDown}
          rows={1}
          placeholder="Message the assistant…"
          aria-describedby={`${chatKey}-hint`}
          className="max-h-40 min-h-10 flex-1 resize-none rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900"
          data-testid="chat-input"
        />
        <span id={`${chatKey}-hint`} className="sr-only">Enter sends, Shift+Enter adds a line.</span>
        {busy ? (
          <button type="button" onClick={() => void stop()} className="rounded-md border border-slate-300 px-3 py-2 text-sm dark:border-slate-700" data-testid="chat-stop">
            Stop
          </button>
        ) : (
          <button type="submit" disabled={!input.trim()} className="rounded-md bg-brand-600 px-3 py-2 text-sm font-semibold text-white hover:bg-brand-700 disabled:opacity-50" data-testid="chat-send">
            Send
          </button>
        )}
      </form>
    </div>
  );
}

/** A message's text and the cards of its tool calls, in the order they came. */
function MessageParts({ message }: { message: ChatMessage }) {
  const carded = new Set(cardTools(message).map((tool) => tool.toolCallId));
  return message.parts.map((part, i) => {
    if (part.type === "text") {
      return message.role === "assistant" ? <AssistantText key={i} text={part.text} /> : <p key={i} className="whitespace-pre-wrap break-words">{part.text}</p>;
    }
    const tool = toolPart(part);
    return tool && carded.has(tool.toolCallId) ? <ToolCard key={tool.toolCallId} tool={tool} /> : null;
  });
}

/** The assistant's reply with its Markdown lists as lists. */
function AssistantText({ text }: { text: string }) {
  return (
    <div className="space-y-1.5 break-words">
      {markdownBlocks(text).map((block, i) => {
        if (block.kind === "paragraph") return <p key={i} className="whitespace-pre-wrap">{block.text}</p>;
        const List = block.ordered ? "ol" : "ul";
        return (
          <List key={i} className={`${block.ordered ? "list-decimal" : "list-disc"} space-y-0.5 pl-5`} data-testid="chat-list">
            {block.items.map((item, j) => (
              <li key={j}>{item}</li>
            ))}
          </List>
        );
      })}
    </div>
  );
}
