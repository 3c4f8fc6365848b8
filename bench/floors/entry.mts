/**
 * The main benchmark's Worker (bench/run.ts builds it into the scratch directory, never into
 * dist/): the production Worker of src/index.ts, plus the floors its goal rows divide by, served
 * outside the gateway chain, as `GET /__bare` is:
 * - `GET /__floor/rpc`: one empty Durable Object RPC (the {@link BenchFloor} object, by name);
 * - `GET /__floor/hrana`: the Hrana pipeline `GET /v1/tenant` sends, sent to the same database
 *   with a plain `fetch` (set up once by `POST /__floor/hrana`, below);
 * - `GET /__floor/pbkdf2`: one password hash at the configured cost (src/lib/password.ts).
 * Every request pays the same one-line path test before the production app sees it, so the bare
 * route and the chain bear it alike.
 * A `.mts` file so that the Node type-check leaves it out (bench/floors/tsconfig.json checks it).
 */
import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/libsql/web";
import { createClient } from "@libsql/client/web";
import { readPublicInfo } from "../../src/db/tenant/settings";
import type { TenantDb } from "../../src/db/client";
import { hashPassword } from "../../src/lib/password";
import { createApp } from "../../src/workers/gateway/app";
import { handleQueue, runScheduled } from "../../src/workers/gateway/background";

export { Conversation } from "../../src/durable/conversation";
export { MetricsHub } from "../../src/durable/metrics-hub";
export { Quota } from "../../src/durable/quota";
export { RateLimiter } from "../../src/durable/rate-limiter";
export { UserHub } from "../../src/durable/user-hub";
export { RealtimeGateway } from "../../src/durable/realtime";

/** The RPC floor's object: a method that does nothing. */
export class BenchFloor extends DurableObject {
  ping(): void {}
}

interface FloorEnv {
  BENCH_FLOOR: DurableObjectNamespace<BenchFloor>;
}

/** What `GET /__floor/hrana` replays: the database's pipeline URL, its token and the exact body. */
let hrana: { url: string; token: string; body: string } | undefined;

/**
 * Records the pipeline `readPublicInfo` (the read behind `GET /v1/tenant`) sends to `url`, through
 * the same libSQL client and drizzle the product uses; the request really reaches the database.
 */
async function recordPipeline(url: string, token: string): Promise<string> {
  let captured: { url: string; body: string } | undefined;
  const client = createClient({
    url,
    authToken: token,
    intMode: "number",
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      captured = { url: req.url, body: await req.clone().text() };
      return fetch(req);
    },
  });
  const info = await readPublicInfo(drizzle(client) as unknown as TenantDb);
  if (!info || !captured) throw new Error("the tenant database answered no public info");
  hrana = { url: captured.url, token, body: captured.body };
  return captured.body;
}

async function floor(req: Request, env: Env & FloorEnv): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (path === "/__floor/rpc") {
    await env.BENCH_FLOOR.get(env.BENCH_FLOOR.idFromName("floor")).ping();
    return new Response("ok");
  }
  if (path === "/__floor/pbkdf2") {
    await hashPassword("correct horse battery staple");
    return new Response("ok");
  }
  if (path === "/__floor/hrana" && req.method === "POST") {
    const { url, token } = await req.json<{ url: string; token: string }>();
    return Response.json({ body: await recordPipeline(url, token) });
  }
  if (path === "/__floor/hrana" && hrana) {
    const res = await fetch(hrana.url, {
      method: "POST",
      headers: { authorization: `Bearer ${hrana.token}`, "content-type": "application/json" },
      body: hrana.body,
    });
    const text = await res.text();
    return new Response(text, { status: res.ok ? 200 : 502 });
  }
  return new Response("no such floor", { status: 404 });
}

const app = createApp();

/** The Worker: as src/index.ts, with the floors in front of the app. */
export default {
  fetch: (req, env, ctx) =>
    req.url.includes("/__floor/") ? floor(req, env as Env & FloorEnv) : app.fetch(req, env, ctx),
  async queue(batch, env, ctx) {
    await handleQueue(batch, env, (p) => ctx.waitUntil(p));
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduled(env));
  },
} satisfies ExportedHandler<Env>;
