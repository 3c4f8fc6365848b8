/**
 * The AI benchmark's Worker (bench/ai/run.ts builds it into the scratch directory, never into
 * dist/): the production Worker of src/index.ts, assembled the same way, plus three routes mounted
 * on its app after the gateway chain (request id, tenant resolution) and only in this bundle:
 * - `GET /v1/__bench/ai-check`: one quota check of the user named by `x-bench-user`, the gate's
 *   real `hold` of 1 unit (user quota, then the pool) and its `settle`; answers whether each part
 *   came from this isolate's lease;
 * - `POST /v1/__bench/ai-batch`: many such checks inside one request, for the gate's own
 *   throughput in an isolate;
 * - `GET /v1/__bench/ai-state`: what the checks granted per user of the tenant, the isolate's
 *   lease counters and the pool object's numbers, for the checks after each round.
 * It is a `.mts` file so that the Node type-check (tsconfig.node.json, `bench/**\/*.ts`) does not
 * take it in: it needs the Worker's types and is checked with bench/ai/tsconfig.json.
 */
import { quotaStub } from "../../src/durable/protocol/stubs";
import { quotaConfigs } from "../../src/workers/ai-core/facts";
import { hold, settle } from "../../src/workers/ai-core/gate";
import { leaseCounters } from "../../src/workers/ai-core/leases";
import { createApp } from "../../src/workers/gateway/app";
import { handleQueue, runScheduled } from "../../src/workers/gateway/background";
import { scopeOf } from "../../src/workers/gateway/context";

export { Conversation } from "../../src/durable/conversation";
export { Quota } from "../../src/durable/quota";
export { RateLimiter } from "../../src/durable/rate-limiter";
export { UserHub } from "../../src/durable/user-hub";
export { RealtimeGateway } from "../../src/durable/realtime";

const app = createApp();

/** Checks granted per `<tenant id>:<user id>` by this isolate (workerd runs one). */
const granted = new Map<string, number>();
/** Per tenant id: checks answered, and those whose user part, pool part, or both came from a lease. */
const counts = new Map<string, { checks: number; userLeased: number; poolLeased: number; bothLeased: number }>();
const countsOf = (tenantId: string) => {
  let c = counts.get(tenantId);
  if (!c) counts.set(tenantId, (c = { checks: 0, userLeased: 0, poolLeased: 0, bothLeased: 0 }));
  return c;
};

type Scope = ReturnType<typeof scopeOf>;

/** One check: the gate's hold of 1 unit and its settle, counted; whether each part was leased. */
async function checkOnce(s: Scope, userId: string, waitUntil: (p: Promise<unknown>) => void) {
  const held = await hold(s, { userId, feature: "bench", estimate: 1, ttlMs: 60_000 }, waitUntil);
  // Read before the settle, which clears the parts.
  const u = held.user?.via === "lease" ? 1 : 0;
  const p = held.pool?.via === "lease" ? 1 : 0;
  await settle(s, held, 1);
  const key = `${s.tenant.id}:${userId}`;
  granted.set(key, (granted.get(key) ?? 0) + 1);
  const n = countsOf(s.tenant.id);
  n.checks++;
  n.userLeased += u;
  n.poolLeased += p;
  n.bothLeased += u & p;
  return { u, p };
}

app.get("/v1/__bench/ai-check", async (c) => {
  const userId = c.req.header("x-bench-user");
  if (!userId) return c.text("x-bench-user is missing", 400);
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  // A load generator that stops mid-request drops its connection; under waitUntil the check
  // still settles and is counted, so the counts after a round are exact.
  const done = checkOnce(scopeOf(c), userId, waitUntil);
  waitUntil(done);
  return c.json(await done);
});

/**
 * `POST /v1/__bench/ai-batch` `{ users, n, concurrency }`: n checks inside this one request,
 * `concurrency` at a time, the users taken in turn: the gate's own throughput in one isolate,
 * without a request (and its chain) per check. The caller times the request.
 */
app.post("/v1/__bench/ai-batch", async (c) => {
  const body = await c.req.json<{ users: string[]; n: number; concurrency: number }>();
  if (!Array.isArray(body.users) || body.users.length === 0) return c.text("users is missing", 400);
  const s = scopeOf(c);
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  let next = 0;
  let checks = 0;
  let userLeased = 0;
  let bothLeased = 0;
  const failed: string[] = [];
  const worker = async () => {
    for (let i = next++; i < body.n; i = next++) {
      try {
        const r = await checkOnce(s, body.users[i % body.users.length]!, waitUntil);
        checks++;
        userLeased += r.u;
        bothLeased += r.u & r.p;
      } catch (err) {
        // Counted, not fatal: the caller reports every failed check (a hold that failed granted nothing).
        failed.push(String(err).slice(0, 200));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, body.concurrency) }, worker));
  return c.json({ checks, userLeased, bothLeased, failed: failed.length, firstFailure: failed[0] ?? null });
});

app.get("/v1/__bench/ai-state", async (c) => {
  const s = scopeOf(c);
  const prefix = `${s.tenant.id}:`;
  const mine: Record<string, number> = {};
  for (const [k, n] of granted) if (k.startsWith(prefix)) mine[k.slice(prefix.length)] = n;
  const cfg = quotaConfigs(s).pool;
  const pool = cfg
    ? await quotaStub(c.env, s.tenant.id, null).status({ owner: { tenantId: s.tenant.id, scope: "pool" }, cfg })
    : null;
  return c.json({
    counts: countsOf(s.tenant.id),
    leaseCounters,
    granted: mine,
    pool: pool?.kind === "status" ? { used: pool.used, reserved: pool.reserved } : null,
  });
});

/** The Worker: as src/index.ts, with the three routes above on its app. */
export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    await handleQueue(batch, env);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduled(env));
  },
} satisfies ExportedHandler<Env>;
