// `npm start`: run the standalone server built by `npm run build`, as the container does, with
// the static assets next to it and the embedded database in frontend/.data/ (the standalone
// server changes its working directory to .next/standalone, so DATA_DIR pins it here).
import "./client-address.mjs"; // before the server creates its HTTP server, as in the image
import { cpSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const standalone = path.join(root, ".next", "standalone");
if (!existsSync(path.join(standalone, "server.js"))) {
  console.error("No build found: run `npm run build` first.");
  process.exit(1);
}
cpSync(path.join(root, ".next", "static"), path.join(standalone, ".next", "static"), { recursive: true });
if (existsSync(path.join(root, "public"))) cpSync(path.join(root, "public"), path.join(standalone, "public"), { recursive: true });
process.env.DATA_DIR ||= path.join(root, ".data");
await import(path.join(standalone, "server.js"));
