import type { NextConfig } from "next";
import { PHASE_PRODUCTION_BUILD } from "next/constants";

export default function nextConfig(phase: string): NextConfig {
  return {
    // One self-contained server (`.next/standalone/server.js`) for the container image.
    output: "standalone",
    // Database drivers stay plain Node requires so their native parts are traced, not bundled.
    serverExternalPackages: ["@libsql/client", "@libsql/kysely-libsql", "libsql", "pg"],
    // The app serves no optimized images: keep sharp's ~30 MB of native code out of the image.
    images: { unoptimized: true },
    outputFileTracingExcludes: { "*": ["node_modules/sharp/**", "node_modules/@img/**"] },
    poweredByHeader: false,
    // `next dev` serves its scripts only to pages opened at localhost unless told otherwise; the
    // other loopback addresses a user may type must hydrate too.
    allowedDevOrigins: ["127.0.0.1", "[::1]"],
    // Builds run in fresh image layers and CI clones, where Turbopack's on-disk build cache is
    // written and then thrown away (40–107 s measured here); leave it off. Set for builds only:
    // `next dev` lists every experimental option it is given, a disabled one with a red "⨯".
    ...(phase === PHASE_PRODUCTION_BUILD ? { experimental: { turbopackFileSystemCacheForBuild: false } } : {}),
    async headers() {
      return [
        {
          source: "/:path*",
          headers: [
            { key: "X-Content-Type-Options", value: "nosniff" },
            { key: "X-Frame-Options", value: "DENY" },
            { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
          ],
        },
      ];
    },
  };
}
