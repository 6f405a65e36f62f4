import { NextResponse, type NextRequest } from "next/server";

import { safeNext } from "@/lib/safe-redirect";
import { getSession } from "@/lib/server/auth";

const AUTH_PAGES = ["/sign-in", "/sign-up"];

/**
 * Pages behind auth send visitors without a valid session to sign-in (remembering where they
 * were going); signed-in users who open sign-in or sign-up go to the app. The session is
 * checked for real, not just the cookie's presence, so a stale cookie cannot cause a loop.
 */
export async function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  const isAuthPage = AUTH_PAGES.includes(pathname);
  const session = await getSession(request.headers).catch(() => null);

  if (!session && !isAuthPage) {
    const url = new URL("/sign-in", request.url);
    if (pathname !== "/") url.searchParams.set("next", pathname + search);
    return NextResponse.redirect(url);
  }
  if (session && isAuthPage) {
    const next = safeNext(request.nextUrl.searchParams.get("next"), request.nextUrl.origin);
    return NextResponse.redirect(new URL(next, request.url));
  }
  return NextResponse.next();
}

export const config = {
  // Pages only: API routes answer 401 themselves, and static files need no session.
  matcher: ["/((?!api/|_next/|favicon.ico|.*\\.(?:svg|png|jpg|ico|webp|txt)$).*)"],
};
