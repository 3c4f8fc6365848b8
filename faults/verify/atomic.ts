/**
 * Never a half-applied write: in the tenant database, every change that faults could have cut
 * in half is whole. An account has its profile, settings, search row, roles and exactly one
 * `user.registered` event, and every such event its account; a follow row exists exactly when
 * its pair's `follow.created` events outnumber its `follow.removed` ones by one (each change
 * and its event commit together, docs/events.md). The API's view of follows must be the table's.
 */
import { z } from "zod";
import type { Sqlite } from "../storage";
import { check, fail, type Check } from "./check";

const Pair = z.object({ followerId: z.string(), followeeId: z.string() });

export function verifyAtomicWrites(tenant: Sqlite, apiFollowing: Map<string, Set<string>>): Check {
  const c = check("no half-applied writes (accounts, follows and their outbox events)");
  const users = tenant.rows(
    z.object({ id: z.string(), username: z.string().nullable(), email: z.string().nullable() }),
    "SELECT id, username, email FROM users",
  );
  const has = (table: string, column: string) =>
    new Set(tenant.rows(z.object({ id: z.string() }), `SELECT ${column} AS id FROM ${table}`).map((r) => r.id));
  const profiles = has("profiles", "user_id");
  const settings = has("user_settings", "user_id");
  const search = has("user_search", "user_id");
  const roles = has("user_roles", "user_id");
  const registered = new Map<string, number>();
  for (const e of tenant.rows(
    z.object({ data: z.string() }),
    "SELECT data FROM outbox WHERE type = 'user.registered'",
  )) {
    const d = z.object({ userId: z.string() }).parse(JSON.parse(e.data));
    registered.set(d.userId, (registered.get(d.userId) ?? 0) + 1);
  }
  for (const u of users) {
    c.attempted++;
    const name = u.username ?? u.email ?? u.id;
    const parts: [string, Set<string>][] = [
      ["profile", profiles],
      ["settings", settings],
      ["search entry", search],
      ["role", roles],
    ];
    const missing = parts.filter(([, set]) => !set.has(u.id)).map(([what]) => what);
    const events = registered.get(u.id) ?? 0;
    if (missing.length || events !== 1)
      fail(
        c,
        `account ${name} (${u.id}): ${missing.length ? `missing ${missing.join(", ")}; ` : ""}${events} user.registered events`,
      );
    else c.found++;
  }
  for (const id of registered.keys())
    if (!users.some((u) => u.id === id)) fail(c, `user.registered event for ${id}, which has no account`);

  const rows = new Set(
    tenant
      .rows(
        z.object({ follower_id: z.string(), followee_id: z.string() }),
        "SELECT follower_id, followee_id FROM follows",
      )
      .map((r) => `${r.follower_id}>${r.followee_id}`),
  );
  const balance = new Map<string, number>();
  for (const e of tenant.rows(
    z.object({ type: z.string(), data: z.string() }),
    "SELECT type, data FROM outbox WHERE type IN ('follow.created', 'follow.removed')",
  )) {
    const d = Pair.parse(JSON.parse(e.data));
    const k = `${d.followerId}>${d.followeeId}`;
    balance.set(k, (balance.get(k) ?? 0) + (e.type === "follow.created" ? 1 : -1));
  }
  for (const k of new Set([...rows, ...balance.keys()])) {
    c.attempted++;
    const want = rows.has(k) ? 1 : 0;
    if ((balance.get(k) ?? 0) !== want)
      fail(
        c,
        `follow ${k}: row ${rows.has(k) ? "present" : "absent"} but events created − removed = ${balance.get(k) ?? 0}`,
      );
    else c.found++;
  }
  for (const [follower, followees] of apiFollowing) {
    for (const f of followees)
      if (!rows.has(`${follower}>${f}`)) fail(c, `/following of ${follower} lists ${f}, the follows table does not`);
  }
  for (const k of rows) {
    const [follower, followee] = k.split(">");
    const seen = apiFollowing.get(follower!);
    if (seen && !seen.has(followee!)) fail(c, `the follows table has ${k}, /following does not`);
  }
  c.acknowledged = c.attempted;
  return c;
}
