/**
 * Every friend relation is symmetric in both hubs, and the graph operations that were
 * acknowledged are what the graph shows. Friends lists come from `GET /v1/friends` (each user's
 * hub); a one-sided friendship may still be converging (the hubs' redelivery runs on alarms
 * with backoff), so the lists are read again for a while before an asymmetry counts. Follows
 * come from `GET /v1/users/{id}/following`. For each pair, the last operation decides: if it
 * was acknowledged, the pair must be in that state; if it was not, either state is allowed.
 */
import { z } from "zod";
import { callWithRetry, sleep, type Api } from "../http";
import type { GraphOp } from "../load/graph";
import type { User } from "../world";
import { check, fail, type Check } from "./check";

/** A page of `/v1/friends` (items `{ user, … }`) or of `/following` (public users `{ id, … }`). */
const Page = z.object({
  items: z.array(
    z.union([
      z
        .object({ user: z.object({ id: z.string() }).loose() })
        .loose()
        .transform((i) => i.user.id),
      z
        .object({ id: z.string() })
        .loose()
        .transform((i) => i.id),
    ]),
  ),
  nextCursor: z.string().nullable(),
});

async function pages(api: Api, op: string, path: string, token: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let cursor: string | null = null; ; ) {
    const url = `${path}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const { last } = await callWithRetry(api, op, "GET", url, { token }, Date.now() + 30_000);
    if (last.status !== 200) throw new Error(`${path}: ${last.status ?? last.error} ${last.body}`);
    const page = Page.parse(last.json);
    for (const id of page.items) ids.add(id);
    if (!page.nextCursor) return ids;
    cursor = page.nextCursor;
  }
}

const friendsOf = (api: Api, u: User) => pages(api, "verify.friends", "/v1/friends", u.accessToken);

function asymmetries(lists: Map<string, Set<string>>, name: (id: string) => string): string[] {
  const out: string[] = [];
  for (const [a, friends] of lists) {
    for (const b of friends) {
      const back = lists.get(b);
      if (back && !back.has(a))
        out.push(`${name(a)} lists ${name(b)} as a friend, ${name(b)} does not list ${name(a)}`);
    }
  }
  return out;
}

/** The last operation on each pair (operations of one loop are sequential, so start order is their order). */
function lastOps(ops: GraphOp[], kinds: GraphOp["kind"][]): Map<string, GraphOp> {
  const m = new Map<string, GraphOp>();
  for (const op of [...ops].filter((o) => kinds.includes(o.kind)).sort((x, y) => x.startedAt - y.startedAt))
    m.set(`${op.a.userId}:${op.b.userId}`, op);
  return m;
}

export async function verifyFriends(api: Api, users: User[], ops: GraphOp[], convergeMs: number): Promise<Check> {
  const c = check("friend relations symmetric in both hubs; acknowledged changes present");
  const name = (id: string) => users.find((u) => u.userId === id)?.username ?? id;
  let lists = new Map<string, Set<string>>();
  const deadline = Date.now() + convergeMs;
  let waitedS = 0;
  for (;;) {
    lists = new Map();
    for (const u of users) lists.set(u.userId, await friendsOf(api, u));
    if (!asymmetries(lists, name).length || Date.now() >= deadline) break;
    await sleep(2000);
    waitedS += 2;
  }
  for (const a of asymmetries(lists, name)) fail(c, a);
  if (waitedS) c.notes.push(`waited ${waitedS} s for the hubs to converge`);
  let unknown = 0;
  const friendOps = ops.filter((o) => o.kind === "befriend" || o.kind === "unfriend");
  c.attempted = friendOps.length;
  c.acknowledged = friendOps.filter((o) => o.acked).length;
  for (const op of lastOps(ops, ["befriend", "unfriend"]).values()) {
    if (!op.acked) {
      unknown++;
      continue;
    }
    const want = op.kind === "befriend";
    const both =
      (lists.get(op.a.userId)?.has(op.b.userId) ?? false) === want &&
      (lists.get(op.b.userId)?.has(op.a.userId) ?? false) === want;
    if (both) c.found++;
    else {
      c.lost++;
      fail(
        c,
        `acknowledged ${op.kind} of ${op.a.username} and ${op.b.username} (answer ${op.outcome}) is not what both hubs show`,
      );
    }
  }
  c.notes.push(
    `pairs checked by their last acknowledged operation: ${c.found + c.lost}; last operation unacknowledged (either state allowed): ${unknown}`,
  );
  return c;
}

export async function verifyFollows(
  api: Api,
  users: User[],
  ops: GraphOp[],
): Promise<{ check: Check; following: Map<string, Set<string>> }> {
  const c = check("follows: acknowledged follows and unfollows present");
  const following = new Map<string, Set<string>>();
  for (const u of users)
    following.set(u.userId, await pages(api, "verify.following", `/v1/users/${u.userId}/following`, u.accessToken));
  const followOps = ops.filter((o) => o.kind === "follow" || o.kind === "unfollow");
  c.attempted = followOps.length;
  c.acknowledged = followOps.filter((o) => o.acked).length;
  for (const op of lastOps(ops, ["follow", "unfollow"]).values()) {
    if (!op.acked) continue;
    const has = following.get(op.a.userId)?.has(op.b.userId) ?? false;
    if (has === (op.kind === "follow")) c.found++;
    else {
      c.lost++;
      fail(
        c,
        `acknowledged ${op.kind} ${op.a.username} → ${op.b.username} (answer ${op.outcome}) is not what /following shows`,
      );
    }
  }
  return { check: c, following };
}
