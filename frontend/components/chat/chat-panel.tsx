"use client";

import Link from "next/link";
import { useCallback, useEffect, useId, useRef, useState } from "react";

import { api } from "@/lib/api";
import { sortConversations, toUIMessages, type ChatMessage } from "@/lib/chat-messages";
import type { AssistantInfo, Conversation } from "@/lib/types";

import { ChatThread } from "./chat-thread";
import { ConversationList } from "./conversation-list";

interface Thread {
  key: string;
  conversationId: number | null;
  messages: ChatMessage[];
}

/** Chat with the assistant, plus the conversation history to resume or delete. */
export function ChatPanel({
  onTasksChanged,
  visibleTasks,
  chatkitEnabled,
}: {
  onTasksChanged: () => void;
  visibleTasks: () => number[];
  chatkitEnabled: boolean;
}) {
  // The thread key names the chat's DOM ids, so the first one must be the same on the server
  // and in the browser: useId, plus a per-instance count for threads opened later.
  const chatId = useId();
  const threadSeq = useRef(0);
  const newThread = (conversationId: number | null = null, messages: ChatMessage[] = []): Thread => ({
    key: `${chatId}${++threadSeq.current}`,
    conversationId,
    messages,
  });
  const [thread, setThread] = useState<Thread>({ key: `${chatId}0`, conversationId: null, messages: [] });
  const [conversations, setConversations] = useState<Conversation[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [assistant, setAssistant] = useState<AssistantInfo | null>(null);
  const [opening, setOpening] = useState<number | null>(null);
  const [showHistory, setShowHistory] = useState(false);

  const loadConversations = useCallback(async () => {
    try {
      setConversations(sortConversations(await api.listConversations()));
      setListError(null);
    } catch (error) {
      setListError(error instanceof Error ? error.message : "Couldn't load conversations.");
    }
  }, []);

  useEffect(() => {
    void loadConversations();
    api.assistant().then(setAssistant, () => setAssistant(null));
  }, [loadConversations]);

  const onConversation = useCallback(
    (id: number) => {
      setThread((t) => ({ ...t, conversationId: id }));
      void loadConversations();
    },
    [loadConversations],
  );
  const onReply = useCallback(
    (changedTasks: boolean) => {
      if (changedTasks) onTasksChanged();
      void loadConversations();
    },
    [onTasksChanged, loadConversations],
  );

  async function open(id: number) {
    setOpening(id);
    try {
      const messages = toUIMessages(await api.conversationMessages(id));
      setThread(newThread(id, messages));
      setShowHistory(false);
    } catch (error) {
      setListError(error instanceof Error ? error.message : "Couldn't open the conversation.");
    } finally {
      setOpening(null);
    }
  }

  async function remove(id: number) {
    const before = conversations;
    setConversations((list) => list?.filter((c) => c.id !== id) ?? null);
    if (thread.conversationId === id) setThread(newThread());
    try {
      await api.deleteConversation(id);
    } catch (error) {
      setConversations(before);
      setListError(error instanceof Error ? `Couldn't delete: ${error.message}` : "Couldn't delete the conversation.");
    }
  }

  return (
    <div className="flex h-[calc(100dvh-9rem)] min-h-[28rem] w-full flex-col overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm lg:h-[calc(100dvh-7rem)] dark:border-slate-800 dark:bg-slate-900" data-testid="chat-panel">
      <div className="flex items-center justify-between gap-2 border-b border-slate-200 px-3 py-2 dark:border-slate-800">
        <h2 className="text-lg font-semibold">Assistant</h2>
        <div className="flex items-center gap-2">
          {chatkitEnabled ? (
            <Link href="/chatkit" className="text-xs text-brand-600 hover:underline" data-testid="chatkit-link">
              ChatKit view
            </Link>
          ) : null}
          <button
            type="button"
            onClick={() => setShowHistory((v) => !v)}
            aria-expanded={showHistory}
            aria-controls="conversation-sidebar"
            className="rounded-md border border-slate-300 px-2 py-1 text-sm md:hidden dark:border-slate-700"
            data-testid="history-toggle"
          >
            History
          </button>
          <button
            type="button"
            onClick={() => setThread(newThread())}
            className="rounded-md bg-brand-600 px-2.5 py-1 text-sm font-medium text-white hover:bg-brand-700"
            data-testid="new-chat"
          >
            New chat
          </button>
        </div>
      </div>
      {assistant?.offline ? (
        <div role="status" className="border-b border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-200" data-testid="offline-banner">
          <strong>Offline assistant.</strong> No AI model is configured (OPENAI_API_KEY), so a built-in assistant answers simple commands
          such as &ldquo;add buy milk tomorrow high priority&rdquo;, &ldquo;what&apos;s left?&rdquo; or &ldquo;mark buy milk as done&rdquo;.
        </div>
      ) : null}
      <div className="flex min-h-0 flex-1">
        <nav
          id="conversation-sidebar"
          aria-label="Conversation history"
          className={`${showHistory ? "block w-full" : "hidden"} shrink-0 overflow-y-auto border-r border-slate-200 p-2 md:block md:w-48 dark:border-slate-800`}
          aria-busy={opening !== null}
          data-testid="conversation-sidebar"
        >
          <ConversationList conversations={conversations} activeId={thread.conversationId} error={listError} onOpen={(id) => void open(id)} onDelete={(id) => void remove(id)} />
        </nav>
        <div className={`${showHistory ? "hidden md:flex" : "flex"} min-w-0 flex-1 flex-col`}>
          <ChatThread key={thread.key} chatKey={thread.key} conversationId={thread.conversationId} initialMessages={thread.messages} onConversation={onConversation} onReply={onReply} visibleTasks={visibleTasks} />
        </div>
      </div>
    </div>
  );
}
