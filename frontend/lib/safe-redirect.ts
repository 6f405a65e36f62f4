/**
 * Where a `next` parameter may send the user: a path on this site, never another origin.
 *
 * The target is resolved the way a browser resolves it (the URL parser drops tabs and newlines,
 * turns `\` into `/`, decodes nothing) against the app's origin, and followed only when the
 * origin is unchanged. The result is re-serialized by the parser and must not start with `//`,
 * since a path such as `/.//evil.example` normalizes to one that a browser would read as a host.
 * `origin` defaults to a reserved name: relative targets come out the same either way, and only
 * an absolute URL needs the real origin to be recognized as this site's.
 */
export function safeNext(next: string | null | undefined, origin = "http://app.invalid"): string {
  if (!next) return "/";
  let target: URL;
  try {
    target = new URL(next, origin);
  } catch {
    return "/";
  }
  if (target.origin !== new URL(origin).origin) return "/";
  const path = target.pathname + target.search + target.hash;
  return path.startsWith("//") ? "/" : path;
}
