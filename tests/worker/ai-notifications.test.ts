import { describe, expect, it, vi } from "vitest";
import { aiTenant, grant, moderate } from "./ai-helpers";
import { as, registerUser, type Tokens } from "./auth-helpers";
import { call } from "./helpers";

interface Inbox {
  items: { type: string; title: string; data: Record<string, unknown> }[];
}
const inbox = async (slug: string, u: { tokens: Tokens }) => {
  const res = await call("/v1/notifications", as(slug, u));
  expect(res.status).toBe(200);
  return (await res.json<Inbox>()).items;
};

/** The AI service's notices: quota warnings (user and pool), grants and moderation decisions. */
describe("AI notifications", () => {
  it("a user's warnings and a grant reach the user's inbox; the pool's warnings reach the admins", async () => {
    const { slug, owner } = await aiTenant({
      quota: { units: 10 },
      pool: { units: 20, period: "month" },
      lease: { enabled: false },
    });
    const u = await registerUser(slug);
    for (let i = 0; i < 9; i++) expect((await moderate(slug, u)).status).toBe(200);
    await vi.waitFor(
      async () => {
        const levels = (await inbox(slug, u)).filter((n) => n.type === "ai_quota_warning").map((n) => n.data.level);
        expect(levels.sort()).toEqual(["critical", "warning"]);
      },
      { timeout: 15_000, interval: 250 },
    );
    await grant(slug, owner, u.userId, 7, "sorry for the outage");
    await vi.waitFor(
      async () =>
        expect((await inbox(slug, u)).find((n) => n.type === "ai_quota_granted")?.title).toBe(
          "You received 7 AI units",
        ),
      { timeout: 15_000, interval: 250 },
    );
    // The pool of 20: 9 used so far; 9 more cross 20 % (4 left) and 10 % (2 left).
    const v = await registerUser(slug);
    for (let i = 0; i < 9; i++) expect((await moderate(slug, v)).status).toBe(200);
    await vi.waitFor(
      async () => {
        const pool = (await inbox(slug, owner)).filter((n) => n.type === "ai_quota_warning" && n.data.scope === "pool");
        expect(pool.map((n) => n.data.level).sort()).toEqual(["critical", "warning"]);
      },
      { timeout: 15_000, interval: 250 },
    );
    // The pool's warnings are the tenant's, not the user's who crossed them.
    expect((await inbox(slug, v)).some((n) => n.data.scope === "pool")).toBe(false);
  });
});
