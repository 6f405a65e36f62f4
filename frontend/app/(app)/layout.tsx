import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";

import { AppHeader } from "@/components/app-header";
import { getSession } from "@/lib/server/auth";

export default async function AppLayout({ children }: { children: ReactNode }) {
  // proxy.ts already redirects; this guards against a session that ended in between.
  const session = await getSession(await headers());
  if (!session) redirect("/sign-in");
  return (
    <div className="flex min-h-dvh flex-col">
      <AppHeader name={session.user.name} email={session.user.email} />
      {children}
    </div>
  );
}
