"use client";

import { ChatKit, useChatKit } from "@openai/chatkit-react";
import Script from "next/script";
import { useEffect, useState } from "react";

import { BACKEND_PROXY } from "@/lib/api";
import { fetchWithTimezone } from "@/lib/timezone";

/** Where OpenAI serves the ChatKit web component; it is not on npm, so it cannot load offline. */
const CHATKIT_SCRIPT = "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js";
const LOAD_TIMEOUT_MS = 8000;

/**
 * ChatKit against the backend's self-hosted ChatKit server, reached through this app's
 * `/api/backend` proxy (which adds the user's token, like every backend call).
 */
export function ChatKitPanel({ domainKey }: { domainKey: string }) {
  const [status, setStatus] = useState<"loading" | "ready" | "failed">("loading");
  const { control } = useChatKit({ api: { url: `${BACKEND_PROXY}/chatkit`, domainKey, fetch: fetchWithTimezone } });

  useEffect(() => {
    if (customElements.get("openai-chatkit")) return setStatus("ready");
    const timer = setTimeout(() => setStatus((s) => (s === "loading" ? "failed" : s)), LOAD_TIMEOUT_MS);
    customElements.whenDefined("openai-chatkit").then(() => setStatus("ready"), () => undefined);
    return () => clearTimeout(timer);
  }, []);

  return (
    <div className="h-[calc(100dvh-10rem)] min-h-[28rem] overflow-hidden rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900" data-testid="chatkit-panel" data-status={status}>
      <Script src={CHATKIT_SCRIPT} strategy="afterInteractive" onError={() => setStatus("failed")} />
      {status === "failed" ? (
        <p role="alert" className="p-4 text-sm text-amber-800 dark:text-amber-200" data-testid="chatkit-unavailable">
          ChatKit&apos;s script could not be loaded from OpenAI&apos;s CDN (offline, or blocked). The built-in chat on the main page works without it.
        </p>
      ) : null}
      <ChatKit control={control} className={status === "ready" ? "block h-full w-full" : "hidden"} />
    </div>
  );
}
