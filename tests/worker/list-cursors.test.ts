import { beforeAll, describe, expect, it } from "vitest";
import { base64url } from "../../src/lib/ids";
import { as, befriend, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";

type Item = { id?: string; name?: string; user?: { id: string } };
type Page = { items: Item[]; nextCursor: string | null };
type Who = { tenant: string; headers: Record<string, string> };

/** What identifies an item of any list: its id, its user's id, or its name (roles). */
const keyOf = (i: Item): string => i.id ?? i.user?.id ?? i.name ?? JSON.stringify(i);

async function page(path: string, who: Who, query: string): Promise<Page> {
  const sep = path.includes("?") ? "&" : "?";
  const res = await call(`${path}${sep}${query}`, who);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Page>();
}

/** Walks a list one item per page, following nextCursor to the end. */
async function walk(path: string, who: Who): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const p: Page = await page(path, who, `limit=1${cursor ? `&cursor=${cursor}` : ""}`);
    expect(p.items.length).toBeLessThanOrEqual(1);
    seen.push(...p.items.map(keyOf));
    cursor = p.nextCursor;
    if (!cursor) return seen;
  }
  throw new Error(`${path} did not end within 50 pages`);
}

describe("list cursors on the paged routes", () => {
  let slug: string;
  let owner: Who;
  let alice: Who;
  let bob: Who;
  /** Each list, with the number of sort keys its cursor carries. */
  let lists: { path: string; who: Who; arity: number }[];

  beforeAll(async () => {
    const t = await tenantWithOwner();
    slug = t.tenant.slug;
    owner = as(slug, t.owner);
    const [a, b, c, d, e, f, g] = await Promise.all(Array.from({ length: 7 }, () => registerUser(slug)));
    alice = as(slug, a!);
    bob = as(slug, b!);
    for (const friend of [b!, c!, d!]) await befriend(slug, a!, friend);
    for (const blocked of [e!, f!])
      expect((await call(`/v1/blocks/${blocked.userId}`, { method: "PUT", ...alice })).status).toBe(204);
    for (const from of [b!, c!])
      expect(
        (await call("/v1/friends/requests", { method: "POST", ...as(slug, from), json: { toUserId: g!.userId } }))
          .status,
      ).toBe(201);
    for (const fan of [b!, c!, d!])
      expect((await call(`/v1/users/${a!.userId}/follow`, { method: "PUT", ...as(slug, fan) })).status).toBe(200);
    for (const peer of [b!, c!])
      expect(
        (await call("/v1/conversations", { method: "POST", ...alice, json: { type: "direct", userId: peer.userId } }))
          .status,
      ).toBeLessThan(300);
    for (const name of ["k1", "k2"])
      expect(
        (await call("/v1/admin/api-keys", { method: "POST", ...owner, json: { name, permissions: ["users:read"] } }))
          .status,
      ).toBe(201);
    lists = [
      { path: "/v1/friends", who: alice, arity: 1 },
      { path: "/v1/friends/requests?direction=incoming", who: as(slug, g!), arity: 2 },
      { path: "/v1/blocks", who: alice, arity: 1 },
      { path: `/v1/users/${a!.userId}/followers`, who: bob, arity: 2 },
      { path: "/v1/users?q=u", who: alice, arity: 1 },
      { path: "/v1/conversations", who: alice, arity: 2 },
      { path: "/v1/admin/users", who: owner, arity: 1 },
      { path: "/v1/admin/roles", who: owner, arity: 1 },
      { path: "/v1/admin/api-keys", who: owner, arity: 1 },
    ];
  });

  it("one item per page gives exactly the full list, in order, and ends with a null cursor", async () => {
    for (const l of lists) {
      const full = (await page(l.path, l.who, "limit=100")).items.map(keyOf);
      expect(full.length, l.path).toBeGreaterThanOrEqual(2);
      expect(await walk(l.path, l.who), l.path).toEqual(full);
    }
  });

  it("refuses garbage, unsigned, tampered and other lists' cursors with 400 invalid_cursor, never a 500", async () => {
    const b64 = (v: unknown) => base64url(new TextEncoder().encode(JSON.stringify(v)));
    const issued = await Promise.all(lists.map(async (l) => (await page(l.path, l.who, "limit=1")).nextCursor!));
    for (const [i, l] of lists.entries()) {
      const sep = l.path.includes("?") ? "&" : "?";
      const [payload, mac] = issued[i]!.split(".");
      const forged = [
        "garbage",
        "A".repeat(200),
        `${payload}`,
        `${payload}.`,
        `.${mac}`,
        `${payload}.${mac}.x`,
        // Well-formed arrays of the wrong content, unsigned or with another payload's mac.
        b64(l.arity === 1 ? [1, "x"] : ["x"]),
        b64([{ nested: true }]),
        `${b64(l.arity === 1 ? [123] : ["x", "y"])}.${mac}`,
        `${b64(l.arity === 1 ? ["zzzzzzzzzzzzzzzzzzzzzzzzzz"] : [0, "zzzzzzzzzzzzzzzzzzzzzzzzzz"])}.${mac}`,
        // A genuine cursor of another list (same shape or not) does not work here.
        issued[(i + 1) % lists.length]!,
      ];
      for (const cursor of forged) {
        await expectProblem(
          await call(`${l.path}${sep}limit=1&cursor=${encodeURIComponent(cursor)}`, l.who),
          400,
          "invalid_cursor",
        );
      }
      // Longer than any cursor this API issues: the query schema refuses it first.
      await expectProblem(await call(`${l.path}${sep}cursor=${"A".repeat(201)}`, l.who), 400, "validation_failed");
    }
  });

  it("a cursor of the same list in another tenant is refused", async () => {
    const other = await tenantWithOwner();
    const users = await Promise.all([registerUser(other.tenant.slug), registerUser(other.tenant.slug)]);
    expect(users).toHaveLength(2);
    const theirs = (await page("/v1/admin/users", as(other.tenant.slug, other.owner), "limit=1")).nextCursor!;
    await expectProblem(await call(`/v1/admin/users?limit=1&cursor=${theirs}`, owner), 400, "invalid_cursor");
  });

  it("a cursor only positions the caller's own list: another user's cursor shows nothing of theirs", async () => {
    for (const path of ["/v1/friends", "/v1/conversations"]) {
      const alices = await page(path, alice, "limit=1");
      expect(alices.nextCursor, path).not.toBeNull();
      const bobsOwn = (await page(path, bob, "limit=100")).items.map(keyOf);
      const withAlicesCursor = (await page(path, bob, `limit=100&cursor=${alices.nextCursor}`)).items.map(keyOf);
      for (const k of withAlicesCursor) expect(bobsOwn, path).toContain(k);
    }
  });

  it("another tenant's token cannot read the lists", async () => {
    const other = await tenantWithOwner();
    for (const l of lists) {
      const res = await call(l.path, { tenant: other.tenant.slug, headers: l.who.headers });
      expect(res.status, l.path).toBe(401);
    }
  });
});
