"use client";

import { createAuthClient } from "better-auth/react";

/** Talks to this app's own /api/auth on whatever origin the page was opened at. */
export const authClient = createAuthClient();
