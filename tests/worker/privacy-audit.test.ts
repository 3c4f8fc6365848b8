import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { platformDb } from "../../src/db/client";
import { as, bearer, login, registerUser, tenantWithOwner, type Tokens } from "./auth-helpers";
import { call, expectProblem, tenantDbOf } from "./helpers";

interface Entry {
  id: string;
  at: string;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string | null; id: string | null };
  outcome: string;
  requestId: string | null;
  changes?: { before: unknown; after: unknown };
}
interface OpenApi {
  paths: Record<string, Record<string, { operationId?: string }>>;
}

const auditLog = async (slug: string, u: { tokens: Tokens }, query = "") => {
  const res = await call(`/v1/admin/audit-log?limit=100${query}`, as(slug, u));
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json<{ items: Entry[]; nextCursor: string | null }>()).items;
};

/** Every operation of /openapi.json that changes something (or exports) under an admin prefix. */
async function adminOperations(prefix: string) {
  const doc = await (await call("/openapi.json")).json<OpenApi>();
  const ops: { method: string; path: string; operationId: string }[] = [];
  for (const [path, byMethod] of Object.entries(doc.paths)) {
    if (!path.startsWith(prefix)) continue;
    for (const [method, op] of Object.entries(byMethod)) {
      const changes = ["post", "put", "patch", "delete"].includes(method);
      if ((changes || path.endsWith("/export")) && op.operationId)
        ops.push({ method, path, operationId: op.operationId });
    }
  }
  return ops;
}

describe("audit log", () => {
  it("every admin operation of /openapi.json leaves an entry, refused ones too", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const slug = tenant.slug;
    const ops = await adminOperations("/v1/admin/");
    expect(ops.length).toBeGreaterThan(30);
    for (const op of ops) {
      const path = op.path.replace(/\{[^}]+\}/g, "nope");
      const body = op.method === "get" ? {} : { json: {} };
      await call(path, { method: op.method.toUpperCase(), ...as(slug, owner), ...body });
    }
    const actions = new Set<string>();
    let cursor: string | null = null;
    do {
      const res = await call(`/v1/admin/audit-log?limit=100${cursor ? `&cursor=${cursor}` : ""}`, as(slug, owner));
      const page = await res.json<{ items: Entry[]; nextCursor: string | null }>();
      for (const e of page.items) actions.add(e.action);
      cursor = page.nextCursor;
    } while (cursor);
    expect(ops.map((o) => o.operationId).filter((id) => !actions.has(id))).toEqual([]);
  });

  it("every platform admin operation leaves an entry in the platform's log", async () => {
    const ops = await adminOperations("/admin/v1/");
    expect(ops.length).toBeGreaterThan(5);
    const started = new Date(Date.now() - 1000).toISOString();
    for (const op of ops) {
      const path = op.path.replace(/\{[^}]+\}/g, `nope-${crypto.randomUUID().slice(0, 8)}`);
      await call(path, { method: op.method.toUpperCase(), admin: true, ...(op.method === "get" ? {} : { json: {} }) });
    }
    const res = await call(`/admin/v1/audit-log?limit=100&from=${encodeURIComponent(started)}`, { admin: true });
    expect(res.status, await res.clone().text()).toBe(200);
    const { items } = await res.json<{ items: Entry[] }>();
    const actions = new Set(items.map((e) => e.action));
    expect(ops.map((o) => o.operationId).filter((id) => !actions.has(id))).toEqual([]);
    expect(items.every((e) => e.actor.type === "platform")).toBe(true);
  });

  it("records actor, target, outcome, request id and a role edit's before and after; filters by actor, action, target and time", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const slug = tenant.slug;
    const u = await registerUser(slug);
    const ownerId = (await (await call("/v1/me", as(slug, owner))).json<{ id: string }>()).id;
    const suspend = await call(`/v1/admin/users/${u.userId}/suspend`, { method: "POST", ...as(slug, owner) });
    expect(suspend.status).toBe(200);
    const role = await call("/v1/admin/roles", {
      method: "POST",
      ...as(slug, owner),
      json: { name: "editor", permissions: ["content:moderate"], rank: 10 },
    });
    expect(role.status, await role.clone().text()).toBe(201);
    const roleId = (await role.json<{ id: string }>()).id;
    const patch = await call(`/v1/admin/roles/${roleId}`, {
      method: "PATCH",
      ...as(slug, owner),
      json: { permissions: ["content:moderate", "users:read"] },
    });
    expect(patch.status).toBe(200);
    await call(`/v1/admin/users/nope/resume`, { method: "POST", ...as(slug, owner) });

    const [suspended] = await auditLog(slug, owner, "&action=suspendUser");
    expect(suspended).toMatchObject({
      actor: { type: "user", id: ownerId },
      target: { type: "user", id: u.userId },
      outcome: "succeeded",
      requestId: suspend.headers.get("x-request-id"),
    });
    const [created] = await auditLog(slug, owner, "&action=createRole");
    expect(created?.target).toEqual({ type: "role", id: roleId });
    const [edited] = await auditLog(slug, owner, `&targetId=${roleId}&action=updateRole`);
    expect(edited?.changes).toMatchObject({
      before: { permissions: ["content:moderate"] },
      after: { permissions: ["content:moderate", "users:read"] },
    });
    const [refused] = await auditLog(slug, owner, "&action=resumeUser");
    expect(refused).toMatchObject({ outcome: "failed", target: { id: "nope" } });
    expect((await auditLog(slug, owner, `&actorId=${u.userId}`)).length).toBe(0);
    const future = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    expect(await auditLog(slug, owner, `&from=${future}`)).toEqual([]);
    expect((await auditLog(slug, owner, `&to=${future}`)).length).toBeGreaterThanOrEqual(4);
  });

  it("is append-only: the schema refuses edits and early deletes, and no route changes an entry", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const slug = tenant.slug;
    const u = await registerUser(slug);
    await call(`/v1/admin/users/${u.userId}/force-logout`, { method: "POST", ...as(slug, owner) });
    const [entry] = await auditLog(slug, owner, "&action=forceLogoutUser");
    expect(entry?.outcome).toBe("succeeded");
    const { db } = await tenantDbOf(slug);
    await expect(db.run(sql`UPDATE audit_log SET action = 'x' WHERE id = ${entry!.id}`)).rejects.toThrow();
    await expect(db.run(sql`UPDATE audit_log SET outcome = 'failed' WHERE id = ${entry!.id}`)).rejects.toThrow();
    await expect(db.run(sql`DELETE FROM audit_log WHERE id = ${entry!.id}`)).rejects.toThrow();
    await expect(platformDb(env).run(sql`UPDATE audit_log SET action = 'x'`)).rejects.toThrow();
    // No operation of the API writes to the log: none names it but the two reads.
    const doc = await (await call("/openapi.json")).json<OpenApi>();
    const touching = Object.entries(doc.paths).flatMap(([p, m]) =>
      p.includes("audit-log") || p.includes("security-log") ? Object.keys(m) : [],
    );
    expect(touching.sort()).toEqual(["get", "get", "get"]);
  });

  it("is for owners and admins (audit:read) of the tenant only; a member's attempt at an admin action is recorded", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const other = await tenantWithOwner();
    const u = await registerUser(tenant.slug);
    await expectProblem(await call("/v1/admin/audit-log", as(tenant.slug, u)), 403, "forbidden");
    await expectProblem(
      await call("/v1/admin/roles", { method: "POST", ...as(tenant.slug, u), json: { name: "x", permissions: [] } }),
      403,
      "forbidden",
    );
    const [attempt] = await auditLog(tenant.slug, owner, `&actorId=${u.userId}&action=createRole`);
    expect(attempt).toMatchObject({ outcome: "failed", actor: { type: "user", id: u.userId } });
    expect((await call("/v1/admin/audit-log", as(other.tenant.slug, owner))).status).toBe(401);
    await expectProblem(
      await call("/v1/admin/audit-log?from=yesterday", as(tenant.slug, owner)),
      400,
      "validation_failed",
    );
    await expectProblem(await call("/v1/admin/audit-log?cursor=forged", as(tenant.slug, owner)), 400, "invalid_cursor");
    const backwards = await call(
      "/v1/admin/audit-log?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
      as(tenant.slug, owner),
    );
    await expectProblem(backwards, 400, "validation_failed");
    // API keys read the log with audit:read, and only with it.
    const keyOf = async (permissions: string[]) => {
      const res = await call("/v1/admin/api-keys", {
        method: "POST",
        ...as(tenant.slug, owner),
        json: { name: "ops", permissions },
      });
      expect(res.status, await res.clone().text()).toBe(201);
      return { tenant: tenant.slug, headers: bearer((await res.json<{ key: string }>()).key) };
    };
    await expectProblem(await call("/v1/admin/audit-log", await keyOf(["users:read"])), 403, "forbidden");
    const byKey = await call("/v1/admin/audit-log?action=createApiKey", await keyOf(["audit:read"]));
    expect(byKey.status).toBe(200);
    expect((await byKey.json<{ items: Entry[] }>()).items.length).toBeGreaterThanOrEqual(2);
    expect((await call("/admin/v1/audit-log", { headers: bearer(owner.tokens.accessToken) })).status).toBe(401);
  });
});

