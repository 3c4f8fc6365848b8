import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { retentionSweep } from "../../src/workers/privacy/retention";
import { as, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, tenantDbOf, tenantScopeOf } from "./helpers";
import { upload } from "./post-helpers";

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** The first full hour at or after `t` (the sweep runs at minute 0). */
const onTheHour = (t: number) => Math.ceil(t / HOUR) * HOUR;

describe("retention", () => {
  it("removes messages, notifications and attachments past the tenant's limits; seqs keep growing", async () => {
    const { tenant } = await tenantWithOwner({ retention: { messagesDays: 30, notificationsDays: 7, filesDays: 90 } });
    const slug = tenant.slug;
    const [a, b] = await Promise.all([registerUser(slug), registerUser(slug)]);
    const res = await call("/v1/conversations", {
      method: "POST",
      ...as(slug, a),
      json: { type: "group", name: "g", memberIds: [b.userId] },
    });
    const gid = (await res.json<{ id: string }>()).id;
    const send = async (text: string) =>
      (
        await call(`/v1/conversations/${gid}/messages`, {
          method: "POST",
          ...as(slug, a),
          json: { clientId: crypto.randomUUID(), kind: "text", body: { text } },
        })
      ).json<{ seq: number }>();
    await send("one");
    await send("two");
    const last = await send("three");
    const fileId = await upload(slug, a);
    const { db } = await tenantDbOf(slug);
    await db.run(sql`INSERT INTO notifications (id, user_id, type, title, body, data, count, created_at, updated_at)
      VALUES ('n-old', ${b.userId}, 'x', 't', 'b', '{}', 1, ${Date.now()}, ${Date.now()})`);
    const [file] = await db.all<{ r2_key: string }>(sql`SELECT r2_key FROM files WHERE id = ${fileId}`);
    const scope = await tenantScopeOf(slug);

    // Not on the hour: nothing runs. On the hour, before the limits: nothing goes.
    expect(await retentionSweep(scope, onTheHour(Date.now()) + 60_000)).toEqual({});
    const early = await retentionSweep(scope, onTheHour(Date.now() + DAY));
    expect(early).toMatchObject({ notificationsPruned: 0, filesPruned: 0, messagesPruned: 0 });

    const later = await retentionSweep(scope, onTheHour(Date.now() + 91 * DAY));
    expect(later.notificationsPruned).toBe(1);
    expect(later.filesPruned).toBe(1);
    expect(await env.FILES.head(file!.r2_key)).toBeNull();
    // The log keeps its latest entry (the highest seq), so the next message still goes above it.
    const history = await (await call(`/v1/conversations/${gid}/messages?limit=100`, as(slug, b))).json<{
      items: { seq: number }[];
    }>();
    expect(history.items.map((m) => m.seq)).toEqual([last.seq]);
    const next = await send("four");
    expect(next.seq).toBe(last.seq + 1);
  });

  it("keeps audit entries for audit.retentionDays, never one younger than a day", async () => {
    const { tenant, owner } = await tenantWithOwner({ audit: { retentionDays: 30 } });
    const slug = tenant.slug;
    const u = await registerUser(slug);
    await call(`/v1/admin/users/${u.userId}/force-logout`, { method: "POST", ...as(slug, owner) });
    const { db } = await tenantDbOf(slug);
    const old = Date.now() - 40 * DAY;
    await db.run(sql`INSERT INTO audit_log (id, at, actor_type, actor_id, action, outcome)
      VALUES ('old-entry', ${old}, 'user', 'x', 'suspendUser', 'succeeded')`);
    const swept = await retentionSweep(await tenantScopeOf(slug), onTheHour(Date.now()));
    expect(swept.auditPruned).toBe(1);
    const left = await db.all<{ id: string }>(sql`SELECT id FROM audit_log`);
    expect(left.map((r) => r.id)).not.toContain("old-entry");
    expect(left.length).toBeGreaterThan(0);
    // A sweep far in the future still cannot remove what is younger than a day by the database's clock.
    expect((await retentionSweep(await tenantScopeOf(slug), onTheHour(Date.now() + 400 * DAY))).auditPruned).toBe(0);
  });
});
