/**
 * The export benchmark's Worker (bench/privacy/run.ts builds it into the scratch directory, never
 * into dist/): the production Worker of src/index.ts plus `POST /v1/__bench/export` `{ userId }`,
 * mounted on its app after the gateway chain and only in this bundle: it records an export of
 * the user and builds it inline, as the queue consumer does (the bench's queues are a sink), and
 * answers the export's state and size. The caller times the request and samples workerd's memory.
 * A `.mts` file so that the Node type-check leaves it out (bench/privacy/tsconfig.json checks it).
 */
import { findExport, insertExport } from "../../src/db/tenant/exports";
import { newId } from "../../src/lib/ids";
import { createApp } from "../../src/workers/gateway/app";
import { handleQueue, runScheduled } from "../../src/workers/gateway/background";
import { scopeOf } from "../../src/workers/gateway/context";
import { buildExport } from "../../src/workers/privacy/export-build";

export { Conversation } from "../../src/durable/conversation";
export { Quota } from "../../src/durable/quota";
export { RateLimiter } from "../../src/durable/rate-limiter";
export { UserHub } from "../../src/durable/user-hub";

const app = createApp();

app.post("/v1/__bench/export", async (c) => {
  const { userId } = await c.req.json<{ userId: string }>();
  const s = scopeOf(c);
  const now = Date.now();
  const id = newId(now);
  await insertExport(s.db, { id, userId, requestedBy: "bench", now, notBefore: now });
  await buildExport(s, id, now);
  const e = await findExport(s.db, id);
  return c.json({ id, status: e?.status ?? null, size: e?.size ?? null, error: e?.error ?? null });
});

/** The Worker: as src/index.ts, with the route above on its app. */
export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    await handleQueue(batch, env);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduled(env));
  },
} satisfies ExportedHandler<Env>;
