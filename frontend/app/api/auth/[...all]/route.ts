import { ensureAuthSchema, getAuth } from "@/lib/server/auth";

async function handle(request: Request): Promise<Response> {
  await ensureAuthSchema();
  return getAuth().handler(request);
}

export { handle as GET, handle as POST };
