import { describeToolCall } from "@/lib/tool-cards";
import type { ToolPartView } from "@/lib/chat-messages";

const TONE: Record<string, string> = {
  success: "border-emerald-200 bg-emerald-50 text-emerald-900 dark:border-emerald-900 dark:bg-emerald-950 dark:text-emerald-200",
  info: "border-sky-200 bg-sky-50 text-sky-900 dark:border-sky-900 dark:bg-sky-950 dark:text-sky-200",
  error: "border-red-200 bg-red-50 text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-200",
  pending: "border-slate-200 bg-slate-50 text-slate-600 dark:border-slate-700 dark:bg-slate-800 dark:text-slate-300",
};
const ICON: Record<string, string> = { success: "✓", info: "ℹ", error: "⚠", pending: "…" };

export function ToolCard({ tool }: { tool: ToolPartView }) {
  const card = describeToolCall(tool.name, tool.input, tool.output, tool.state);
  return (
    <div className={`flex items-start gap-2 rounded-md border px-2.5 py-1.5 text-sm ${TONE[card.tone]}`} data-testid="tool-card" data-tool={tool.name} data-state={tool.state}>
      <span aria-hidden="true">{ICON[card.tone]}</span>
      <span>{card.text}</span>
    </div>
  );
}
