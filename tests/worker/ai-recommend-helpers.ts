import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import worker from "../../src/index";
import { as } from "./auth-helpers";
import { call, tenantDbOf } from "./helpers";
import type { Post, User } from "./post-helpers";

let seq = 0;

/** A CloudEvent as the outboxes publish it, with a fresh id unless given. */
export function recEvent(
  tenantId: string,
  type: string,
  data: Record<string, unknown>,
  id = `rec-${crypto.randomUUID()}`,
) {
  seq++;
  return {
    specversion: "1.0",
    id,
    source: `/tenants/${tenantId}`,
    type,
    time: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    tenantid: tenantId,
    datacontenttype: "application/json",
    data,
  };
}

/** Hands events to the Worker's queue handler as the `ai` queue would; every one must be acked. */
export async function deliverAi(bodies: unknown[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 100) {
    const chunk = bodies.slice(i, i + 100);
    const batch = createMessageBatch<unknown>(
      "canopy-ai",
      chunk.map((body) => ({ id: `m-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(chunk.length);
  }
}

/** `post.liked` of a post by a user, as content emits it. */
export const liked = (tenantId: string, userId: string, postId: string, authorId = "someone-else") =>
  recEvent(tenantId, "post.liked", { postId, authorId, userId });

/** Every post of a list route, following `nextCursor` to the end. */
export async function allPosts(slug: string, u: User, path: string): Promise<Post[]> {
  const out: Post[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const res = await call(`${path}${sep}limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, as(slug, u));
    expect(res.status, await res.clone().text()).toBe(200);
    const page = await res.json<{ items: Post[]; nextCursor: string | null }>();
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** The recommendation tables of a tenant, as plain maps (pairs keyed `p|q`). */
export async function recTables(slug: string) {
  const { db } = await tenantDbOf(slug);
  const pairs = await db.all<{ p: string; q: string; co: number }>(
    sql`SELECT post_id AS p, other_id AS q, co FROM rec_item_pairs`,
  );
  const norms = await db.all<{ p: string; total: number }>(sql`SELECT post_id AS p, total FROM rec_item_norms`);
  const weights = await db.all<{ u: string; p: string; w: number }>(
    sql`SELECT user_id AS u, post_id AS p, weight AS w FROM rec_interactions`,
  );
  const edges = await db.all<{ a: string; b: string }>(
    sql`SELECT user_id AS a, friend_id AS b FROM rec_friend_edges ORDER BY 1, 2`,
  );
  return {
    pairs: Object.fromEntries(pairs.map((r) => [`${r.p}|${r.q}`, Number(r.co)])),
    norms: Object.fromEntries(norms.map((r) => [r.p, Number(r.total)])),
    weights: Object.fromEntries(weights.map((r) => [`${r.u}|${r.p}`, Number(r.w)])),
    edges: edges.map((e) => `${e.a}>${e.b}`),
  };
}