describe("security log", () => {
  it("shows a user their own security events and nobody else's", async () => {
    const { tenant } = await tenantWithOwner();
    const slug = tenant.slug;
    const [u, v] = await Promise.all([registerUser(slug), registerUser(slug)]);
    const next = `New-${crypto.randomUUID()}`;
    const change = await call("/v1/auth/password", {
      method: "POST",
      ...as(slug, u),
      json: { currentPassword: u.password, newPassword: next },
    });
    expect(change.status, await change.clone().text()).toBe(204);
    const signedIn = await login(slug, u.username, next, {}, { id: "phone-2", name: "Phone", platform: "ios" });
    expect(signedIn.status).toBe(200);
    const tokens = await signedIn.json<Tokens>();
    const res = await call("/v1/me/security-log", { tenant: slug, headers: bearer(tokens.accessToken) });
    expect(res.status).toBe(200);
    const { items } = await res.json<{ items: Entry[] }>();
    expect(items.map((e) => e.action)).toEqual(["signInFromNewDevice", "passwordChanged"]);
    expect(items.every((e) => e.target.id === u.userId)).toBe(true);
    const theirs = await (await call("/v1/me/security-log", as(slug, v))).json<{ items: Entry[] }>();
    expect(theirs.items).toEqual([]);
    // A cursor is signed: made-up ones are refused, and so is a page size past the cap.
    await expectProblem(await call("/v1/me/security-log?cursor=forged", as(slug, v)), 400, "invalid_cursor");
    const forged = btoa(JSON.stringify([Date.now(), "zzzz"])).replace(/=+$/, "");
    await expectProblem(await call(`/v1/me/security-log?cursor=${forged}`, as(slug, v)), 400, "invalid_cursor");
    await expectProblem(await call("/v1/me/security-log?limit=100000", as(slug, v)), 400, "validation_failed");
  });
});
