"use client";

import { useState } from "react";

import type { Conversation } from "@/lib/types";

function when(iso: string): string {
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" }) : d.toLocaleDateString("en-US", { month: "short", day: "numeric" });
}

export function ConversationList({
  conversations,
  activeId,
  error,
  onOpen,
  onDelete,
}: {
  conversations: Conversation[] | null;
  activeId: number | null;
  error: string | null;
  onOpen: (id: number) => void;
  onDelete: (id: number) => void;
}) {
  const [confirming, setConfirming] = useState<number | null>(null);
  if (error) return <p className="px-2 text-xs text-red-600" role="alert">{error}</p>;
  if (conversations === null) return <p className="px-2 text-xs text-slate-500">Loading…</p>;
  if (conversations.length === 0) return <p className="px-2 text-xs text-slate-500" data-testid="conversation-empty">No conversations yet.</p>;
  return (
    <ul className="space-y-1" aria-label="Conversations" data-testid="conversation-list">
      {conversations.map((c) => (
        <li key={c.id} className={`group rounded-md ${c.id === activeId ? "bg-brand-50 dark:bg-slate-800" : "hover:bg-slate-100 dark:hover:bg-slate-800"}`} data-testid="conversation-item">
          {confirming === c.id ? (
            <div className="flex items-center justify-between gap-1 px-2 py-1.5 text-xs">
              <span>Delete?</span>
              <span className="flex gap-1">
                <button type="button" className="rounded bg-red-600 px-1.5 py-0.5 text-white" onClick={() => { setConfirming(null); onDelete(c.id); }} data-testid="conversation-delete-confirm">
                  Delete
                </button>
                <button type="button" className="rounded px-1.5 py-0.5" onClick={() => setConfirming(null)}>
                  Keep
                </button>
              </span>
            </div>
          ) : (
            <div className="flex items-center">
              <button
                type="button"
                onClick={() => onOpen(c.id)}
                aria-current={c.id === activeId ? "true" : undefined}
                className="min-w-0 flex-1 px-2 py-1.5 text-left"
                data-testid="conversation-open"
              >
                <span className="block truncate text-sm">{c.title || "New conversation"}</span>
                <span className="block text-xs text-slate-500">{when(c.updated_at)}</span>
              </button>
              <button
                type="button"
                onClick={() => setConfirming(c.id)}
                className="px-2 text-slate-400 hover:text-red-600"
                aria-label={`Delete conversation '${c.title || "New conversation"}'`}
                data-testid="conversation-delete"
              >
                ×
              </button>
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}
