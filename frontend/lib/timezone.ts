/**
 * The browser's IANA timezone, sent with every chat request as `X-Timezone` so the assistant
 * reads "tomorrow at 9am" in the user's time rather than the server's.
 */
export function browserTimezone(): string | null {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

/** Headers for a chat request: the timezone when the browser knows it. */
export function timezoneHeaders(timezone: string | null = browserTimezone()): Record<string, string> {
  return timezone ? { "x-timezone": timezone } : {};
}

/** A fetch that adds `X-Timezone` to each request, for clients that take their own fetch (ChatKit). */
export const fetchWithTimezone: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  for (const [name, value] of Object.entries(timezoneHeaders())) headers.set(name, value);
  return fetch(input, { ...init, headers });
};
