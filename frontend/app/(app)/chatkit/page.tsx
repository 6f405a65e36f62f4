import type { Metadata } from "next";
import Link from "next/link";

import { ChatKitPanel } from "@/components/chatkit-panel";
import { readConfig } from "@/lib/server/config";

export const metadata: Metadata = { title: "ChatKit · Todo Chatbot" };

/** The optional ChatKit UI, on when CHATKIT_DOMAIN_KEY is set at run time. */
export default function ChatKitPage() {
  const { chatkitDomainKey } = readConfig();
  return (
    <main className="mx-auto w-full max-w-3xl flex-1 px-4 py-4">
      <p className="mb-3 text-sm">
        <Link href="/" className="text-brand-600 hover:underline">← Back to tasks and chat</Link>
      </p>
      {chatkitDomainKey ? (
        <ChatKitPanel domainKey={chatkitDomainKey} />
      ) : (
        <p className="rounded-lg border border-slate-200 bg-white p-4 text-sm dark:border-slate-800 dark:bg-slate-900" data-testid="chatkit-disabled">
          ChatKit is off. Set <code>CHATKIT_DOMAIN_KEY</code> (a domain key registered with OpenAI) to use it; the built-in chat works without it.
        </p>
      )}
    </main>
  );
}
