"use client";

import { useCallback, useRef, useState } from "react";

import { ChatPanel } from "./chat/chat-panel";
import { TaskPanel } from "./tasks/task-panel";

type Tab = "tasks" | "chat";

/**
 * Tasks and chat side by side (tabs on a phone). The chat bumps `tasksVersion` after the
 * assistant changes tasks, and the list refetches: no reload needed. The list tells the chat
 * which task numbers it shows, so ordinals in chat ("the first task") mean what the user sees.
 */
export function Workspace({ chatkitEnabled }: { chatkitEnabled: boolean }) {
  const [tab, setTab] = useState<Tab>("tasks");
  const [tasksVersion, setTasksVersion] = useState(0);
  const tasksChanged = useCallback(() => setTasksVersion((v) => v + 1), []);
  const shown = useRef<number[]>([]);
  const onVisibleTasks = useCallback((numbers: number[]) => {
    shown.current = numbers;
  }, []);
  const visibleTasks = useCallback(() => shown.current, []);

  const tabClass = (t: Tab) =>
    `flex-1 rounded-md px-3 py-1.5 text-sm font-medium ${
      tab === t ? "bg-white shadow-sm dark:bg-slate-700" : "text-slate-600 dark:text-slate-300"
    }`;

  // The chat card sticks where it starts, under the header (4rem + its 1px border) and the
  // page's 1rem padding, so it stays level with the Tasks card.
  return (
    <main className="mx-auto flex w-full max-w-7xl flex-1 flex-col gap-4 px-4 py-4 lg:grid lg:grid-cols-[minmax(0,1fr)_minmax(0,1fr)] lg:items-start">
      <div role="tablist" aria-label="View" className="flex gap-1 rounded-lg bg-slate-200 p-1 lg:hidden dark:bg-slate-800">
        <button type="button" role="tab" id="tab-tasks" aria-controls="panel-tasks" aria-selected={tab === "tasks"} className={tabClass("tasks")} onClick={() => setTab("tasks")} data-testid="tab-tasks">
          Tasks
        </button>
        <button type="button" role="tab" id="tab-chat" aria-controls="panel-chat" aria-selected={tab === "chat"} className={tabClass("chat")} onClick={() => setTab("chat")} data-testid="tab-chat">
          Chat
        </button>
      </div>
      <section id="panel-tasks" aria-labelledby="tab-tasks" className={tab === "tasks" ? "block" : "hidden lg:block"}>
        <TaskPanel version={tasksVersion} onVisibleTasks={onVisibleTasks} />
      </section>
      <section id="panel-chat" aria-labelledby="tab-chat" className={`${tab === "chat" ? "flex" : "hidden lg:flex"} lg:sticky lg:top-[calc(5rem+1px)]`}>
        <ChatPanel onTasksChanged={tasksChanged} visibleTasks={visibleTasks} chatkitEnabled={chatkitEnabled} />
      </section>
    </main>
  );
}
