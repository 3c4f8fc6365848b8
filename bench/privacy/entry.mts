/**
 * The export benchmark's Worker (bench/privacy/run.ts builds it into the scratch directory, never
 * into dist/): the production Worker of src/index.ts plus `POST /v1/__bench/export` `{ userId }`,
 * mounted on its app after the gateway chain and only in this bundle: it records an export of
 * the user and builds it inline, as the queue consumer does (the bench's queues are a sink), and
 * answers the export's state and size. The caller times the request and samples workerd's memory.
 * Raw workerd has no local R2: the bucket is stood in by a writable disk directory (the
 * `BENCH_BLOBS` disk service), through the few bucket methods the export uses, so the archive's
 * bytes really go to disk and come back from it.
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
export { RealtimeGateway } from "../../src/durable/realtime";

const app = createApp();

/** The bucket methods the export uses, over workerd's disk service (one file per key). */
function diskBucket(disk: Fetcher): R2Bucket {
  const url = (key: string) => `http://blobs/${encodeURIComponent(key.replaceAll("/", "~"))}`;
  const ok = async (res: Response, what: string) => {
    if (!res.ok) throw new Error(`disk ${what}: ${res.status} ${await res.text()}`);
    return res;
  };
  const bucket = {
    async put(key: string, body: ReadableStream | ArrayBuffer | ArrayBufferView | string) {
      await ok(await disk.fetch(url(key), { method: "PUT", body }), `put ${key}`);
      return { key };
    },
    async get(key: string) {
      const res = await disk.fetch(url(key));
      if (res.status === 404) return null;
      await ok(res, `get ${key}`);
      return { key, body: res.body, size: Number(res.headers.get("content-length") ?? 0) };
    },
    async head(key: string) {
      const res = await disk.fetch(url(key), { method: "HEAD" });
      return res.ok ? { key, size: Number(res.headers.get("content-length") ?? 0) } : null;
    },
    async delete(keys: string | string[]) {
      for (const k of Array.isArray(keys) ? keys : [keys]) await disk.fetch(url(k), { method: "DELETE" });
    },
  };
  return bucket as unknown as R2Bucket;
}

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

interface BenchEnv {
  BENCH_BLOBS: Fetcher;
}

/** The Worker: as src/index.ts, with the route above on its app and the bucket on disk. */
export default {
  fetch: (req, env, ctx) => app.fetch(req, { ...env, FILES: diskBucket((env as unknown as BenchEnv).BENCH_BLOBS) }, ctx),
  async queue(batch, env, _ctx) {
    await handleQueue(batch, env);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduled(env));
  },
} satisfies ExportedHandler<Env>;
